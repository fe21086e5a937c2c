"""Bearer tokens: the hub's HS256 signing keys (rotated, several valid at once), issuing a
token, and verifying one into its principal."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from jwt.algorithms import HMACAlgorithm

from resolvers.access.principals import (
    EITHER_SCOPE_ROLES,
    KEY_ONLY_ROLES,
    ROLES_WITH_PERSON,
    SCOPED_ROLES,
    Principal,
    Role,
)
from resolvers.errors import ErrorCode, RequestError
from resolvers.settings import Settings

if TYPE_CHECKING:
    from resolvers.relay import CursorKeys

ALGORITHM = "HS256"
VERIFIED_TOKENS_KEPT = 10_000
CHECKED_KEYS_KEPT = 64


class _CheckedKeys(HMACAlgorithm):
    """HS256 that checks each signing key once. PyJWT checks an HMAC secret on every
    verification (that it is no PEM, SSH, DER or JWK key: it tries to load it as a DER public
    key and as an X.509 certificate), about a tenth of the CPU of a caller's first request
    (issue 21: every call of a benchmark whose calls each bring a new token); a key passes
    or fails that check the same way every time, so a key that passed is kept."""

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._checked: dict[bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        raw = key.encode() if isinstance(key, str) else key
        checked = self._checked.get(raw)
        if checked is None:
            checked = super().prepare_key(raw)
            if len(self._checked) >= CHECKED_KEYS_KEPT:
                # More keys than a ring holds (a process making rings, as the tests do):
                # start again rather than check every new key on every verification.
                self._checked.clear()
            self._checked[raw] = checked
        return checked


def _decoder() -> jwt.PyJWT:
    """PyJWT's decoder with HS256 alone, its keys checked once (:class:`_CheckedKeys`)."""
    signatures = jwt.PyJWS(algorithms=[])
    signatures.register_algorithm(ALGORITHM, _CheckedKeys())
    decoder = jwt.PyJWT()
    decoder._jws = signatures  # as PyJWT's own module-level decoder is given its signer
    return decoder


_DECODER = _decoder()


class KeyRing:
    """HS256 signing keys by key id. The data folder holds the hub's own keys (created on
    first use); more may come from settings, so keys can rotate with several active at once.
    Cursors are sealed with keys derived from these (``cursors``), so they rotate with them."""

    def __init__(self, keys: dict[str, str], active: str) -> None:
        if active not in keys:
            raise ValueError("active key id is not in the key ring")
        self.keys = keys
        self.active = active
        self._cursors: CursorKeys | None = None
        # Tokens already verified by this process, with their validity window: clients send the
        # same token many times, and verifying it again is most of a small request's cost.
        self.verified: dict[str, tuple[Principal, int, int]] = {}

    @property
    def cursors(self) -> CursorKeys:
        """The cursor-sealing keys of this ring (made on first use: ``bilim token`` seals no
        cursor and so does not import the SQL toolkit the cursors' module needs)."""
        if self._cursors is None:
            from resolvers.relay import CursorKeys

            self._cursors = CursorKeys(self.keys, self.active)
        return self._cursors

    @classmethod
    def load(cls, settings: Settings, data_dir: Path | None = None) -> KeyRing:
        path = (data_dir or settings.data_dir) / "signing-keys.json"
        if path.exists():
            stored = json.loads(path.read_text())
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            kid = f"k{int(time.time())}"
            stored = {"active": kid, "keys": {kid: secrets.token_urlsafe(48)}}
            path.touch(mode=0o600)
            path.write_text(json.dumps(stored, indent=2))
        keys: dict[str, str] = dict(stored["keys"])
        for pair in filter(None, (p.strip() for p in settings.jwt_keys.split(","))):
            kid, _, secret = pair.partition(":")
            keys[kid] = secret
        return cls(keys, stored["active"])

    def rotate(self, path: Path) -> str:
        """Make a new active key; old keys stay valid until removed from the file."""
        kid = f"k{int(time.time())}{secrets.randbelow(1000):03d}"
        self.keys[kid] = secrets.token_urlsafe(48)
        self.active = kid
        self._cursors = None
        stored = json.loads(path.read_text()) if path.exists() else {"keys": {}}
        stored["keys"][kid] = self.keys[kid]
        stored["active"] = kid
        path.write_text(json.dumps(stored, indent=2))
        return kid


def issue_token(
    ring: KeyRing,
    settings: Settings,
    *,
    role: Role,
    subject: str | None = None,
    person_id: int | None = None,
    scopes: list[str] | None = None,
    ttl_minutes: int | None = None,
) -> str:
    """A signed bearer token for ``role`` with scopes like ``region:8`` or ``institution:12``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + 60 * (ttl_minutes or settings.token_ttl_minutes),
        "sub": subject or (f"person:{person_id}" if person_id else f"{role.value}:{now}"),
        "role": role.value,
        "scope": scopes or [],
    }
    if person_id is not None:
        claims["pid"] = person_id
    return jwt.encode(
        claims, ring.keys[ring.active], algorithm=ALGORITHM, headers={"kid": ring.active}
    )


def _unauthenticated(message: str) -> RequestError:
    return RequestError(ErrorCode.UNAUTHENTICATED, message)


def principal_from_token(token: str, ring: KeyRing, settings: Settings) -> Principal:
    """Verify a bearer token (algorithm, key id, signature, expiry, not-before, issuer,
    audience) and return its principal; raise UNAUTHENTICATED otherwise."""
    known = ring.verified.get(token)
    if known is not None:
        principal, not_before, expires = known
        if not_before <= time.time() < expires:
            return principal
        del ring.verified[token]
    header = _header_of(token)
    if header.get("alg") != ALGORITHM:
        raise _unauthenticated("The token's algorithm is not accepted")
    secret = ring.keys.get(str(header.get("kid")))
    if secret is None:
        raise _unauthenticated("The token was signed with an unknown key")
    try:
        claims = _DECODER.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "role"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthenticated("The token has expired") from None
    except jwt.ImmatureSignatureError:
        raise _unauthenticated("The token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise _unauthenticated("The token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise _unauthenticated("The token is from another issuer") from None
    except jwt.PyJWTError:
        raise _unauthenticated("The token's signature or claims are invalid") from None
    _check_lifetime(claims, settings)
    principal = principal_from_claims(claims)
    if len(ring.verified) >= VERIFIED_TOKENS_KEPT:
        ring.verified.clear()
    ring.verified[token] = (principal, int(claims["nbf"]), int(claims["exp"]))
    return principal


def _header_of(token: str) -> dict[str, Any]:
    """The token's header, read to pick its key: PyJWT then checks the whole token, header
    included (its ``get_unverified_header`` decoded all three parts for the header alone, a
    sixth of a verification)."""
    head, dot, _ = token.partition(".")
    try:
        if not dot:
            raise ValueError("no header")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        raise _unauthenticated("The bearer token is malformed") from None
    if not isinstance(header, dict):
        raise _unauthenticated("The bearer token is malformed")
    return header


def _check_lifetime(claims: dict[str, Any], settings: Settings) -> None:
    """The token's times are numbers (PyJWT also takes a numeric string for ``exp``), and it
    lives no longer than ``token_max_lifetime_minutes``: a token valid for a century is a key
    that never changes."""
    times = [claims[name] for name in ("exp", "iat", "nbf")]
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in times):
        raise _unauthenticated("The token's exp, iat and nbf must be numbers")
    longest = 60 * settings.token_max_lifetime_minutes
    if claims["exp"] - claims["iat"] > longest or claims["exp"] - time.time() > longest:
        raise _unauthenticated(
            f"The token lives longer than {settings.token_max_lifetime_minutes} minutes"
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build a principal from verified claims, refusing roles and scopes that make no sense."""
    try:
        role = Role(claims["role"])
    except ValueError:
        raise _unauthenticated("The token names an unknown role") from None
    if role == Role.ANONYMOUS:
        raise _unauthenticated("The token names an unknown role")
    if role in KEY_ONLY_ROLES:
        raise _unauthenticated(f"The role {role.value} needs an API key, not a token")
    scopes: dict[str, set[int]] = {"region": set(), "district": set(), "institution": set()}
    raw_scopes = claims.get("scope") or []
    if not isinstance(raw_scopes, list):
        raise _unauthenticated("The token's scope must be a list")
    for item in raw_scopes:
        kind, _, ident = str(item).partition(":")
        if kind not in scopes or not ident.isdigit():
            raise _unauthenticated(f"The token has an unknown scope {item!r}")
        scopes[kind].add(int(ident))
    needed = SCOPED_ROLES.get(role)
    if needed and not scopes[needed]:
        raise _unauthenticated(f"The role {role.value} needs a {needed} scope")
    either = EITHER_SCOPE_ROLES.get(role)
    if either and not any(scopes[kind] for kind in either):
        raise _unauthenticated(f"The role {role.value} needs a {' or '.join(either)} scope")
    person_id = claims.get("pid")
    if role in ROLES_WITH_PERSON and not isinstance(person_id, int):
        raise _unauthenticated(f"The role {role.value} needs a person")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        person_id=person_id if isinstance(person_id, int) else None,
        region_ids=frozenset(scopes["region"]),
        district_ids=frozenset(scopes["district"]),
        institution_ids=frozenset(scopes["institution"]),
    )

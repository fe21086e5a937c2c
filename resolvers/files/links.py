"""Download links: the graph decides who may read a file (each domain's row rules) and hands
out a short-lived link signed by the hub; the download route checks only the signature, so it
needs no token and a school can hand the link to a download manager or a local cache.

A link names the file's hash, the name and type to serve it with, and its expiry, signed with
HMAC-SHA256 under a key derived from the hub's signing keys (the key id rides in the link, so
links made before a key rotation stay valid while the old key is kept)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from resolvers.access import KeyRing
from resolvers.errors import ErrorCode, RequestError

PURPOSE = b"bilim-hub file links v1"


def derive_key(ring: KeyRing, purpose: bytes, kid: str | None = None) -> bytes:
    """A key for one purpose, derived from the signing key ``kid`` (the active one by
    default): rotating the signing keys rotates it."""
    secret = ring.keys[kid or ring.active]
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class Link:
    """What a verified link allows: this file, served under this name and type."""

    sha256: str
    name: str
    media_type: str
    expires: int


def _message(sha256: str, name: str, media_type: str, expires: int) -> bytes:
    return "\n".join((sha256, name, media_type, str(expires))).encode()


def _signature(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def file_link(
    ring: KeyRing,
    sha256: str,
    *,
    name: str,
    media_type: str,
    ttl_seconds: int,
    now: float | None = None,
) -> str:
    """The path (with its query) that serves ``sha256`` until ``ttl_seconds`` from now."""
    expires = int(now if now is not None else time.time()) + ttl_seconds
    signature = _signature(derive_key(ring, PURPOSE), _message(sha256, name, media_type, expires))
    query = urlencode(
        {"name": name, "type": media_type, "exp": expires, "kid": ring.active, "sig": signature}
    )
    return f"/files/{quote(sha256)}?{query}"


def verify_link(
    ring: KeyRing, sha256: str, params: dict[str, str], *, now: float | None = None
) -> Link:
    """The link's grant, or FORBIDDEN when it was not made by this hub or has expired."""
    name, media_type = params.get("name", ""), params.get("type", "")
    kid, signature = params.get("kid", ""), params.get("sig", "")
    try:
        expires = int(params.get("exp", ""))
    except ValueError:
        raise RequestError(ErrorCode.FORBIDDEN, "The link is not valid") from None
    if kid not in ring.keys:
        raise RequestError(ErrorCode.FORBIDDEN, "The link is not valid")
    expected = _signature(
        derive_key(ring, PURPOSE, kid), _message(sha256, name, media_type, expires)
    )
    if not hmac.compare_digest(expected, signature):
        raise RequestError(ErrorCode.FORBIDDEN, "The link is not valid")
    if expires < (now if now is not None else time.time()):
        raise RequestError(ErrorCode.FORBIDDEN, "The link has expired; ask for a new one")
    return Link(sha256=sha256, name=name, media_type=media_type, expires=expires)

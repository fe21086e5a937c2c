"""Data partners' API keys: created and revoked by the ministry, stored as an HMAC of the
secret (with the server's pepper) beside a visible prefix, with an expiry, an hourly budget
and a scope (the partner's subgraph, personal data or not, regions).

A key reaches the hub as ``Authorization: Bearer bk_<prefix>_<secret>`` or ``X-Api-Key``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models import ApiKey, Institution, InstitutionKind, Region
from resolvers.access.errors import AccessCode
from resolvers.access.principals import KeyGrant, Principal, Role, require
from resolvers.errors import DomainError, ErrorCode, NotFound, RequestError
from resolvers.relay import Ordering
from resolvers.settings import Settings

KEY_SCHEME = "bk"
KEY_FORMAT = re.compile(r"^bk_([a-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
PREFIX_ALPHABET = string.ascii_lowercase + string.digits
MAX_SCOPE_ENTRIES = 500
MAX_TTL_DAYS = 730
API_KEY_ORDER = Ordering(((ApiKey.id, True),))


def load_pepper(settings: Settings, data_dir: Path | None = None) -> bytes:
    """The server's secret mixed into every key hash: ``BILIM_API_KEY_PEPPER``, or a file in
    the data folder made on first use. A stolen table of hashes is useless without it."""
    if settings.api_key_pepper:
        return settings.api_key_pepper.encode()
    path = (data_dir or settings.data_dir) / "api-key-pepper"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def hash_secret(pepper: bytes, secret: str) -> str:
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(f"{KEY_SCHEME}_")


@dataclass
class NewKey:
    """A key just made: the row, and the whole key, shown once and never stored."""

    row: ApiKey
    key: str

    @property
    def audit_target(self) -> ApiKey:
        """What the audit trail records as changed: the key's row, never its secret."""
        return self.row


def can_manage_keys(principal: Principal) -> bool:
    """May this principal create or revoke partners' keys? Only the ministry."""
    return principal.is_ministry


def api_keys_query() -> Select[Any]:
    """Every partner's key (the ministry's list)."""
    return select(*ApiKey.__table__.c)


async def create_api_key(
    session: AsyncSession,
    principal: Principal,
    *,
    pepper: bytes,
    name: str,
    allowed_fields: list[str],
    personal_data: bool,
    region_ids: list[int],
    points_per_hour: int,
    ttl_days: int,
    unknown: list[str],
    oneroster_write_institution_ids: list[int] | None = None,
) -> NewKey:
    """Create a partner's key (issue 6: created by the ministry, hashed, with a visible prefix,
    an expiry, a rate budget and a scope). ``unknown`` are scope entries the schema lacks.
    ``oneroster_write_institution_ids``: the schools whose gradebook it may write through
    OneRoster (issue 15), granted only with the gradebook (``Mark``) and personal data; an
    unknown institution is NOT_FOUND, one that is not a school INVALID_SCOPE."""
    require(can_manage_keys(principal), "Only the ministry creates partners' keys")
    if not name.strip() or len(name) > 200:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name the partner (1-200 characters)", field="name"
        )
    if not allowed_fields or len(allowed_fields) > MAX_SCOPE_ENTRIES:
        raise DomainError(
            AccessCode.INVALID_SCOPE,
            f"List 1-{MAX_SCOPE_ENTRIES} fields as Type.field or Type.*",
            field="allowedFields",
        )
    if unknown:
        raise DomainError(
            AccessCode.INVALID_SCOPE,
            "Not in the schema: " + ", ".join(sorted(unknown)[:20]),
            field="allowedFields",
        )
    if not 1 <= points_per_hour <= 1_000_000:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Points per hour are 1 to 1,000,000", field="pointsPerHour"
        )
    if not 1 <= ttl_days <= MAX_TTL_DAYS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A key lives 1 to {MAX_TTL_DAYS} days", field="ttlDays"
        )
    if region_ids:
        found = set(await session.scalars(select(Region.id).where(Region.id.in_(region_ids))))
        if found != set(region_ids):
            raise NotFound("A region", field="regionIds")
    writes = await _write_grant(
        session, oneroster_write_institution_ids or [], personal_data, allowed_fields
    )
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(8))
    secret = secrets.token_urlsafe(32)
    row = ApiKey(
        prefix=prefix,
        secret_hash=hash_secret(pepper, secret),
        name=name.strip(),
        created_by=principal.subject,
        expires_at=datetime.now(UTC) + timedelta(days=ttl_days),
        allowed_fields=sorted(set(allowed_fields)),
        personal_data=personal_data,
        region_ids=sorted(set(region_ids)),
        points_per_hour=points_per_hour,
        oneroster_write_institution_ids=writes,
    )
    session.add(row)
    await session.flush()
    return NewKey(row=row, key=f"{KEY_SCHEME}_{prefix}_{secret}")


async def _write_grant(
    session: AsyncSession, ids: list[int], personal_data: bool, allowed_fields: list[str]
) -> list[int]:
    """The schools a key may write the gradebook of through OneRoster, checked: only with the
    gradebook (``Mark``) in its scope and personal data (INVALID_SCOPE), every one known
    (NOT_FOUND) and a school (INVALID_SCOPE)."""
    writes = sorted(set(ids))
    if not writes:
        return writes
    if not personal_data or not any(f.startswith("Mark.") for f in allowed_fields):
        raise DomainError(
            AccessCode.INVALID_SCOPE,
            "Writing marks needs the gradebook (Mark) in the scope and personal data",
            field="onerosterWriteInstitutionIds",
        )
    kinds = {
        row.id: row.kind
        for row in await session.execute(
            select(Institution.id, Institution.kind).where(Institution.id.in_(writes))
        )
    }
    missing = [i for i in writes if i not in kinds]
    if missing:
        raise DomainError(
            ErrorCode.NOT_FOUND,
            "No institution " + ", ".join(map(str, missing[:20])) + " to write marks of",
            field="onerosterWriteInstitutionIds",
        )
    others = [i for i in writes if kinds[i] != InstitutionKind.SCHOOL]
    if others:
        raise DomainError(
            AccessCode.INVALID_SCOPE,
            "Marks are written for schools only; not a school: "
            + ", ".join(f"{i} ({kinds[i]})" for i in others[:20]),
            field="onerosterWriteInstitutionIds",
        )
    return writes


async def revoke_api_key(session: AsyncSession, principal: Principal, *, key_id: int) -> ApiKey:
    """Revoke a key at once (issue 6); its later requests are UNAUTHENTICATED."""
    require(can_manage_keys(principal), "Only the ministry revokes partners' keys")
    row = await session.get(ApiKey, key_id, with_for_update=True)
    if row is None:
        raise NotFound("The API key", field="id")
    if row.revoked_at is not None:
        raise DomainError(AccessCode.ALREADY_REVOKED, "The key is already revoked", field="id")
    row.revoked_at = datetime.now(UTC)
    row.revoked_by = principal.subject
    await session.flush()
    return row


def _refused(message: str) -> RequestError:
    return RequestError(ErrorCode.UNAUTHENTICATED, message)


async def principal_from_key(conn: AsyncConnection, pepper: bytes, value: str) -> Principal:
    """The partner behind an API key, or UNAUTHENTICATED (unknown, revoked, expired)."""
    match = KEY_FORMAT.match(value)
    if match is None:
        raise _refused("The API key is malformed")
    prefix, secret = match.groups()
    row = (
        await conn.execute(
            select(
                ApiKey.id,
                ApiKey.secret_hash,
                ApiKey.expires_at,
                ApiKey.revoked_at,
                ApiKey.allowed_fields,
                ApiKey.personal_data,
                ApiKey.region_ids,
                ApiKey.points_per_hour,
                ApiKey.oneroster_write_institution_ids,
            ).where(ApiKey.prefix == prefix)
        )
    ).first()
    if row is None or not hmac.compare_digest(row.secret_hash, hash_secret(pepper, secret)):
        raise _refused("The API key is not valid")
    if row.revoked_at is not None:
        raise _refused("The API key was revoked")
    if row.expires_at <= datetime.now(UTC):
        raise _refused("The API key has expired")
    return Principal(
        subject=f"key:{prefix}",
        role=Role.PARTNER,
        region_ids=frozenset(row.region_ids or ()),
        api_key_prefix=prefix,
        grant=KeyGrant(
            key_id=row.id,
            fields=frozenset(row.allowed_fields or ()),
            personal_data=row.personal_data,
            points_per_hour=row.points_per_hour,
            oneroster_writes=frozenset(row.oneroster_write_institution_ids or ()),
        ),
    )

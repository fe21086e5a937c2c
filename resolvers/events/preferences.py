"""Notice preferences: a person's language and contacts for notices about their children's
applications (set by themselves)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import NoticeLanguage, NoticePreference, Person
from resolvers.access import Principal
from resolvers.errors import DomainError, ErrorCode, Forbidden, NotFound

EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,180}\.[A-Za-z]{2,24}$")
# An international number, e.g. +996 555 123 456 (spaces and dashes allowed).
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")


def _clean(value: str | None, pattern: re.Pattern[str], field: str, what: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not pattern.match(value):
        raise DomainError(ErrorCode.INVALID_INPUT, f"This is not {what}", field=field)
    return value


async def set_notice_preferences(
    session: AsyncSession,
    principal: Principal,
    *,
    language: NoticeLanguage,
    email: str | None,
    phone: str | None,
) -> NoticePreference:
    """Set the caller's own language and contacts for notices (a person's token only; NOT_FOUND
    when the token's person is not in the register)."""
    if principal.person_id is None or principal.grant is not None:
        raise Forbidden("Only a person sets their own notice preferences")
    # A signed token may name a person the register does not hold (or no longer holds): the
    # same answer as an unknown id, not a foreign-key fault. KEY SHARE keeps the row until the
    # insert commits, the lock the foreign key would take anyway.
    person = select(Person.id).where(Person.id == principal.person_id)
    if await session.scalar(person.with_for_update(key_share=True)) is None:
        raise NotFound("The person")
    values = {
        "person_id": principal.person_id,
        "language": language,
        "email": _clean(email, EMAIL, "email", "an e-mail address"),
        "phone": _clean(phone, PHONE, "phone", "a phone number"),
    }
    stmt = insert(NoticePreference).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[NoticePreference.person_id],
        set_={k: stmt.excluded[k] for k in ("language", "email", "phone", "updated_at")},
    )
    await session.execute(stmt)
    found = await session.get(NoticePreference, principal.person_id, populate_existing=True)
    assert found is not None
    return found

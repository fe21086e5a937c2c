"""Guardianship: a guardian's tie to a child, which lets the guardian read the child's
records."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import GuardianKind, Guardianship
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import emit
from resolvers.people.errors import PeopleCode
from resolvers.people.rules import can_register_person, person_for_action


async def link_guardian(
    session: AsyncSession,
    principal: Principal,
    *,
    guardian_id: int,
    child_id: int,
    kind: GuardianKind,
    valid_from: date | None,
    guardian_pin: str | None = None,
) -> Guardianship:
    """Record that ``guardian_id`` is a guardian of ``child_id``.

    Rules: nobody is their own guardian; one active link per pair; the caller may read the child
    and may read the guardian or shows the guardian's PIN (a link gives the guardian access to the
    child's records, so it is never made from an id alone); a child or guardian the caller may
    not reach is not found, as an unknown id is.
    """
    require(
        can_register_person(principal), "Only officers and school administrators link guardians"
    )
    if guardian_id == child_id:
        raise DomainError(
            PeopleCode.SELF_GUARDIANSHIP,
            "A person cannot be their own guardian",
            field="guardianId",
        )
    child = await person_for_action(
        session, principal, child_id, what="The child", field="childId", lock=True
    )
    guardian = await person_for_action(
        session, principal, guardian_id, pin=guardian_pin, what="The guardian", field="guardianId"
    )
    if guardian.birth_date >= child.birth_date:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A guardian is older than the child", field="guardianId"
        )
    active = await session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == guardian_id,
            Guardianship.child_id == child_id,
            Guardianship.valid_to.is_(None),
        )
    )
    if active is not None:
        raise DomainError(
            PeopleCode.ALREADY_LINKED,
            "This guardian is already linked to this child",
            field="guardianId",
        )
    link = Guardianship(
        guardian_id=guardian_id,
        child_id=child_id,
        kind=kind,
        valid_from=valid_from or today(),
    )
    session.add(link)
    await session.flush()
    await emit(
        session,
        topic="people.guardian_linked",
        aggregate_type="Guardianship",
        aggregate_id=link.id,
        payload={"guardian_id": guardian_id, "child_id": child_id},
    )
    return link

"""Staff: a person's post at an institution."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import Institution, StaffPosition, StaffRole
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.rules import may_manage_institution
from resolvers.people.rules import person_for_action


async def appoint_staff(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: int,
    institution_id: int,
    role: StaffRole,
    title: str | None,
    subject: str | None,
    rate: float,
    start_date: date,
    pin: str | None = None,
) -> StaffPosition:
    """Appoint a person to a post at an institution the caller manages; the caller may read the
    person or shows their PIN (see :func:`person_for_action`)."""
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise NotFound("The institution", field="institutionId")
    require(
        may_manage_institution(principal, institution), "This institution is outside your scope"
    )
    await person_for_action(session, principal, person_id, pin=pin, field="personId")
    if not 0 < rate <= 2:
        raise DomainError(ErrorCode.INVALID_INPUT, "A rate is above 0 and at most 2", field="rate")
    post = StaffPosition(
        person_id=person_id,
        institution_id=institution_id,
        role=role,
        title=(title or "").strip()[:200] or None,
        subject=(subject or "").strip()[:100] or None,
        rate=rate,
        start_date=start_date,
    )
    session.add(post)
    await session.flush()
    await emit(
        session,
        topic="people.staff_appointed",
        aggregate_type="StaffPosition",
        aggregate_id=post.id,
        payload={"institution_id": institution_id},
    )
    return post

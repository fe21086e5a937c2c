"""Who acts in the two intake workflows: a guardian for their child, officers for the
kindergartens and schools in their scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models import Enrollment, Guardianship, Institution, InstitutionKind, Person, Sector
from resolvers import driver
from resolvers import institutions as institutions_service
from resolvers.access import Principal, Role, require
from resolvers.errors import DomainError, NotFound
from resolvers.institutions.rules import institution_in_scope
from resolvers.intake.errors import IntakeCode
from resolvers.people.rules import person_readable_by_guardian

OFFICER_ROLES = frozenset({Role.SCHOOL_ADMIN, Role.DISTRICT_OFFICER, Role.REGION_OFFICER})

# How the workflows name the institution they act on, in messages and in input fields.
_INSTITUTION_NAMES = {
    InstitutionKind.KINDERGARTEN: ("kindergarten", "kindergartenId"),
    InstitutionKind.SCHOOL: ("school", "schoolId"),
}


async def require_guardian_of(session: AsyncSession, principal: Principal, child_id: int) -> None:
    """May this principal act for this child? Only a guardian with an active guardianship."""
    require(principal.role == Role.GUARDIAN, "Only a guardian applies for a child")
    assert principal.person_id is not None  # guardians' tokens always carry their person
    linked = await session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == principal.person_id,
            Guardianship.child_id == child_id,
            Guardianship.valid_to.is_(None),
        )
    )
    if linked is None:
        raise DomainError(
            IntakeCode.NOT_GUARDIAN, "You are not this child's guardian", field="childId"
        )


def require_guardian_reached(principal: Principal, child_id: int) -> None:
    """May this principal act for this child, reached through the guardian's row rule? That
    rule reads a guardian's own row and their children's (an active guardianship), so all left
    to refuse is a guardian acting for themself (NOT_GUARDIAN): no second read of the
    guardianship (issue 21: statements per mutation)."""
    require(principal.role == Role.GUARDIAN, "Only a guardian applies for a child")
    if child_id == principal.person_id:
        raise DomainError(
            IntakeCode.NOT_GUARDIAN, "You are not this child's guardian", field="childId"
        )


async def guardians_child_for_update(
    session: AsyncSession, principal: Principal, child_id: int
) -> Person:
    """The child the guardian applies for, locked so that two applications for them are
    decided one after the other. A child the caller may not read is not found, as an unknown
    id is; one they read but are not the guardian of (themself) is NOT_GUARDIAN."""
    require(principal.role == Role.GUARDIAN, "Only a guardian applies for a child")
    assert principal.person_id is not None  # guardians' tokens always carry their person
    found = await driver.one_or_none(
        session, _GUARDIANS_CHILD, {"child_id": child_id, "guardian_id": principal.person_id}
    )
    if found is None:
        raise NotFound("The child", field="childId")
    # The session's object given the row as read now (``populate_existing``).
    child: Person = driver.object_of(session, _PERSON, found, populate=True)
    require_guardian_reached(principal, child.id)
    return child


# The child a guardian may read, locked (people_service.person_for_action's statement for a
# guardian), made once with the guardian's id a parameter and sent through the driver
# (issue 21; resolvers/driver.py).
_PERSON = driver.entity(Person)
_GUARDIANS_CHILD = driver.Made(
    select(*_PERSON.columns)
    .where(
        Person.id == bindparam("child_id", type_=Integer),
        person_readable_by_guardian(bindparam("guardian_id", type_=Integer)),
    )
    .with_for_update(of=Person)
)


async def open_enrollment(
    session: AsyncSession, child_id: int, sectors: Sequence[Sector]
) -> int | None:
    """The child's open enrollment in one of ``sectors``, if any (a place already held)."""
    found: int | None = await session.scalar(
        select(Enrollment.id).where(
            Enrollment.person_id == child_id,
            Enrollment.sector.in_(sectors),
            Enrollment.exit_date.is_(None),
        )
    )
    return found


def officer_scope(principal: Principal, inst: Any) -> ColumnElement[bool]:
    """Institutions an officer handles applications of (teachers handle none)."""
    if principal.is_ministry:
        return true()
    if principal.role not in OFFICER_ROLES:
        return false()
    return institution_in_scope(principal, inst)


async def managed_intake_institution(
    session: AsyncSession, principal: Principal, institution_id: int, kind: InstitutionKind
) -> Institution:
    """The kindergarten or school ``institution_id``, which the caller must manage
    (NOT_FOUND, WRONG_INSTITUTION_KIND or FORBIDDEN on the kind's input field otherwise)."""
    label, field = _INSTITUTION_NAMES[kind]
    return await institutions_service.managed_institution(
        session, principal, institution_id, kind=kind, label=label, field=field
    )

"""Who may read whom: the row rules of people, their guardianships and staff posts (issue 6).
Every path that reads a person (node, lists, nested fields, the compiled path) uses these; the
workflows ask the same questions of one person, and who may register people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, exists, false, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    ClassGroup,
    ClassMembership,
    Enrollment,
    Guardianship,
    Institution,
    Person,
    StaffPosition,
    TeachingAssignment,
)
from resolvers.access import PERSONAL_ROLES, SCOPED_ROLES, Principal, Role, among, no_rows
from resolvers.institutions.rules import institution_in_scope
from resolvers.lookup import readable_or_not_found


def children_of(person_id: int | ColumnElement[int]) -> Any:
    """The children a guardian has now (``person_id``: a guardian's id, or a bind parameter
    standing for one in a statement made once)."""
    return select(Guardianship.child_id).where(
        Guardianship.guardian_id == person_id, Guardianship.valid_to.is_(None)
    )


# Roles that read people through the institutions in their scope.
INSTITUTION_READERS = {*SCOPED_ROLES, Role.PARTNER}


def national_partner(principal: Principal) -> bool:
    return principal.role == Role.PARTNER and not principal.region_ids


# The rules' aliases are made once: an ORM alias copies every column of its table, which cost
# more per request than the rest of a gradebook. One alias serves every statement (a rule's
# subqueries never nest one of its own aliases inside another), and aliases keep the rule's
# subqueries from correlating with an outer query on the same tables.
_MEMBER, _TAUGHT, _KLASS = (
    aliased(ClassMembership),
    aliased(TeachingAssignment),
    aliased(ClassGroup),
)
_INST, _ENROLLED, _EMPLOYED = aliased(Institution), aliased(Enrollment), aliased(StaffPosition)


def taught_by(principal: Principal, enrolled: Any) -> ColumnElement[bool]:
    """Open enrollments at an institution in the teacher's scope whose pupil is now in a class
    the teacher teaches (a current teaching assignment, issue 15) or is the home-room teacher
    of. Teaching assignments replaced the free-text class lists of staff posts."""
    member, taught, klass = _MEMBER, _TAUGHT, _KLASS
    return and_(
        enrolled.exit_date.is_(None),
        among(enrolled.institution_id, principal.institution_ids),
        exists().where(
            member.enrollment_id == enrolled.id,
            member.until.is_(None),
            or_(
                exists().where(
                    taught.class_group_id == member.class_group_id,
                    taught.teacher_id == principal.person_id,
                    taught.ended_on.is_(None),
                ),
                exists().where(
                    klass.id == member.class_group_id,
                    klass.homeroom_teacher_id == principal.person_id,
                ),
            ),
        ),
    )


def person_readable(principal: Principal, person_id: Any = Person.id) -> ColumnElement[bool]:
    """May this principal read this person? Ministry: everyone; officers, school admins and
    partners: the people enrolled or employed at institutions in their scope; a teacher: their
    colleagues and the pupils of the classes they teach (issue 6); a guardian: themself and
    their children; a pupil: themself; auditors and anonymous callers: nobody. Which fields of
    a readable person a partner sees is decided by its key (:mod:`resolvers.access.fields`)."""
    if principal.is_ministry or national_partner(principal):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        if principal.role == Role.GUARDIAN:
            clauses.extend(_self_and_children(person_id, principal.person_id))
        else:
            clauses.append(person_id == principal.person_id)
    if principal.role in INSTITUTION_READERS:
        inst = _INST
        scope = institution_in_scope(principal, inst)
        enrolled, employed = _ENROLLED, _EMPLOYED
        if principal.role == Role.TEACHER:
            if principal.person_id is not None:
                clauses.append(
                    exists().where(enrolled.person_id == person_id, taught_by(principal, enrolled))
                )
        else:
            clauses.append(
                exists().where(
                    enrolled.person_id == person_id, enrolled.institution_id == inst.id, scope
                )
            )
        clauses.append(
            exists().where(
                employed.person_id == person_id, employed.institution_id == inst.id, scope
            )
        )
    return or_(*clauses) if clauses else false()


def _self_and_children(
    person_id: Any, guardian_id: int | ColumnElement[int]
) -> list[ColumnElement[bool]]:
    """A guardian's whole rule on people: themself and their children now."""
    return [person_id == guardian_id, person_id.in_(children_of(guardian_id))]


def person_readable_by_guardian(guardian_id: ColumnElement[int]) -> ColumnElement[bool]:
    """:func:`person_readable` for a guardian whose id is ``guardian_id``, a bind parameter:
    the rule of a statement made once for every guardian (issue 21: a statement built per
    call cost more CPU than its execution)."""
    return or_(*_self_and_children(Person.id, guardian_id))


def reads_everyone_enrolled_at(
    principal: Principal, *, region_id: int | None, institution_id: int | None
) -> ColumnElement[bool]:
    """Does this principal read everyone ever enrolled at the institutions of this region (or
    at this institution)? Ministry and national partners: everywhere; a region officer or a
    regional partner: in their regions; a school administrator: at their schools. Teachers read
    only their classes, a district officer's districts are not known from a region, and other
    roles read people by who they are: never.

    A list confined to people enrolled there reads ``reads_everyone_enrolled_at(...) OR
    person_readable(...)``: the same rows as the rule alone, but PostgreSQL folds the test of
    the filter's own values and skips the rule's probes when it holds. The answer is SQL on
    those values, not a Python bool, so a statement kept and reused with other values (as the
    compiled path does) stays right."""
    if principal.is_ministry or national_partner(principal):
        return true()
    if principal.role in (Role.REGION_OFFICER, Role.PARTNER) and region_id is not None:
        return among(literal(region_id, Integer), principal.region_ids)
    if principal.role == Role.SCHOOL_ADMIN and institution_id is not None:
        return among(literal(institution_id, Integer), principal.institution_ids)
    return false()


# --- the other guardian (issue 22.8) -----------------------------------------------------------
#
# A child may have two guardians who live apart, and one may have reason to keep from the other
# where they live, how to reach them, even what they are now called. The hub is not the way
# one learns about the other: a guardian reads themself and their children, and of the child's
# other guardian nothing at all (not their name, PIN, birth date or address, not their contacts
# on an application, not even the link that ties them to the child, whose kind and dates tell
# of custody). The staff who handle the family (the school, the officers, the ministry) read
# both, within their scope: they are the reason the records exist.


def guardianship_readable(principal: Principal, link: Any = Guardianship) -> ColumnElement[bool]:
    """May this principal read this guardianship link? Whoever may read both its guardian and
    its child: a guardian their own links to their children, never the link of the child's
    other guardian; a pupil none (they do not read their guardians); staff and officers the
    links between people they read."""
    return and_(
        person_readable(principal, link.child_id), person_readable(principal, link.guardian_id)
    )


def reads_applicants_as_staff(principal: Principal) -> bool:
    """Does reading an intake application let this principal read the people on it, beyond
    those they read anyway? Staff handling it do (a child not yet enrolled with them, the
    guardian who applied); a guardian or pupil does not, so a guardian never reads the child's
    other guardian through the application the other one made."""
    return principal.role not in PERSONAL_ROLES


def reads_contacts_given_by(principal: Principal, guardian_id: int) -> bool:
    """May this principal read the contacts (phone, address) that guardian ``guardian_id`` gave
    on an application this principal reads? The guardian who gave them, and the staff who
    handle the application; not the child's other guardian."""
    if principal.role in PERSONAL_ROLES:
        return principal.person_id == guardian_id
    return True


def staff_readable(principal: Principal) -> ColumnElement[bool]:
    """Staff posts are read by whoever may read the staff member."""
    return person_readable(principal, StaffPosition.person_id)


def self_or_child(principal: Principal, person_id: Any) -> ColumnElement[bool]:
    """Rows about the caller as an applicant, or (for a guardian) about their children."""
    if principal.person_id is None or principal.role not in PERSONAL_ROLES:
        return no_rows()
    clauses: list[ColumnElement[bool]] = [person_id == principal.person_id]
    if principal.role == Role.GUARDIAN:
        clauses.append(person_id.in_(children_of(principal.person_id)))
    return or_(*clauses)


# --- one person -------------------------------------------------------------------------------


def can_register_person(principal: Principal) -> bool:
    """May this principal register people? The ministry, officers and school administrators
    (who register the pupils they admit)."""
    return principal.role in (
        Role.MINISTRY,
        Role.REGION_OFFICER,
        Role.DISTRICT_OFFICER,
        Role.SCHOOL_ADMIN,
    )


async def person_for_action(
    session: AsyncSession,
    principal: Principal,
    person_id: int,
    *,
    field: str,
    pin: str | None = None,
    what: str = "The person",
    lock: bool = False,
) -> Person:
    """The person a mutation acts on: one this principal may read, or whose current PIN they
    show (the officer holds the documents). Anyone else is reported as not found, exactly as
    an unknown id is, so an id alone never reveals, nor grants access to, anyone."""
    readable = person_readable(principal)
    if pin is not None:
        readable = or_(readable, Person.pin == pin)
    return await readable_or_not_found(
        session, Person, person_id, readable, what=what, field=field, lock=lock
    )


async def can_read_person(session: AsyncSession, principal: Principal, person_id: int) -> bool:
    """May this principal read this person (the row rule of :func:`person_readable`)?"""
    found = await session.scalar(
        select(Person.id).where(Person.id == person_id, person_readable(principal))
    )
    return found is not None

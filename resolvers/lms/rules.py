"""Who may read and write what in the school LMS (issue 15).

Reading: a class, its timetable and its lessons are read by the school's staff, the officers
whose scope holds the school and the ministry, and by the pupils of the class and their
guardians. Marks and attendance are read through the gradebook (the class's teachers, the
school's administration, officers in scope) or the diary (the pupil, their guardians, and
whoever may read the pupil). Concern reports are read by counsellors of the region or district
they were routed to, and by nobody else: not the ministry's other roles, never the school.

Writing: the school's administration (and officers in scope, the ministry) set up classes,
teachers and the timetable; a teacher records lessons, attendance, marks and homework only for
the classes and subjects they are assigned (or the lesson they replace in)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    ClassGroup,
    ClassMembership,
    ConcernReport,
    Guardianship,
    Institution,
    Region,
    StaffPosition,
    TeachingAssignment,
)
from resolvers.access import Principal, Role, among, outside
from resolvers.institutions.rules import institution_in_scope, may_manage_institution

# Officers and staff read the classes of the institutions in their scope.
SCHOOL_READERS = {
    Role.MINISTRY,
    Role.REGION_OFFICER,
    Role.DISTRICT_OFFICER,
    Role.SCHOOL_ADMIN,
    Role.TEACHER,
    Role.PARTNER,
}


# Aliases made once (an ORM alias copies every column of its table: per request it cost more
# than the statements it serves); a rule never nests one of its own aliases inside another.
_CLASS_INST, _MEMBER, _TAUGHT = (
    aliased(Institution),
    aliased(ClassMembership),
    aliased(TeachingAssignment),
)
_BOOK_KLASS, _BOOK_INST, _REGION = aliased(ClassGroup), aliased(Institution), aliased(Region)


def own_pupil(principal: Principal, pupil_id: Any) -> ColumnElement[bool] | None:
    """Is ``pupil_id`` the caller (a pupil) or one of their children (a guardian)? None for
    other roles."""
    if principal.person_id is None:
        return None
    if principal.role == Role.GUARDIAN:
        return pupil_id.in_(
            select(Guardianship.child_id).where(
                Guardianship.guardian_id == principal.person_id, Guardianship.valid_to.is_(None)
            )
        )
    if principal.role == Role.PUPIL:
        return pupil_id == principal.person_id
    return None


def class_readable(principal: Principal, klass: Any = ClassGroup) -> ColumnElement[bool]:
    """May this principal read this class (its name, subjects, timetable, lessons)? Staff and
    officers of its school, the ministry; a pupil of it or their guardian (issue 15)."""
    if principal.is_ministry:
        return true()
    if principal.role in SCHOOL_READERS:
        inst = _CLASS_INST
        return exists().where(
            inst.id == klass.institution_id, institution_in_scope(principal, inst)
        )
    member = _MEMBER
    own = own_pupil(principal, member.pupil_id)
    if own is None:
        return false()
    return exists().where(member.class_group_id == klass.id, own)


_OF_KLASS = aliased(ClassGroup)


def of_readable_class(principal: Principal, class_group_id: Any) -> ColumnElement[bool]:
    """Is the class ``class_group_id`` one the caller may read? The rule of what belongs to a
    class (its slots, lessons and homework): their loaders' and the compiled pages'."""
    klass = _OF_KLASS
    return exists().where(klass.id == class_group_id, class_readable(principal, klass))


def teaches(
    principal: Principal, class_group_id: Any, subject_id: Any | None = None
) -> ColumnElement[bool]:
    """Does this teacher hold a current assignment for this class (and subject)?"""
    if principal.role != Role.TEACHER or principal.person_id is None:
        return false()
    taught = _TAUGHT
    clauses = [
        taught.class_group_id == class_group_id,
        taught.teacher_id == principal.person_id,
        taught.ended_on.is_(None),
        among(taught.institution_id, principal.institution_ids),
    ]
    if subject_id is not None:
        clauses.append(taught.subject_id == subject_id)
    return exists().where(*clauses)


def gradebook_readable(
    principal: Principal, class_group_id: Any, subject_id: Any
) -> ColumnElement[bool]:
    """May this principal read the gradebook of this class and subject? The teachers assigned
    to it and the class's home-room teacher; the school's administration and the officers in
    scope; the ministry. Guardians and pupils read their own marks in the diary instead."""
    if principal.is_ministry:
        return true()
    klass, inst = _BOOK_KLASS, _BOOK_INST
    if principal.role in (Role.REGION_OFFICER, Role.DISTRICT_OFFICER, Role.SCHOOL_ADMIN):
        return exists().where(
            klass.id == class_group_id,
            inst.id == klass.institution_id,
            institution_in_scope(principal, inst),
        )
    if principal.role == Role.TEACHER and principal.person_id is not None:
        return or_(
            teaches(principal, class_group_id, subject_id),
            exists().where(
                klass.id == class_group_id,
                klass.homeroom_teacher_id == principal.person_id,
                among(klass.institution_id, principal.institution_ids),
            ),
        )
    return false()


def may_manage_school(principal: Principal, institution: Any) -> bool:
    """May this principal set up this school's classes, teachers and timetable? Its
    administration (the head teacher's office), the officers whose scope holds it, and the
    ministry: the registry's rule for managing an institution."""
    return may_manage_institution(principal, institution)


async def may_write_lesson(
    session: AsyncSession,
    principal: Principal,
    *,
    institution: Institution,
    class_group_id: int,
    subject_id: int,
    lesson_teacher_id: int | None = None,
) -> bool:
    """May this principal record attendance, marks and homework for a lesson of this class and
    subject? A teacher assigned to them, the teacher who gave the lesson (a replacement), or
    the school's administration (issue 15: teachers only for their classes and subjects)."""
    if may_manage_school(principal, institution):
        return True
    if principal.role != Role.TEACHER or principal.person_id is None:
        return False
    if institution.id not in principal.institution_ids:
        return False
    if lesson_teacher_id is not None and lesson_teacher_id == principal.person_id:
        return True
    found = await session.scalar(select(teaches(principal, class_group_id, subject_id)))
    return bool(found)


async def holds_post(
    session: AsyncSession, person_id: int, institution_id: int, *, on: Any
) -> int | None:
    """The id of a teaching post this person holds at the school on the date, if any."""
    return await session.scalar(
        select(StaffPosition.id)
        .where(
            StaffPosition.person_id == person_id,
            StaffPosition.institution_id == institution_id,
            StaffPosition.start_date <= on,
            or_(StaffPosition.end_date.is_(None), StaffPosition.end_date > on),
        )
        .order_by(StaffPosition.role != "teacher", StaffPosition.id)
        .limit(1)
    )


# --- the concern channel ------------------------------------------------------------------


def can_report_concern(principal: Principal) -> bool:
    """May this principal send an anonymous concern report? A pupil (S4)."""
    return principal.role == Role.PUPIL and principal.person_id is not None


def is_counsellor(principal: Principal) -> bool:
    """Is this principal a counsellor (the only readers of concern reports)?"""
    return principal.role == Role.COUNSELLOR


def concern_readable(principal: Principal, report: Any = ConcernReport) -> ColumnElement[bool]:
    """May this counsellor read this report? Reports routed to their districts or regions; a
    report that could not be routed goes to counsellors who hold every region (the ministry's
    own). Nobody else reads reports, the school's staff least of all (S4)."""
    if not is_counsellor(principal):
        return false()
    clauses: list[ColumnElement[bool]] = []
    if principal.region_ids:
        clauses.append(among(report.region_id, principal.region_ids))
        region = _REGION
        holds_every_region = ~exists().where(
            region.valid_to.is_(None), outside(region.id, principal.region_ids)
        )
        clauses.append(and_(report.region_id.is_(None), holds_every_region))
    if principal.district_ids:
        clauses.append(among(report.district_id, principal.district_ids))
    return or_(*clauses) if clauses else false()

"""A school arranged for the LMS scenarios: last school year (all its days past) and this
one, a class with its pupils, a guardian, a teacher assigned to mathematics, the bell schedule
and a Monday mathematics slot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AcademicYear,
    ClassGroup,
    Enrollment,
    Institution,
    Person,
    StaffPosition,
    TimetableSlot,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_academic_year,
    make_bell_schedule,
    make_class_group,
    make_guardianship,
    make_institution,
    make_person,
    make_pupil_in_class,
    make_slot,
    make_teacher,
    make_teaching_assignment,
    school_year_of,
)

MONDAY = 1


def first_weekday(start: date, weekday: int) -> date:
    """The first ``weekday`` (1 Monday .. 7 Sunday) on or after ``start``."""
    return start + timedelta(days=(weekday - start.isoweekday()) % 7)


@dataclass
class School:
    school: Institution
    last_year: AcademicYear
    this_year: AcademicYear
    klass: ClassGroup
    pupils: list[Person]
    enrollments: list[Enrollment]
    guardian: Person
    teacher: Person
    post: StaffPosition
    slot: TimetableSlot
    subject: str = "mathematics"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return gid("Institution", self.school.id)

    @property
    def class_id(self) -> str:
        return gid("ClassGroup", self.klass.id)

    def lesson_day(self, weeks: int = 1) -> date:
        """A Monday of last year's first term (past, a school day)."""
        return first_weekday(self.last_year.starts_on, MONDAY) + timedelta(weeks=weeks)


async def arrange_school(
    session: AsyncSession,
    *,
    grade: int = 5,
    pupils: int = 3,
    region_id: int | None = None,
    district_id: int | None = None,
    in_this_year: bool = False,
) -> School:
    """A school with last year's (or this year's) class of ``grade``: ``pupils`` pupils, the
    first one's guardian, a mathematics teacher with a Monday slot in period 1."""
    school = (
        await make_institution(session)
        if region_id is None
        else await make_institution(session, region_id=region_id, district_id=district_id)
    )
    this = school_year_of(today())
    last_year = await make_academic_year(session, start_year=this - 1)
    this_year = await make_academic_year(session, start_year=this)
    year = this_year if in_this_year else last_year
    klass = await make_class_group(session, school=school, year=year, grade=grade)
    members, enrollments = [], []
    for i in range(pupils):
        pupil, enrollment = await make_pupil_in_class(
            session, klass=klass, first_name=["Айбек", "Нурай", "Элина", "Бакыт"][i % 4]
        )
        members.append(pupil)
        enrollments.append(enrollment)
    guardian = await make_person(session, birth_date=date(1985, 1, 1), first_name="Гульнара")
    await make_guardianship(session, guardian=guardian, child=members[0])
    teacher, post = await make_teacher(session, school=school)
    subject = "mathematics" if grade <= 6 else "algebra"
    await make_teaching_assignment(
        session, klass=klass, subject=subject, teacher=teacher, post=post
    )
    await make_bell_schedule(session, school=school)
    slot = await make_slot(
        session, klass=klass, subject=subject, teacher=teacher, weekday=MONDAY, period=1
    )
    await session.commit()
    return School(
        school,
        last_year,
        this_year,
        klass,
        members,
        enrollments,
        guardian,
        teacher,
        post,
        slot,
        subject,
    )


def admin_token(hub: Hub, s: School) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"])


def teacher_token(hub: Hub, s: School, teacher: Person | None = None) -> str:
    who = teacher or s.teacher
    return hub.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=who.id)


def guardian_token(hub: Hub, s: School) -> str:
    return hub.token(Role.GUARDIAN, person_id=s.guardian.id)


def pupil_token(hub: Hub, pupil: Person) -> str:
    return hub.token(Role.PUPIL, person_id=pupil.id)


async def user_errors(hub: Hub, document: str, variables: dict[str, Any], token: str) -> list[Any]:
    data = await hub.data(document, variables, token=token)
    (payload,) = data.values()
    errors: list[Any] = payload["userErrors"]
    return errors

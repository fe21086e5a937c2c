"""Which pupils a lesson is for (issue 16): a lesson of the whole class is for every pupil in
the class on its date; a lesson of a half (``subgroup`` 1 or 2) is for the pupils of that half
of its subject and those not placed in a half of it (``class_membership_half``: a pupil without
a row learns the subject with the whole class, as before the class was divided).

Halves carry no dates (a pupil is in one half of a subject now), so a pupil moved to the other
half keeps what was recorded of them in the first half's lessons: a pupil with a current mark
or an absence in a lesson stays one of its pupils (their register line, their marks'
corrections, their diary). The register, the marks and the diary read the rule as one SQL
condition inside the statement each already sends (:func:`in_other_half`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Attendance, ClassLesson, ClassMembership, ClassMembershipHalf, Mark
from resolvers.errors import Problem
from resolvers.lms.errors import LmsCode


def in_other_half(
    *,
    year: Any,
    lesson: Any,
    subject: Any,
    subgroup: Any,
    membership: Any,
    pupil: Any,
) -> ColumnElement[bool]:
    """True for a pupil (by their membership of the lesson's class) the lesson is not for: the
    lesson is of a half, the pupil learns its subject in the other half, and nothing is
    recorded of them in it (no current mark, no absence). Each argument is a value or a column
    of the enclosing query; a lesson of the whole class (``subgroup`` 0 as a value) is for
    everyone: plain ``false``, no subquery sent."""
    if isinstance(subgroup, int):
        if subgroup == 0:
            return false()
        of_a_half: list[ColumnElement[bool]] = []
    else:
        of_a_half = [subgroup != 0]
    elsewhere = exists().where(
        ClassMembershipHalf.membership_id == membership,
        ClassMembershipHalf.subject_id == subject,
        ClassMembershipHalf.subgroup != subgroup,
    )
    marked = exists().where(
        Mark.academic_year_id == year,
        Mark.lesson_id == lesson,
        Mark.pupil_id == pupil,
        Mark.superseded_at.is_(None),
    )
    absent = exists().where(
        Attendance.academic_year_id == year,
        Attendance.lesson_id == lesson,
        Attendance.pupil_id == pupil,
    )
    return and_(*of_a_half, elsewhere, ~marked, ~absent)


def lesson_in_other_half(lesson: ClassLesson) -> ColumnElement[bool]:
    """:func:`in_other_half` of a loaded lesson, for the pupil of ``class_membership``."""
    return in_other_half(
        year=lesson.academic_year_id,
        lesson=lesson.id,
        subject=lesson.subject_id,
        subgroup=lesson.subgroup,
        membership=ClassMembership.id,
        pupil=ClassMembership.pupil_id,
    )


def members_on_date(lesson: ClassLesson) -> tuple[ColumnElement[bool], ...]:
    """The memberships of the lesson's class on its date."""
    return (
        ClassMembership.class_group_id == lesson.class_group_id,
        ClassMembership.since <= lesson.on_date,
        (ClassMembership.until.is_(None)) | (ClassMembership.until > lesson.on_date),
    )


@dataclass(frozen=True)
class LessonPupils:
    """The pupils a lesson is for, and the pupils of its class on its date it is not for (the
    other half of its subject)."""

    pupils: set[int]
    other_half: set[int]


def lesson_pupils_columns(lesson: ClassLesson) -> tuple[Any, Any]:
    """Two scalar subqueries (arrays of pupil ids, never null): the lesson's pupils and those
    of its class in the other half, for a statement that reads them with something else."""
    other = lesson_in_other_half(lesson)
    empty = text("'{}'::int[]")

    def pupils(where: ColumnElement[bool]) -> Any:
        return (
            select(func.coalesce(func.array_agg(ClassMembership.pupil_id), empty))
            .where(*members_on_date(lesson), where)
            .scalar_subquery()
        )

    return pupils(~other), pupils(other)


async def lesson_pupils(session: AsyncSession, lesson: ClassLesson) -> LessonPupils:
    """The pupils the lesson is for (the register), and those of its class it is not for, in
    one statement."""
    rows = await session.execute(
        select(ClassMembership.pupil_id, lesson_in_other_half(lesson).label("other")).where(
            *members_on_date(lesson)
        )
    )
    mine: set[int] = set()
    others: set[int] = set()
    for pupil, other in rows:
        (others if other else mine).add(pupil)
    return LessonPupils(mine, others)


def not_in_half(pupil_id: int, at: str, lesson: ClassLesson) -> Problem:
    return Problem(
        LmsCode.PUPIL_NOT_IN_HALF,
        f"The pupil learns this subject in the other half (this lesson is of half"
        f" {lesson.subgroup})",
        at,
    )

"""A signed-in learner's feed (``myLearning``): where they learn (their grade and the
language their lessons are in), the next lesson of each subject they have not finished, and
what they have started and finished.

Until the school LMS is on main, a pupil's class and its language of instruction are not
known: the feed reads the pupil's open school enrollment (the grade) and their school's first
language of instruction (the pupil may ask for another), and takes the term from the date
(:func:`current_term`). "The units their class is on" becomes, per subject, the first
published lesson of the grade from the current term on that the pupil has not completed. When
the LMS lands, the class (its language, and the unit its teacher is on) replaces both guesses:
:func:`placement` and the term are the only places that change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Enrollment,
    Institution,
    Lesson,
    LessonProgress,
    LessonStatus,
    ProgressStatus,
    Sector,
)
from models.content.curriculum import LESSON_LANGUAGES
from resolvers import institutions as institutions_service
from resolvers.content.queries import LESSON_COLUMNS
from resolvers.relay import Ordering

PROGRESS_COLUMNS = tuple(LessonProgress.__table__.c)
PROGRESS_ORDERINGS = {
    "RECENT": Ordering(((LessonProgress.updated_at, True), (LessonProgress.lesson_id, True))),
}


@dataclass(frozen=True)
class Placement:
    """Where a learner is: their school, grade and the language of their lessons."""

    institution_id: int | None
    grade: int | None
    language: str
    # The school's row, read with the enrollment: the feed's ``school`` needs no statement.
    school: Any = field(default=None, compare=False)


def current_term(day: date) -> int:
    """The school quarter a date falls in (domain.md S3: early September to late May, four
    quarters): September-October 1, November-December 2, January-March 3, April-May 4; the
    summer counts as the coming year's first quarter."""
    if day.month in (9, 10):
        return 1
    if day.month in (11, 12):
        return 2
    if day.month <= 3:
        return 3
    if day.month <= 5:
        return 4
    return 1


async def placement(session: AsyncSession, person_id: int, language: str | None) -> Placement:
    """The learner's open school enrollment and their school's language of instruction (the
    first one it lists that lessons are made in; Kyrgyz when none is), or ``language`` when
    the learner asks for one."""
    row = (
        await session.execute(
            select(Enrollment.grade_level, *institutions_service.INSTITUTION_COLUMNS)
            .join(Institution, Institution.id == Enrollment.institution_id)
            .where(
                Enrollment.person_id == person_id,
                Enrollment.sector == Sector.SCHOOL,
                Enrollment.exit_date.is_(None),
            )
            .limit(1)
        )
    ).first()
    if row is None:
        return Placement(None, None, language or LESSON_LANGUAGES[0])
    taught = [lang for lang in row.languages or () if lang in LESSON_LANGUAGES]
    chosen = language or (taught[0] if taught else LESSON_LANGUAGES[0])
    return Placement(row.id, row.grade_level, chosen, school=row)


def next_lessons_query(
    person_id: int, place: Placement, *, term: int, subject_code: str | None
) -> Select[Any] | None:
    """Per subject, the first published lesson of the learner's grade and language, from
    ``term`` on, in curriculum order, that the learner has not completed (one index walk per
    subject)."""
    if place.grade is None or not 1 <= place.grade <= 12:
        return None
    done = exists().where(
        LessonProgress.learner_id == person_id,
        LessonProgress.lesson_id == Lesson.id,
        LessonProgress.status == ProgressStatus.COMPLETED,
    )
    stmt = (
        select(*LESSON_COLUMNS)
        .where(
            Lesson.status == LessonStatus.PUBLISHED,
            Lesson.grade == place.grade,
            Lesson.language == place.language,
            Lesson.term >= term,
            ~done,
        )
        .ext(distinct_on(Lesson.subject_code))
        .order_by(
            Lesson.subject_code,
            Lesson.term,
            Lesson.unit_no,
            Lesson.topic_no,
            Lesson.position,
            Lesson.id,
        )
    )
    if subject_code is not None:
        stmt = stmt.where(Lesson.subject_code == subject_code)
    return stmt


def progress_query(person_id: int, status: ProgressStatus | None) -> Select[Any]:
    """The learner's progress rows (of lessons still published), most recent first."""
    stmt = select(*PROGRESS_COLUMNS).where(
        LessonProgress.learner_id == person_id,
        exists().where(
            and_(Lesson.id == LessonProgress.lesson_id, Lesson.status == LessonStatus.PUBLISHED)
        ),
    )
    if status is not None:
        stmt = stmt.where(LessonProgress.status == status)
    return stmt

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

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal_column,
    select,
    true,
)
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
from resolvers import clock
from resolvers import institutions as institutions_service
from resolvers.content.curriculum import lesson_language
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


def current_term_sql() -> ColumnElement[int]:
    """:func:`current_term` of today in Bishkek (:func:`resolvers.clock.today`), worked out by
    PostgreSQL when the statement runs: the compiled feed keeps its statement from one request
    to the next, so the term is never written into it."""
    day = cast(func.timezone(literal_column(f"'{clock.KYRGYZSTAN.key}'"), func.now()), Date)
    return term_of_sql(day)


def term_of_sql(day: ColumnElement[date]) -> ColumnElement[int]:
    """:func:`current_term` in SQL (a test holds the two equal for every month)."""
    month = extract("month", day)

    def n(value: int) -> ColumnElement[int]:
        return literal_column(str(value), Integer)

    return case(
        (month.in_([n(9), n(10)]), n(1)),
        (month.in_([n(11), n(12)]), n(2)),
        (month <= n(3), n(3)),
        (month <= n(5), n(4)),
        else_=n(1),
    )


def _open_school_enrollment(learner: int | ColumnElement[int]) -> list[ColumnElement[bool]]:
    """The learner's open school enrollment (at most one: the enrollment's constraints)."""
    return [
        Enrollment.person_id == learner,
        Enrollment.sector == Sector.SCHOOL,
        Enrollment.exit_date.is_(None),
    ]


async def placement(session: AsyncSession, person_id: int, language: str | None) -> Placement:
    """The learner's open school enrollment and their school's language of instruction (the
    first one it lists that lessons are made in; Kyrgyz when none is), or ``language`` when
    the learner asks for one."""
    row = (
        await session.execute(
            select(Enrollment.grade_level, *institutions_service.INSTITUTION_COLUMNS)
            .join(Institution, Institution.id == Enrollment.institution_id)
            .where(*_open_school_enrollment(person_id))
            .limit(1)
        )
    ).first()
    if row is None:
        return Placement(None, None, language or LESSON_LANGUAGES[0])
    taught = [lang for lang in row.languages or () if lang in LESSON_LANGUAGES]
    chosen = language or (taught[0] if taught else LESSON_LANGUAGES[0])
    return Placement(row.id, row.grade_level, chosen, school=row)


def placement_sql(caller: FromClause, language: str | None) -> Select[Any]:
    """:func:`placement` in SQL, one row (``person_id``, ``grade``, ``institution_id``,
    ``language``) for the compiled feed: the open school enrollment's grade and school, and
    the language asked for, else the first of the school's languages that lessons are made
    in, else Kyrgyz; without an open enrollment, no grade and no school. ``caller`` is a
    one-row table whose ``person_id`` is the learner (the caller's person, which the compiled
    statement holds in that one place); ``language`` a checked lesson language or None."""
    codes = (
        func.unnest(Institution.languages)
        .table_valued("code", with_ordinality="place")
        .render_derived(name="school_language")
    )
    taught = (
        select(codes.c.code)
        .where(codes.c.code.in_([_quoted(code) for code in LESSON_LANGUAGES]))
        .order_by(codes.c.place)
        .limit(1)
        .scalar_subquery()
    )
    school = (
        select(
            Enrollment.grade_level.label("grade"),
            Enrollment.institution_id.label("institution_id"),
            taught.label("taught"),
        )
        .join(Institution, Institution.id == Enrollment.institution_id)
        .where(*_open_school_enrollment(caller.c.person_id))
        .limit(1)
        .lateral("feed_school")
    )
    asked = [] if language is None else [_quoted(lesson_language(language))]
    chosen = func.coalesce(*asked, school.c.taught, _quoted(LESSON_LANGUAGES[0]))
    return select(
        caller.c.person_id,
        school.c.grade,
        school.c.institution_id,
        chosen.label("language"),
    ).select_from(caller.outerjoin(school, true()))


def _quoted(code: str) -> ColumnElement[str]:
    """A language code written into the statement (one of :data:`LESSON_LANGUAGES`)."""
    return literal_column("'" + code.replace("'", "''") + "'", String)


def next_lessons_query(
    person_id: int, place: Placement, *, term: int, subject_code: str | None
) -> Select[Any] | None:
    """Per subject, the first published lesson of the learner's grade and language, from
    ``term`` on, in curriculum order, that the learner has not completed (one index walk per
    subject)."""
    if place.grade is None or not 1 <= place.grade <= 12:
        return None
    return next_lessons_select(
        person_id, place.grade, place.language, term=term, subject_code=subject_code
    )


def next_lessons_select(
    learner: int | ColumnElement[int],
    grade: int | ColumnElement[int],
    language: str | ColumnElement[str],
    *,
    term: int | ColumnElement[int],
    subject_code: str | None,
) -> Select[Any]:
    """:func:`next_lessons_query`'s statement, its learner, grade, language and term given as
    values or as SQL expressions: the compiled feed (``schema/compiled/feed.py``) passes the
    columns of its placement, so both paths pick the same lessons by the same rule."""
    done = exists().where(
        LessonProgress.learner_id == learner,
        LessonProgress.lesson_id == Lesson.id,
        LessonProgress.status == ProgressStatus.COMPLETED,
    )
    stmt = (
        select(*LESSON_COLUMNS)
        .where(
            Lesson.status == LessonStatus.PUBLISHED,
            Lesson.grade == grade,
            Lesson.language == language,
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


def progress_query(
    person_id: int | ColumnElement[int], status: ProgressStatus | None
) -> Select[Any]:
    """The learner's progress rows (of lessons still published), most recent first (the
    learner a value, or a SQL expression on the compiled path)."""
    stmt = select(*PROGRESS_COLUMNS).where(
        LessonProgress.learner_id == person_id,
        exists().where(
            and_(Lesson.id == LessonProgress.lesson_id, Lesson.status == LessonStatus.PUBLISHED)
        ),
    )
    if status is not None:
        stmt = stmt.where(LessonProgress.status == status)
    return stmt

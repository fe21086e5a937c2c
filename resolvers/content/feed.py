"""A signed-in learner's feed (``myLearning``): where they learn (their grade and the
language their lessons are in), the next lesson of each subject they have not finished, and
what they have started and finished.

The feed reads the school LMS (issue 16): the pupil's class is their open membership of a
class group through their open school enrollment. The class gives the language of the lessons
(its language of instruction, when lessons are made in it; the pupil may ask for another), and
for each subject in which the class's teacher has recorded a held lesson naming a curriculum
topic (``class_lesson.curriculum_unit_id``), the unit of the latest such lesson up to today is
where the class is: the next lesson of that subject is the first published lesson, from that
unit on in curriculum order, that the pupil has not completed. A pupil the LMS places in a half
of the class for a subject (``class_membership_half``) is placed by the lessons of the whole
class and of their own half. The term is the class's academic year's term in the LMS's
calendar (the next one in the holidays: :func:`class_term`). The lessons are of the class's
curriculum model (S1: the 12-year standard or the legacy 11-year model), and of the other
standard in a subject the model has no lessons of in the pupil's grade and language
(:func:`_of_standard`). Where the LMS says nothing (no class, no recorded topic in a subject, a
class language lessons are not made in, a year whose terms are over), the earlier guesses
stand: the school's first language of instruction that lessons are made in, the term of the
date (:func:`current_term`), the first published lesson from the term on, and the standard
the school's policy gives the pupil's cohort (:func:`cohort_standard`).

:func:`placement` (one row of the resolvers) and :func:`placement_sql` (the compiled feed's)
read the same things by the same rule, and both paths send :func:`next_lessons_select`."""

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
    Subquery,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from models import (
    ClassGroup,
    ClassLesson,
    ClassLessonStatus,
    ClassMembership,
    ClassMembershipHalf,
    ClassSubject,
    CurriculumUnit,
    Enrollment,
    Institution,
    Lesson,
    LessonProgress,
    LessonStatus,
    LmsPolicy,
    ProgressStatus,
    Sector,
    Term,
)
from models.content.curriculum import LESSON_LANGUAGES, CurriculumStandard
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
    """Where a learner is: their school, grade and the language of their lessons, and their
    class (the LMS's class group and its academic year) when they are in one."""

    institution_id: int | None
    grade: int | None
    language: str
    class_group_id: int | None = None
    academic_year_id: int | None = None
    # The term it is (S3): the class's academic year's, else the date's (:func:`feed_term`).
    term: int | None = None
    # The standard the learner's lessons follow (S1): their class's curriculum model, else the
    # one their school's policy gives their cohort (:func:`cohort_standard`).
    standard: str | None = None
    # Their open membership of the class: which half of it they learn a subject in.
    membership_id: int | None = None
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


def today_sql() -> ColumnElement[date]:
    """Today in Bishkek (:func:`resolvers.clock.today`), worked out by PostgreSQL when the
    statement runs: the compiled feed keeps its statement from one request to the next, so
    neither the day nor the term is ever written into it."""
    return cast(func.timezone(literal_column(f"'{clock.KYRGYZSTAN.key}'"), func.now()), Date)


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


def school_year_sql(day: date | ColumnElement[date]) -> ColumnElement[int]:
    """The calendar year the school year of ``day`` begins in, June to December counting as
    the coming year's (as :func:`current_term` counts the summer: ``closeAcademicYear`` opens
    a promoted pupil's enrollment in their next grade the day after the year ends)."""
    if isinstance(day, date):
        return literal_column(str(day.year if day.month >= 6 else day.year - 1), Integer)
    month = extract("month", day)
    return cast(extract("year", day), Integer) - case(
        (month >= literal_column("6", Integer), literal_column("0", Integer)),
        else_=literal_column("1", Integer),
    )


def cohort_standard(
    grade: ColumnElement[int | None] | InstrumentedAttribute[int | None],
    institution: ColumnElement[int] | InstrumentedAttribute[int],
    today: date | ColumnElement[date],
) -> ColumnElement[str]:
    """The standard a pupil without a class learns under, by the rule the LMS gives a new
    class its model (``resolvers.lms.Policy.curriculum_model``, S1): the 12-year standard
    when their cohort entered grade 1 in or after the first intake of their school's policy
    (its own ``lms_policy`` row, else the national one), else the legacy 11-year model."""
    first_intake = (
        select(LmsPolicy.twelve_year_from)
        .where(or_(LmsPolicy.institution_id == institution, LmsPolicy.institution_id.is_(None)))
        .order_by(LmsPolicy.institution_id.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    entered = school_year_sql(today) - grade + literal_column("1", Integer)
    return case(
        (entered >= first_intake, _quoted(CurriculumStandard.TWELVE_YEAR.value)),
        else_=_quoted(CurriculumStandard.ELEVEN_YEAR.value),
    )


def _standard(today: date | ColumnElement[date]) -> ColumnElement[str]:
    """The standard of the learner's lessons (S1): their class's curriculum model as the LMS
    records it, else their school's for their cohort (:func:`cohort_standard`)."""
    return func.coalesce(
        cast(ClassGroup.curriculum_model, String),
        cohort_standard(Enrollment.grade_level, Enrollment.institution_id, today),
    )


def _open_school_enrollment(learner: int | ColumnElement[int]) -> list[ColumnElement[bool]]:
    """The learner's open school enrollment (at most one: the enrollment's constraints)."""
    return [
        Enrollment.person_id == learner,
        Enrollment.sector == Sector.SCHOOL,
        Enrollment.exit_date.is_(None),
    ]


def _class_of_enrollment() -> ColumnElement[bool]:
    """The open class membership of the enrollment (at most one: a unique index, and the
    membership ends with the enrollment)."""
    return and_(ClassMembership.enrollment_id == Enrollment.id, ClassMembership.until.is_(None))


def _class_language() -> ColumnElement[str]:
    """The class's language of instruction when lessons are made in it, else null."""
    return case(
        (
            ClassGroup.language.in_([_quoted(code) for code in LESSON_LANGUAGES]),
            cast(ClassGroup.language, String),
        ),
        else_=None,
    )


def class_term(
    academic_year: int | ColumnElement[int] | InstrumentedAttribute[int],
    today: date | ColumnElement[date],
) -> ColumnElement[int]:
    """The term of a class's academic year in the LMS's calendar (S3: the ministry's dates)
    that ``today`` falls in, or the next one to begin when ``today`` is in the holidays
    between terms; null when the year's last term is over (or there is no class)."""
    return (
        select(Term.number)
        .where(Term.academic_year_id == academic_year, Term.ends_on >= today)
        .order_by(Term.starts_on)
        .limit(1)
        .scalar_subquery()
    )


def feed_term(class_calendar: int | None, today: date) -> int:
    """The term the feed is in: the class's calendar's (:func:`class_term`), else the date's
    guess (:func:`current_term`)."""
    return class_calendar if class_calendar is not None else current_term(today)


async def placement(
    session: AsyncSession, person_id: int, language: str | None, today: date
) -> Placement:
    """The learner's open school enrollment, their class in it, the language of their lessons,
    the term and the standard: ``language`` when the learner asks for one, else the class's
    language of instruction when lessons are made in it, else the first of their school's
    languages that lessons are made in, else Kyrgyz; the term of ``today`` in the class's
    calendar, else by the date (:func:`feed_term`); the class's curriculum model, else the
    school's for the cohort (:func:`cohort_standard`)."""
    row = (
        await session.execute(
            select(
                Enrollment.grade_level,
                ClassGroup.id.label("class_group_id"),
                ClassGroup.academic_year_id.label("class_year_id"),
                ClassMembership.id.label("membership_id"),
                _class_language().label("class_language"),
                class_term(ClassGroup.academic_year_id, today).label("class_term"),
                _standard(today).label("standard"),
                *institutions_service.INSTITUTION_COLUMNS,
            )
            .join(Institution, Institution.id == Enrollment.institution_id)
            .outerjoin(ClassMembership, _class_of_enrollment())
            .outerjoin(ClassGroup, ClassGroup.id == ClassMembership.class_group_id)
            .where(*_open_school_enrollment(person_id))
            .limit(1)
        )
    ).first()
    if row is None:
        return Placement(None, None, language or LESSON_LANGUAGES[0], term=current_term(today))
    taught = [lang for lang in row.languages or () if lang in LESSON_LANGUAGES]
    chosen = language or row.class_language or (taught[0] if taught else LESSON_LANGUAGES[0])
    return Placement(
        row.id,
        row.grade_level,
        chosen,
        class_group_id=row.class_group_id,
        academic_year_id=row.class_year_id,
        term=feed_term(row.class_term, today),
        standard=row.standard,
        membership_id=row.membership_id,
        school=row,
    )


def placement_sql(
    caller: FromClause, language: str | None, today: ColumnElement[date]
) -> Select[Any]:
    """:func:`placement` in SQL, one row (``person_id``, ``grade``, ``institution_id``,
    ``class_group_id``, ``academic_year_id``, ``membership_id``, ``language``, ``term``,
    ``standard``) for the compiled feed:
    the open school enrollment's grade and school, its open class membership's class and year,
    the language and the term of ``today`` (:func:`today_sql`: the compiled feed's statement is
    kept, so the day is PostgreSQL's) by :func:`placement`'s rules; without an open enrollment,
    no grade, school or class. ``caller`` is a one-row table whose ``person_id`` is the learner
    (the caller's person, which the compiled statement holds in that one place); ``language`` a
    checked lesson language or None."""
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
            ClassGroup.id.label("class_group_id"),
            ClassGroup.academic_year_id.label("academic_year_id"),
            ClassMembership.id.label("membership_id"),
            _class_language().label("class_language"),
            class_term(ClassGroup.academic_year_id, today).label("class_term"),
            _standard(today).label("standard"),
            taught.label("taught"),
        )
        .join(Institution, Institution.id == Enrollment.institution_id)
        .outerjoin(ClassMembership, _class_of_enrollment())
        .outerjoin(ClassGroup, ClassGroup.id == ClassMembership.class_group_id)
        .where(*_open_school_enrollment(caller.c.person_id))
        .limit(1)
        .lateral("feed_school")
    )
    asked = [] if language is None else [_quoted(lesson_language(language))]
    chosen = func.coalesce(
        *asked, school.c.class_language, school.c.taught, _quoted(LESSON_LANGUAGES[0])
    )
    return select(
        caller.c.person_id,
        school.c.grade,
        school.c.institution_id,
        school.c.class_group_id,
        school.c.academic_year_id,
        school.c.membership_id,
        chosen.label("language"),
        func.coalesce(school.c.class_term, term_of_sql(today)).label("term"),
        school.c.standard,
    ).select_from(caller.outerjoin(school, true()))


def _quoted(code: str) -> ColumnElement[str]:
    """A language code written into the statement (one of :data:`LESSON_LANGUAGES`)."""
    return literal_column("'" + code.replace("'", "''") + "'", String)


def next_lessons_query(
    person_id: int, place: Placement, *, term: int, today: date, subject_code: str | None
) -> Select[Any] | None:
    """Per subject, the first published lesson of the learner's grade, language and standard
    that the learner has not completed, in curriculum order: from the unit their class (or
    their half of it) is on as of ``today``, else from ``term`` on (one index walk per
    subject)."""
    if place.grade is None or not 1 <= place.grade <= 12:
        return None
    return next_lessons_select(
        person_id,
        place.grade,
        place.language,
        term=term,
        subject_code=subject_code,
        standard=place.standard or CurriculumStandard.TWELVE_YEAR.value,
        class_group=place.class_group_id,
        academic_year=place.academic_year_id,
        membership=place.membership_id,
        today=today,
    )


def class_positions(
    class_group: int | ColumnElement[int],
    academic_year: int | ColumnElement[int],
    membership: int | ColumnElement[int] | None,
    today: date | ColumnElement[date],
) -> Subquery:
    """Where a class is in the curriculum, per subject (``subject_code``, ``standard``,
    ``term``, ``unit_no``): the curriculum topic named by the class's latest held lesson of
    the subject up to ``today`` that names one (the latest by date and start; of two halves of
    the class at once, the later topic). A pupil placed in a half of the class for a subject
    (``class_membership_half`` of their ``membership``) is placed by the lessons of the whole
    class and of their own half only. Subjects without such a lesson have no row. One probe
    of ``ix_class_lesson_class_subject_unit`` per subject of the class; the class, year and
    membership may be values or the compiled feed's columns (correlated)."""
    held = literal_column("'" + ClassLessonStatus.HELD.value + "'", String)
    half = (
        select(ClassMembershipHalf.subgroup)
        .where(
            ClassMembershipHalf.membership_id == membership,
            ClassMembershipHalf.subject_id == ClassSubject.subject_id,
        )
        .correlate_except(ClassMembershipHalf)
        .scalar_subquery()
        if membership is not None
        else None
    )
    whose = (
        []
        if half is None
        else [
            or_(
                ClassLesson.subgroup == literal_column("0", Integer),
                ClassLesson.subgroup == func.coalesce(half, ClassLesson.subgroup),
            )
        ]
    )
    latest = (
        select(ClassLesson.curriculum_unit_id)
        .where(
            ClassLesson.academic_year_id == academic_year,
            ClassLesson.class_group_id == class_group,
            ClassLesson.subject_id == ClassSubject.subject_id,
            ClassLesson.curriculum_unit_id.is_not(None),
            # Written into the text, so the partial index serves a generic plan too.
            ClassLesson.status == held,
            ClassLesson.on_date <= today,
            *whose,
        )
        .order_by(
            ClassLesson.on_date.desc(),
            ClassLesson.starts_minute.desc(),
            ClassLesson.curriculum_unit_id.desc(),
        )
        .limit(1)
        .correlate_except(ClassLesson, ClassMembershipHalf)
        .lateral("class_latest")
    )
    return (
        select(
            CurriculumUnit.subject_code,
            cast(CurriculumUnit.standard, String).label("standard"),
            CurriculumUnit.term,
            CurriculumUnit.unit_no,
        )
        .select_from(ClassSubject)
        .join(latest, true())
        .join(CurriculumUnit, CurriculumUnit.id == latest.c.curriculum_unit_id)
        .where(ClassSubject.class_group_id == class_group)
        .correlate_except(ClassSubject, CurriculumUnit)
        .subquery("class_position")
    )


def _of_standard(
    grade: int | ColumnElement[int],
    language: str | ColumnElement[str],
    standard: str | ColumnElement[str],
) -> ColumnElement[bool]:
    """A lesson of the learner's standard (S1), or, in a subject in which that standard has no
    published lesson of their grade and language, of the other one: a class of the legacy
    model is offered the legacy curriculum's lessons, and the 12-year standard's where the
    legacy curriculum has none in that subject (and the reverse). The subjects the standard
    has lessons in are read once a statement (a hashed subplan)."""
    own = aliased(Lesson, name="standard_lesson")
    # Correlated to whatever gives the grade, language and standard (the compiled feed's
    # placement), never a copy of it.
    offered = (
        select(own.subject_code)
        .where(
            own.status == LessonStatus.PUBLISHED,
            own.grade == grade,
            own.language == language,
            cast(own.standard, String) == standard,
        )
        .correlate_except(own)
    )
    return or_(cast(Lesson.standard, String) == standard, Lesson.subject_code.not_in(offered))


def next_lessons_select(
    learner: int | ColumnElement[int],
    grade: int | ColumnElement[int],
    language: str | ColumnElement[str],
    *,
    term: int | ColumnElement[int],
    subject_code: str | None,
    standard: str | ColumnElement[str],
    class_group: int | ColumnElement[int] | None = None,
    academic_year: int | ColumnElement[int] | None = None,
    membership: int | ColumnElement[int] | None = None,
    today: date | ColumnElement[date] | None = None,
) -> Select[Any]:
    """:func:`next_lessons_query`'s statement, its learner, grade, language, term, standard,
    class and day given as values or as SQL expressions: the compiled feed
    (``schema/compiled/feed.py``) passes the columns of its placement, so both paths pick the
    same lessons by the same rule. Lessons are of the learner's standard where it has any in
    the subject (:func:`_of_standard`). A subject the class has a position in
    (:func:`class_positions`) starts at the first lesson of that unit, ``(term, unit_no) >=
    the position's``, ahead of the date's term or behind it (a position in the other
    standard's curriculum, whose units are numbered otherwise, starts at its term); any other
    subject at ``term``. Without a class (``class_group`` None) the statement has no
    positions to join."""
    done = exists().where(
        LessonProgress.learner_id == learner,
        LessonProgress.lesson_id == Lesson.id,
        LessonProgress.status == ProgressStatus.COMPLETED,
    )
    stmt = select(*LESSON_COLUMNS).where(
        Lesson.status == LessonStatus.PUBLISHED,
        Lesson.grade == grade,
        Lesson.language == language,
        _of_standard(grade, language, standard),
        ~done,
    )
    if class_group is None:
        stmt = stmt.where(Lesson.term >= term)
    else:
        assert academic_year is not None, "a class is of an academic year"
        assert today is not None, "a class's position is as of a day"
        position = class_positions(class_group, academic_year, membership, today)
        same = position.c.standard == cast(Lesson.standard, String)
        stmt = stmt.outerjoin(position, position.c.subject_code == Lesson.subject_code).where(
            or_(
                and_(position.c.term.is_(None), Lesson.term >= term),
                and_(
                    same,
                    tuple_(Lesson.term, Lesson.unit_no)
                    >= tuple_(position.c.term, position.c.unit_no),
                ),
                and_(~same, Lesson.term >= position.c.term),
            )
        )
    stmt = stmt.ext(distinct_on(Lesson.subject_code)).order_by(
        Lesson.subject_code,
        Lesson.term,
        Lesson.unit_no,
        Lesson.topic_no,
        Lesson.position,
        Lesson.id,
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

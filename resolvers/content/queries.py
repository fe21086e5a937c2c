"""The content lists: curriculum units, lessons (published ones for everyone, every state for
editors), open courses, and the columns and orders the loaders and the compiled path share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, select, type_coerce
from sqlalchemy.dialects import postgresql

from models import (
    CourseEnrollment,
    CourseRun,
    CurriculumStandard,
    CurriculumUnit,
    Lesson,
    LessonStatus,
    OpenCourse,
    StudyLevel,
    Subject,
)
from resolvers.access import Principal
from resolvers.content.rules import lesson_visible
from resolvers.relay import Ordering

# A lesson's list columns: not its text version (read by the lesson page alone) nor its search
# columns.
LESSON_COLUMNS = tuple(
    c for c in Lesson.__table__.c if c.key not in ("body", "search_folded", "search_vector")
)
UNIT_COLUMNS = tuple(CurriculumUnit.__table__.c)
COURSE_COLUMNS = tuple(OpenCourse.__table__.c)
RUN_COLUMNS = tuple(CourseRun.__table__.c)

LESSON_ORDERINGS = {
    # The curriculum's order: grade, subject, term, unit, topic, the lesson's place.
    "CURRICULUM": Ordering(
        (
            (Lesson.grade, False),
            (Lesson.subject_code, False),
            (Lesson.term, False),
            (Lesson.unit_no, False),
            (Lesson.topic_no, False),
            (Lesson.position, False),
            (Lesson.id, False),
        )
    ),
    "NEWEST": Ordering(((Lesson.published_at, True), (Lesson.id, True))),
    "ID": Ordering(((Lesson.id, False),)),
}
UNIT_ORDERINGS = {
    "CURRICULUM": Ordering(
        (
            (CurriculumUnit.grade, False),
            (CurriculumUnit.subject_code, False),
            (CurriculumUnit.term, False),
            (CurriculumUnit.unit_no, False),
            (CurriculumUnit.topic_no, False),
            (CurriculumUnit.id, False),
        )
    ),
    "ID": Ordering(((CurriculumUnit.id, False),)),
}
COURSE_ORDERINGS = {
    "TITLE": Ordering(((OpenCourse.title, False), (OpenCourse.id, False))),
    "ID": Ordering(((OpenCourse.id, False),)),
}
RUN_ORDERINGS = {"STARTS_ON": Ordering(((CourseRun.starts_on, False), (CourseRun.id, False)))}
MY_ENROLLMENT_ORDERING = Ordering(((CourseEnrollment.id, True),))


@dataclass(frozen=True)
class LessonFilter:
    """What a lesson list is narrowed to; every field given must hold. The grade-band portals
    set ``grade_min``/``grade_max`` (1-4, 5-9) and are otherwise the same list."""

    grade: int | None = None
    grade_min: int | None = None
    grade_max: int | None = None
    subject_code: str | None = None
    language: str | None = None
    term: int | None = None
    standard: CurriculumStandard | None = None
    unit_id: int | None = None
    status: LessonStatus | None = None


def lesson_filter_clauses(flt: LessonFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.grade is not None:
        clauses.append(Lesson.grade == flt.grade)
    if flt.grade_min is not None:
        clauses.append(Lesson.grade >= flt.grade_min)
    if flt.grade_max is not None:
        clauses.append(Lesson.grade <= flt.grade_max)
    if flt.subject_code is not None:
        clauses.append(Lesson.subject_code == flt.subject_code)
    if flt.language is not None:
        clauses.append(Lesson.language == flt.language)
    if flt.term is not None:
        clauses.append(Lesson.term == flt.term)
    if flt.standard is not None:
        clauses.append(Lesson.standard == flt.standard)
    if flt.unit_id is not None:
        clauses.append(Lesson.unit_id == flt.unit_id)
    if flt.status is not None:
        clauses.append(Lesson.status == flt.status)
    return clauses


def lessons_query(principal: Principal, flt: LessonFilter) -> Select[Any]:
    """Lessons the caller may read (published ones; every state for editors), filtered.
    Without a status asked for, a list shows published lessons to everyone."""
    status = flt.status or LessonStatus.PUBLISHED
    return select(*LESSON_COLUMNS).where(
        lesson_visible(principal),
        *lesson_filter_clauses(LessonFilter(**{**flt.__dict__, "status": status})),
    )


@dataclass(frozen=True)
class UnitFilter:
    standard: CurriculumStandard | None = None
    subject_code: str | None = None
    grade: int | None = None
    term: int | None = None
    language: str | None = None


def curriculum_units_query(flt: UnitFilter) -> Select[Any]:
    """The curriculum is public."""
    stmt = select(*UNIT_COLUMNS)
    if flt.standard is not None:
        stmt = stmt.where(CurriculumUnit.standard == flt.standard)
    if flt.subject_code is not None:
        stmt = stmt.where(CurriculumUnit.subject_code == flt.subject_code)
    if flt.grade is not None:
        stmt = stmt.where(CurriculumUnit.grade == flt.grade)
    if flt.term is not None:
        stmt = stmt.where(CurriculumUnit.term == flt.term)
    if flt.language is not None:
        # ``languages @> ARRAY[...]``: the model's generic ARRAY has no ``contains``.
        languages = type_coerce(CurriculumUnit.languages, postgresql.ARRAY(String))
        stmt = stmt.where(languages.contains([flt.language]))
    return stmt


@dataclass(frozen=True)
class CourseFilter:
    institution_id: int | None = None
    language: str | None = None
    level: StudyLevel | None = None
    programme_code: str | None = None


def open_courses_query(flt: CourseFilter) -> Select[Any]:
    """Open courses are public."""
    stmt = select(*COURSE_COLUMNS)
    if flt.institution_id is not None:
        stmt = stmt.where(OpenCourse.institution_id == flt.institution_id)
    if flt.language is not None:
        stmt = stmt.where(OpenCourse.language == flt.language)
    if flt.level is not None:
        stmt = stmt.where(OpenCourse.level == flt.level)
    if flt.programme_code is not None:
        stmt = stmt.where(OpenCourse.programme_code == flt.programme_code)
    return stmt


def my_course_enrollments_query(person_id: int | ColumnElement[int]) -> Select[Any]:
    """A learner's own course enrollments (``person_id`` a column too: the compiled feed's
    caller, schema/compiled/open_courses.py)."""
    return select(*CourseEnrollment.__table__.c).where(CourseEnrollment.person_id == person_id)


def subjects_query() -> Select[Any]:
    """The curriculum's subjects, by code (public)."""
    return select(*Subject.__table__.c).order_by(Subject.code)

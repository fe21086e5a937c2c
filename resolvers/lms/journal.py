"""A class's gradebook for a subject and a term, as its teacher reads it: the lessons with
their topics, every pupil's marks and absences, and the term result by the declared rule
beside the one the teacher set. A fixed number of statements, however many pupils and
marks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssessmentRule,
    Attendance,
    ClassGroup,
    ClassLesson,
    ClassMembership,
    LmsPolicy,
    Mark,
    ResultOverride,
    Term,
)
from resolvers.access import Principal
from resolvers.lms.gradebook import RESULT_RULE, Scheme, computed_result
from resolvers.lms.rules import gradebook_readable


@dataclass
class JournalRow:
    """One pupil's line: marks, absences, the computed and the set result."""

    pupil_id: int
    since: Any
    until: Any
    marks: list[Any] = field(default_factory=list)
    absences: list[Any] = field(default_factory=list)
    computed: int | None = None
    override: Any = None


@dataclass
class Journal:
    class_group: Any
    subject_id: int
    term: Any
    scheme: Scheme
    rule: str
    lessons: list[Any]
    rows: list[JournalRow]


def _min_marks(institution_id: Any) -> Any:
    return (
        select(LmsPolicy.min_marks_for_result)
        .where(or_(LmsPolicy.institution_id == institution_id, LmsPolicy.institution_id.is_(None)))
        .order_by(LmsPolicy.institution_id.is_(None))
        .limit(1)
        .scalar_subquery()
    )


async def _head(
    session: AsyncSession, principal: Principal, class_group_id: int, subject_id: int, term_id: int
) -> Any:
    """The class, the term (of the class's year), its scheme and policy, if readable."""
    return (
        await session.execute(
            select(
                *ClassGroup.__table__.c,
                Term.id.label("term_id"),
                Term.number.label("term_number"),
                Term.starts_on.label("term_starts_on"),
                Term.ends_on.label("term_ends_on"),
                AssessmentRule.scheme,
                AssessmentRule.min_value,
                AssessmentRule.max_value,
                _min_marks(ClassGroup.institution_id).label("min_marks"),
            )
            .join(Term, Term.academic_year_id == ClassGroup.academic_year_id)
            .join(
                AssessmentRule,
                and_(
                    AssessmentRule.curriculum_model == ClassGroup.curriculum_model,
                    AssessmentRule.grade == ClassGroup.grade,
                ),
            )
            .where(
                ClassGroup.id == class_group_id,
                Term.id == term_id,
                gradebook_readable(principal, ClassGroup.id, subject_id),
            )
        )
    ).first()


async def journal(
    session: AsyncSession,
    principal: Principal,
    *,
    class_group_id: int,
    subject_id: int,
    term_id: int,
) -> Journal | None:
    """The gradebook of a class, subject and term, or None if there is none the caller may
    read (:func:`resolvers.lms.rules.gradebook_readable`)."""
    head = await _head(session, principal, class_group_id, subject_id, term_id)
    if head is None:
        return None
    year, start, end = head.academic_year_id, head.term_starts_on, head.term_ends_on
    members = list(
        await session.execute(
            select(ClassMembership.pupil_id, ClassMembership.since, ClassMembership.until)
            .where(
                ClassMembership.class_group_id == class_group_id,
                ClassMembership.since <= end,
                or_(ClassMembership.until.is_(None), ClassMembership.until > start),
            )
            .order_by(ClassMembership.pupil_id, ClassMembership.since)
        )
    )
    lessons = list(
        await session.execute(
            select(*ClassLesson.__table__.c)
            .where(
                ClassLesson.academic_year_id == year,
                ClassLesson.class_group_id == class_group_id,
                ClassLesson.subject_id == subject_id,
                ClassLesson.on_date.between(start, end),
            )
            .order_by(ClassLesson.on_date, ClassLesson.starts_minute, ClassLesson.id)
        )
    )
    marks = await session.execute(
        select(*Mark.__table__.c)
        .where(
            Mark.academic_year_id == year,
            Mark.class_group_id == class_group_id,
            Mark.subject_id == subject_id,
            Mark.on_date.between(start, end),
            Mark.superseded_at.is_(None),
        )
        .order_by(Mark.on_date, Mark.id)
    )
    lesson_ids = [lesson.id for lesson in lessons]
    absences = await session.execute(
        select(*Attendance.__table__.c).where(
            Attendance.academic_year_id == year,
            Attendance.lesson_id.in_(lesson_ids or [0]),
        )
    )
    overrides = await session.execute(
        select(*ResultOverride.__table__.c).where(
            ResultOverride.class_group_id == class_group_id,
            ResultOverride.subject_id == subject_id,
            ResultOverride.period == head.term_number,
            ResultOverride.superseded_at.is_(None),
        )
    )
    scheme = Scheme(head.scheme, head.min_value, head.max_value)
    rows = _rows(members, marks, absences, overrides, scheme, int(head.min_marks))
    return Journal(head, subject_id, head, scheme, RESULT_RULE, lessons, rows)


def _rows(
    members: list[Any], marks: Any, absences: Any, overrides: Any, scheme: Scheme, min_marks: int
) -> list[JournalRow]:
    rows: dict[int, JournalRow] = {}
    for m in members:
        # A pupil who left and came back keeps one line, from their first day.
        rows.setdefault(m.pupil_id, JournalRow(m.pupil_id, m.since, m.until)).until = m.until
    by_pupil: dict[int, list[Any]] = defaultdict(list)
    for mark in marks:
        by_pupil[mark.pupil_id].append(mark)
    for absence in absences:
        if absence.pupil_id in rows:
            rows[absence.pupil_id].absences.append(absence)
    for override in overrides:
        if override.pupil_id in rows:
            rows[override.pupil_id].override = override
    for pupil_id, row in rows.items():
        row.marks = by_pupil.get(pupil_id, [])
        row.computed = computed_result(scheme, row.marks, min_marks)
    return list(rows.values())

"""A class's gradebook for a subject and a term, as its teacher reads it: the lessons with
their topics, every pupil's marks and absences, and the term result by the declared rule
beside the one the teacher set. A fixed number of statements, however many pupils and
marks."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, and_, bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssessmentRule,
    AssessmentScheme,
    AttendanceStatus,
    ClassGroup,
    ClassLesson,
    LmsPolicy,
    MarkWork,
    Subject,
    Term,
)
from resolvers.access import Principal
from resolvers.lms.diary import DiaryMark
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
                Subject.code.label("subject_code"),
                Subject.name_ky.label("subject_name_ky"),
                Subject.name_ru.label("subject_name_ru"),
                Subject.name_en.label("subject_name_en"),
            )
            .join(Term, Term.academic_year_id == ClassGroup.academic_year_id)
            .join(
                AssessmentRule,
                and_(
                    AssessmentRule.curriculum_model == ClassGroup.curriculum_model,
                    AssessmentRule.grade == ClassGroup.grade,
                ),
            )
            .join(Subject, Subject.id == subject_id)
            .where(
                ClassGroup.id == class_group_id,
                Term.id == term_id,
                gradebook_readable(principal, ClassGroup.id, subject_id),
            )
        )
    ).first()


# A gradebook's pupils, marks, absences and set results in one statement (JSON built by
# PostgreSQL). The year is a constant of the statement, so only its partitions are read; marks
# read the partial index on (year, class, subject, date); absences are reached from the
# subject's lessons of the term through the attendance's key.
BODY_SQL = text(
    """
SELECT json_build_object(
  'members', (SELECT json_agg(json_build_array(m.pupil_id, m.since, m.until)
                ORDER BY m.pupil_id, m.since)
              FROM class_membership m
              WHERE m.class_group_id = :klass AND m.since <= :end
                AND (m.until IS NULL OR m.until > :start)),
  'marks', (SELECT json_agg(json_build_array(k.lesson_id, k.pupil_id, k.work, k.scheme,
              k.value, k.criterion, k.comment, k.on_date, k.recorded_at, k.correction_reason)
              ORDER BY k.on_date, k.id)
            FROM mark k
            WHERE k.academic_year_id = :year AND k.class_group_id = :klass
              AND k.subject_id = :subject AND k.on_date BETWEEN :start AND :end
              AND k.superseded_at IS NULL),
  'absences', (SELECT json_agg(json_build_array(a.pupil_id, a.status, a.reason,
                 a.minutes_late) ORDER BY c.on_date, c.starts_minute, c.id)
               FROM class_lesson c
               -- from the subject's lessons to their registers (the attendance's key)
               CROSS JOIN LATERAL (SELECT pupil_id, status, reason, minutes_late
                                   FROM attendance
                                   WHERE academic_year_id = c.academic_year_id
                                     AND lesson_id = c.id) a
               WHERE c.academic_year_id = :year AND c.class_group_id = :klass
                 AND c.subject_id = :subject AND c.on_date BETWEEN :start AND :end),
  'overrides', (SELECT json_agg(json_build_array(o.pupil_id, o.value, o.comment,
                  o.computed_value, o.reason, o.decided_by, o.decided_at))
                FROM result_override o
                WHERE o.class_group_id = :klass AND o.subject_id = :subject
                  AND o.period = :period AND o.superseded_at IS NULL))
"""
).bindparams(
    bindparam("klass", type_=Integer),
    bindparam("subject", type_=Integer),
    bindparam("year", type_=Integer),
    bindparam("period", type_=Integer),
    bindparam("start", type_=Date),
    bindparam("end", type_=Date),
)


@dataclass(frozen=True)
class JournalAbsence:
    pupil_id: int
    status: AttendanceStatus
    reason: str | None
    minutes_late: int | None


@dataclass(frozen=True)
class JournalOverride:
    pupil_id: int
    value: int | None
    comment: str | None
    computed_value: str | None
    reason: str
    decided_by: str
    decided_at: datetime


async def journal(
    session: AsyncSession,
    principal: Principal,
    *,
    class_group_id: int,
    subject_id: int,
    term_id: int,
) -> Journal | None:
    """The gradebook of a class, subject and term, or None if there is none the caller may
    read (:func:`resolvers.lms.rules.gradebook_readable`). Three statements however many
    pupils and marks: the head (class, term, scheme, subject), the lessons, the rest."""
    head = await _head(session, principal, class_group_id, subject_id, term_id)
    if head is None:
        return None
    year, start, end = head.academic_year_id, head.term_starts_on, head.term_ends_on
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
    found = (
        await session.execute(
            BODY_SQL,
            {
                "klass": class_group_id,
                "subject": subject_id,
                "year": year,
                "period": head.term_number,
                "start": start,
                "end": end,
            },
        )
    ).scalar_one()
    body = found if isinstance(found, dict) else json.loads(found)
    scheme = Scheme(head.scheme, head.min_value, head.max_value)
    rows = _rows(body, scheme, int(head.min_marks))
    return Journal(head, subject_id, head, scheme, RESULT_RULE, lessons, rows)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _rows(body: dict[str, Any], scheme: Scheme, min_marks: int) -> list[JournalRow]:
    rows: dict[int, JournalRow] = {}
    for pupil_id, since, until in body["members"] or ():
        # A pupil who left and came back keeps one line, from their first day.
        row = rows.setdefault(pupil_id, JournalRow(pupil_id, date.fromisoformat(since), None))
        row.until = _day(until)
    by_pupil: dict[int, list[Any]] = defaultdict(list)
    for m in body["marks"] or ():
        by_pupil[m[1]].append(
            DiaryMark(
                m[0],
                m[1],
                MarkWork(m[2]),
                AssessmentScheme(m[3]),
                m[4],
                m[5],
                m[6],
                date.fromisoformat(m[7]),
                datetime.fromisoformat(m[8]),
                m[9],
            )
        )
    for a in body["absences"] or ():
        if a[0] in rows:
            rows[a[0]].absences.append(JournalAbsence(a[0], AttendanceStatus(a[1]), a[2], a[3]))
    for o in body["overrides"] or ():
        if o[0] in rows:
            rows[o[0]].override = JournalOverride(
                o[0], o[1], o[2], o[3], o[4], o[5], datetime.fromisoformat(o[6])
            )
    for pupil_id, row in rows.items():
        row.marks = by_pupil.get(pupil_id, [])
        row.computed = computed_result(scheme, row.marks, min_marks)
    return list(rows.values())

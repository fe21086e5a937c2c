"""Marks (issue 15, S2): given under the assessment scheme of the pupil's grade, stored with
it; recorded for a whole class in one request, all or nothing; corrected only with a reason,
never overwritten (the old mark is kept, superseded). Term and year results are computed by
the declared rule below, and a teacher may set another result with a reason (kept in
history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    SmallInteger,
    String,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssessmentRule,
    AssessmentScheme,
    ClassGroup,
    ClassLesson,
    ClassMembership,
    Institution,
    Mark,
    MarkWork,
    ResultOverride,
    Term,
)
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.lms.classes import class_group
from resolvers.lms.diary import diary_changed
from resolvers.lms.errors import LmsCode
from resolvers.lms.halves import LessonPupils, lesson_pupils_columns, not_in_half
from resolvers.lms.lessons import writable_lesson
from resolvers.lms.rules import may_write_lesson
from resolvers.lms.years import school_policy

MAX_MARKS = 90
MAX_COMMENT = 500
MAX_REASON = 300
YEAR_PERIOD = 5


@dataclass(frozen=True)
class Scheme:
    """The scheme of a grade and its range (from ``assessment_rule``)."""

    scheme: AssessmentScheme
    min_value: int | None
    max_value: int | None


async def scheme_of_class(session: AsyncSession, class_group_id: int) -> Scheme:
    row = (
        await session.execute(
            select(AssessmentRule.scheme, AssessmentRule.min_value, AssessmentRule.max_value)
            .join(
                ClassGroup,
                (ClassGroup.curriculum_model == AssessmentRule.curriculum_model)
                & (ClassGroup.grade == AssessmentRule.grade),
            )
            .where(ClassGroup.id == class_group_id)
        )
    ).one()
    return Scheme(row.scheme, row.min_value, row.max_value)


async def scheme_and_pupils(
    session: AsyncSession, lesson: ClassLesson
) -> tuple[Scheme, LessonPupils]:
    """The scheme of the lesson's class and the pupils the lesson is for, with those of its
    class in the other half of its subject (:func:`scheme_of_class` and
    :func:`resolvers.lms.halves.lesson_pupils` in one statement)."""
    pupils, other = lesson_pupils_columns(lesson)
    row = (
        await session.execute(
            select(
                AssessmentRule.scheme,
                AssessmentRule.min_value,
                AssessmentRule.max_value,
                pupils.label("pupils"),
                other.label("other"),
            )
            .join(
                ClassGroup,
                (ClassGroup.curriculum_model == AssessmentRule.curriculum_model)
                & (ClassGroup.grade == AssessmentRule.grade),
            )
            .where(ClassGroup.id == lesson.class_group_id)
        )
    ).one()
    scheme = Scheme(row.scheme, row.min_value, row.max_value)
    return scheme, LessonPupils(set(row.pupils), set(row.other))


@dataclass(frozen=True)
class MarkEntry:
    pupil_id: int
    work: MarkWork
    value: int | None = None
    criterion: str | None = None
    comment: str | None = None

    def same_as(self, row: Any) -> bool:
        return (self.value, self.criterion, self.comment) == (
            row.value,
            row.criterion,
            row.comment,
        )


def fits(scheme: Scheme, value: int | None, criterion: str | None, comment: str | None) -> str:
    """Why a mark does not fit the scheme (S2), or ""."""
    if scheme.scheme == AssessmentScheme.DESCRIPTIVE:
        if value is not None or criterion is not None:
            return "This grade gets descriptive feedback, not marks"
        if not comment:
            return "Descriptive feedback needs its text (comment)"
        return ""
    if value is None:
        return "Give the mark's value"
    assert scheme.min_value is not None
    assert scheme.max_value is not None
    if not scheme.min_value <= value <= scheme.max_value:
        return f"A {scheme.scheme.value} mark here is {scheme.min_value} to {scheme.max_value}"
    if scheme.scheme == AssessmentScheme.CRITERIA:
        if criterion is None or len(criterion) != 1 or not criterion.isupper():
            return "A criteria-based mark names its criterion (A, B, C, D)"
    elif criterion is not None:
        return "Only criteria-based marks name a criterion"
    return ""


def fits_result(scheme: Scheme, value: int | None, comment: str | None) -> str:
    """Why a term or year result does not fit the scheme, or "": a value in the scheme's
    range (criteria-based results are a level, without a criterion), or for descriptive
    grades the text of the assessment."""
    if scheme.scheme == AssessmentScheme.DESCRIPTIVE:
        return "" if value is None and comment else "Give the descriptive result as text"
    if value is None:
        return "Give the result's value"
    assert scheme.min_value is not None
    assert scheme.max_value is not None
    if not scheme.min_value <= value <= scheme.max_value:
        return f"A result here is {scheme.min_value} to {scheme.max_value}"
    return ""


def _check_marks(
    entries: list[MarkEntry], pupils: LessonPupils, lesson: ClassLesson, scheme: Scheme, field: str
) -> None:
    problems: list[Problem] = []
    seen: set[tuple[int, MarkWork]] = set()
    for i, entry in enumerate(entries):
        at = f"{field}[{i}]"
        if (entry.pupil_id, entry.work) in seen:
            problems.append(
                Problem(ErrorCode.INVALID_INPUT, "The pupil has two marks for this work", at)
            )
        seen.add((entry.pupil_id, entry.work))
        if entry.pupil_id in pupils.other_half:
            problems.append(not_in_half(entry.pupil_id, at, lesson))
        elif entry.pupil_id not in pupils.pupils:
            problems.append(
                Problem(LmsCode.PUPIL_NOT_IN_CLASS, "The pupil is not in this class", at)
            )
        if entry.comment is not None and len(entry.comment) > MAX_COMMENT:
            problems.append(Problem(ErrorCode.INVALID_INPUT, "The comment is too long", at))
        wrong = fits(scheme, entry.value, entry.criterion, entry.comment)
        if wrong:
            problems.append(Problem(LmsCode.MARK_OUTSIDE_SCHEME, wrong, at))
    if problems:
        first, *more = problems
        raise DomainError(first.code, first.message, field=first.field, more=more)


def _clean(entry: MarkEntry) -> MarkEntry:
    comment = (entry.comment or "").strip() or None
    criterion = (entry.criterion or "").strip().upper() or None
    return MarkEntry(entry.pupil_id, entry.work, entry.value, criterion, comment)


INSERT_MARKS = (
    text(
        "INSERT INTO mark (academic_year_id, lesson_id, pupil_id, class_group_id, subject_id,"
        " on_date, work, scheme, value, criterion, comment, teacher_id, recorded_by,"
        " correction_reason)"
        " SELECT :year, :lesson, e.pupil_id, :klass, :subject, :on, e.work, :scheme, e.value,"
        " e.criterion, e.comment, :teacher, :by, e.reason"
        " FROM unnest(:pupils, :works, :values, :criteria, :comments, :reasons)"
        " AS e(pupil_id, work, value, criterion, comment, reason)"
        " RETURNING " + ", ".join(c.name for c in Mark.__table__.c)
    )
    .bindparams(
        bindparam("year", type_=Integer),
        bindparam("lesson", type_=BigInteger),
        bindparam("klass", type_=Integer),
        bindparam("subject", type_=Integer),
        bindparam("on", type_=Date),
        bindparam("scheme", type_=String),
        bindparam("teacher", type_=Integer),
        bindparam("by", type_=String),
        bindparam("pupils", type_=ARRAY(Integer)),
        bindparam("works", type_=ARRAY(String)),
        bindparam("values", type_=ARRAY(SmallInteger)),
        bindparam("criteria", type_=ARRAY(String)),
        bindparam("comments", type_=ARRAY(String)),
        bindparam("reasons", type_=ARRAY(String)),
    )
    .columns(*Mark.__table__.c)
)


# long: one all-or-nothing workflow over the whole class (checks, then writes), read in order.
async def record_marks(
    session: AsyncSession,
    principal: Principal,
    *,
    lesson_id: int,
    entries: list[MarkEntry],
    correction_reason: str | None,
    on: date | None = None,
    locked: tuple[ClassLesson, Institution] | None = None,
) -> list[Any]:
    """Record marks of a lesson for the whole class in one request, all or nothing (issue 15).

    Each mark fits the scheme of the class's grade (S2: MARK_OUTSIDE_SCHEME otherwise, also
    held by a trigger) and is for a pupil of the class on that date (PUPIL_NOT_IN_CLASS) and,
    in a lesson of a half, not of the other half of its subject (PUPIL_NOT_IN_HALF; issue 16:
    a pupil with a mark or an absence in the lesson already stays its pupil). A mark the pupil
    already has for that work stays if it is the same (sending twice is harmless); a different
    one is a correction, made only with a reason (CORRECTION_NEEDS_REASON): the old mark is
    superseded, never overwritten. The lesson is locked, so two teachers marking it at once
    are decided one after the other. ``locked``: the lesson as :func:`writable_lesson` already
    locked and checked it for this principal in this transaction (a caller that looks at the
    lesson's marks under the lock first)."""
    if not entries or len(entries) > MAX_MARKS:
        raise DomainError(ErrorCode.INVALID_INPUT, f"Give 1 to {MAX_MARKS} marks", field="marks")
    reason = (correction_reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The reason is too long", field="correctionReason"
        )
    lesson, _inst = locked or await writable_lesson(
        session, principal, lesson_id, field="lessonId", on=on or today()
    )
    assert lesson.id == lesson_id
    scheme, pupils = await scheme_and_pupils(session, lesson)
    entries = [_clean(e) for e in entries]
    _check_marks(entries, pupils, lesson, scheme, "marks")
    current = {
        (row.pupil_id, row.work): row
        for row in await session.execute(
            select(*Mark.__table__.c).where(
                Mark.academic_year_id == lesson.academic_year_id,
                Mark.lesson_id == lesson.id,
                Mark.pupil_id.in_({e.pupil_id for e in entries}),
                Mark.superseded_at.is_(None),
            )
        )
    }
    new, corrected = _changes(entries, current, reason)
    if corrected:
        await session.execute(
            update(Mark)
            .where(Mark.academic_year_id == lesson.academic_year_id, Mark.id.in_(corrected))
            .values(superseded_at=func.now())
            .execution_options(synchronize_session=False)
        )
    rows: list[Any] = []
    if new:
        # One statement for the whole class whatever its size (the arrays unnested), so its
        # text, compiled form and prepared plan are the same for every class.
        found = await session.execute(
            INSERT_MARKS,
            {
                "year": lesson.academic_year_id,
                "lesson": lesson.id,
                "klass": lesson.class_group_id,
                "subject": lesson.subject_id,
                "on": lesson.on_date,
                "scheme": scheme.scheme.value,
                "teacher": principal.person_id,
                "by": principal.subject,
                "pupils": [e.pupil_id for e in new],
                "works": [e.work.value for e in new],
                "values": [e.value for e in new],
                "criteria": [e.criterion for e in new],
                "comments": [e.comment for e in new],
                "reasons": [reason if (e.pupil_id, e.work) in current else None for e in new],
            },
        )
        rows = list(found)
        await diary_changed(
            session,
            topic="lms.marks_recorded",
            lesson=lesson,
            pupil_ids={e.pupil_id for e in new},
        )
    unchanged = [current[(e.pupil_id, e.work)] for e in entries if e not in new]
    return rows + unchanged


def _changes(
    entries: list[MarkEntry], current: dict[tuple[int, MarkWork], Any], reason: str | None
) -> tuple[list[MarkEntry], list[int]]:
    """The marks to write and the current ones they supersede; a different mark without a
    reason is refused (all of them listed)."""
    new: list[MarkEntry] = []
    corrected: list[int] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        found = current.get((entry.pupil_id, entry.work))
        if found is None:
            new.append(entry)
        elif not entry.same_as(found):
            if reason is None:
                problems.append(
                    Problem(
                        LmsCode.CORRECTION_NEEDS_REASON,
                        "The pupil already has another mark for this; give the reason to"
                        " correct it",
                        f"marks[{i}]",
                    )
                )
            new.append(entry)
            corrected.append(found.id)
    if problems:
        first, *more = problems
        raise DomainError(first.code, first.message, field=first.field, more=more)
    return new, corrected


# --- results ----------------------------------------------------------------------------------

# The declared result rule (issue 15): a weighted mean of the term's current marks, tests and
# written work counting twice, rounded half up, once the pupil has the policy's minimum of
# marks (three, by the national row); descriptive grades get no computed result. The year's
# result is the mean of the terms' results (as the teacher set them, where they did).
RESULT_RULE = "weighted-mean-v1"
WEIGHTS = {MarkWork.TEST: 2, MarkWork.WRITTEN: 2}


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def computed_result(scheme: Scheme, marks: list[Any], min_marks: int) -> int | None:
    """A term's result from its marks by the declared rule, or None (not enough marks, or a
    descriptive grade)."""
    if scheme.scheme == AssessmentScheme.DESCRIPTIVE:
        return None
    valued = [m for m in marks if m.value is not None]
    if len(valued) < min_marks:
        return None
    total = sum(m.value * WEIGHTS.get(m.work, 1) for m in valued)
    weight = sum(WEIGHTS.get(m.work, 1) for m in valued)
    return _round(Decimal(total) / Decimal(weight))


def year_result(term_results: list[int | None]) -> int | None:
    given = [r for r in term_results if r is not None]
    if not given:
        return None
    return _round(Decimal(sum(given)) / Decimal(len(given)))


@dataclass(frozen=True)
class ResultSetting:
    class_group_id: int
    subject_id: int
    pupil_id: int
    period: int
    value: int | None
    comment: str | None
    reason: str


async def override_result(
    session: AsyncSession, principal: Principal, setting: ResultSetting
) -> ResultOverride:
    """Set a pupil's term (1-4) or year (5) result in a subject instead of the computed one,
    with the reason (issue 15); the result it replaces is kept, superseded."""
    klass = await class_group(session, setting.class_group_id, field="classGroupId")
    inst = await session.get(Institution, klass.institution_id)
    assert inst is not None
    allowed = await may_write_lesson(
        session,
        principal,
        institution=inst,
        class_group_id=klass.id,
        subject_id=setting.subject_id,
    )
    if not allowed:
        raise NotFound("The class", field="classGroupId")
    if not 1 <= setting.period <= YEAR_PERIOD:
        raise DomainError(ErrorCode.INVALID_INPUT, "A term 1-4, or 5 for the year", field="period")
    reason = setting.reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise DomainError(ErrorCode.INVALID_INPUT, "Say why (1-300 characters)", field="reason")
    member = await session.scalar(
        select(ClassMembership.id)
        .where(
            ClassMembership.class_group_id == klass.id,
            ClassMembership.pupil_id == setting.pupil_id,
        )
        .limit(1)
    )
    if member is None:
        raise DomainError(
            LmsCode.PUPIL_NOT_IN_CLASS, "The pupil is not in this class", field="pupilId"
        )
    scheme = await scheme_of_class(session, klass.id)
    comment = (setting.comment or "").strip() or None
    wrong = fits_result(scheme, setting.value, comment)
    if wrong:
        raise DomainError(LmsCode.MARK_OUTSIDE_SCHEME, wrong, field="value")
    await session.execute(
        update(ResultOverride)
        .where(
            ResultOverride.class_group_id == klass.id,
            ResultOverride.subject_id == setting.subject_id,
            ResultOverride.pupil_id == setting.pupil_id,
            ResultOverride.period == setting.period,
            ResultOverride.superseded_at.is_(None),
        )
        .values(superseded_at=func.now())
    )
    computed = await _computed_now(session, klass, setting, scheme)
    row = ResultOverride(
        academic_year_id=klass.academic_year_id,
        class_group_id=klass.id,
        subject_id=setting.subject_id,
        pupil_id=setting.pupil_id,
        period=setting.period,
        scheme=scheme.scheme,
        value=setting.value,
        comment=comment,
        computed_value=None if computed is None else str(computed),
        reason=reason,
        decided_by=principal.subject,
    )
    session.add(row)
    await session.flush()
    return row


async def _computed_now(
    session: AsyncSession, klass: ClassGroup, setting: ResultSetting, scheme: Scheme
) -> int | None:
    """What the rule gives for the term the override replaces (kept beside it)."""
    if setting.period == YEAR_PERIOD:
        return None
    term = await session.scalar(
        select(Term).where(
            Term.academic_year_id == klass.academic_year_id, Term.number == setting.period
        )
    )
    if term is None:
        return None
    marks = list(
        await session.execute(
            select(Mark.value, Mark.work).where(
                Mark.academic_year_id == klass.academic_year_id,
                Mark.class_group_id == klass.id,
                Mark.subject_id == setting.subject_id,
                Mark.pupil_id == setting.pupil_id,
                Mark.on_date.between(term.starts_on, term.ends_on),
                Mark.superseded_at.is_(None),
            )
        )
    )
    policy = await school_policy(session, klass.institution_id)
    return computed_result(scheme, marks, policy.min_marks_for_result)

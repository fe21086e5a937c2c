"""Learners' progress (issue 16): statements a learner's device sends as they start, go on
with and complete a published lesson (a completion may carry quiz answers, graded here), and the
progress they add up to per learner and lesson.

Every statement carries an id its sender makes once (a UUID): the hub keeps each statement once
per learner and id (the primary key), so a retry or an offline batch sent again counts once,
even when two copies arrive at the same moment. Only statements new to the hub add to the
progress, in the same transaction.

A school's offline server sends the statements its pupils recorded without a connection in one
batch (:func:`sync_lesson_progress`): each statement is accepted, known already (a duplicate)
or rejected with a code; a rejected one writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Enrollment,
    Lesson,
    LessonProgress,
    LessonStatus,
    ProgressStatement,
    ProgressStatus,
    ProgressVerb,
    QuizQuestion,
    Sector,
)
from resolvers.access import Principal, Role, among
from resolvers.content.errors import ContentCode
from resolvers.content.quizzes import Answer, grade_answers
from resolvers.errors import AnyCode, DomainError, ErrorCode

MAX_BATCH = 500
# Devices' clocks drift: a statement may claim a time a little ahead of the hub's.
CLOCK_SLACK = timedelta(minutes=10)
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
# Staff whose school's pupils' statements they may send (the school's offline server).
SENDING_STAFF = (Role.SCHOOL_ADMIN, Role.TEACHER)


@dataclass(frozen=True)
class Statement:
    """One progress statement as a device sends it."""

    statement_id: uuid.UUID
    lesson_id: int
    verb: ProgressVerb
    occurred_at: datetime
    attempt: int = 1
    seconds: int = 0
    answers: Sequence[Answer] | None = None
    # The learner, when a school's server sends for its pupils; the caller otherwise.
    learner_id: int | None = None


@dataclass(frozen=True)
class Rejected:
    """A statement of a batch that was not accepted, and why."""

    index: int
    code: AnyCode
    message: str
    field: str | None = None


@dataclass
class SyncReport:
    """What a batch did: statements accepted, already known, and rejected."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class _Checked:
    index: int
    learner_id: int
    statement: Statement
    score: Decimal | None


class _Refused(Exception):
    def __init__(self, code: AnyCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


async def record_lesson_progress(
    session: AsyncSession, principal: Principal, *, statement: Statement
) -> Any:
    """Record one statement of the caller's own progress and return their progress in the
    lesson. Refusals (nothing written): the lesson is not published (LESSON_NOT_PUBLISHED),
    the statement names another learner (WRONG_LEARNER), bad numbers or times."""
    report, rows = await _record(session, principal, [statement], strict=True)
    del report
    if rows:
        return rows[0]
    # A statement sent again: the progress as it stands.
    learner_id = statement.learner_id or principal.person_id
    return (
        await session.execute(
            select(*LessonProgress.__table__.c).where(
                LessonProgress.learner_id == learner_id,
                LessonProgress.lesson_id == statement.lesson_id,
            )
        )
    ).first()


async def sync_lesson_progress(
    session: AsyncSession, principal: Principal, *, statements: Sequence[Statement]
) -> SyncReport:
    """Merge a batch of statements recorded offline (at most 500): statements known already
    count once, rejected ones are reported by their index and write nothing."""
    if not 1 <= len(statements) <= MAX_BATCH:
        raise DomainError(
            ContentCode.TOO_MANY_STATEMENTS,
            f"Send 1-{MAX_BATCH} statements a batch",
            field="statements",
        )
    report, _rows = await _record(session, principal, statements, strict=False)
    return report


async def _record(
    session: AsyncSession, principal: Principal, statements: Sequence[Statement], *, strict: bool
) -> tuple[SyncReport, list[Any]]:
    report = SyncReport()
    learners = await _allowed_learners(session, principal, statements)
    lessons = await _published(session, {s.lesson_id for s in statements})
    quizzes = await _quizzes(session, statements)
    checked: list[_Checked] = []
    seen: set[tuple[int, uuid.UUID]] = set()
    for index, statement in enumerate(statements):
        try:
            learner_id = _learner(principal, statement, learners)
            _check(statement, lessons)
            score = None
            if statement.verb == ProgressVerb.COMPLETED and statement.answers is not None:
                score = grade_answers(quizzes.get(statement.lesson_id, []), statement.answers)
        except (_Refused, DomainError) as err:
            problem = _rejected(index, err)
            if strict:
                raise DomainError(problem.code, problem.message, field=problem.field) from None
            report.rejected.append(problem)
            continue
        key = (learner_id, statement.statement_id)
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        checked.append(_Checked(index, learner_id, statement, score))
    new = await _insert_statements(session, principal, checked)
    report.accepted = len(new)
    report.duplicates += len(checked) - len(new)
    rows = await _add_up(session, new)
    return report, rows


def _rejected(index: int, err: _Refused | DomainError) -> Rejected:
    if isinstance(err, DomainError):
        problem = err.problems[0]
        return Rejected(index, problem.code, problem.message, problem.field)
    return Rejected(index, err.code, err.message, err.field)


async def _allowed_learners(
    session: AsyncSession, principal: Principal, statements: Sequence[Statement]
) -> set[int]:
    """The learners the caller may send statements for: themself, and for a school's staff
    the pupils enrolled at their school now."""
    allowed = {principal.person_id} if principal.person_id is not None else set()
    others = {s.learner_id for s in statements if s.learner_id is not None} - allowed
    if others and principal.role in SENDING_STAFF and principal.institution_ids:
        found = await session.scalars(
            select(Enrollment.person_id).where(
                Enrollment.person_id.in_(sorted(o for o in others if o is not None)),
                Enrollment.sector == Sector.SCHOOL,
                Enrollment.exit_date.is_(None),
                among(Enrollment.institution_id, principal.institution_ids),
            )
        )
        allowed.update(found)
    return {a for a in allowed if a is not None}


def _learner(principal: Principal, statement: Statement, allowed: set[int]) -> int:
    learner = statement.learner_id or principal.person_id
    if learner is None:
        raise _Refused(ContentCode.WRONG_LEARNER, "Sign in as the learner", "learnerId")
    if learner not in allowed:
        raise _Refused(
            ContentCode.WRONG_LEARNER, "You may not record another learner's progress", "learnerId"
        )
    return learner


async def _published(session: AsyncSession, ids: set[int]) -> dict[int, LessonStatus]:
    rows = await session.execute(select(Lesson.id, Lesson.status).where(Lesson.id.in_(sorted(ids))))
    return {r.id: LessonStatus(r.status) for r in rows}


async def _quizzes(session: AsyncSession, statements: Sequence[Statement]) -> dict[int, list[Any]]:
    """The questions of the lessons whose completions carry answers (one statement)."""
    ids = sorted(
        {
            s.lesson_id
            for s in statements
            if s.verb == ProgressVerb.COMPLETED and s.answers is not None
        }
    )
    if not ids:
        return {}
    rows = await session.execute(
        select(
            QuizQuestion.id,
            QuizQuestion.lesson_id,
            QuizQuestion.kind,
            QuizQuestion.answer,
            QuizQuestion.points,
        )
        .where(QuizQuestion.lesson_id.in_(ids))
        .order_by(QuizQuestion.lesson_id, QuizQuestion.position)
    )
    found: dict[int, list[Any]] = {}
    for row in rows:
        found.setdefault(row.lesson_id, []).append(row)
    return found


def _check(statement: Statement, lessons: dict[int, LessonStatus]) -> None:
    status = lessons.get(statement.lesson_id)
    if status is None:
        raise _Refused(ErrorCode.NOT_FOUND, "The lesson was not found", "lessonId")
    if status != LessonStatus.PUBLISHED:
        raise _Refused(
            ContentCode.LESSON_NOT_PUBLISHED, "Progress is kept for published lessons", "lessonId"
        )
    if not 1 <= statement.attempt <= 1000:
        raise _Refused(ErrorCode.INVALID_INPUT, "An attempt is 1-1,000", "attempt")
    if not 0 <= statement.seconds <= 86_400:
        raise _Refused(ErrorCode.INVALID_INPUT, "Seconds spent are 0-86,400", "seconds")
    when = statement.occurred_at
    if when.tzinfo is None:
        raise _Refused(ErrorCode.INVALID_DATE, "Give the time with its offset", "occurredAt")
    if not EARLIEST <= when <= datetime.now(UTC) + CLOCK_SLACK:
        raise _Refused(
            ErrorCode.INVALID_DATE, "The statement's time is not plausible", "occurredAt"
        )


async def _insert_statements(
    session: AsyncSession, principal: Principal, checked: list[_Checked]
) -> list[_Checked]:
    """Insert the statements; those the hub knew already are left as they were. The new ones."""
    if not checked:
        return []
    stmt = (
        insert(ProgressStatement)
        .values(
            [
                {
                    "learner_id": c.learner_id,
                    "statement_id": c.statement.statement_id,
                    "lesson_id": c.statement.lesson_id,
                    "attempt": c.statement.attempt,
                    "verb": c.statement.verb,
                    "seconds": c.statement.seconds,
                    "score": c.score,
                    "occurred_at": c.statement.occurred_at,
                    "recorded_by": principal.subject[:120],
                }
                for c in checked
            ]
        )
        .on_conflict_do_nothing(index_elements=["learner_id", "statement_id"])
        .returning(ProgressStatement.learner_id, ProgressStatement.statement_id)
    )
    new = {(r.learner_id, r.statement_id) for r in await session.execute(stmt)}
    return [c for c in checked if (c.learner_id, c.statement.statement_id) in new]


async def _add_up(session: AsyncSession, new: list[_Checked]) -> list[Any]:
    """Add the new statements to their learners' progress: one upsert, one row per learner
    and lesson."""
    if not new:
        return []
    sums: dict[tuple[int, int], dict[str, Any]] = {}
    for c in new:
        s = c.statement
        row = sums.setdefault(
            (c.learner_id, s.lesson_id),
            {
                "learner_id": c.learner_id,
                "lesson_id": s.lesson_id,
                "status": ProgressStatus.STARTED,
                "attempts": s.attempt,
                "seconds_spent": 0,
                "best_score": None,
                "started_at": s.occurred_at,
                "completed_at": None,
            },
        )
        row["attempts"] = max(row["attempts"], s.attempt)
        row["seconds_spent"] += s.seconds
        row["started_at"] = min(row["started_at"], s.occurred_at)
        if c.score is not None:
            row["best_score"] = max(row["best_score"] or c.score, c.score)
        if s.verb == ProgressVerb.COMPLETED:
            row["status"] = ProgressStatus.COMPLETED
            done = row["completed_at"]
            row["completed_at"] = s.occurred_at if done is None else min(done, s.occurred_at)
    table = LessonProgress.__table__
    stmt = insert(LessonProgress).values(list(sums.values()))
    upsert = stmt.on_conflict_do_update(
        index_elements=["learner_id", "lesson_id"],
        set_={
            "status": case(
                (
                    (table.c.status == ProgressStatus.COMPLETED)
                    | (stmt.excluded.status == ProgressStatus.COMPLETED),
                    ProgressStatus.COMPLETED.value,
                ),
                else_=ProgressStatus.STARTED.value,
            ),
            "attempts": func.greatest(table.c.attempts, stmt.excluded.attempts),
            "seconds_spent": table.c.seconds_spent + stmt.excluded.seconds_spent,
            "best_score": func.greatest(table.c.best_score, stmt.excluded.best_score),
            "started_at": func.least(table.c.started_at, stmt.excluded.started_at),
            "completed_at": func.least(table.c.completed_at, stmt.excluded.completed_at),
            "updated_at": func.now(),
        },
    ).returning(*table.c)
    return list(await session.execute(upsert))

"""OneRoster 1.2 gradebook writes (issue 15), mapped onto the LMS's own marking workflow.

A partner's key writes a school's gradebook only with the OneRoster write grant for that
school (``api_key.oneroster_write_institution_ids``, migration 0040) besides the gradebook
scope and personal data. The write runs the teacher's marking step (resolvers/lms/gradebook
``record_marks``) as the school's administration would, for that school only: the same lesson
lock, the mark fitting the scheme of the class's grade (S2: MARK_OUTSIDE_SCHEME), the pupil in
the class, a correction only with a reason (CORRECTION_NEEDS_REASON), the old mark superseded,
never overwritten, the diary's outbox event; a refusal writes nothing.

- ``PUT /results/{id}`` corrects the result (the mark ``mark-<year>-<id>``) to the body's
  score, textScore and comment; the reason is ``metadata.correctionReason``. The lineItem and
  student are the result's own (a different one is 400). A result already corrected by another
  write is a conflict (409) unless its current successor already holds what is asked (the same
  PUT sent twice: 200). The hub allocates results' sourcedIds: a PUT to an unknown one is 404
  (create by POST).
- ``DELETE /results/{id}`` withdraws the mark (superseded with no successor: it reads as
  ``tobedeleted``), with the reason in the ``correctionReason`` query parameter. A result
  corrected since (it has a successor) is a conflict (409); one already withdrawn is 404.
- ``POST /lineItems/{id}/results`` gives marks in a lineItem (a lesson and a kind of work),
  answering the allocated sourcedIds (``sourcedIdPairs``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassLesson, Mark, MarkWork, Outcome, Person
from resolvers.access import Principal, Role
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import audit_values, open_trail, take_trail, write_audit
from resolvers.faults import (
    RETRY_AFTER_SECONDS,
    RETRYABLE_STATES,
    is_unavailable,
    sqlstate_of,
)
from resolvers.lms.diary import diary_changed
from resolvers.lms.errors import LmsCode
from resolvers.lms.gradebook import MAX_REASON, MarkEntry, record_marks
from resolvers.lms.lessons import writable_lesson
from resolvers.lms.oneroster.query import Refused

# A statement cancelled by the statement timeout, a lock not available (SQLSTATEs).
BUSY_STATES = frozenset({"57014", "55P03"})
RESULT_ID = re.compile(r"^mark-(\d{1,9})-(\d{1,18})$")
LINE_ITEM_ID = re.compile(r"^lesson-(\d{1,9})-(\d{1,18})-([a-z_]{1,20})$")
MAX_RESULTS = 90
# Domain codes -> the HTTP status a OneRoster client gets (the code minor stays invaliddata;
# the hub's code is named in the description).
STATUS_OF = {
    ErrorCode.NOT_FOUND: (404, "unknownobject"),
    ErrorCode.FORBIDDEN: (403, "forbidden"),
}


@dataclass(frozen=True)
class Score:
    """What a result object asks to be written."""

    value: int | None
    criterion: str | None
    comment: str | None


@dataclass(frozen=True)
class Written:
    """A write's answer: its HTTP status and body (None: no content), and the audit target."""

    status: int
    body: dict[str, Any] | None
    target_id: int | None = None


def _bad(description: str) -> Refused:
    return Refused(400, "invaliddata", description)


def may_write(principal: Principal, institution_id: int) -> bool:
    """May this key write this school's gradebook through OneRoster? Only with the write grant
    for the school, the gradebook (``Mark``) in its scope and personal data (marks of
    identified pupils)."""
    grant = principal.grant
    return (
        grant is not None
        and institution_id in grant.oneroster_writes
        and grant.personal_data
        and grant.names_type("Mark")
    )


def acting_for(principal: Principal, institution_id: int) -> Principal:
    """The key as the school's administration of this one school: who the marking step lets
    record marks in any lesson of the school (the key's own subject stays in the rows)."""
    return Principal(
        subject=principal.subject,
        role=Role.SCHOOL_ADMIN,
        institution_ids=frozenset({institution_id}),
        api_key_prefix=principal.api_key_prefix,
        grant=principal.grant,
    )


def _ref(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("sourcedId"), str):
        raise _bad(f'{key} is a reference: {{"sourcedId": ...}}')
    sourced: str = value["sourcedId"]
    return sourced


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(f"{key} is a string")
    return value


def score_of(result: dict[str, Any]) -> Score:
    """The mark a result object asks for: ``score`` a whole number (the scheme's range is the
    marking step's check), ``textScore`` a criteria-based mark's criterion, ``comment``."""
    raw = result.get("score")
    value: int | None = None
    if raw is not None:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw != int(raw):
            raise _bad("score is a whole number on the class's scale")
        value = int(raw)
    return Score(value, _text(result, "textScore"), _text(result, "comment"))


def reason_of(result: dict[str, Any]) -> str | None:
    metadata = result.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _bad("metadata is an object")
    reason = metadata.get("correctionReason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        raise _bad(f"metadata.correctionReason is a string of at most {MAX_REASON}")
    return reason


def body_object(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise _bad(f'The body is {{"{key}": {{...}}}}')
    found: dict[str, Any] = body[key]
    return found


async def _people(session: AsyncSession, sourced_ids: list[str | None]) -> list[int]:
    """The pupils the results name (``student``), in their order: one statement for the
    whole request; 404 naming the first one the hub does not have."""
    wanted = {s for s in sourced_ids if s}
    found = {
        row.gid: int(row.id)
        for row in await session.execute(
            select(Person.id, Person.gid).where(Person.gid.in_(wanted))
        )
    }
    for sourced_id in sourced_ids:
        if sourced_id not in found:
            raise Refused(404, "unknownobject", f"No student {(sourced_id or '')[:80]}")
    return [found[s] for s in sourced_ids if s]


async def _lesson_of_line_item(session: AsyncSession, line_item: str) -> tuple[int, MarkWork, int]:
    """The lesson, the kind of work and the school of a lineItem (one statement)."""
    match = LINE_ITEM_ID.match(line_item)
    if match is None:
        raise Refused(404, "unknownobject", f"No lineItem {line_item[:80]}")
    year, lesson, work = int(match[1]), int(match[2]), match[3]
    if work not in MarkWork._value2member_map_:
        raise Refused(404, "unknownobject", f"No lineItem {line_item[:80]}")
    school = await session.scalar(
        select(ClassLesson.institution_id).where(
            ClassLesson.academic_year_id == year, ClassLesson.id == lesson
        )
    )
    if school is None:
        raise Refused(404, "unknownobject", f"No lineItem {line_item[:80]}")
    return lesson, MarkWork(work), int(school)


def _guard(principal: Principal, school: int) -> None:
    if not may_write(principal, school):
        raise Refused(403, "forbidden", "The key has no OneRoster write grant for this school")


def result_id(row: Any) -> str:
    return f"mark-{row.academic_year_id}-{row.id}"


async def _mark(session: AsyncSession, sourced_id: str) -> Any:
    """The result's mark with its lesson's school (``institution_id``) and its pupil's
    sourcedId (``pupil_gid``), in one statement; 404 for a sourcedId the hub did not
    allocate."""
    match = RESULT_ID.match(sourced_id)
    row = None
    if match is not None:
        row = (
            await session.execute(
                select(
                    *Mark.__table__.c,
                    ClassLesson.institution_id,
                    Person.gid.label("pupil_gid"),
                )
                .join(
                    ClassLesson,
                    (ClassLesson.academic_year_id == Mark.academic_year_id)
                    & (ClassLesson.id == Mark.lesson_id),
                )
                .join(Person, Person.id == Mark.pupil_id)
                .where(Mark.academic_year_id == int(match[1]), Mark.id == int(match[2]))
            )
        ).first()
    if row is None:
        raise Refused(
            404,
            "unknownobject",
            f"No result {sourced_id[:80]} (the hub allocates results' sourcedIds: create them"
            " by POST /lineItems/{id}/results)",
        )
    return row


async def _current(session: AsyncSession, row: Any) -> Any:
    """The current mark of the result's pupil, lesson and work (its successor), if any."""
    return (
        await session.execute(
            select(*Mark.__table__.c).where(
                Mark.academic_year_id == row.academic_year_id,
                Mark.lesson_id == row.lesson_id,
                Mark.pupil_id == row.pupil_id,
                Mark.work == row.work,
                Mark.superseded_at.is_(None),
            )
        )
    ).first()


def _same(row: Any, score: Score) -> bool:
    criterion = (score.criterion or "").strip().upper() or None
    comment = (score.comment or "").strip() or None
    return (row.value, row.criterion, row.comment) == (score.value, criterion, comment)


async def put_result(
    session: AsyncSession, principal: Principal, sourced_id: str, body: Any
) -> Written:
    """Correct a result (a mark) to what the body asks, by the marking workflow's rules."""
    result = body_object(body, "result")
    row = await _mark(session, sourced_id)
    _guard(principal, row.institution_id)
    line_item = _ref(result, "lineItem")
    student = _ref(result, "student")
    own = f"lesson-{row.academic_year_id}-{row.lesson_id}-{row.work}"
    if line_item not in (None, own) or student not in (None, row.pupil_gid):
        raise _bad("A result's lineItem and student are its own; give a new result by POST")
    if result.get("status", "active") != "active":
        raise _bad("Withdraw a result by DELETE")
    score = score_of(result)
    acting = acting_for(principal, row.institution_id)
    # The lesson is locked before the result is looked at again: of two writes of one result,
    # the second sees what the first did (the marking step below works under the same lock).
    locked = await writable_lesson(session, acting, row.lesson_id, field="sourcedId", on=today())
    current = await _current(session, row)
    if current is not None and current.id != row.id:
        if _same(current, score):
            return Written(200, {"result": {"sourcedId": result_id(current)}}, current.id)
        raise Refused(409, "invaliddata", "The result was changed since; read it again")
    if current is None:
        raise Refused(409, "invaliddata", "The result was withdrawn; give a new one by POST")
    (written,) = await record_marks(
        session,
        acting,
        lesson_id=row.lesson_id,
        entries=[MarkEntry(row.pupil_id, MarkWork(row.work), *_entry(score))],
        correction_reason=reason_of(result),
        locked=locked,
    )
    status = 200 if written.id == row.id else 201
    return Written(status, {"result": {"sourcedId": result_id(written)}}, written.id)


def _entry(score: Score) -> tuple[int | None, str | None, str | None]:
    return score.value, score.criterion, score.comment


async def delete_result(
    session: AsyncSession, principal: Principal, sourced_id: str, reason: str | None
) -> Written:
    """Withdraw a result: its mark superseded with no successor (history kept), only with a
    reason, as any correction (CORRECTION_NEEDS_REASON)."""
    row = await _mark(session, sourced_id)
    school = row.institution_id
    _guard(principal, school)
    reason = (reason or "").strip() or None
    if reason is None or len(reason) > MAX_REASON:
        raise DomainError(
            LmsCode.CORRECTION_NEEDS_REASON,
            f"Say why the mark is withdrawn (correctionReason, 1-{MAX_REASON} characters)",
            field="correctionReason",
        )
    lesson, _ = await writable_lesson(
        session, acting_for(principal, school), row.lesson_id, field="sourcedId", on=today()
    )
    withdrawn = await session.scalar(
        update(Mark)
        .where(
            Mark.academic_year_id == row.academic_year_id,
            Mark.id == row.id,
            Mark.superseded_at.is_(None),
        )
        .values(superseded_at=func.now())
        .returning(Mark.id)
        .execution_options(synchronize_session=False)
    )
    if withdrawn is None:
        # Under the lesson's lock: a result corrected since (it has a successor) is a conflict,
        # as for a PUT; one withdrawn already is gone.
        if await _current(session, row) is not None:
            raise Refused(409, "invaliddata", "The result was changed since; read it again")
        raise Refused(404, "unknownobject", f"The result {sourced_id[:80]} is already withdrawn")
    await diary_changed(
        session, topic="lms.mark_withdrawn", lesson=lesson, pupil_ids={row.pupil_id}
    )
    return Written(204, None, row.id)


async def post_results(
    session: AsyncSession, principal: Principal, line_item: str, body: Any
) -> Written:
    """Give marks in a lineItem (one lesson, one kind of work), all or nothing; answers the
    allocated sourcedIds of the results, as ``sourcedIdPairs``."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise _bad('The body is {"results": [...]}')
    results: list[Any] = body["results"]
    if not 1 <= len(results) <= MAX_RESULTS or not all(isinstance(r, dict) for r in results):
        raise _bad(f"Give 1 to {MAX_RESULTS} result objects")
    lesson_id, work, school = await _lesson_of_line_item(session, line_item)
    _guard(principal, school)
    scores, students, supplied, reasons = [], [], [], set()
    for result in results:
        if _ref(result, "lineItem") not in (None, line_item):
            raise _bad("Each result is of the lineItem the path names")
        students.append(_ref(result, "student"))
        scores.append(score_of(result))
        supplied.append(_text(result, "sourcedId"))
        reasons.add(reason_of(result))
    pupils = await _people(session, students)
    entries = [MarkEntry(p, work, *_entry(s)) for p, s in zip(pupils, scores, strict=True)]
    reasons.discard(None)
    if len(reasons) > 1:
        raise _bad("One correctionReason for the results of one request")
    rows = await record_marks(
        session,
        acting_for(principal, school),
        lesson_id=lesson_id,
        entries=entries,
        correction_reason=next(iter(reasons), None),
    )
    by_pupil = {r.pupil_id: r for r in rows}
    pairs = [
        {"suppliedSourcedId": s or "", "allocatedSourcedId": result_id(by_pupil[e.pupil_id])}
        for s, e in zip(supplied, entries, strict=True)
    ]
    return Written(201, {"sourcedIdPairs": pairs}, lesson_id)


Step = Callable[[AsyncSession], Awaitable[Written]]


async def run_write(
    sessions: Any,
    principal: Principal,
    *,
    operation: str,
    operation_name: str,
    request_id: str | None,
    step: Step,
) -> Written:
    """One write in one transaction, as the graph's mutations run: its outbox events ride on
    its audit row (the Trail, one INSERT); a refusal rolls everything back and leaves only its
    audit row (REJECTED or FORBIDDEN, with its codes); a database fault it can name
    (:func:`fault_answer`) rolls back too, with an ERROR row when the database answered."""
    row: dict[str, Any] = {
        "principal": principal,
        "request_id": request_id,
        "operation": operation,
        "operation_name": operation_name,
    }
    async with sessions() as session:
        try:
            async with session.begin():
                open_trail(session)
                written = await step(session)
                await session.flush()
                trail = take_trail(session)
                await write_audit(
                    session,
                    audit_values(
                        **row,
                        outcome=Outcome.SUCCEEDED,
                        target_type="Mark",
                        target_id=written.target_id,
                    ),
                    trail,
                )
            return written
        except (Refused, DomainError) as refused:
            take_trail(session)
            answer = refused if isinstance(refused, Refused) else refusal_of(refused)
            codes = [answer.code_minor]
            if isinstance(refused, DomainError):
                codes = [p.code.value for p in refused.problems]
            outcome = Outcome.FORBIDDEN if answer.status == 403 else Outcome.REJECTED
            async with session.begin():
                await write_audit(session, audit_values(**row, outcome=outcome, error_codes=codes))
            raise answer from refused
        except (DBAPIError, TimeoutError) as fault:
            busy = fault_answer(fault)
            if busy is None:
                raise
            take_trail(session)
            if not is_unavailable(fault):
                # The database answered: the attempt is audited (nothing of it was kept).
                state = sqlstate_of(fault) or "timeout"
                async with session.begin():
                    await write_audit(
                        session, audit_values(**row, outcome=Outcome.ERROR, error_codes=[state])
                    )
            raise busy from fault


def fault_answer(fault: BaseException) -> Refused | None:
    """A database fault a write can meet, as OneRoster's status info (None for a fault of the
    hub, answered 500): the database out of reach, or the write waiting for the lesson's lock
    past the statement timeout, is 503 ``server_busy`` with ``Retry-After``; a deadlock or a
    serialization failure is a lost race (409), nothing written either way."""
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_unavailable(fault):
        return Refused(503, "server_busy", "The database cannot be reached; try again", retry)
    state = sqlstate_of(fault)
    if state in RETRYABLE_STATES:
        return Refused(409, "invaliddata", "The write met a concurrent one; send it again")
    if state in BUSY_STATES or isinstance(fault, TimeoutError):
        return Refused(503, "server_busy", "The lesson is being written; try again", retry)
    return None


def refusal_of(error: DomainError) -> Refused:
    """A workflow's refusal as OneRoster's status info: 404 for what is not found, 403 for
    what the key may not do, else 400 ``invaliddata`` naming the hub's code(s)."""
    first = error.problems[0]
    status, minor = STATUS_OF.get(first.code, (400, "invaliddata"))  # type: ignore[call-overload]
    described = "; ".join(f"{p.code.value}: {p.message}" for p in error.problems)
    return Refused(status, minor, described[:1000])


__all__ = [
    "Written",
    "delete_result",
    "may_write",
    "post_results",
    "put_result",
    "run_write",
]

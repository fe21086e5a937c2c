"""How every mutation attempt runs and is recorded.

A mutation's step runs in a savepoint of the request's transaction (:func:`perform`):

* it succeeds: its audit row is written inside the savepoint, which stays open until the
  field's whole payload is complete; then the field is *settled* (:func:`settle`): the savepoint
  is released when the payload raised no error, rolled back otherwise (and the attempt audited
  as ``ERROR`` in a transaction of its own), so a payload never reports a change that was not
  kept;
* it fails as expected (a :class:`DomainError`, or a constraint a domain maps): the savepoint is
  rolled back and the refusal audited (``REJECTED`` or ``FORBIDDEN``, the latter also a
  security event);
* it loses a race (deadlock, serialization failure): the savepoint is rolled back, which
  releases its locks, and the step runs again after a short random pause, up to
  ``BILIM_MUTATION_ATTEMPTS`` times in all, before it answers the retryable ``CONFLICT``;
* it fails unexpectedly: the savepoint is rolled back, the attempt audited as ``ERROR`` with the
  request id in a transaction of its own, and the error reaches the client masked.

When the request's transaction itself is rolled back (its commit failed, or the response has no
data), :func:`record_rolled_back` writes the audit rows of its attempts apart, so every attempt
leaves its row whatever happens to the request."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

from models import Outcome
from resolvers import security
from resolvers.access import ANONYMOUS
from resolvers.audit import redact
from resolvers.context import Context
from resolvers.errors import AnyCode, DomainError, ErrorCode, Problem
from resolvers.events import (
    Trail,
    audit_values,
    open_trail,
    record_audit_apart,
    take_trail,
    write_audit,
)
from resolvers.faults import is_retryable, is_unavailable

log = logging.getLogger("bilim.mutations")

R = TypeVar("R")

DEFAULT_ATTEMPTS = 3
# The pause before attempt n+1 is about RETRY_PAUSE * 2**(n-1) seconds, drawn at random between
# half and one and a half of it, so two transactions that deadlocked do not meet again in step.
RETRY_PAUSE = 0.02
CONFLICT_MESSAGE = "The change met a concurrent one and was not made; send it again"

# Constraint name -> what it means to the caller. A workflow checks these rules first to give a
# precise message; the constraint is what holds under concurrent transactions.
CONSTRAINT_CODES: dict[str, tuple[AnyCode, str, str | None]] = {}


def register_constraint(name: str, code: AnyCode, message: str, field: str | None) -> None:
    """Let a domain map one of its constraints to a user error (each domain registers its
    own when its package is imported)."""
    CONSTRAINT_CODES[name] = (code, message, field)


def constraint_of(err: DBAPIError) -> str | None:
    """The name of the constraint a database error broke, if any."""
    orig: Any = err.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


# A constraint of a partitioned table is reported under its partition's index's name; the
# index is attached to the parent's, whose name the domain registered.
_PARENT_INDEX = text(
    "SELECT parent.relname FROM pg_class child"
    " JOIN pg_inherits i ON i.inhrelid = child.oid"
    " JOIN pg_class parent ON parent.oid = i.inhparent"
    " WHERE child.relname = :name AND child.relkind = 'i'"
)


async def _known_constraint(
    session: AsyncSession, name: str | None
) -> tuple[AnyCode, str, str | None] | None:
    if not name:
        return None
    known = CONSTRAINT_CODES.get(name)
    if known is None:
        parent = await session.scalar(_PARENT_INDEX, {"name": name})
        known = CONSTRAINT_CODES.get(parent or "")
    return known


@dataclass
class MutationResult(Generic[R]):
    """What a mutation produced: the changed object, or the problems that stopped it."""

    value: R | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Attempt:
    """One mutation field's attempt: its audit row and, while it waits to be settled, the open
    savepoint holding its change."""

    row: dict[str, Any] = field(default_factory=dict)
    savepoint: AsyncSessionTransaction | None = None
    # Its row is written apart already (an unexpected fault): nothing left to record.
    recorded_apart: bool = False
    settled: bool = False


def target_of(value: Any) -> tuple[str | None, int | None]:
    """The changed object's type and id; a result that carries more than the object (a new key
    and its secret) names the object as its ``audit_target``."""
    value = getattr(value, "audit_target", value)
    if value is None:
        return None, None
    return type(value).__name__, getattr(value, "id", None)


def attempts_allowed(ctx: Context) -> int:
    settings = getattr(ctx.guard, "settings", None)
    return int(getattr(settings, "mutation_attempts", DEFAULT_ATTEMPTS))


async def perform(
    ctx: Context,
    operation: str,
    action: Callable[[AsyncSession], Awaitable[R]],
    *,
    details: dict[str, Any] | None = None,
    anonymous: bool = False,
) -> MutationResult[R]:
    """Run one mutation's workflow step as the module says; the step may run more than once
    (it must read its input again each time). An ``anonymous`` operation (a pupil's concern
    report) is audited without its caller and its variables: the trail must not say who sent
    what."""
    attempt = Attempt()
    ctx.attempts.append(attempt)
    row = {
        "principal": ANONYMOUS if anonymous else ctx.principal,
        "request_id": ctx.request_id,
        "operation": operation,
        "operation_name": ctx.operation_name,
        "variables": {} if anonymous else redact(ctx.variables or {}),
        "details": details,
    }
    async with ctx.db_lock:
        allowed = attempts_allowed(ctx)
        for number in range(1, allowed + 1):
            result = await _run_once(ctx, attempt, row, action, number)
            if result is not None:
                return result
            log.info(
                "%s.lost_race",
                operation,
                extra={"event": operation, "attempt": number, "request_id": ctx.request_id},
            )
            if number < allowed:
                await asyncio.sleep(RETRY_PAUSE * 2 ** (number - 1) * random.uniform(0.5, 1.5))
        problems = [Problem(code=ErrorCode.CONFLICT, message=CONFLICT_MESSAGE)]
        await _refused(ctx, attempt, row, [ErrorCode.CONFLICT.value], allowed)
        return MutationResult(problems=problems)


async def _run_once(
    ctx: Context,
    attempt: Attempt,
    row: dict[str, Any],
    action: Callable[[AsyncSession], Awaitable[R]],
    number: int,
) -> MutationResult[R] | None:
    """One attempt of the step in a savepoint: its result, or None when it lost a race (its
    savepoint rolled back, its locks released)."""
    session = ctx.session
    ctx.forget_loaders()
    savepoint = await session.begin_nested()
    # The step's outbox events and status history wait for its audit row and go with it in one
    # statement; a step that fails drops them with its savepoint.
    open_trail(session)
    try:
        value = await action(session)
        await session.flush()
    except DomainError as err:
        await savepoint.rollback()
        problems = err.problems
    except IntegrityError as err:
        await savepoint.rollback()
        known = await _known_constraint(session, constraint_of(err))
        if known is None:
            await _failed(ctx, attempt, row, err)
            raise
        code, message, fld = known
        problems = [Problem(code=code, message=message, field=fld)]
    except DBAPIError as err:
        await _roll_back(ctx, savepoint)
        if is_retryable(err) and not ctx.failed:
            return None
        await _failed(ctx, attempt, row, err)
        raise
    except GraphQLError as err:
        # A malformed argument the step found: refused like a malformed request, as a top-level
        # error (nothing of the request is kept); audited as a refusal.
        await _roll_back(ctx, savepoint)
        refusal = str((err.extensions or {}).get("code") or ErrorCode.INVALID_INPUT)
        await _refused(ctx, attempt, row, [refusal], number)
        attempt.settled = True
        raise
    except Exception as err:
        await _roll_back(ctx, savepoint)
        await _failed(ctx, attempt, row, err)
        raise
    except BaseException:
        # Cancelled (the client went away): nothing of the attempt is kept.
        attempt.settled = True
        await _roll_back(ctx, savepoint)
        raise
    else:
        trail = take_trail(session)
        return await _succeeded(ctx, attempt, row, savepoint, value, number, trail)
    finally:
        take_trail(session)
    await _refused(ctx, attempt, row, [p.code.value for p in problems], number)
    return MutationResult(problems=problems)


async def _succeeded(
    ctx: Context,
    attempt: Attempt,
    row: dict[str, Any],
    savepoint: AsyncSessionTransaction,
    value: R,
    number: int,
    trail: Trail | None,
) -> MutationResult[R]:
    """Audit the change inside its savepoint, left open for :func:`settle`; the audit row
    carries the step's ``trail`` (its outbox events and status history) in one statement."""
    target_type, target_id = target_of(value)
    attempt.row = audit_values(
        **{**row, "details": _with_attempts(row["details"], number)},
        outcome=Outcome.SUCCEEDED,
        target_type=target_type,
        target_id=target_id,
    )
    await write_audit(ctx.session, attempt.row, trail)
    attempt.savepoint = savepoint
    operation = row["operation"]
    log.info("%s", operation, extra={"event": operation, "target_id": target_id})
    return MutationResult(value=value)


async def _refused(
    ctx: Context, attempt: Attempt, row: dict[str, Any], codes: list[str], number: int
) -> None:
    """Audit a refusal in the request's transaction; a FORBIDDEN one is also a security event,
    which stays whatever becomes of the transaction."""
    forbidden = ErrorCode.FORBIDDEN in codes
    attempt.row = audit_values(
        **{**row, "details": _with_attempts(row["details"], number)},
        outcome=Outcome.FORBIDDEN if forbidden else Outcome.REJECTED,
        error_codes=codes,
    )
    await write_audit(ctx.session, attempt.row)
    operation = row["operation"]
    if forbidden:
        await security.note(
            ctx, reason=ErrorCode.FORBIDDEN, why="refused_by_rule", action=operation
        )
    log.info("%s.rejected", operation, extra={"event": operation, "codes": codes})


def _with_attempts(details: dict[str, Any] | None, number: int) -> dict[str, Any] | None:
    """The audit details, with how many attempts the step took when it took more than one."""
    return details if number == 1 else {**(details or {}), "attempts": number}


async def _roll_back(ctx: Context, savepoint: AsyncSessionTransaction) -> None:
    """Roll back to the savepoint; when even that fails (the connection is gone), the request's
    transaction cannot be committed any more."""
    try:
        await savepoint.rollback()
    except Exception:
        ctx.failed = True
        log.warning(
            "mutations.rollback_failed", exc_info=True, extra={"request_id": ctx.request_id}
        )


def fault_code(error: BaseException) -> ErrorCode:
    """The code an unexpected fault reaches the client with."""
    return ErrorCode.SERVICE_UNAVAILABLE if is_unavailable(error) else ErrorCode.INTERNAL_ERROR


async def _failed(ctx: Context, attempt: Attempt, row: dict[str, Any], error: Exception) -> None:
    """Audit an attempt that failed unexpectedly as ERROR, in its own transaction (the request's
    may not commit); the fault's class name says what failed, never its message."""
    attempt.row = audit_values(
        **{**row, "details": {**(row["details"] or {}), "fault": type(error).__name__}},
        outcome=Outcome.ERROR,
        error_codes=[fault_code(error).value],
    )
    attempt.settled = True
    await write_apart(ctx, [attempt])


async def write_apart(ctx: Context, attempts: list[Attempt]) -> None:
    """Write the attempts' audit rows in a transaction of their own, on the bookkeeping pool."""
    engine = getattr(ctx.guard, "engine", None)
    rows = [a.row for a in attempts if a.row and not a.recorded_apart]
    if not rows:
        return
    try:
        await record_audit_apart(engine, ctx.sessions, rows)
    except Exception:
        log.error(
            "mutations.audit_not_written",
            exc_info=True,
            extra={"request_id": ctx.request_id, "rows": len(rows)},
        )
        return
    for attempt in attempts:
        attempt.recorded_apart = True


async def settle(ctx: Context, since: int, *, failure: AnyCode | None) -> bool:
    """Settle the attempts a mutation field made (those from index ``since``) once its payload
    is complete: keep their change when the payload had no error (``failure`` None), else roll
    it back and audit the attempt as ERROR with ``failure`` as its code. Whether the field made
    an attempt."""
    attempts = ctx.attempts[since:]
    async with ctx.db_lock:
        for attempt in attempts:
            if attempt.settled:
                continue
            attempt.settled = True
            savepoint, attempt.savepoint = attempt.savepoint, None
            if failure is None:
                if savepoint is not None:
                    await savepoint.commit()
                continue
            if savepoint is None:
                continue  # refused: nothing was written, and its row says so
            await _roll_back(ctx, savepoint)
            ctx.forget_loaders()
            attempt.row = {
                **attempt.row,
                "outcome": Outcome.ERROR,
                "error_codes": [failure.value],
                "details": {**attempt.row["details"], "rolled_back": "payload"},
            }
            await write_apart(ctx, [attempt])
    return bool(attempts)


async def record_rolled_back(ctx: Context, codes: list[str]) -> None:
    """The request's transaction is being rolled back after its attempts were audited in it:
    write their rows apart, a change that was made now an ERROR (``codes`` say why)."""
    rows: list[Attempt] = []
    for attempt in ctx.attempts:
        if attempt.recorded_apart or not attempt.row:
            continue
        if attempt.row["outcome"] == Outcome.SUCCEEDED:
            attempt.row = {
                **attempt.row,
                "outcome": Outcome.ERROR,
                "error_codes": codes or [ErrorCode.INTERNAL_ERROR.value],
                "details": {**attempt.row["details"], "rolled_back": "request"},
            }
        rows.append(attempt)
    await write_apart(ctx, rows)

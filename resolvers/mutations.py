"""How every mutation runs: its own savepoint, typed errors, an audit row, in the request's
transaction. A mutation that fails leaves nothing behind but the audit row of its refusal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Outcome
from resolvers.access import ANONYMOUS
from resolvers.audit import redact
from resolvers.context import Context
from resolvers.errors import AnyCode, DomainError, ErrorCode, Problem
from resolvers.events import record_audit

log = logging.getLogger("bilim.mutations")

R = TypeVar("R")

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


def target_of(value: Any) -> tuple[str | None, int | None]:
    """The changed object's type and id; a result that carries more than the object (a new key
    and its secret) names the object as its ``audit_target``."""
    value = getattr(value, "audit_target", value)
    if value is None:
        return None, None
    return type(value).__name__, getattr(value, "id", None)


async def perform(
    ctx: Context,
    operation: str,
    action: Callable[[AsyncSession], Awaitable[R]],
    *,
    details: dict[str, Any] | None = None,
    anonymous: bool = False,
) -> MutationResult[R]:
    """Run one mutation's workflow step in a savepoint of the request's transaction.

    Expected failures (:class:`DomainError`, or a constraint the database enforces) roll back
    the savepoint and come back as problems; the audit row records the outcome either way.
    An ``anonymous`` operation (a pupil's concern report) is audited without its caller and
    its variables: the trail must not say who sent what."""
    request: dict[str, Any] = {
        "operation_name": ctx.operation_name,
        "variables": {} if anonymous else redact(ctx.variables or {}),
    }
    actor = ANONYMOUS if anonymous else ctx.principal
    async with ctx.db_lock:
        ctx.forget_loaders()
        session = ctx.session
        savepoint = await session.begin_nested()
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
                ctx.failed = True
                raise
            code, message, fld = known
            problems = [Problem(code=code, message=message, field=fld)]
        except BaseException:
            await savepoint.rollback()
            ctx.failed = True
            raise
        else:
            await savepoint.commit()
            target_type, target_id = target_of(value)
            await record_audit(
                session,
                principal=actor,
                request_id=ctx.request_id,
                operation=operation,
                outcome=Outcome.SUCCEEDED,
                target_type=target_type,
                target_id=target_id,
                details=details,
                **request,
            )
            log.info("%s", operation, extra={"event": operation, "target_id": target_id})
            return MutationResult(value=value)

        codes = [p.code.value for p in problems]
        forbidden = ErrorCode.FORBIDDEN in codes
        await record_audit(
            session,
            principal=actor,
            request_id=ctx.request_id,
            operation=operation,
            outcome=Outcome.FORBIDDEN if forbidden else Outcome.REJECTED,
            error_codes=codes,
            details=details,
            **request,
        )
        log.info("%s.rejected", operation, extra={"event": operation, "codes": codes})
        return MutationResult(problems=problems)

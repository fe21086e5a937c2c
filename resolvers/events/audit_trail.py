"""The audit trail: who did what, when, with what outcome, written in the transaction of the
change it records (or of its refusal)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import AuditEntry, Outcome
from resolvers import driver
from resolvers.access import Principal
from resolvers.events.outbox import EVENTS_INSERT, Trail, event_params


def audit_values(
    *,
    principal: Principal,
    request_id: str | None,
    operation: str,
    outcome: Outcome,
    target_type: str | None = None,
    target_id: int | None = None,
    error_codes: list[str] | None = None,
    details: dict[str, Any] | None = None,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An audit row's values: who did what, when, and with what outcome. ``details`` must hold
    no personal data (ids and codes only): the audit trail is read by auditors, not by the
    family. ``variables`` are the request's, already redacted (:func:`resolvers.audit.redact`)."""
    return {
        "request_id": request_id,
        "actor": principal.subject,
        "role": principal.role.value,
        "api_key_prefix": principal.api_key_prefix,
        "operation": operation,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": target_id,
        "error_codes": error_codes or [],
        "details": details or {},
        "operation_name": (operation_name or "")[:120] or None,
        "variables": variables or {},
    }


async def record_audit(session: AsyncSession, **values: Any) -> None:
    """Append an audit row (the arguments of :func:`audit_values`) in the session's transaction:
    it is kept if and only if the change it describes is."""
    await write_audit(session, audit_values(**values))


async def write_audit(
    session: AsyncSession, values: dict[str, Any], trail: Trail | None = None
) -> None:
    """Append an audit row from its values (:func:`audit_values`) in the session's transaction,
    with the ``trail`` its step left (outbox events, status history) in the same statement.

    The statement is made once per shape (whether it carries events, which bound inserts) and
    its values sent as parameters: built per call, the ORM insert and its CTEs cost each
    mutation ~0.5 ms of CPU (issue 21); and it is one SQLAlchemy keeps compiled (the events
    are one parameter: :data:`resolvers.events.outbox.EVENTS_INSERT`). Rows of another shape
    take the general path."""
    params = _shape_params(values, trail)
    if params is not None:
        stmt, made = _shaped(bool(trail and trail.events), _templates(trail))
        if not (trail and trail.inserts):
            # Sent through the driver on the session's connection (resolvers/driver.py).
            await driver.execute(session, made, params)
            return
        for n, raw in enumerate(trail.inserts, 1):
            stmt = stmt.add_cte(raw.cte(f"trail_{n}"))
        await session.execute(stmt, params)
        return
    stmt = insert(cast(Table, AuditEntry.__table__)).values(values)
    ctes, bound = trail.ctes() if trail is not None else ([], {})
    for cte in ctes:
        stmt = stmt.add_cte(cte)
    await session.execute(stmt, bound or None)


# The columns :func:`audit_values` writes; the statements made for each shape of trail, kept
# by the identity of its bound inserts (module-level statements: a few dozen shapes at most).
AUDIT_KEYS = frozenset(
    (
        "request_id",
        "actor",
        "role",
        "api_key_prefix",
        "operation",
        "outcome",
        "target_type",
        "target_id",
        "error_codes",
        "details",
        "operation_name",
        "variables",
    )
)
SHAPES_KEPT = 256
_SHAPES: dict[tuple[bool, tuple[int, ...]], tuple[tuple[Insert, ...], Insert, driver.Made]] = {}


def _templates(trail: Trail | None) -> tuple[Insert, ...]:
    return tuple(stmt for stmt, _ in trail.bound) if trail is not None else ()


def _shape_params(values: dict[str, Any], trail: Trail | None) -> dict[str, Any] | None:
    """The bind values of the shaped statement for this row and trail, or None when they do
    not fit one (other columns, an event of other columns, a bound insert twice)."""
    if values.keys() != AUDIT_KEYS:
        return None
    params = {f"audit_{key}": value for key, value in values.items()}
    if trail is None:
        return params
    events = event_params(trail.events)
    if events is None or len({id(stmt) for stmt, _ in trail.bound}) != len(trail.bound):
        return None
    params.update(events)
    for _, bound in trail.bound:
        params.update(bound)
    return params


def _shaped(events: bool, templates: tuple[Insert, ...]) -> tuple[Insert, driver.Made]:
    """The audit row's INSERT carrying outbox events (if ``events``) and the ``templates``'
    rows as CTEs, every value a named bind parameter (``audit_<column>``, the events' JSON
    array, the templates' own), made once per shape."""
    key = (events, tuple(id(t) for t in templates))
    known = _SHAPES.get(key)
    if known is not None and all(a is b for a, b in zip(known[0], templates, strict=True)):
        return known[1], known[2]
    table = cast(Table, AuditEntry.__table__)
    stmt = insert(table).values(
        {key: bindparam(f"audit_{key}", type_=table.c[key].type) for key in sorted(AUDIT_KEYS)}
    )
    if events:
        stmt = stmt.add_cte(EVENTS_INSERT.cte("trail_events"))
    for n, template in enumerate(templates, 1):
        stmt = stmt.add_cte(template.cte(f"trail_bound_{n}"))
    if len(_SHAPES) >= SHAPES_KEPT:
        _SHAPES.clear()
    made = driver.Made(stmt)
    _SHAPES[key] = (templates, stmt, made)
    return stmt, made


async def record_audit_apart(
    engine: AsyncEngine | None,
    sessions: async_sessionmaker[AsyncSession],
    rows: list[dict[str, Any]],
) -> None:
    """Append audit rows (values of :func:`audit_values`) in a transaction of their own, on
    ``engine`` (the bookkeeping pool) or else on a session of its own: for attempts whose
    request's transaction is rolled back, which must still leave their row."""
    if not rows:
        return
    if engine is not None:
        async with engine.begin() as conn:
            await conn.execute(insert(AuditEntry), rows)
        return
    async with sessions() as apart, apart.begin():
        await apart.execute(insert(AuditEntry), rows)

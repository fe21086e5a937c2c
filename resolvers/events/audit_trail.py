"""The audit trail: who did what, when, with what outcome, written in the transaction of the
change it records (or of its refusal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import AuditEntry, Outcome
from resolvers.access import Principal
from resolvers.events.outbox import Trail


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
    with the ``trail`` its step left (outbox events, status history) in the same statement."""
    stmt = insert(AuditEntry).values(values)
    for cte in trail.ctes() if trail is not None else ():
        stmt = stmt.add_cte(cte)
    await session.execute(stmt)


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

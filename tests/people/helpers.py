"""Reading the database behind the hub's back: row counts, the audit trail and the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import AuditEntry, OutboxEvent


async def count_rows(engine: AsyncEngine, model: Any, *where: ColumnElement[bool]) -> int:
    """How many rows of ``model`` (matching ``where``) the database holds, committed."""
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def audit_entries(engine: AsyncEngine, operation: str) -> list[Any]:
    """The audit rows of ``operation``, oldest first."""
    async with engine.connect() as conn:
        result = await conn.execute(
            select(AuditEntry.outcome, AuditEntry.error_codes, AuditEntry.target_id)
            .where(AuditEntry.operation == operation)
            .order_by(AuditEntry.id)
        )
        return list(result)


async def outbox_topics(engine: AsyncEngine) -> list[str]:
    """Topics of the events in the outbox, oldest first."""
    async with engine.connect() as conn:
        result = await conn.scalars(select(OutboxEvent.topic).order_by(OutboxEvent.id))
        return list(result)


def user_error_codes(payload: dict[str, Any]) -> list[str]:
    """The codes of a mutation payload's ``userErrors``."""
    return [error["code"] for error in payload["userErrors"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    """The ``extensions.code`` of each top-level error of a response body."""
    return [str((error.get("extensions") or {}).get("code")) for error in body.get("errors") or []]

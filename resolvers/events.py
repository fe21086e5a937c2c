"""The audit trail and the transactional outbox: written in the same transaction as the change
they describe, so an event exists if and only if its change was committed."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, OutboxEvent, Outcome
from resolvers.access import Principal

log = logging.getLogger("bilim.events")


async def emit(
    session: AsyncSession,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: int,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue a domain event (``domain.event_name``) in the current transaction."""
    await session.execute(
        insert(OutboxEvent).values(
            topic=topic,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            payload=payload or {},
        )
    )
    log.info("%s", topic, extra={"event": topic, "aggregate_id": aggregate_id})


async def record_audit(
    session: AsyncSession,
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
) -> None:
    """Append who did what, when, and with what outcome. ``details`` must hold no personal
    data (ids and codes only): the audit trail is read by auditors, not by the family.
    ``variables`` are the request's, already redacted (:func:`resolvers.safety.redact`)."""
    await session.execute(
        insert(AuditEntry).values(
            request_id=request_id,
            actor=principal.subject,
            role=principal.role.value,
            api_key_prefix=principal.api_key_prefix,
            operation=operation,
            outcome=outcome,
            target_type=target_type,
            target_id=target_id,
            error_codes=error_codes or [],
            details=details or {},
            operation_name=(operation_name or "")[:120] or None,
            variables=variables or {},
        )
    )

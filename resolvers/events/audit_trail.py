"""The audit trail: who did what, when, with what outcome, written in the transaction of the
change it records (or of its refusal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Outcome
from resolvers.access import Principal


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

"""The audit trail as auditors read it, and what of a request it may keep.

Rows are appended by mutations (:func:`resolvers.mutations.perform`) and by partners' reads of
personal data (:mod:`resolvers.safety`); a trigger refuses UPDATE, DELETE and TRUNCATE."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from models import AuditEntry, Outcome
from resolvers.access import Principal, Role
from resolvers.access.fields import PERSONAL_NAME
from resolvers.relay import Ordering

# Variables never kept in the audit trail: secrets, and personal values (the trail must not
# become a second copy of the registry; the changed row itself says what was written).
SECRET_NAME = re.compile(r"(?i)(pass(word)?|secret|token|api[_-]?key|authorization|pepper|otp)")
MAX_AUDIT_STRING = 200
MAX_AUDIT_ITEMS = 50

AUDIT_ORDERING = Ordering(((AuditEntry.id, True),))


def redact(value: Any, *, key: str = "", depth: int = 0) -> Any:
    """Variables as the audit trail keeps them: secrets and personal values replaced, long
    strings and lists cut."""
    if key and SECRET_NAME.search(key):
        return "[secret]"
    if key and PERSONAL_NAME.match(key):
        return "[personal]"
    if depth > 8:
        return "[deep]"
    if isinstance(value, dict):
        return {
            str(k)[:60]: redact(v, key=str(k), depth=depth + 1)
            for k, v in list(value.items())[:MAX_AUDIT_ITEMS]
        }
    if isinstance(value, list):
        return [redact(v, key=key, depth=depth + 1) for v in value[:MAX_AUDIT_ITEMS]]
    if isinstance(value, str) and len(value) > MAX_AUDIT_STRING:
        return value[:MAX_AUDIT_STRING] + "…"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Uploaded files and other objects: their kind, never their content.
    return f"[{type(value).__name__}]"


def can_read_audit(principal: Principal) -> bool:
    """May this principal read the audit trail? Only auditors: the ministry acts, and is
    audited; it does not audit itself."""
    return principal.role == Role.AUDITOR


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit trail; every field given narrows it."""

    actor: str | None = None
    role: str | None = None
    api_key_prefix: str | None = None
    operation: str | None = None
    operation_name: str | None = None
    outcome: Outcome | None = None
    request_id: str | None = None
    target_type: str | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


AUDIT_COLUMNS = tuple(AuditEntry.__table__.c)


def audit_query(flt: AuditFilter) -> Select[Any]:
    stmt: Select[Any] = select(*AUDIT_COLUMNS)
    equal = {
        AuditEntry.actor: flt.actor,
        AuditEntry.role: flt.role,
        AuditEntry.api_key_prefix: flt.api_key_prefix,
        AuditEntry.operation: flt.operation,
        AuditEntry.operation_name: flt.operation_name,
        AuditEntry.outcome: flt.outcome,
        AuditEntry.request_id: flt.request_id,
        AuditEntry.target_type: flt.target_type,
        AuditEntry.target_id: flt.target_id,
    }
    for column, value in equal.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.at < flt.until)
    return stmt

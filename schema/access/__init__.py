"""Access in the graph: who is calling (`viewer`), their budget (`rateLimit`), partners' API
keys, the audit trail and the security events."""

from schema.access.mutations import Mutation
from schema.access.queries import AuditLogFilter, Query, SecurityEventFilter
from schema.access.types import (
    ApiKey,
    AuditEntry,
    Outcome,
    RateLimit,
    Role,
    SecurityEvent,
    Viewer,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditLogFilter",
    "Mutation",
    "Outcome",
    "Query",
    "RateLimit",
    "Role",
    "SecurityEvent",
    "SecurityEventFilter",
    "Viewer",
]

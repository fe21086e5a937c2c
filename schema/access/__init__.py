"""Access in the graph: who is calling (`viewer`), their budget (`rateLimit`), partners' API
keys and the audit trail."""

from schema.access.mutations import Mutation
from schema.access.queries import AuditLogFilter, Query
from schema.access.types import ApiKey, AuditEntry, Outcome, RateLimit, Role, Viewer

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuditLogFilter",
    "Mutation",
    "Outcome",
    "Query",
    "RateLimit",
    "Role",
    "Viewer",
]

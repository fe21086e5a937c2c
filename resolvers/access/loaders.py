"""The access domain's DataLoaders: partners' keys (the ministry only), the audit trail and the
security events (auditors only). For any other caller they answer null without a
statement."""

from __future__ import annotations

from typing import Any

from models import ApiKey, AuditEntry, SecurityEvent
from resolvers.access.keys import can_manage_keys
from resolvers.audit import AUDIT_COLUMNS, can_read_audit
from resolvers.loaders import ById
from resolvers.security import EVENT_COLUMNS, can_read_security_events


class ApiKeyByIdLoader(ById):
    columns = tuple(ApiKey.__table__.c)
    key = ApiKey.id

    async def batch(self, keys: list[Any]) -> list[Any]:
        if not can_manage_keys(self.principal):
            return [None] * len(keys)
        return await super().batch(keys)


class AuditEntryByIdLoader(ById):
    columns = AUDIT_COLUMNS
    key = AuditEntry.id

    async def batch(self, keys: list[Any]) -> list[Any]:
        if not can_read_audit(self.principal):
            return [None] * len(keys)
        return await super().batch(keys)


class SecurityEventByIdLoader(ById):
    columns = EVENT_COLUMNS
    key = SecurityEvent.id

    async def batch(self, keys: list[Any]) -> list[Any]:
        if not can_read_security_events(self.principal):
            return [None] * len(keys)
        return await super().batch(keys)

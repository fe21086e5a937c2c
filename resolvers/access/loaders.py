"""The access domain's DataLoaders: partners' keys (the ministry only) and the audit trail
(auditors only). For any other caller they answer null without a statement."""

from __future__ import annotations

from typing import Any

from models import ApiKey, AuditEntry
from resolvers.access.keys import can_manage_keys
from resolvers.audit import AUDIT_COLUMNS, can_read_audit
from resolvers.loaders import ById


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

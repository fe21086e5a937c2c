"""The access domain's root fields: the caller, its budget, partners' keys (the ministry), the
audit trail and the security events (auditors)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.tools import merge_types

from resolvers import audit as audit_service
from resolvers import security as security_service
from resolvers.access import keys as keys_service
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.relay import decode_id
from schema.access.types import (
    ApiKey,
    AuditEntry,
    Outcome,
    RateLimit,
    Role,
    SecurityEvent,
    Viewer,
)
from schema.common import Connection
from schema.fields import Listing, connection
from schema.permissions import allowed


@strawberry.type
class ViewerQuery:
    @strawberry.field(description="The caller of this request.")
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            subject=p.subject,
            role=p.role,
            person_pk=p.person_id,
            region_pks=sorted(p.region_ids),
            district_pks=sorted(p.district_ids),
            institution_pks=sorted(p.institution_ids),
        )


@strawberry.type
class RateLimitQuery:
    @strawberry.field(
        description="The caller's budget and what this request cost (null outside the hub)."
    )
    def rate_limit(self, info: Info) -> RateLimit | None:
        report = info.context.cost
        if report is None:
            return None
        return RateLimit(
            limit=report.limit,
            cost=report.requested,
            node_count=report.node_count,
            remaining=report.remaining,
            reset_at=report.reset_at,
        )


@strawberry.type
class KeyQuery:
    @connection(
        Connection[ApiKey],
        description="Partners' API keys, newest first (the ministry only).",
        permission_classes=[
            allowed(keys_service.can_manage_keys, "Only the ministry lists partners' keys")
        ],
    )
    def api_keys(self, ctx: Context) -> Listing:
        return Listing(keys_service.api_keys_query(), keys_service.API_KEY_ORDER, ApiKey.from_row)


@strawberry.input(description="Narrow the audit trail; every field given must hold.")
class AuditLogFilter:
    actor: str | None = strawberry.field(default=None, description="This token subject or key.")
    role: Role | None = strawberry.field(default=None, description="Callers of this role.")
    api_key_prefix: str | None = strawberry.field(default=None, description="This partner key.")
    operation: str | None = strawberry.field(default=None, description="e.g. people.link_guardian")
    operation_name: str | None = strawberry.field(default=None, description="GraphQL name.")
    outcome: Outcome | None = strawberry.field(default=None, description="This outcome.")
    request_id: str | None = strawberry.field(default=None, description="One request.")
    target_id: strawberry.ID | None = strawberry.field(
        default=None, description="Rows about this object."
    )
    since: datetime | None = strawberry.field(default=None, description="At or after.")
    until: datetime | None = strawberry.field(default=None, description="Before.")


def _short(value: str | None, name: str, limit: int = 160) -> str | None:
    if value is not None and len(value) > limit:
        raise RequestError(Code.INVALID_INPUT, f"`{name}` is at most {limit} characters")
    return value


def _audit_filter(flt: AuditLogFilter | None) -> audit_service.AuditFilter:
    if flt is None:
        return audit_service.AuditFilter()
    target_type, target_pk = decode_id(flt.target_id) if flt.target_id else (None, None)
    return audit_service.AuditFilter(
        actor=_short(flt.actor, "actor"),
        role=flt.role.value if flt.role else None,
        api_key_prefix=_short(flt.api_key_prefix, "apiKeyPrefix"),
        operation=_short(flt.operation, "operation"),
        operation_name=_short(flt.operation_name, "operationName"),
        outcome=flt.outcome,
        request_id=_short(flt.request_id, "requestId"),
        target_type=target_type,
        target_id=target_pk,
        since=flt.since,
        until=flt.until,
    )


@strawberry.type
class AuditQuery:
    @connection(
        Connection[AuditEntry],
        description="The audit trail, newest first (auditors only).",
        permission_classes=[
            allowed(audit_service.can_read_audit, "Only auditors read the audit trail")
        ],
    )
    def audit_log(self, ctx: Context, filter: AuditLogFilter | None = None) -> Listing:
        stmt = audit_service.audit_query(_audit_filter(filter))
        return Listing(stmt, audit_service.AUDIT_ORDERING, AuditEntry.from_row)


@strawberry.input(description="Narrow the security events; every field given must hold.")
class SecurityEventFilter:
    source: str | None = strawberry.field(
        default=None, description="This source, e.g. ip:203.0.113.7 or key:ab12cd34."
    )
    reason: str | None = strawberry.field(default=None, description="This code.")
    why: str | None = strawberry.field(default=None, description="This word, e.g. expired_token.")
    since: datetime | None = strawberry.field(default=None, description="Last seen at or after.")
    until: datetime | None = strawberry.field(default=None, description="First seen before.")


def _event_filter(flt: SecurityEventFilter | None) -> security_service.EventFilter:
    if flt is None:
        return security_service.EventFilter()
    return security_service.EventFilter(
        source=_short(flt.source, "source"),
        reason=_short(flt.reason, "reason"),
        why=_short(flt.why, "why"),
        since=flt.since,
        until=flt.until,
    )


@strawberry.type
class SecurityEventQuery:
    @connection(
        Connection[SecurityEvent],
        description="Refused writes and failed authentications, newest first (auditors only).",
        permission_classes=[
            allowed(
                security_service.can_read_security_events,
                "Only auditors read the security events",
            )
        ],
    )
    async def security_events(
        self, ctx: Context, filter: SecurityEventFilter | None = None
    ) -> Listing:
        # This worker's counts noted since its last flush, so the auditor reads them too.
        security = getattr(ctx.guard, "security", None)
        if security is not None:
            await security.flush()
        stmt = security_service.events_query(_event_filter(filter))
        return Listing(stmt, security_service.EVENT_ORDERING, SecurityEvent.from_row)


Query = merge_types(
    "AccessQuery", (ViewerQuery, RateLimitQuery, KeyQuery, AuditQuery, SecurityEventQuery)
)

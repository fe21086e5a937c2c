"""The caller: `viewer` tells a client who it is signed in as and where its role holds."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, cast

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.tools import merge_types

from models import ApiKey as ApiKeyModel
from models import AuditEntry as AuditEntryModel
from models import Outcome as OutcomeEnum
from resolvers import audit as audit_service
from resolvers.access import Role as RoleEnum
from resolvers.access import keys as keys_service
from resolvers.access.fields import unknown_fields
from resolvers.access.keys import NewKey, can_manage_keys
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.mutations import perform
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import Ordering, decode_id, encode_id
from schema.common import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    UserError,
    bounds,
    list_connection,
    require_signed_in,
    user_errors,
)
from schema.geography import District, Region
from schema.node import node_type, pk_of

if TYPE_CHECKING:
    from schema.institutions import Institution
    from schema.people import Person

strawberry.enum(
    RoleEnum, name="Role", description="What a caller may do; officers' roles are scoped."
)
Role: TypeAlias = RoleEnum

API_KEY_ORDER = Ordering(((ApiKeyModel.id, True),))

PersonT = Annotated["Person", strawberry.lazy("schema.people")]
InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]


@strawberry.type(description="Who is calling, and where their role holds.")
class Viewer:
    subject: str = strawberry.field(description="Subject of the token (or 'anonymous').")
    role: Role = strawberry.field(description="The caller's role.")
    person_pk: strawberry.Private[int | None]
    region_pks: strawberry.Private[list[int]]
    district_pks: strawberry.Private[list[int]]
    institution_pks: strawberry.Private[list[int]]

    @strawberry.field(description="The person the caller is, if any.")
    async def person(self, info: Info) -> PersonT | None:
        from schema.people import Person

        if self.person_pk is None:
            return None
        row = await PersonByIdLoader(info.context).load(self.person_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="Regions the caller's role covers.")
    async def regions(self, info: Info) -> list[Region]:
        rows = await RegionByIdLoader(info.context).load_many(self.region_pks)
        return [Region.from_row(r) for r in rows if r]

    @strawberry.field(description="Districts the caller's role covers.")
    async def districts(self, info: Info) -> list[District]:
        rows = await DistrictByIdLoader(info.context).load_many(self.district_pks)
        return [District.from_row(r) for r in rows if r]

    @strawberry.field(description="Institutions the caller's role covers.")
    async def institutions(self, info: Info) -> list[InstitutionT]:
        from schema.institutions import Institution

        rows = await InstitutionByIdLoader(info.context).load_many(self.institution_pks)
        return [Institution.from_row(r) for r in rows if r]


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


# --- rate limit ----------------------------------------------------------------------------


@strawberry.type(description="The caller's hourly budget, after this request (GitHub's model).")
class RateLimit:
    limit: int = strawberry.field(description="Points the caller may spend per hour.")
    cost: int = strawberry.field(description="Points this request cost.")
    node_count: int = strawberry.field(description="Objects this request may return at most.")
    remaining: int = strawberry.field(description="Points left in this hour's window.")
    reset_at: datetime | None = strawberry.field(description="When the window starts afresh.")


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


# --- partners' API keys --------------------------------------------------------------------


@strawberry.type(description="A data partner's API key (the secret is never shown again).")
class ApiKey(Node):
    pk: strawberry.Private[int]
    region_pks: strawberry.Private[list[int]]
    name: str = strawberry.field(description="The partner and purpose.")
    prefix: str = strawberry.field(description="Visible part of the key: bk_<prefix>_...")
    created_by: str = strawberry.field(description="Who created the key.")
    created_at: datetime = strawberry.field(description="When it was created.")
    expires_at: datetime = strawberry.field(description="When it stops working.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")
    allowed_fields: list[str] = strawberry.field(
        description="The partner's subgraph: Type.field or Type.* entries."
    )
    personal_data: bool = strawberry.field(description="Whether personal fields are granted.")
    points_per_hour: int = strawberry.field(description="Hourly cost budget in points.")

    @classmethod
    def from_row(cls, row: Any) -> ApiKey:
        return cls(
            id=strawberry.ID(encode_id("ApiKey", row.id)),
            pk=row.id,
            region_pks=list(row.region_ids or []),
            name=row.name,
            prefix=row.prefix,
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            allowed_fields=list(row.allowed_fields),
            personal_data=row.personal_data,
            points_per_hour=row.points_per_hour,
        )

    @strawberry.field(description="Regions whose rows the key reads (empty: the whole country).")
    async def regions(self, info: Info) -> list[Region]:
        rows = await RegionByIdLoader(info.context).load_many(self.region_pks)
        return [Region.from_row(r) for r in rows if r]


async def _api_key_row(ctx: Context, pk: int) -> Any:
    if not can_manage_keys(ctx.principal):
        return None
    return await ctx.run(lambda s: s.get(ApiKeyModel, pk))


@node_type("ApiKey")
async def fetch_api_key(ctx: Context, pk: int) -> ApiKey | None:
    row = await _api_key_row(ctx, pk)
    return ApiKey.from_row(row) if row else None


@strawberry.input(description="A new API key for a data partner.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="The partner and purpose (1-200 characters).")
    allowed_fields: list[str] = strawberry.field(
        description="The subgraph: 'Query.institutions', 'Institution.*', 'Person.sex', ..."
    )
    personal_data: bool = strawberry.field(
        default=False, description="Grant personal fields (names, PIN, birth date, addresses)."
    )
    region_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Regions whose rows it reads (empty: the country)."
    )
    points_per_hour: int = strawberry.field(default=5000, description="Hourly budget in points.")
    ttl_days: int = strawberry.field(default=365, description="Days until it expires (max 730).")


@strawberry.type(description="Result of createApiKey.")
class CreateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    key: str | None = strawberry.field(
        description="The whole key, bk_<prefix>_<secret>: shown this once, never stored."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Revoke a partner's key.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key.")


@strawberry.type(description="Result of revokeApiKey.")
class RevokeApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(description="The revoked key.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class KeyQuery:
    @strawberry.field(description="Partners' API keys, newest first (the ministry only).")
    async def api_keys(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ApiKey]:
        ctx = info.context
        args = bounds(first, after, last, before)
        if not can_manage_keys(ctx.principal):
            raise RequestError(Code.FORBIDDEN, "Only the ministry lists partners' keys")
        stmt = select(*ApiKeyModel.__table__.c)
        return await list_connection(ctx, stmt, args, API_KEY_ORDER, ApiKey.from_row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a data partner's API key (the ministry only).")
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        ctx = info.context
        require_signed_in(ctx)
        graphql_schema = info.schema._schema
        made: list[NewKey] = []

        async def create(s: Any) -> Any:
            new = await keys_service.create_api_key(
                s,
                ctx.principal,
                pepper=ctx.guard.pepper if ctx.guard else b"",
                name=input.name,
                allowed_fields=list(input.allowed_fields),
                personal_data=input.personal_data,
                region_ids=[pk_of(r, "Region", field="regionIds") for r in input.region_ids],
                points_per_hour=input.points_per_hour,
                ttl_days=input.ttl_days,
                unknown=unknown_fields(graphql_schema, input.allowed_fields),
            )
            made.append(new)
            return new.row

        result = await perform(ctx, "access.create_api_key", create)
        return CreateApiKeyPayload(
            api_key=ApiKey.from_row(result.value) if result.value else None,
            key=made[0].key if result.value and made else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Revoke a partner's key at once (the ministry only).")
    async def revoke_api_key(self, info: Info, input: RevokeApiKeyInput) -> RevokeApiKeyPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "access.revoke_api_key",
            lambda s: keys_service.revoke_api_key(
                s, ctx.principal, key_id=pk_of(input.id, "ApiKey", field="id")
            ),
        )
        return RevokeApiKeyPayload(
            api_key=ApiKey.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )


# --- the audit trail -----------------------------------------------------------------------


strawberry.enum(OutcomeEnum, name="Outcome", description="How an audited operation ended.")
Outcome: TypeAlias = OutcomeEnum


@strawberry.type(description="One row of the append-only audit trail.")
class AuditEntry(Node):
    pk: strawberry.Private[int]
    at: datetime = strawberry.field(description="When it happened.")
    request_id: str | None = strawberry.field(description="The request, as its logs name it.")
    actor: str = strawberry.field(description="Token subject or key:<prefix>.")
    role: str = strawberry.field(description="The caller's role.")
    api_key_prefix: str | None = strawberry.field(description="The partner's key, if one.")
    operation: str = strawberry.field(description="domain.operation, e.g. people.register_person")
    operation_name: str | None = strawberry.field(description="The GraphQL operation's name.")
    target_type: str | None = strawberry.field(description="Type of the changed object.")
    target_id: strawberry.ID | None = strawberry.field(description="Global ID of that object.")
    outcome: Outcome = strawberry.field(description="Succeeded, rejected or forbidden.")
    error_codes: list[str] = strawberry.field(description="Codes of the refusal, if any.")
    variables: JSON = strawberry.field(
        description="Variables, secrets and personal values redacted."
    )
    details: JSON = strawberry.field(description="Ids and codes the operation recorded.")

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        target = (
            strawberry.ID(encode_id(row.target_type, row.target_id))
            if row.target_type and row.target_id
            else None
        )
        return cls(
            id=strawberry.ID(encode_id("AuditEntry", row.id)),
            pk=row.id,
            at=row.at,
            request_id=row.request_id,
            actor=row.actor,
            role=row.role,
            api_key_prefix=row.api_key_prefix,
            operation=row.operation,
            operation_name=row.operation_name,
            target_type=row.target_type,
            target_id=target,
            outcome=row.outcome,
            error_codes=list(row.error_codes or []),
            variables=cast(JSON, row.variables or {}),
            details=cast(JSON, row.details or {}),
        )


@node_type("AuditEntry")
async def fetch_audit_entry(ctx: Context, pk: int) -> AuditEntry | None:
    if not audit_service.can_read_audit(ctx.principal):
        return None
    stmt = select(*audit_service.AUDIT_COLUMNS).where(AuditEntryModel.id == pk)
    row = (await ctx.run(lambda s: s.execute(stmt))).first()
    return AuditEntry.from_row(row) if row else None


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
    @strawberry.field(description="The audit trail, newest first (auditors only).")
    async def audit_log(
        self,
        info: Info,
        filter: AuditLogFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditEntry]:
        ctx = info.context
        args = bounds(first, after, last, before)
        if not audit_service.can_read_audit(ctx.principal):
            raise RequestError(Code.FORBIDDEN, "Only auditors read the audit trail")
        stmt = audit_service.audit_query(_audit_filter(filter))
        return await list_connection(
            ctx, stmt, args, audit_service.AUDIT_ORDERING, AuditEntry.from_row
        )


Query = merge_types("AccessQuery", (ViewerQuery, RateLimitQuery, KeyQuery, AuditQuery))

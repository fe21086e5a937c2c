"""The access domain's types: the caller (`Viewer`), its hourly budget, partners' API keys, rows
of the audit trail and security events."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, cast

import strawberry
from strawberry.scalars import JSON

from models import Outcome as OutcomeEnum
from resolvers.access import Role as RoleEnum
from resolvers.access.loaders import (
    ApiKeyByIdLoader,
    AuditEntryByIdLoader,
    SecurityEventByIdLoader,
)
from resolvers.context import Info
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.geography import District, Region
from schema.node import fetched_by, loaded

if TYPE_CHECKING:
    from schema.institutions import Institution
    from schema.people import Person

strawberry.enum(
    RoleEnum, name="Role", description="What a caller may do; officers' roles are scoped."
)
Role: TypeAlias = RoleEnum
strawberry.enum(
    OutcomeEnum,
    name="Outcome",
    description="How an audited operation ended (ERROR: a fault, or a change rolled back).",
)
Outcome: TypeAlias = OutcomeEnum

PersonT = Annotated["Person", strawberry.lazy("schema.people")]
InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]


async def regions_of(info: Info, pks: list[int]) -> list[Region]:
    rows = await RegionByIdLoader(info.context).load_many(pks)
    return [Region.from_row(r) for r in rows if r]


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

        return await loaded(PersonByIdLoader(info.context), self.person_pk, Person.from_row)

    @strawberry.field(description="Regions the caller's role covers.")
    async def regions(self, info: Info) -> list[Region]:
        return await regions_of(info, self.region_pks)

    @strawberry.field(description="Districts the caller's role covers.")
    async def districts(self, info: Info) -> list[District]:
        rows = await DistrictByIdLoader(info.context).load_many(self.district_pks)
        return [District.from_row(r) for r in rows if r]

    @strawberry.field(description="Institutions the caller's role covers.")
    async def institutions(self, info: Info) -> list[InstitutionT]:
        from schema.institutions import Institution

        rows = await InstitutionByIdLoader(info.context).load_many(self.institution_pks)
        return [Institution.from_row(r) for r in rows if r]


@strawberry.type(description="The caller's hourly budget, after this request (GitHub's model).")
class RateLimit:
    limit: int = strawberry.field(description="Points the caller may spend per hour.")
    cost: int = strawberry.field(description="Points this request cost.")
    node_count: int = strawberry.field(description="Objects this request may return at most.")
    remaining: int = strawberry.field(description="Points left in this hour's window.")
    reset_at: datetime | None = strawberry.field(description="When the window starts afresh.")


@fetched_by(ApiKeyByIdLoader)
@strawberry.type(description="A data partner's API key (the secret is never shown again).")
class ApiKey(Node):
    pk: strawberry.Private[int]
    region_pks: strawberry.Private[list[int]]
    oneroster_write_pks: strawberry.Private[list[int]]
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
            oneroster_write_pks=list(row.oneroster_write_institution_ids or []),
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
        return await regions_of(info, self.region_pks)

    @strawberry.field(
        description="Schools whose gradebook the key writes through OneRoster's gradebook"
        " service (empty: it writes nothing)."
    )
    async def oneroster_write_institutions(self, info: Info) -> list[InstitutionT]:
        from schema.institutions import Institution

        rows = await InstitutionByIdLoader(info.context).load_many(self.oneroster_write_pks)
        return [Institution.from_row(r) for r in rows if r]


@fetched_by(AuditEntryByIdLoader)
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
    outcome: Outcome = strawberry.field(
        description="Succeeded, rejected, forbidden, or error (nothing of it was kept)."
    )
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


@fetched_by(SecurityEventByIdLoader)
@strawberry.type(
    description=(
        "Refused attempts to write, or failed authentications, of one source for one reason "
        "and action within one minute (docs/security.md, 'Security events')."
    )
)
class SecurityEvent(Node):
    pk: strawberry.Private[int]
    minute: datetime = strawberry.field(description="The minute the refusals fell in.")
    first_at: datetime = strawberry.field(description="The first refusal of the row.")
    last_at: datetime = strawberry.field(description="The last refusal counted in the row.")
    source: str = strawberry.field(
        description="Who: ip:<address>, sub:<role>:<subject>, key:<prefix>, or * (past the cap)."
    )
    role: str = strawberry.field(description="The caller's role (anonymous for a refused one).")
    reason: str = strawberry.field(description="The code the caller got, e.g. UNAUTHENTICATED.")
    why: str = strawberry.field(description="More of why, from a fixed list: expired_token, ...")
    action: str = strawberry.field(
        description="What was asked: a mutation's root fields, an operation, or the request."
    )
    count: int = strawberry.field(description="How many refusals the row counts.")
    request_id: str | None = strawberry.field(description="The first refusal's request.")

    @classmethod
    def from_row(cls, row: Any) -> SecurityEvent:
        return cls(
            id=strawberry.ID(encode_id("SecurityEvent", row.id)),
            pk=row.id,
            minute=row.minute,
            first_at=row.first_at,
            last_at=row.last_at,
            source=row.source,
            role=row.role,
            reason=row.reason,
            why=row.why,
            action=row.action,
            count=row.count,
            request_id=row.request_id,
        )

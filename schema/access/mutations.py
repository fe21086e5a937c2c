"""Partners' API keys: created (the whole key shown once) and revoked by the ministry."""

from __future__ import annotations

from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import keys as keys_service
from resolvers.access.fields import unknown_fields
from resolvers.context import Context
from resolvers.mutations import MutationResult
from schema.access.types import ApiKey
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation
from schema.node import pk_of


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
    oneroster_write_institution_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Schools whose gradebook it may write through OneRoster's gradebook "
        "service (empty: none; needs Mark in the scope and personal data).",
    )


@strawberry.type(description="Result of createApiKey.")
class CreateApiKeyPayload(Payload):
    api_key: ApiKey | None = strawberry.field(description="The new key.")
    key: str | None = strawberry.field(
        description="The whole key, bk_<prefix>_<secret>: shown this once, never stored."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        new: keys_service.NewKey | None = result.value
        return cls(
            api_key=ApiKey.from_row(new.row) if new else None,
            key=new.key if new else None,
            user_errors=user_errors(result.problems),
        )


@strawberry.input(description="Revoke a partner's key.")
class RevokeApiKeyInput:
    id: strawberry.ID = strawberry.field(description="The key.")


@strawberry.type(description="Result of revokeApiKey.")
class RevokeApiKeyPayload(Payload):
    api_key: ApiKey | None = strawberry.field(description="The revoked key.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @mutation(
        "access.create_api_key",
        CreateApiKeyPayload,
        description="Create a data partner's API key (the ministry only).",
    )
    async def create_api_key(session: AsyncSession, ctx: Context, input: CreateApiKeyInput) -> Any:
        return await keys_service.create_api_key(
            session,
            ctx.principal,
            pepper=ctx.guard.pepper if ctx.guard else b"",
            name=input.name,
            allowed_fields=list(input.allowed_fields),
            personal_data=input.personal_data,
            region_ids=[pk_of(r, "Region", field="regionIds") for r in input.region_ids],
            points_per_hour=input.points_per_hour,
            ttl_days=input.ttl_days,
            unknown=unknown_fields(ctx.graphql_schema, input.allowed_fields),
            oneroster_write_institution_ids=[
                pk_of(i, "Institution", field="onerosterWriteInstitutionIds")
                for i in input.oneroster_write_institution_ids
            ],
        )

    @mutation(
        "access.revoke_api_key",
        RevokeApiKeyPayload,
        description="Revoke a partner's key at once (the ministry only).",
    )
    async def revoke_api_key(session: AsyncSession, ctx: Context, input: RevokeApiKeyInput) -> Any:
        return await keys_service.revoke_api_key(
            session, ctx.principal, key_id=pk_of(input.id, "ApiKey", field="id")
        )

"""University admission's grant pools (U4): a district's, and one school's over it (issue
14.8)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import admission as admission_service
from resolvers.context import Context
from schema.admission.types import AdmissionPool, DistrictPool
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.institutions import Institution
from schema.node import pk_of


@strawberry.input(description="Put a district's schools into a grant pool.")
class SetDistrictPoolInput:
    district_id: strawberry.ID = strawberry.field(description="The district.")
    pool: AdmissionPool = strawberry.field(description="The pool.")


@strawberry.type(description="Result of classifying a district.")
class DistrictPoolPayload(Payload):
    district_pool: DistrictPool | None = strawberry.field(description="The classification.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Put one school into a grant pool over its district's.")
class SetSchoolPoolInput:
    school_id: strawberry.ID = strawberry.field(description="The school.")
    pool: AdmissionPool | None = strawberry.field(
        description="The pool (e.g. HIGH_ALTITUDE); null: back to its district's pool."
    )


@strawberry.type(description="Result of classifying a school.")
class SchoolPoolPayload(Payload):
    school: Institution | None = strawberry.field(description="The school.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class PoolMutation:
    @mutation(
        "admission.set_school_pool",
        SchoolPoolPayload,
        description="Put one school into a grant pool, over its district's (ministry).",
    )
    async def set_school_pool(
        session: AsyncSession, ctx: Context, input: SetSchoolPoolInput
    ) -> Any:
        return await admission_service.set_school_pool(
            session,
            ctx.principal,
            school_id=pk_of(input.school_id, "Institution", field="schoolId"),
            pool=input.pool,
        )

    @mutation(
        "admission.set_district_pool",
        DistrictPoolPayload,
        description="Put a district's schools into a grant pool (ministry).",
    )
    async def set_district_pool(
        session: AsyncSession, ctx: Context, input: SetDistrictPoolInput
    ) -> Any:
        return await admission_service.set_district_pool(
            session,
            ctx.principal,
            district_id=pk_of(input.district_id, "District", field="districtId"),
            pool=input.pool,
        )

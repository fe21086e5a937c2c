"""The statistics mutations: the ministry's disclosure control rule."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import analytics as analytics_service
from resolvers.context import Context
from schema.analytics.types import DisclosurePolicy
from schema.common import UserError
from schema.fields import Payload, mutation


@strawberry.input(description="The disclosure control rule to apply from now on.")
class SetDisclosurePolicyInput:
    threshold: int = strawberry.field(
        description="Hide cells counting from 1 to threshold - 1 people (2 to 100)."
    )
    secondary_suppression: bool = strawberry.field(
        default=True,
        description="Also hide the cells that would give a hidden one away by subtraction.",
    )
    source: str = strawberry.field(
        description="The decree or handbook the rule follows (required, 10-1000 characters)."
    )


@strawberry.type(description="Result of setDisclosurePolicy.")
class DisclosurePolicyPayload(Payload):
    policy: DisclosurePolicy | None = strawberry.field(description="The rule now in force.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type
class Mutation:
    @mutation(
        "analytics.set_disclosure_policy",
        DisclosurePolicyPayload,
        description="Set the disclosure control rule for counts of people (the ministry): "
        "the threshold, secondary suppression and the source cited; audited.",
    )
    async def set_disclosure_policy(
        session: AsyncSession, ctx: Context, input: SetDisclosurePolicyInput
    ) -> Any:
        return await analytics_service.set_disclosure_rule(
            session,
            ctx.principal,
            threshold=input.threshold,
            secondary_suppression=input.secondary_suppression,
            source=input.source,
        )

"""The events domain's mutations: partners' webhook subscriptions (create, enable or
disable, delete, replay a delivery) and a person's notice preferences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import WebhookEndpoint
from resolvers.context import Context
from resolvers.errors import DomainError
from resolvers.events import EventsCode, rules
from resolvers.events import preferences as preferences_service
from resolvers.events import webhooks as webhooks_service
from resolvers.events.webhooks import clean_event_types
from resolvers.mutations import MutationResult
from resolvers.settings import Settings, get_settings
from schema.common import UserError, user_errors
from schema.events.catalogue import event_types_outside
from schema.events.types import (
    NoticeLanguage,
    NoticePreferences,
    WebhookDelivery,
    WebhookSubscription,
)
from schema.fields import Payload, mutation
from schema.node import pk_of
from schema.permissions import allowed

ManagesWebhooks = allowed(rules.manages_webhooks, "Only a partner's API key registers webhooks")
ReadsWebhooks = allowed(rules.reads_webhooks, "Only partners' keys and the ministry do this")


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str

    @property
    def audit_target(self) -> WebhookEndpoint:
        return self.endpoint


@strawberry.input(description="Register an endpoint for event types of your key's subgraph.")
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(description="An https:// URL on the public internet.")
    event_types: list[str] = strawberry.field(
        description="Event types ('preschool.place_offered') or whole domains ('licensing.*')."
    )
    description: str | None = strawberry.field(default=None, description="A note for you.")
    contact_email: str | None = strawberry.field(
        default=None, description="An e-mail address told when the endpoint is disabled."
    )


@strawberry.type(description="The new subscription and its signing secret (shown once).")
class CreateWebhookSubscriptionPayload(Payload):
    webhook_subscription: WebhookSubscription | None = strawberry.field(
        description="The subscription."
    )
    secret: str | None = strawberry.field(
        description="The Standard Webhooks signing secret (whsec_...): store it now."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        new = result.value
        return cls(
            webhook_subscription=None
            if new is None
            else WebhookSubscription.from_row(new.endpoint),
            secret=None if new is None else new.secret,
            user_errors=user_errors(result.problems),
        )


@strawberry.input(description="Name a webhook subscription.")
class WebhookSubscriptionInput:
    id: strawberry.ID = strawberry.field(description="The subscription.")


@strawberry.input(description="Turn a webhook subscription's deliveries on or off.")
class SetWebhookSubscriptionEnabledInput:
    id: strawberry.ID = strawberry.field(description="The subscription.")
    enabled: bool = strawberry.field(description="Whether it receives deliveries.")


@strawberry.type(description="Result of a webhook subscription mutation.")
class WebhookSubscriptionPayload(Payload):
    webhook_subscription: WebhookSubscription | None = strawberry.field(
        description="The subscription."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Send a delivery again.")
class ReplayWebhookDeliveryInput:
    delivery_id: strawberry.ID = strawberry.field(description="The delivery.")


@strawberry.type(description="Result of a replay.")
class WebhookDeliveryPayload(Payload):
    webhook_delivery: WebhookDelivery | None = strawberry.field(description="The delivery.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Your language and contacts for notices about your children.")
class SetNoticePreferencesInput:
    language: NoticeLanguage = strawberry.field(description="Kyrgyz or Russian.")
    email: str | None = strawberry.field(default=None, description="E-mail (preferred).")
    phone: str | None = strawberry.field(default=None, description="Phone for SMS.")


@strawberry.type(description="Result of setting notice preferences.")
class NoticePreferencesPayload(Payload):
    notice_preferences: NoticePreferences | None = strawberry.field(description="As now set.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> Self:
        row = result.value
        return cls(
            notice_preferences=None
            if row is None
            else NoticePreferences(language=row.language, email=row.email, phone=row.phone),
            user_errors=user_errors(result.problems),
        )


@strawberry.type
class Mutation:
    @mutation(
        "events.create_webhook_subscription",
        CreateWebhookSubscriptionPayload,
        description="Register an endpoint for signed deliveries of event types in your key's "
        "subgraph (a partner's API key).",
        permission_classes=[ManagesWebhooks],
    )
    async def create_webhook_subscription(
        session: AsyncSession, ctx: Context, input: CreateWebhookSubscriptionInput
    ) -> Any:
        grant = ctx.principal.grant
        assert grant is not None
        types = clean_event_types(input.event_types)
        outside = event_types_outside(grant, types)
        if outside:
            raise DomainError(
                EventsCode.EVENT_TYPE_NOT_IN_SCOPE,
                "Outside this API key's subgraph: " + ", ".join(outside),
                field="eventTypes",
            )
        settings = app_settings(ctx)
        endpoint, secret = await webhooks_service.create_endpoint(
            session,
            ctx.principal,
            url=input.url.strip(),
            event_types=types,
            description=input.description,
            contact_email=input.contact_email,
            allow_private=settings.webhook_allow_private,
            max_per_key=settings.webhook_endpoints_per_key,
        )
        return NewEndpoint(endpoint, secret)

    @mutation(
        "events.set_webhook_subscription_enabled",
        WebhookSubscriptionPayload,
        description="Disable a webhook subscription, or enable it again after it was disabled.",
        permission_classes=[ReadsWebhooks],
    )
    async def set_webhook_subscription_enabled(
        session: AsyncSession, ctx: Context, input: SetWebhookSubscriptionEnabledInput
    ) -> Any:
        return await webhooks_service.set_endpoint_enabled(
            session,
            ctx.principal,
            endpoint_id=pk_of(input.id, "WebhookSubscription", field="id"),
            enabled=input.enabled,
        )

    @mutation(
        "events.delete_webhook_subscription",
        WebhookSubscriptionPayload,
        description="Remove a webhook subscription and its deliveries.",
        permission_classes=[ReadsWebhooks],
    )
    async def delete_webhook_subscription(
        session: AsyncSession, ctx: Context, input: WebhookSubscriptionInput
    ) -> Any:
        return await webhooks_service.delete_endpoint(
            session, ctx.principal, endpoint_id=pk_of(input.id, "WebhookSubscription", field="id")
        )

    @mutation(
        "events.replay_webhook_delivery",
        WebhookDeliveryPayload,
        description="Send a delivery again now (the same webhook-id), with a fresh schedule.",
        permission_classes=[ReadsWebhooks],
    )
    async def replay_webhook_delivery(
        session: AsyncSession, ctx: Context, input: ReplayWebhookDeliveryInput
    ) -> Any:
        return await webhooks_service.replay_delivery(
            session,
            ctx.principal,
            delivery_id=pk_of(input.delivery_id, "WebhookDelivery", field="deliveryId"),
        )

    @mutation(
        "events.set_notice_preferences",
        NoticePreferencesPayload,
        description="Set your language and contacts for notices about your children.",
    )
    async def set_notice_preferences(
        session: AsyncSession, ctx: Context, input: SetNoticePreferencesInput
    ) -> Any:
        return await preferences_service.set_notice_preferences(
            session, ctx.principal, language=input.language, email=input.email, phone=input.phone
        )


def app_settings(ctx: Context) -> Settings:
    """The settings of the hub serving this request (tests run hubs with their own), else
    the process's."""
    state = getattr(getattr(ctx.request, "app", None), "state", None)
    found = getattr(state, "settings", None)
    return found if isinstance(found, Settings) else get_settings()

"""The events domain's types: partners' webhook subscriptions and their deliveries, notices
to families, the change feed, and what subscriptions push."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, TypeAlias

import strawberry

from models import DeliveryStatus as DeliveryStatusEnum
from models import EndpointStatus as EndpointStatusEnum
from models import NoticeChannel as NoticeChannelEnum
from models import NoticeLanguage as NoticeLanguageEnum
from models import WebhookDelivery as DeliveryRow
from resolvers.context import Context, Info
from resolvers.events.loaders import (
    AttemptsByDeliveryLoader,
    AttemptsByNoticeLoader,
    WebhookDeliveriesByEndpointLoader,
    WebhookDeliveryByIdLoader,
    WebhookEndpointByIdLoader,
)
from resolvers.relay import Ordering, encode_id
from schema.common import Connection, Node
from schema.fields import ChildPages, connection
from schema.node import fetched_by

strawberry.enum(EndpointStatusEnum, name="WebhookStatus", description="Whether it receives.")
WebhookStatus: TypeAlias = EndpointStatusEnum
strawberry.enum(
    DeliveryStatusEnum, name="DeliveryStatus", description="Where a delivery or notice stands."
)
DeliveryStatus: TypeAlias = DeliveryStatusEnum
strawberry.enum(NoticeChannelEnum, name="NoticeChannel", description="How a notice is sent.")
NoticeChannel: TypeAlias = NoticeChannelEnum
strawberry.enum(NoticeLanguageEnum, name="NoticeLanguage", description="Kyrgyz or Russian.")
NoticeLanguage: TypeAlias = NoticeLanguageEnum

DELIVERY_ORDER = Ordering(((DeliveryRow.id, True),))


@strawberry.enum(description="What happened to an object.")
class ChangeOperation(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@strawberry.type(description="One attempt to send a delivery or a notice.")
class DeliveryAttempt:
    at: datetime = strawberry.field(description="When.")
    ok: bool = strawberry.field(description="Whether it was taken.")
    status_code: int | None = strawberry.field(description="The receiver's HTTP status, if any.")
    error: str | None = strawberry.field(description="Why it failed.")
    duration_ms: int = strawberry.field(description="How long it took.")

    @classmethod
    def from_row(cls, row: Any) -> DeliveryAttempt:
        return cls(
            at=row.at,
            ok=row.ok,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
        )


@fetched_by(WebhookDeliveryByIdLoader)
@strawberry.type(description="One event sent to one webhook endpoint, signed.")
class WebhookDelivery(Node):
    pk: strawberry.Private[int]
    event_type: str = strawberry.field(
        description="The event's type, e.g. preschool.place_offered."
    )
    webhook_id: str = strawberry.field(description="The webhook-id header: the same on retries.")
    body: str = strawberry.field(description="The JSON body as signed and sent.")
    status: DeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts so far.")
    next_attempt_at: datetime | None = strawberry.field(description="The next try, if pending.")
    last_status_code: int | None = strawberry.field(description="The last HTTP status.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    delivered_at: datetime | None = strawberry.field(description="When it was taken.")
    created_at: datetime = strawberry.field(description="When the event was queued for it.")

    @classmethod
    def from_row(cls, row: Any) -> WebhookDelivery:
        pending = row.status == DeliveryStatusEnum.PENDING
        return cls(
            id=strawberry.ID(encode_id("WebhookDelivery", row.id)),
            pk=row.id,
            event_type=row.event_type,
            webhook_id=f"msg_{row.event_id}",
            body=row.body,
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if pending else None,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempt_log(self, info: Info) -> list[DeliveryAttempt]:
        rows = await AttemptsByDeliveryLoader(info.context).load(self.pk)
        return [DeliveryAttempt.from_row(r) for r in rows]


@fetched_by(WebhookEndpointByIdLoader)
@strawberry.type(description="A partner's endpoint receiving signed events (Standard Webhooks).")
class WebhookSubscription(Node):
    pk: strawberry.Private[int]
    url: str = strawberry.field(description="Where deliveries are posted.")
    event_types: list[str] = strawberry.field(description="Event types, e.g. preschool.*.")
    description: str | None = strawberry.field(description="The partner's note.")
    status: WebhookStatus = strawberry.field(description="Whether it receives deliveries.")
    disabled_reason: str | None = strawberry.field(description="Why it was disabled.")
    disabled_at: datetime | None = strawberry.field(description="When it was disabled.")
    contact_email: str | None = strawberry.field(
        description="Who is told when it is disabled (an e-mail address)."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_row(cls, row: Any) -> WebhookSubscription:
        return cls(
            id=strawberry.ID(encode_id("WebhookSubscription", row.id)),
            pk=row.id,
            url=row.url,
            event_types=list(row.event_types),
            description=row.description,
            status=row.status,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            contact_email=row.contact_email,
            created_at=row.created_at,
        )

    @connection(Connection[WebhookDelivery], description="Its deliveries, newest first.")
    def deliveries(self, ctx: Context, status: DeliveryStatus | None = None) -> ChildPages:
        return ChildPages(
            WebhookDeliveriesByEndpointLoader(ctx),
            self.pk,
            status,
            DELIVERY_ORDER,
            WebhookDelivery.from_row,
        )


@strawberry.type(description="A message to a family about an application, and how it went.")
class Notice:
    pk: strawberry.Private[int]
    event_type: str = strawberry.field(description="The event that caused it.")
    channel: NoticeChannel = strawberry.field(description="E-mail, SMS, or the local folder.")
    contact_address: str | None = strawberry.field(description="The e-mail or phone it went to.")
    language: NoticeLanguage = strawberry.field(description="The family's language.")
    title: str = strawberry.field(description="Subject line.")
    body: str = strawberry.field(description="The text.")
    status: DeliveryStatus = strawberry.field(description="Sent, pending or failed.")
    attempts: int = strawberry.field(description="Attempts so far.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    sent_at: datetime | None = strawberry.field(description="When it was sent.")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @classmethod
    def from_row(cls, row: Any) -> Notice:
        return cls(
            pk=row.id,
            event_type=row.event_type,
            channel=row.channel,
            contact_address=row.address,
            language=row.language,
            title=row.title,
            body=row.body,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            sent_at=row.sent_at,
            created_at=row.created_at,
        )

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempt_log(self, info: Info) -> list[DeliveryAttempt]:
        rows = await AttemptsByNoticeLoader(info.context).load(self.pk)
        return [DeliveryAttempt.from_row(r) for r in rows]


@strawberry.type(description="How you want to be told about your children's applications.")
class NoticePreferences:
    language: NoticeLanguage = strawberry.field(description="Kyrgyz or Russian.")
    email: str | None = strawberry.field(description="E-mail for notices (preferred).")
    phone: str | None = strawberry.field(description="Phone for SMS notices.")


@strawberry.type(description="One change of an object a partner may read.")
class Change:
    cursor: str = strawberry.field(description="Resume after this change.")
    operation: ChangeOperation = strawberry.field(description="Created, updated or deleted.")
    type_name: str = strawberry.field(description="The object's type in the graph.")
    object_id: strawberry.ID = strawberry.field(description="The object's global ID.")
    event_type: str = strawberry.field(description="The event, e.g. licensing.licence_issued.")
    at: datetime = strawberry.field(description="When it happened.")
    node: Node | None = strawberry.field(
        description="The object as it is now (null if it is gone)."
    )


@strawberry.type(description="A page of the change feed.")
class ChangeFeed:
    changes: list[Change] = strawberry.field(description="Changes in commit order.")
    end_cursor: str = strawberry.field(description="Pass as `since` for the next page.")
    has_more: bool = strawberry.field(description="Whether more changes wait after this page.")

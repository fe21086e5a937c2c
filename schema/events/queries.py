"""The events domain's root fields: the change feed and its cursor (partners, the ministry),
webhook subscriptions, notices to families about an application, the caller's notice
preferences."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import select

from models import Notice as NoticeRow
from models import WebhookEndpoint
from resolvers import events as events_service
from resolvers.access.errors import AccessCode
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode, RequestError
from resolvers.events import rules
from resolvers.events.changes import MAX_CHANGES, current_cursor
from resolvers.events.loaders import (
    ENDPOINT_COLUMNS,
    NoticePreferenceByPersonLoader,
    NoticesBySubjectLoader,
)
from resolvers.relay import Ordering, decode_id, encode_id
from schema.common import Connection
from schema.events.catalogue import APPLICATION_TYPES, aggregate_types, feed_types
from schema.events.exposure import readable_nodes
from schema.events.types import (
    Change,
    ChangeFeed,
    ChangeOperation,
    Notice,
    NoticePreferences,
    WebhookSubscription,
)
from schema.fields import ChildPages, Listing, connection
from schema.node import resolve_node
from schema.permissions import allowed, signed_in

ENDPOINT_ORDER = Ordering(((WebhookEndpoint.id, True),))
NOTICE_ORDER = Ordering(((NoticeRow.id, True),))
ReadsChanges = allowed(rules.reads_changes, "Only partners' keys and the ministry read changes")


def feed_types_of(ctx: Context, types: list[str] | None) -> list[str]:
    """The node types the caller asks changes of: all it may read when none are named."""
    known = feed_types()
    grant = ctx.principal.grant
    mine = [t for t in known if grant is None or grant.names_type(t)]
    if types is None:
        return mine
    bad = [t for t in types if t not in known]
    if bad:
        raise RequestError(ErrorCode.INVALID_INPUT, "No changes of these types: " + ", ".join(bad))
    outside = [t for t in types if t not in mine]
    if outside:
        raise RequestError(
            AccessCode.FIELD_NOT_IN_SCOPE, "Outside this API key's scope: " + ", ".join(outside)
        )
    return types


@strawberry.type
class Query:
    @strawberry.field(
        description="Changes of the objects you may read, in commit order, after `since` "
        "(from the oldest kept when unset): the OneRoster 'changed since' pattern. A cursor "
        "older than the retention answers CURSOR_EXPIRED: resync, then use changesCursor.",
        permission_classes=[ReadsChanges],
    )
    async def changes(
        self,
        info: Info,
        since: str | None = None,
        types: list[str] | None = None,
        first: int = 100,
    ) -> ChangeFeed:
        ctx = info.context
        if not 1 <= first <= MAX_CHANGES:
            raise RequestError(ErrorCode.INVALID_PAGINATION, f"first is 1 to {MAX_CHANGES}")
        position = None
        if since is not None:
            position = events_service.Position.decode(since)
            if position is None:
                raise RequestError(events_service.EventsCode.INVALID_CURSOR, "Not a cursor")
        wanted = aggregate_types(feed_types_of(ctx, types))
        page = await ctx.run(lambda s: events_service.changes_since(s, position, wanted, first))
        nodes = await readable_nodes(ctx, page.events)
        changes = []
        for event, (type_name, node) in zip(page.events, nodes, strict=True):
            kind = events_service.change_kind(event.topic)
            # A deleted object has no row left to hold a row rule: its deletion says only its
            # global ID, to whoever reads its type (`wanted` holds only those).
            if node is None and kind != events_service.ChangeKind.DELETED:
                continue
            changes.append(
                Change(
                    cursor=event.position.encode(),
                    operation=ChangeOperation(kind.value),
                    type_name=type_name,
                    object_id=strawberry.ID(
                        node.id if node is not None else encode_id(type_name, event.aggregate_id)
                    ),
                    event_type=event.topic,
                    at=event.at,
                    node=node,
                )
            )
        return ChangeFeed(changes=changes, end_cursor=page.end.encode(), has_more=page.has_more)

    @strawberry.field(
        description="The change feed's cursor of now: take it before a full sync, then pull "
        "`changes(since:)` with it.",
        permission_classes=[ReadsChanges],
    )
    async def changes_cursor(self, info: Info) -> str:
        position = await info.context.run(current_cursor)
        return position.encode()

    @connection(
        Connection[WebhookSubscription],
        description="Webhook subscriptions: your key's (partners), or all (the ministry).",
        permission_classes=[
            allowed(rules.reads_webhooks, "Only partners' keys and the ministry read webhooks")
        ],
    )
    def webhook_subscriptions(self, ctx: Context) -> Listing:
        stmt = select(*ENDPOINT_COLUMNS).where(rules.endpoint_readable(ctx.principal))
        return Listing(stmt, ENDPOINT_ORDER, WebhookSubscription.from_row)

    @connection(
        Connection[Notice],
        description="Notices sent to the family about an application you may read, newest "
        "first, with every delivery attempt (officers see failures here).",
        permission_classes=[
            allowed(rules.reads_notices, "Partners' keys do not read notices to families")
        ],
    )
    async def family_notices(self, ctx: Context, application_id: strawberry.ID) -> ChildPages:
        type_name, pk = decode_id(application_id)
        if type_name not in APPLICATION_TYPES or await resolve_node(ctx, application_id) is None:
            raise RequestError(ErrorCode.NOT_FOUND, "No such application you may read")
        return ChildPages(NoticesBySubjectLoader(ctx), pk, type_name, NOTICE_ORDER, Notice.from_row)

    @strawberry.field(
        description="Your language and contacts for notices (null until you set them).",
        permission_classes=[signed_in("Sign in to read your notice preferences")],
    )
    async def notice_preferences(self, info: Info) -> NoticePreferences | None:
        person = info.context.principal.person_id
        row: Any = (
            None
            if person is None
            else await NoticePreferenceByPersonLoader(info.context).load(person)
        )
        if row is None:
            return None
        return NoticePreferences(language=row.language, email=row.email, phone=row.phone)

"""The ``Subscription`` root: an application's status (kindergarten, first grade,
university, abroad) and a kindergarten queue position, pushed over graphql-transport-ws as
events commit. Each push reads the application through its own row rule with the
subscriber's principal (a guardian only their children's), in a session opened for that push
and closed after it; ``diaryUpdated`` waits for the LMS."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from resolvers.access import Principal, Role
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode, RequestError
from resolvers.events import Event
from resolvers.events.subscriptions import LiveContext
from resolvers.events.subscriptions import Subscription as Listener
from resolvers.people.rules import children_of
from resolvers.preschool.loaders import (
    KindergartenPreferencesByApplicationLoader,
    QueuePositionByPreferenceLoader,
)
from resolvers.relay import decode_id, encode_id
from schema.abroad import ForeignApplication
from schema.admission import AdmissionApplication
from schema.events.catalogue import APPLICATION_TYPES, applications_of
from schema.first_grade import FirstGradeApplication
from schema.node import NODE_RESOLVERS, resolve_node
from schema.permissions import signed_in
from schema.preschool import KindergartenApplication

Application = Annotated[
    KindergartenApplication | FirstGradeApplication | AdmissionApplication | ForeignApplication,
    strawberry.union("Application", description="An application of any intake."),
]
# A queue subscriber recomputes its positions at most this often, however many events come.
QUEUE_RECOMPUTE_SECONDS = 0.5
SYSTEM = Principal(subject="events:subscriptions", role=Role.MINISTRY)


@strawberry.type(description="An application's status changed.")
class ApplicationStatusChange:
    event_type: str = strawberry.field(description="The event, e.g. preschool.place_offered.")
    at: datetime = strawberry.field(description="When it was committed.")
    status: str = strawberry.field(description="The application's status now.")
    application: Application = strawberry.field(description="The application as it is now.")


@strawberry.type(description="A child's place in one kindergarten's queue.")
class QueueSpot:
    kindergarten_id: strawberry.ID = strawberry.field(description="The kindergarten.")
    position: int | None = strawberry.field(description="1 is next; null when not waiting.")
    ahead: int | None = strawberry.field(description="Waiting children who come first.")


@strawberry.type(description="A kindergarten application's queue positions changed.")
class QueuePositionChange:
    at: datetime = strawberry.field(description="When the change was committed.")
    event_type: str = strawberry.field(description="The last event that moved it.")
    positions: list[QueueSpot] = strawberry.field(description="One per preferred kindergarten.")
    application: KindergartenApplication = strawberry.field(description="The application now.")


class Shared:
    """What subscribers of one worker share per event: a lookup made once however many
    subscribers need it (an application's owner; a node as one kind of caller reads it)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.found: OrderedDict[Any, asyncio.Future[Any]] = OrderedDict()

    async def once(self, key: Any, work: Callable[[], Awaitable[Any]]) -> Any:
        known = self.found.get(key)
        if known is None:
            known = asyncio.get_running_loop().create_future()
            self.found[key] = known
            if len(self.found) > self.size:
                self.found.popitem(last=False)
            try:
                known.set_result(await work())
            except Exception as err:
                known.set_exception(err)
                self.found.pop(key, None)
        return await asyncio.shield(known)


SHARED = Shared()


def live(info: Info) -> LiveContext:
    ctx = info.context
    if not isinstance(ctx, LiveContext) or ctx.events is None:
        raise RequestError(ErrorCode.BAD_REQUEST, "Subscriptions run over graphql-transport-ws")
    return ctx


def rule_class(principal: Principal) -> tuple[Any, ...]:
    """Callers the row rules cannot tell apart (they read the same rows)."""
    return (
        principal.role,
        principal.person_id,
        principal.region_ids,
        principal.district_ids,
        principal.institution_ids,
        principal.grant,
    )


async def done_with_event(ctx: Context) -> None:
    """After a push: end its session, forget its loaders (the next push reads afresh)."""
    ctx.forget_loaders()
    await ctx.close(commit=False)


async def owner_of(ctx: Context, app: tuple[str, int], event: Event) -> int | None:
    """The person an application is for (the child; the applicant at university or abroad),
    read once per event for all subscribers, as the system."""

    async def read() -> int | None:
        system = Context(
            principal=SYSTEM, sessions=ctx.sessions, request_id="events-live", cursors=ctx.cursors
        )
        try:
            node = await NODE_RESOLVERS[app[0]](system, app[1])
        finally:
            await system.close(commit=False)
        if node is None:
            return None
        row = getattr(node, "row", None)
        return getattr(row, "child_id", None) if row is not None else node.person_pk

    owner: int | None = await SHARED.once(("owner", event.id, app), read)
    return owner


async def children(ctx: LiveContext) -> set[int]:
    """A guardian's children, read once per connection (and again on a new guardianship)."""
    if ctx.children is None:
        assert ctx.principal.person_id is not None
        stmt = select(children_of(ctx.principal.person_id).subquery())
        ctx.children = set(await ctx.run(lambda s: s.scalars(stmt)))
        await done_with_event(ctx)
    return ctx.children


async def readable_application(ctx: LiveContext, app: tuple[str, int], event: Event) -> Any:
    """The application as this subscriber may read it now (None: not theirs to see)."""
    principal = ctx.principal
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        # A cheap first look: is it one of the guardian's children's (or their own)?
        owner = await owner_of(ctx, app, event)
        if owner is None or owner not in (await children(ctx)) | {principal.person_id}:
            return None
    fetch = NODE_RESOLVERS[app[0]]
    return await SHARED.once(
        ("node", event.id, app, rule_class(principal)), lambda: fetch(ctx, app[1])
    )


def status_of(node: Any) -> str:
    status = getattr(node, "status", None)
    return str(getattr(status, "value", status))


async def check_readable(
    ctx: Context, application_id: strawberry.ID, types: tuple[str, ...]
) -> tuple[str, int]:
    type_name, pk = decode_id(application_id)
    if type_name not in types or await resolve_node(ctx, application_id) is None:
        raise RequestError(ErrorCode.NOT_FOUND, "No such application you may read")
    await done_with_event(ctx)
    return type_name, pk


@strawberry.type(description="What a client follows live over graphql-transport-ws (`/graphql`).")
class Subscription:
    @strawberry.subscription(
        description="An application's status changed: one application (`applicationId`), or "
        "every application you may read (a guardian: their children's; an officer: those of "
        "institutions in scope).",
        permission_classes=[signed_in("Sign in to follow applications")],
    )
    async def application_status_changed(
        self, info: Info, application_id: strawberry.ID | None = None
    ) -> AsyncGenerator[ApplicationStatusChange, None]:
        ctx = live(info)
        only = None
        if application_id is not None:
            only = await check_readable(ctx, application_id, APPLICATION_TYPES)
        person = ctx.principal.person_id

        def wants(event: Event) -> bool:
            if event.topic == "people.guardian_linked":
                return event.payload.get("guardian_id") == person
            apps = applications_of(event)
            return bool(apps) and (only is None or only in apps)

        feed = await ctx.events.feed()
        subscription = feed.subscribe(wants)
        last: dict[tuple[str, int], str] = {}
        try:
            while True:
                event = await next_event(subscription)
                if event.topic == "people.guardian_linked":
                    ctx.children = None
                    continue
                for app in applications_of(event):
                    if only is not None and app != only:
                        continue
                    node = await readable_application(ctx, app, event)
                    if node is None:
                        continue
                    status = status_of(node)
                    if last.get(app) == status:
                        continue
                    last[app] = status
                    yield ApplicationStatusChange(
                        event_type=event.topic, at=event.at, status=status, application=node
                    )
                    await done_with_event(ctx)
                await done_with_event(ctx)
        finally:
            subscription.close()

    @strawberry.subscription(
        description="A kindergarten application's queue positions changed (per preferred "
        "kindergarten, while it waits).",
        permission_classes=[signed_in("Sign in to follow the queue")],
    )
    async def queue_position_changed(
        self, info: Info, application_id: strawberry.ID
    ) -> AsyncGenerator[QueuePositionChange, None]:
        ctx = live(info)
        _, pk = await check_readable(ctx, application_id, ("KindergartenApplication",))
        kindergartens, spots = await queue_spots(ctx, pk)

        def wants(event: Event) -> bool:
            if event.domain != "preschool":
                return False
            if ("KindergartenApplication", pk) in applications_of(event):
                return True
            named = event.payload.get("kindergarten_ids") or [event.payload.get("kindergarten_id")]
            return any(k in kindergartens for k in named) or named == [None]

        feed = await ctx.events.feed()
        subscription = feed.subscribe(wants)
        try:
            while True:
                event = await next_event(subscription)
                started = time.monotonic()
                for later in subscription.drain():
                    event = later
                node = await resolve_node(ctx, application_id)
                if node is None:
                    raise RequestError(ErrorCode.NOT_FOUND, "The application is no longer yours")
                kindergartens, now = await queue_spots(ctx, pk)
                if now != spots:
                    spots = now
                    yield QueuePositionChange(
                        at=event.at,
                        event_type=event.topic,
                        positions=[QueueSpot(**s) for s in now],
                        application=node,
                    )
                await done_with_event(ctx)
                await asyncio.sleep(
                    max(0.0, QUEUE_RECOMPUTE_SECONDS - (time.monotonic() - started))
                )
        finally:
            subscription.close()


async def next_event(subscription: Listener) -> Event:
    event = await subscription.next()
    if event is None:
        raise RequestError(
            ErrorCode.RATE_LIMITED, "This subscription fell behind the events: subscribe again"
        )
    return event


async def queue_spots(ctx: Context, application_pk: int) -> tuple[set[int], list[dict[str, Any]]]:
    """The application's preferred kindergartens and its position in each queue."""
    preferences = await KindergartenPreferencesByApplicationLoader(ctx).load(application_pk)
    rows = await QueuePositionByPreferenceLoader(ctx).load_many([p.id for p in preferences])
    spots = [
        {
            "kindergarten_id": strawberry.ID(encode_id("Institution", p.kindergarten_id)),
            "position": None if row is None else row.ahead + 1,
            "ahead": None if row is None else row.ahead,
        }
        for p, row in zip(preferences, rows, strict=True)
    ]
    await done_with_event(ctx)
    return {p.kindergarten_id for p in preferences}, spots

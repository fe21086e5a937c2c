"""The ``Subscription`` root: an application's status (kindergarten, first grade,
university, abroad), a kindergarten queue position and a pupil's diary, pushed over
graphql-transport-ws as events commit. Who may see each event is the subscriber's row rule:
for guardians and applicants decided in memory from what the live feed's router read once
for every subscriber (schema/events/audience.py), for others read through the rule with the
subscriber's principal, once per event for all callers of one scope."""

from __future__ import annotations

import asyncio
import enum
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from resolvers import lms as lms_service
from resolvers import people as people_service
from resolvers.access import PERSONAL_ROLES, Principal
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode, RequestError
from resolvers.events import Event
from resolvers.events.subscriptions import LiveContext
from resolvers.events.subscriptions import Subscription as Listener
from resolvers.preschool.loaders import (
    KindergartenPreferencesByApplicationLoader,
    QueuePositionByPreferenceLoader,
)
from resolvers.relay import decode_id, encode_id
from schema.abroad import ForeignApplication
from schema.admission import AdmissionApplication
from schema.events.audience import (
    ALL_APPLICATIONS,
    DIARY_TOPICS,
    UNRESOLVED,
    Audience,
    View,
    application_key,
    kindergarten_key,
    kindergartens_named,
    pupil_key,
    pupils_named,
    reader_key,
)
from schema.events.catalogue import APPLICATION_TYPES, applications_of
from schema.first_grade import FirstGradeApplication
from schema.lms.records import Diary
from schema.node import NODE_RESOLVERS, resolve_node
from schema.permissions import signed_in
from schema.preschool import KindergartenApplication

Application = Annotated[
    KindergartenApplication | FirstGradeApplication | AdmissionApplication | ForeignApplication,
    strawberry.union("Application", description="An application of any intake."),
]
# A queue subscriber recomputes its positions at most this often, however many events come.
QUEUE_RECOMPUTE_SECONDS = 0.5


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


@strawberry.enum(description="What changed in a pupil's diary.")
class DiaryChangeKind(enum.Enum):
    MARKS = "marks"
    ATTENDANCE = "attendance"
    HOMEWORK = "homework"


DIARY_KINDS = {
    "lms.marks_recorded": DiaryChangeKind.MARKS,
    "lms.attendance_recorded": DiaryChangeKind.ATTENDANCE,
    "lms.homework_assigned": DiaryChangeKind.HOMEWORK,
    "lms.homework_reviewed": DiaryChangeKind.HOMEWORK,
}
assert set(DIARY_KINDS) == DIARY_TOPICS


@strawberry.type(description="A pupil's diary changed: a lesson's marks, attendance or homework.")
class DiaryChange:
    pupil_pk: strawberry.Private[int]
    lesson_pk: strawberry.Private[int | None]
    event_type: str = strawberry.field(description="The event, e.g. lms.marks_recorded.")
    at: datetime = strawberry.field(description="When it was committed.")
    kind: DiaryChangeKind = strawberry.field(description="What changed.")
    on_date: date | None = strawberry.field(description="The lesson's day.")

    @strawberry.field(description="The pupil.")
    def pupil_id(self) -> strawberry.ID:
        return strawberry.ID(encode_id("Person", self.pupil_pk))

    @strawberry.field(description="The lesson (a ClassLesson) the change was recorded in.")
    def lesson_id(self) -> strawberry.ID | None:
        if self.lesson_pk is None:
            return None
        return strawberry.ID(encode_id("ClassLesson", self.lesson_pk))

    @strawberry.field(
        description="The pupil's diary of that day as you may read it now (null when you "
        "may not, or the day is unknown)."
    )
    async def diary(self, info: Info) -> Diary | None:
        day = self.on_date
        if day is None:
            return None
        found = await info.context.run(
            lambda s: lms_service.diary(
                s, info.context.principal, pupil_id=self.pupil_pk, start=day, end=day
            )
        )
        return None if found is None else Diary.from_diary(found)


def diary_change(event: Event, pupil: int) -> DiaryChange:
    raw = event.payload.get("on_date")
    try:
        on = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        on = None
    lesson = event.aggregate_id if event.aggregate_type == "ClassLesson" else None
    return DiaryChange(
        pupil_pk=pupil,
        lesson_pk=lesson,
        event_type=event.topic,
        at=event.at,
        kind=DIARY_KINDS[event.topic],
        on_date=on,
    )


async def may_read_pupil(ctx: LiveContext, pupil: int, event: Event) -> bool:
    """May this subscriber read the pupil now (the person rule: the pupil, their guardians,
    whoever reads the person)? In memory for guardians and pupils, else through the rule."""
    view = view_of(ctx, ("Person", pupil))
    if view is not None:
        decided = view.readable_by(ctx.principal)
        if decided is not None:
            return decided

    async def read() -> bool:
        try:
            return await ctx.run(lambda s: people_service.can_read_person(s, ctx.principal, pupil))
        finally:
            await done_with_event(ctx)

    found: bool = await SHARED.once(("person", event.id, pupil, rule_class(ctx.principal)), read)
    return found


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


def view_of(ctx: LiveContext, key: tuple[str, int]) -> View | None:
    """What the live feed's router read of an object for the batch its event came in."""
    audience = getattr(ctx.events, "audience", None)
    return audience.view(key) if isinstance(audience, Audience) else None


async def readable_application(ctx: LiveContext, app: tuple[str, int], event: Event) -> Any:
    """The application as this subscriber may read it now (None: not theirs to see). A
    guardian or an applicant is decided in memory from what the router read once for every
    subscriber; other callers read through their row rule, once per event for all callers
    the rule cannot tell apart."""
    view = view_of(ctx, app)
    if view is not None:
        decided = view.readable_by(ctx.principal)
        if decided is not None:
            return view.node if decided else None
    fetch = NODE_RESOLVERS[app[0]]
    return await SHARED.once(
        ("node", event.id, app, rule_class(ctx.principal)), lambda: fetch(ctx, app[1])
    )


def status_keys(ctx: LiveContext, only: tuple[str, int] | None) -> set[Hashable]:
    """Where a status subscription listens: one application; else, for a guardian or an
    applicant, the applications the router finds they may read; else every application."""
    if only is not None:
        return {application_key(only)}
    principal = ctx.principal
    if principal.role in PERSONAL_ROLES and principal.person_id is not None:
        return {reader_key(principal.person_id), UNRESOLVED}
    return {ALL_APPLICATIONS}


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

        def wants(event: Event) -> bool:
            apps = applications_of(event)
            return bool(apps) and (only is None or only in apps)

        feed = await ctx.events.feed()
        subscription = feed.subscribe(wants, status_keys(ctx, only))
        last: dict[tuple[str, int], str] = {}
        try:
            while True:
                event = await next_event(subscription)
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
            named = kindergartens_named(event)
            return any(k in kindergartens for k in named) or named == [None]

        def keys() -> set[Hashable]:
            return {
                application_key(("KindergartenApplication", pk)),
                kindergarten_key(None),
                *(kindergarten_key(k) for k in kindergartens),
            }

        feed = await ctx.events.feed()
        subscription = feed.subscribe(wants, keys())
        try:
            while True:
                event = await next_event(subscription)
                started = time.monotonic()
                for later in subscription.drain():
                    event = later
                node = await resolve_node(ctx, application_id)
                if node is None:
                    raise RequestError(ErrorCode.NOT_FOUND, "The application is no longer yours")
                before = kindergartens
                kindergartens, now = await queue_spots(ctx, pk)
                if kindergartens != before:
                    subscription.rekey(keys())
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

    @strawberry.subscription(
        description="A pupil's diary changed (a lesson's marks, attendance or homework): for the "
        "pupil, their guardians, and whoever may read the pupil.",
        permission_classes=[signed_in("Sign in to follow the diary")],
    )
    async def diary_updated(
        self, info: Info, pupil_id: strawberry.ID
    ) -> AsyncGenerator[DiaryChange, None]:
        ctx = live(info)
        type_name, pk = decode_id(pupil_id)
        readable = type_name == "Person" and await ctx.run(
            lambda s: people_service.can_read_person(s, ctx.principal, pk)
        )
        await done_with_event(ctx)
        if not readable:
            raise RequestError(ErrorCode.NOT_FOUND, "No such pupil you may read")

        def wants(event: Event) -> bool:
            return pk in pupils_named(event)

        feed = await ctx.events.feed()
        subscription = feed.subscribe(wants, {pupil_key(pk)})
        try:
            while True:
                event = await next_event(subscription)
                if not await may_read_pupil(ctx, pk, event):
                    continue
                yield diary_change(event, pk)
                await done_with_event(ctx)
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

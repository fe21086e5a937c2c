"""The live feed behind GraphQL subscriptions: each hub worker tails the outbox from the
moment it starts (woken by ``LISTEN``) and hands every event to its local subscribers whose
filter takes it. Not a durable consumer: a socket that was closed missed what happened
meanwhile, as a client expects; it reads the current state when it comes back.

Routing: each subscriber registers under keys (an application, a reader, a kindergarten, a
pupil ...), and a router given by the layer above names each event's keys, once per batch
of events for all subscribers, in a few set-based statements. An event is offered only to
the subscribers under its keys (and those under ``EVERYTHING``), so the cost of an event
grows with the subscribers it concerns, not with every open socket of the worker.

Also the limits of one worker's sockets: connections per principal, held here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.context import Context
from resolvers.events.collector import LongLived
from resolvers.events.outbox import Event, Position, head, read_after
from resolvers.events.wakeup import Wakeup, wait_for

log = logging.getLogger("bilim.events")

QUEUE_SIZE = 1000
READ_BATCH = 1000
# The key every event carries: a subscriber under it is offered everything.
EVERYTHING = ("*",)

Router = Callable[[Sequence[Event]], Awaitable[Mapping[int, Collection[Hashable]]]]
"""Names the routing keys of each event of a batch (by event id)."""


class Subscription:
    """One subscriber's queue of events; ``lagging`` once it fell ``QUEUE_SIZE`` behind (its
    operation ends with an error rather than skip events silently). A subscriber waiting on
    an empty queue waits on a future of its own, and the queue is made only when an event
    comes while none waits: most sockets wait far longer than they receive, and a queue
    (three deques) was ~1.2 kB of every socket (issue 18: 2,000 sockets in 250 MB)."""

    __slots__ = ("feed", "keys", "lagging", "queue", "waiter", "wants")

    def __init__(
        self, feed: LiveFeed, wants: Callable[[Event], bool], keys: Collection[Hashable]
    ) -> None:
        self.feed = feed
        self.wants = wants
        self.keys: frozenset[Hashable] = frozenset(keys)
        self.queue: asyncio.Queue[Event | None] | None = None
        self.waiter: asyncio.Future[Event | None] | None = None
        self.lagging = False

    def _queue(self) -> asyncio.Queue[Event | None]:
        if self.queue is None:
            self.queue = asyncio.Queue(QUEUE_SIZE)
        return self.queue

    def _hand_over(self, event: Event | None) -> bool:
        """Give ``event`` to the subscriber waiting on an empty queue, if one is."""
        waiter = self.waiter
        if waiter is None or waiter.done() or (self.queue is not None and not self.queue.empty()):
            return False
        self.waiter = None
        waiter.set_result(event)
        return True

    def offer(self, event: Event) -> None:
        if self.lagging or not self.wants(event) or self._hand_over(event):
            return
        try:
            self._queue().put_nowait(event)
        except asyncio.QueueFull:
            self.lagging = True
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)

    async def next(self) -> Event | None:
        """The next event, or None when this subscriber fell behind."""
        if self.queue is not None and not self.queue.empty():
            return self.queue.get_nowait()
        waiter: asyncio.Future[Event | None] = asyncio.get_running_loop().create_future()
        self.waiter = waiter
        try:
            return await waiter
        finally:
            if self.waiter is waiter:
                self.waiter = None

    def drain(self) -> list[Event]:
        """Events already waiting (a subscriber coalesces them)."""
        found: list[Event] = []
        queue = self.queue
        while queue is not None and not queue.empty():
            each = queue.get_nowait()
            if each is None:
                self.lagging = True
                break
            found.append(each)
        return found

    def end(self) -> None:
        """Wake the subscriber with no event (the worker is stopping)."""
        if self._hand_over(None):
            return
        with contextlib.suppress(asyncio.QueueFull):
            self._queue().put_nowait(None)

    def rekey(self, keys: Collection[Hashable]) -> None:
        """Follow other keys from now on (e.g. the kindergartens an application names)."""
        self.feed._unindex(self)
        self.keys = frozenset(keys)
        self.feed._index(self)

    def close(self) -> None:
        if self in self.feed.subscribers:
            self.feed.subscribers.discard(self)
            if self.feed.long_lived is not None:
                self.feed.long_lived.closed()
        self.feed._unindex(self)


class LiveFeed:
    """Tails the outbox for this worker's subscribers."""

    def __init__(
        self,
        engine: AsyncEngine,
        wakeup: Wakeup | None,
        poll_seconds: float,
        *,
        long_lived: LongLived | None = None,
    ) -> None:
        self.engine = engine
        # Keeps the subscribers' long-lived objects out of full collections (collector.py).
        self.long_lived = long_lived
        self._freezer: asyncio.Task[None] | None = None
        self.wakeup = wakeup
        self.poll_seconds = poll_seconds
        self.subscribers: set[Subscription] = set()
        self.by_key: dict[Hashable, set[Subscription]] = {}
        self.router: Router | None = None
        self.position: Position | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Start tailing from now (once; later calls wait until it runs)."""
        if self._task is None:
            self._task = asyncio.create_task(self._tail(), name="events-live-feed")
            if self.long_lived is not None:
                self._freezer = asyncio.create_task(self.long_lived.run(), name="events-freezer")
        await self._ready.wait()

    def subscribe(
        self, wants: Callable[[Event], bool], keys: Collection[Hashable] = (EVERYTHING,)
    ) -> Subscription:
        """A subscriber offered the events under ``keys`` that ``wants`` takes."""
        each = Subscription(self, wants, keys)
        self.subscribers.add(each)
        if self.long_lived is not None:
            self.long_lived.opened()
        self._index(each)
        return each

    def _index(self, each: Subscription) -> None:
        for key in each.keys:
            self.by_key.setdefault(key, set()).add(each)

    def _unindex(self, each: Subscription) -> None:
        for key in each.keys:
            found = self.by_key.get(key)
            if found is not None:
                found.discard(each)
                if not found:
                    del self.by_key[key]

    async def _tail(self) -> None:
        waiter = self.wakeup.waiter() if self.wakeup else asyncio.Event()
        async with self.engine.connect() as conn:
            self.position = await head(conn)
        self._ready.set()
        try:
            while True:
                try:
                    read = await self._read()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("events.live_feed_failed")
                    read = 0
                    await asyncio.sleep(self.poll_seconds)
                if read < READ_BATCH:
                    await wait_for(waiter, self.poll_seconds)
        finally:
            if self.wakeup:
                self.wakeup.forget(waiter)

    async def _read(self) -> int:
        assert self.position is not None
        async with self.engine.connect() as conn:
            events = await read_after(conn, self.position, READ_BATCH)
        if events and self.subscribers:
            keys = await self._route(events)
            for event in events:
                for each in self._audience(keys.get(event.id, ())):
                    each.offer(event)
        if events:
            self.position = events[-1].position
        return len(events)

    async def _route(self, events: Sequence[Event]) -> Mapping[int, Collection[Hashable]]:
        if self.router is None:
            # Nothing names the keys: every subscriber is offered every event.
            return {e.id: list(self.by_key) for e in events}
        try:
            return await self.router(events)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A router that fails must not lose events: offer the batch to every subscriber
            # (each filter and row rule still decides), slower but complete.
            log.exception("events.live_route_failed")
            return {e.id: list(self.by_key) for e in events}

    def _audience(self, keys: Collection[Hashable]) -> set[Subscription]:
        found: set[Subscription] = set(self.by_key.get(EVERYTHING, ()))
        for key in keys:
            under = self.by_key.get(key)
            if under:
                found |= under
        return found

    async def stop(self) -> None:
        for task in (self._task, self._freezer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._task = self._freezer = None
        for each in list(self.subscribers):
            each.end()


class ConnectionLimits:
    """Open sockets per principal on this worker."""

    def __init__(self, per_principal: int) -> None:
        self.per_principal = per_principal
        self.open: Counter[str] = Counter()

    def admit(self, subject: str) -> bool:
        if self.open[subject] >= self.per_principal:
            return False
        self.open[subject] += 1
        return True

    def leave(self, subject: str) -> None:
        self.open[subject] -= 1
        if self.open[subject] <= 0:
            del self.open[subject]


@dataclass
class LiveContext(Context):
    """The context of one graphql-transport-ws connection (each operation on it runs with a
    copy holding its own session and loaders): the connection's parameters, the worker's
    events runtime, and when the caller's token expires."""

    connection_params: dict[str, Any] | None = None
    events: Any = None
    expires_at: float | None = None
    # Counted in the worker's connection limits (released when the socket closes).
    admitted: bool = False
    # The credential of connection_init, to check a partner's key again later.
    credential: Any = None

    def for_operation(self) -> LiveContext:
        return replace(self, _session=None, loader_cache={}, db_lock=asyncio.Lock())

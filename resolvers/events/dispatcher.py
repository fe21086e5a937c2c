"""The dispatcher: reads the outbox in transaction order and hands each event to every
durable consumer at least once, recording each consumer's progress apart.

One loop per consumer: take the consumer's lease (skipped if another worker holds it), read
the settled events after its position, deliver them, acknowledge the last one. A crash
between delivery and acknowledgement offers the batch again (at least once, never lost);
acknowledged events are never offered again. Woken by ``LISTEN`` (:mod:`.wakeup`), polling
when nothing wakes it.

A round costs two statements while the worker holds the lease: the read and the
acknowledgement (which extends the lease); the lease is taken again, in the read's statement,
only when less than half of it is known to be left. What the worker knows of its lease is
counted from before the statement that last extended it was sent, so the database's lease
ends later than the worker believes; were it lost all the same (the database's clock stepped
forward), another worker may offer the same events once more, and this worker's
acknowledgement fails: at least once still, and never a position moved back.

An idle hub writes nothing: after a round that found nothing, the next round first asks, with
a read, whether anything is there, and takes the lease (an UPDATE) only when it is; a round a
wake-up starts skips that read and first waits ``gather_seconds``, so that a burst of writes
is served by a few rounds rather than one round per event; while events keep coming (the
consumer's last round delivered some), that round begins no sooner than
``busy_gather_seconds`` after the last one began. While the
``LISTEN`` connection is up, new events wake the loop at once, so its safety poll backs off
from ``poll_seconds`` to ``idle_poll_seconds``; without it (PgBouncer, a lost connection) it
polls every ``poll_seconds``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.events import consumers as progress
from resolvers.events.consumers import Consumer
from resolvers.events.direct import Direct
from resolvers.events.outbox import Position
from resolvers.events.wakeup import Wakeup, wait_for

log = logging.getLogger("bilim.events")

MAX_PAUSE_SECONDS = 60.0


def worker_name() -> str:
    """This process among the hub's workers (host, pid and a random tail)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class DispatchSettings:
    batch: int = 500
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    # The longest pause between two looks while LISTEN is up and nothing happens.
    idle_poll_seconds: float = 30.0
    # After a wake-up, how long to let further events gather before the round: under a burst
    # of writes, one round (a read and an acknowledgement) then serves every event committed
    # meanwhile instead of one each.
    gather_seconds: float = 0.0
    # While events keep coming (the consumer's last round delivered some), a round a wake-up
    # starts begins no sooner than this after that round began: under a steady stream of
    # writes a consumer's rounds (and the notices' sender's) come a few a second, each
    # serving every event committed meanwhile, rather than one per gather. An event after a
    # quiet spell waits ``gather_seconds`` only.
    busy_gather_seconds: float = 0.0


class Dispatcher:
    """Serves every consumer it is given, sharing the work with the other dispatchers that
    run against the same database."""

    def __init__(
        self,
        engine: AsyncEngine,
        consumers: Sequence[Consumer],
        wakeup: Wakeup | None,
        settings: DispatchSettings | None = None,
        *,
        worker: str | None = None,
    ) -> None:
        self.engine = engine
        self.consumers = list(consumers)
        self.wakeup = wakeup
        self.settings = settings or DispatchSettings()
        self.worker = worker or worker_name()
        self.direct = Direct(engine)
        # Each consumer whose lease this worker took: its position, and until when (this
        # process's monotonic clock) the lease is known to be held.
        self._held: dict[str, tuple[Position, float]] = {}
        # When each consumer's last round that delivered events began (monotonic clock).
        self._delivering: dict[str, float] = {}
        self.delivered = 0
        self.last_delivery: float | None = None

    async def run(self) -> None:
        """Serve until cancelled; give the leases back on the way out."""
        async with self.engine.begin() as conn:
            await progress.ensure_consumers(conn, [c.name for c in self.consumers])
        try:
            await asyncio.gather(*(self._serve(c) for c in self.consumers))
        finally:
            with contextlib.suppress(Exception):
                async with self.engine.begin() as conn:
                    await progress.release(conn, [c.name for c in self.consumers], self.worker)

    async def _serve(self, consumer: Consumer) -> None:
        waiter = self.wakeup.waiter() if self.wakeup else asyncio.Event()
        pause = self.settings.poll_seconds
        idle = False
        try:
            while True:
                try:
                    busy = await self._round(consumer, peek=idle, waiter=waiter)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    idle = False
                    await self._failed(consumer, err)
                    continue
                idle = not busy
                if busy:
                    pause = self.settings.poll_seconds
                    continue
                woken = await wait_for(waiter, pause)
                pause = self._next_pause(pause, woken)
                if woken:
                    # A wake-up is an event committed: the next round takes the lease without
                    # first asking whether there is anything, after letting others gather.
                    idle = False
                    gather = self._gather(consumer.name)
                    if gather > 0:
                        await asyncio.sleep(gather)
        finally:
            if self.wakeup:
                self.wakeup.forget(waiter)

    def _next_pause(self, pause: float, woken: bool) -> float:
        """The safety poll after an idle look: doubled while LISTEN is up and nothing woke the
        loop, else ``poll_seconds``."""
        s = self.settings
        listening = self.wakeup is not None and self.wakeup.connected.is_set()
        if woken or not listening:
            return s.poll_seconds
        return min(max(pause, s.poll_seconds) * 2, max(s.idle_poll_seconds, s.poll_seconds))

    def _gather(self, name: str) -> float:
        """How long a round a wake-up starts waits for further events: ``gather_seconds``,
        or, while events keep coming, until ``busy_gather_seconds`` after the consumer's last
        round that delivered some began."""
        s = self.settings
        gather = s.gather_seconds
        last = self._delivering.get(name)
        if s.busy_gather_seconds and last is not None:
            gather = max(gather, last + s.busy_gather_seconds - time.monotonic())
        return gather

    def _holding(self, name: str) -> Position | None:
        """The consumer's position when this worker holds its lease with at least half of it
        left, else None."""
        held = self._held.get(name)
        if held is None or time.monotonic() > held[1] - self.settings.lease_seconds / 2:
            return None
        return held[0]

    async def _round(
        self, consumer: Consumer, *, peek: bool = False, waiter: asyncio.Event | None = None
    ) -> bool:
        """One batch for one consumer; False when there was nothing to do. With ``peek``
        (the last round found nothing), a read decides first whether there is anything."""
        s = self.settings
        name = consumer.name
        started = time.monotonic()
        # Wake-ups until now are commits this round's read sees: the next one is a new commit.
        if waiter is not None:
            waiter.clear()
        position = self._holding(name)
        if position is not None:
            events = await progress.read(self.direct, position, s.batch)
        else:
            if peek and not await progress.has_work(self.direct, name):
                return False
            sent = time.monotonic()
            leased = await progress.lease_and_read(
                self.direct, name, self.worker, s.lease_seconds, s.batch
            )
            if leased is None:
                self._held.pop(name, None)
                return False  # another worker serves it
            position, events = leased
            self._held[name] = (position, sent + s.lease_seconds)
        if not events:
            self._delivering.pop(name, None)
            return False
        self._delivering[name] = started
        async with self._keep_lease(name):
            await consumer.deliver(events)
        last: Position = events[-1].position
        sent = time.monotonic()
        kept = await progress.acknowledge(
            self.direct, name, self.worker, last, len(events), s.lease_seconds
        )
        if not kept:
            self._held.pop(name, None)
            log.warning("events.lease_lost", extra={"consumer": name})
            return False
        self._held[name] = (last, sent + s.lease_seconds)
        self.delivered += len(events)
        self.last_delivery = time.monotonic()
        return len(events) == s.batch

    @contextlib.asynccontextmanager
    async def _keep_lease(self, name: str) -> AsyncIterator[None]:
        """Renew the lease while a slow batch is delivered, so no other worker takes it (from
        a third of the lease on: a batch delivered sooner starts no task)."""
        every = self.settings.lease_seconds / 3
        renewing: list[asyncio.Task[None]] = []

        async def renew() -> None:
            while True:
                sent = time.monotonic()
                async with self.engine.begin() as conn:
                    kept = await progress.renew_lease(
                        conn, name, self.worker, self.settings.lease_seconds
                    )
                held = self._held.get(name)
                if kept and held is not None:
                    self._held[name] = (held[0], sent + self.settings.lease_seconds)
                await asyncio.sleep(every)

        timer = asyncio.get_running_loop().call_later(
            every, lambda: renewing.append(asyncio.create_task(renew()))
        )
        try:
            yield
        finally:
            timer.cancel()
            for task in renewing:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _failed(self, consumer: Consumer, err: Exception) -> None:
        log.exception("events.delivery_failed", extra={"consumer": consumer.name})
        failures = 1
        with contextlib.suppress(Exception):
            async with self.engine.begin() as conn:
                failures = await progress.record_failure(
                    conn, consumer.name, self.worker, f"{type(err).__name__}: {err}"
                )
        await asyncio.sleep(min(MAX_PAUSE_SECONDS, 2 ** min(failures, 6)))

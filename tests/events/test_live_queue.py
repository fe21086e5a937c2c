"""A subscriber's events in one worker (issue 18): handed straight to a subscriber that
waits, queued in order when it is busy, and never skipped silently (one that falls
``QUEUE_SIZE`` behind is told so); the queue exists only once events wait in it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from resolvers.events.outbox import Event
from resolvers.events.subscriptions import QUEUE_SIZE, LiveFeed


def event(n: int) -> Event:
    return Event(n, n, datetime.now(UTC), "preschool.status", "KindergartenApplication", n, {})


def feed() -> LiveFeed:
    return LiveFeed(cast(Any, None), None, poll_seconds=1.0)


class TestSubscriberQueue:
    async def test_a_waiting_subscriber_gets_the_event_without_a_queue(self) -> None:
        subscription = feed().subscribe(lambda e: True, {"k"})
        waiting = asyncio.create_task(subscription.next())
        await asyncio.sleep(0)
        subscription.offer(event(1))
        assert (await waiting).id == 1  # type: ignore[union-attr]
        assert subscription.queue is None

    async def test_events_offered_while_it_is_busy_come_in_order(self) -> None:
        subscription = feed().subscribe(lambda e: e.id != 2, {"k"})
        for n in (1, 2, 3, 4):
            subscription.offer(event(n))
        got = [await subscription.next() for _ in range(3)]
        assert [e.id for e in got if e is not None] == [1, 3, 4]

    async def test_a_subscriber_that_falls_behind_is_told_rather_than_skipped(self) -> None:
        subscription = feed().subscribe(lambda e: True, {"k"})
        for n in range(QUEUE_SIZE + 1):
            subscription.offer(event(n))
        assert subscription.lagging
        assert await subscription.next() is None

    async def test_the_end_wakes_a_waiting_subscriber(self) -> None:
        subscription = feed().subscribe(lambda e: True, {"k"})
        waiting = asyncio.create_task(subscription.next())
        await asyncio.sleep(0)
        subscription.end()
        assert await asyncio.wait_for(waiting, 5) is None

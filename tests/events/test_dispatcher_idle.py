"""An idle dispatcher writes nothing (issue 21): after a round that found nothing it asks with
a read whether there is anything before it takes its lease, and while LISTEN is up its safety
poll backs off; new events are still delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.events import Dispatcher, DispatchSettings, Event
from resolvers.events.wakeup import Wakeup
from tests.events.conftest import eventually
from tests.events.test_dispatcher import add_events


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[int] = []
        self.rounds = 0

    async def deliver(self, events: Sequence[Event]) -> None:
        self.seen.extend(e.id for e in events)
        self.rounds += 1


async def _row_version(engine: AsyncEngine, name: str) -> str:
    """The consumer row's xmin: it changes with every UPDATE of the row."""
    async with engine.connect() as conn:
        value = await conn.execute(
            text("SELECT xmin::text FROM event_consumer WHERE name = :name"), {"name": name}
        )
        return str(value.scalar_one())


class TestIdleDispatcher:
    async def test_an_idle_dispatcher_does_not_write_its_consumer_row(
        self, engine: AsyncEngine
    ) -> None:
        # given a dispatcher polling every 20 ms with nothing to deliver
        recorder = Recorder("idle")
        settings = DispatchSettings(batch=50, lease_seconds=5.0, poll_seconds=0.02)
        task = asyncio.create_task(Dispatcher(engine, [recorder], None, settings).run())
        await asyncio.sleep(0.3)
        before = await _row_version(engine, "idle")
        # when it goes on polling for a while
        await asyncio.sleep(0.4)
        # then its row was not updated once in some twenty rounds
        assert await _row_version(engine, "idle") == before
        # and an event that commits is still delivered
        ids = await add_events(engine, 3)

        async def delivered() -> bool:
            return recorder.seen == ids

        await eventually(delivered)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class TestBackOff:
    def _dispatcher(self, engine: AsyncEngine, *, listening: bool) -> Dispatcher:
        wakeup = Wakeup(None)
        if listening:
            wakeup.connected.set()
        settings = DispatchSettings(poll_seconds=1.0, idle_poll_seconds=8.0)
        return Dispatcher(engine, [], wakeup, settings)

    def test_the_safety_poll_doubles_up_to_its_limit_while_listen_is_up(
        self, engine: AsyncEngine
    ) -> None:
        dispatcher = self._dispatcher(engine, listening=True)
        pauses = [1.0]
        for _ in range(5):
            pauses.append(dispatcher._next_pause(pauses[-1], woken=False))
        assert pauses == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]

    def test_a_wake_up_brings_the_poll_back_to_its_base(self, engine: AsyncEngine) -> None:
        dispatcher = self._dispatcher(engine, listening=True)
        assert dispatcher._next_pause(8.0, woken=True) == 1.0

    def test_without_listen_it_polls_at_its_base(self, engine: AsyncEngine) -> None:
        dispatcher = self._dispatcher(engine, listening=False)
        assert dispatcher._next_pause(4.0, woken=False) == 1.0


class TestGather:
    async def test_events_committed_close_together_are_delivered_in_one_round(
        self, engine: AsyncEngine
    ) -> None:
        # given a dispatcher woken by each commit (LISTEN's part played by wake()), letting
        # events gather 300 ms after a wake-up, and its safety poll far away
        recorder = Recorder("burst")
        wakeup = Wakeup(None)
        wakeup.connected.set()
        settings = DispatchSettings(poll_seconds=30.0, idle_poll_seconds=30.0, gather_seconds=0.3)
        task = asyncio.create_task(Dispatcher(engine, [recorder], wakeup, settings).run())
        await asyncio.sleep(0.3)  # its first round found nothing; it waits
        # when five writes commit one after another, each waking it
        ids: list[int] = []
        for _ in range(5):
            ids += await add_events(engine, 1)
            wakeup.wake()

        # then all five are delivered, in one round (one lease, read and acknowledgement)
        async def delivered() -> bool:
            return recorder.seen == ids

        await eventually(delivered)
        assert recorder.rounds == 1
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def test_without_gathering_a_wake_up_is_served_at_once(self, engine: AsyncEngine) -> None:
        # given a dispatcher that does not gather, waiting with its safety poll far away
        recorder = Recorder("prompt")
        wakeup = Wakeup(None)
        wakeup.connected.set()
        settings = DispatchSettings(poll_seconds=30.0, idle_poll_seconds=30.0)
        task = asyncio.create_task(Dispatcher(engine, [recorder], wakeup, settings).run())
        await asyncio.sleep(0.3)
        # when one write commits and wakes it
        ids = await add_events(engine, 1)
        wakeup.wake()

        # then it is delivered by the round the wake-up started (not by the poll, 30 s away)
        async def delivered() -> bool:
            return recorder.seen == ids

        await eventually(delivered, within=5.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


class Timed(Recorder):
    """A recorder that notes when each round delivered (the loop's clock)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.at: list[float] = []

    async def deliver(self, events: Sequence[Event]) -> None:
        await super().deliver(events)
        self.at.append(asyncio.get_running_loop().time())


class TestBusyGather:
    async def test_a_steady_stream_of_commits_is_served_by_few_rounds(
        self, engine: AsyncEngine
    ) -> None:
        # given a dispatcher gathering 10 ms after a wake-up, and rounds at most every 0.4 s
        # while events keep coming
        recorder = Timed("stream")
        wakeup = Wakeup(None)
        wakeup.connected.set()
        settings = DispatchSettings(
            poll_seconds=30.0, idle_poll_seconds=30.0, gather_seconds=0.01, busy_gather_seconds=0.4
        )
        task = asyncio.create_task(Dispatcher(engine, [recorder], wakeup, settings).run())
        await asyncio.sleep(0.3)
        # when ten writes commit 40 ms apart, each waking it (one every gather and more)
        ids: list[int] = []
        loop = asyncio.get_running_loop()
        began = loop.time()
        for _ in range(10):
            ids += await add_events(engine, 1)
            wakeup.wake()
            await asyncio.sleep(0.04)
        # (about 0.4 s; longer on a loaded machine, which then allows a round more per 0.4 s)
        span = loop.time() - began

        # then all are delivered, in order, by a few rounds (the first alone, the rest
        # gathered), not one round each
        async def delivered() -> bool:
            return recorder.seen == ids

        await eventually(delivered)
        assert 2 <= recorder.rounds <= 2 + int(span / 0.4)
        # and the rounds after the first began 0.4 s apart at the least
        gaps = [b - a for a, b in zip(recorder.at, recorder.at[1:], strict=False)]
        assert all(gap >= 0.35 for gap in gaps)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def test_an_event_after_a_quiet_spell_waits_only_the_short_gather(
        self, engine: AsyncEngine
    ) -> None:
        # given a dispatcher that gathers 10 ms after a wake-up and 1 s while events keep coming
        recorder = Timed("quiet")
        wakeup = Wakeup(None)
        wakeup.connected.set()
        settings = DispatchSettings(
            poll_seconds=30.0, idle_poll_seconds=30.0, gather_seconds=0.01, busy_gather_seconds=1.0
        )
        task = asyncio.create_task(Dispatcher(engine, [recorder], wakeup, settings).run())
        await asyncio.sleep(0.3)
        loop = asyncio.get_running_loop()

        async def commit_and_wait(count: int) -> float:
            """Commit one event, wake the dispatcher; seconds until it was delivered."""
            await add_events(engine, 1)
            woke = loop.time()
            wakeup.wake()

            async def delivered() -> bool:
                return len(recorder.seen) == count

            await eventually(delivered, every=0.01)
            return recorder.at[-1] - woke

        # when one event commits on an idle hub, then another right after it was delivered
        first = await commit_and_wait(1)
        await commit_and_wait(2)
        # then the first left at once (the short gather), the second with the stream's pace:
        # its round began 1 s after the first's (the first's read alone may come between)
        assert first < 0.5
        assert recorder.at[1] - recorder.at[0] > 0.8
        # and when the hub has been quiet since, the next one leaves at once again
        await asyncio.sleep(1.2)
        assert await commit_and_wait(3) < 0.5
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

"""The outbox read in transaction order and the dispatcher's guarantees: nothing skipped when
transactions commit out of order, each consumer's own progress, several dispatchers without
double delivery, and a kill -9 mid-delivery that loses nothing and repeats nothing it had
acknowledged (issue 18)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import EventConsumer, OutboxEvent
from resolvers.events import Dispatcher, DispatchSettings, Event, head, read_after
from resolvers.events.consumers import ensure_consumers
from tests.events.conftest import eventually

ROOT = Path(__file__).resolve().parents[2]


async def add_events(engine: AsyncEngine, n: int, topic: str = "tests.happened") -> list[int]:
    async with engine.begin() as conn:
        rows = await conn.execute(
            insert(OutboxEvent).returning(OutboxEvent.id),
            [
                {"topic": topic, "aggregate_type": "Test", "aggregate_id": i, "payload": {}}
                for i in range(n)
            ],
        )
        return [r.id for r in rows]


class Recorder:
    def __init__(self, name: str, delay: float = 0.0) -> None:
        self.name = name
        self.delay = delay
        self.seen: list[int] = []

    async def deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            self.seen.append(event.id)
            if self.delay:
                await asyncio.sleep(self.delay)


def fast() -> DispatchSettings:
    return DispatchSettings(batch=50, lease_seconds=5.0, poll_seconds=0.05)


class TestTransactionOrder:
    async def test_an_event_whose_transaction_commits_late_is_not_skipped(
        self, engine: AsyncEngine
    ) -> None:
        # given a reader at the head, and a transaction that wrote an event but is still open
        async with engine.connect() as conn:
            start = await head(conn)
        slow = await engine.connect()
        tx = await slow.begin()
        await slow.execute(
            insert(OutboxEvent).values(
                topic="tests.slow", aggregate_type="Test", aggregate_id=1, payload={}
            )
        )
        # when a later transaction commits its own event
        await add_events(engine, 1, "tests.fast")
        async with engine.connect() as conn:
            while_open = await read_after(conn, start, 10)
        await tx.commit()
        await slow.close()
        async with engine.connect() as conn:
            after_commit = await read_after(conn, start, 10)
        # then nothing is read while the older transaction runs, and both after, oldest first
        assert while_open == []
        assert [e.topic for e in after_commit] == ["tests.slow", "tests.fast"]


class TestDispatcher:
    async def test_each_consumer_keeps_its_own_progress(self, engine: AsyncEngine) -> None:
        # given a fast and a slow consumer
        fast_one, slow_one = Recorder("fast"), Recorder("slow", delay=0.05)
        dispatcher = Dispatcher(engine, [fast_one, slow_one], None, fast())
        task = asyncio.create_task(dispatcher.run())
        await asyncio.sleep(0.3)
        # when 60 events commit
        ids = await add_events(engine, 60)
        # then the fast one has them all while the slow one is still on its way
        await eventually(lambda: _async(len(fast_one.seen) == 60))
        assert len(slow_one.seen) < 60
        await eventually(lambda: _delivered(engine, {"fast": 60, "slow": 60}))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert fast_one.seen == ids
        assert slow_one.seen == ids

    async def test_two_dispatchers_deliver_each_event_once_to_a_consumer(
        self, engine: AsyncEngine
    ) -> None:
        # given two dispatchers (two workers) serving the same consumer
        first, second = Recorder("shared", delay=0.002), Recorder("shared", delay=0.002)
        tasks = [
            asyncio.create_task(Dispatcher(engine, [r], None, fast()).run())
            for r in (first, second)
        ]
        await asyncio.sleep(0.3)
        # when 300 events commit in several transactions
        ids = []
        for _ in range(6):
            ids += await add_events(engine, 50)
        # then every event was delivered once, by one worker or the other
        await eventually(lambda: _async(len(first.seen) + len(second.seen) >= 300))
        await asyncio.sleep(0.3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sorted(first.seen + second.seen) == sorted(ids)

    async def test_a_new_consumer_starts_from_now(self, engine: AsyncEngine) -> None:
        # given events written before the consumer exists
        await add_events(engine, 5)
        recorder = Recorder("late")
        # when it starts and one more event commits
        task = asyncio.create_task(Dispatcher(engine, [recorder], None, fast()).run())
        await asyncio.sleep(0.3)
        new = await add_events(engine, 1)
        await eventually(lambda: _async(recorder.seen))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # then it got only the new one
        assert recorder.seen == new


class TestCrash:
    async def test_a_killed_dispatcher_loses_nothing_and_repeats_nothing_acknowledged(
        self, engine: AsyncEngine, db_url: str, tmp_path: Path
    ) -> None:
        # given 200 events waiting for the journal consumer
        async with engine.begin() as conn:
            await ensure_consumers(conn, ["journal"])
        ids = []
        for _ in range(4):
            ids += await add_events(engine, 50)
        journal = tmp_path / "journal.txt"
        journal.touch()
        # when its dispatcher process is killed (SIGKILL) in the middle of a batch
        first = _start(db_url, journal)
        await eventually(lambda: _async(len(journal.read_text().split()) >= 70), within=60)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        acknowledged = await _acknowledged(engine)
        # and a new one runs to the end
        second = _start(db_url, journal)
        try:
            await eventually(lambda: _done(engine, ids[-1]), within=90)
        finally:
            second.kill()
            second.wait()
        # then every event reached the journal, and none acknowledged before the kill twice
        seen = Counter(int(line) for line in journal.read_text().split())
        assert set(ids) <= set(seen)
        assert acknowledged, "the kill came before any acknowledgement"
        before_kill = [i for i in ids if i <= acknowledged]
        assert all(seen[i] == 1 for i in before_kill)
        repeated = [i for i in ids if seen[i] > 1]
        assert len(repeated) <= 20  # at most the batch in flight when it died


def _start(url: str, journal: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.events.journal_dispatcher", url, str(journal), "0.02"],
        cwd=ROOT,
    )


async def _acknowledged(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT after_id FROM event_consumer WHERE name = 'journal'")
        )
    return int(value or 0)


async def _done(engine: AsyncEngine, last: int) -> bool:
    return await _acknowledged(engine) >= last


async def _delivered(engine: AsyncEngine, expected: dict[str, int]) -> bool:
    async with engine.connect() as conn:
        done = dict((await conn.execute(select(EventConsumer.name, EventConsumer.delivered))).all())
    return done == expected


async def _async(value: object) -> object:
    return value

"""Budget leases: each worker takes points from the shared hourly row in chunks and spends them
in memory; the limit holds across workers, exactly, and the row costs few statements."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from graphql import DocumentNode, parse
from sqlalchemy import select, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

from models import CostBudget, database
from resolvers.access import Principal, Role
from resolvers.cost import Ledger, lease_size
from resolvers.errors import ErrorCode, RequestError
from resolvers.faults import is_unavailable
from resolvers.safety import CostReport, Guard
from resolvers.settings import Settings
from schema import schema

REGIONS = "{ regions(first: 9) { nodes { code } } }"  # one point
ANALYST = Principal(subject="ministry:analyst-1", role=Role.MINISTRY)
SUBJECT = "sub:ministry:ministry:analyst-1"

WorkerMaker = Callable[..., AbstractAsyncContextManager[Guard]]


@pytest.fixture
def worker(settings: Settings) -> WorkerMaker:
    """A worker's safety machinery (its own bookkeeping pool) over the test's database."""

    @asynccontextmanager
    async def make(**overrides: object) -> AsyncIterator[Guard]:
        assert settings.database_url
        bookkeeping = database.create_engine(
            settings.database_url, pool_size=2, pgbouncer=settings.pgbouncer
        )
        try:
            yield Guard(settings.model_copy(update=overrides), bookkeeping, b"pepper")
        finally:
            await bookkeeping.dispose()

    return make


async def ask(
    guard: Guard, principal: Principal = ANALYST, document: DocumentNode | None = None
) -> tuple[bool, CostReport]:
    """Run the guard's pre-execution checks for one request: was it admitted, at what cost."""
    ctx = SimpleNamespace(
        principal=principal,
        request=None,
        response=None,
        cost=None,
        personal_read=frozenset(),
        persist=None,
    )
    try:
        await guard.admit(ctx, schema._schema, document or parse(REGIONS), None, None, REGIONS)
    except RequestError as err:
        if err.code != ErrorCode.RATE_LIMITED:
            raise
        return False, ctx.cost
    return True, ctx.cost


async def rows(engine: AsyncEngine, subject: str = SUBJECT) -> list[int]:
    """The shared row's points of each window, oldest first."""
    async with engine.connect() as conn:
        found = await conn.execute(
            select(CostBudget.used)
            .where(CostBudget.subject == subject)
            .order_by(CostBudget.window_start)
        )
        return [int(used) for used in found.scalars()]


class FakeClock:
    """A monotonic clock the test moves forward."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def to_previous_hour(engine: AsyncEngine) -> None:
    """What the row looks like once the hour has turned: its window is the previous one."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE cost_budget SET window_start = window_start - interval '1 hour'")
        )


class TestLeasesAcrossWorkers:
    async def test_two_workers_spending_at_once_grant_exactly_the_limit(
        self, worker: WorkerMaker, engine: AsyncEngine
    ) -> None:
        # given two workers and a budget of 1,000 one-point requests (leases of 20)
        async with worker(points_per_hour=1000) as one, worker(points_per_hour=1000) as two:
            # when each receives 1,000 requests of the same caller, all at once
            outcomes = await asyncio.gather(*[ask(one if i % 2 else two) for i in range(2000)])

        # then exactly the budget ran, both workers took part, and the row is at the limit
        granted = [i for i, (ok, _) in enumerate(outcomes) if ok]
        assert len(granted) == 1000
        assert {i % 2 for i in granted} == {0, 1}
        assert await rows(engine) == [1000]
        refused = [report for ok, report in outcomes if not ok]
        assert {report.remaining for report in refused} == {0}
        assert all(report.reset_at is not None for report in refused)

    async def test_requests_of_any_size_never_pass_the_limit(self, engine: AsyncEngine) -> None:
        # given three workers' ledgers and a budget of 500
        ledgers = [Ledger(engine) for _ in range(3)]
        sizes = random.Random(7).choices(range(1, 60), k=300)

        # when requests of 1 to 59 points race across them
        charges = await asyncio.gather(
            *[
                ledgers[i % 3].charge(subject="key:bk_test", points=points, limit=500)
                for i, points in enumerate(sizes)
            ]
        )

        # then what was granted fits, and the row never passed the limit; unspent are at most
        # each worker's lease and what the largest request could not take
        spent = sum(p for p, c in zip(sizes, charges, strict=True) if c.granted)
        assert 500 - 3 * (lease_size(500) - 1) - 58 <= spent <= 500
        assert (await rows(engine, "key:bk_test"))[0] <= 500


class TestLeaseSize:
    async def test_a_request_larger_than_the_lease_leases_what_it_needs(
        self, engine: AsyncEngine
    ) -> None:
        # given a budget of 5,000 (leases of 100)
        ledger = Ledger(engine)
        assert lease_size(5000) == 100

        # when a request of 250 points comes, then one of 1
        large = await ledger.charge(subject=SUBJECT, points=250, limit=5000)
        assert await rows(engine) == [250]
        small = await ledger.charge(subject=SUBJECT, points=1, limit=5000)

        # then the first leased exactly 250, the second a lease of 100
        assert (large.granted, large.remaining) == (True, 4750)
        assert (small.granted, small.remaining) == (True, 4749)
        assert await rows(engine) == [350]

    async def test_the_last_points_go_to_whichever_worker_asks(self, engine: AsyncEngine) -> None:
        # given a budget of 30 (leases of 20) and a worker that leased 20 for one point
        one, two = Ledger(engine), Ledger(engine)
        await one.charge(subject=SUBJECT, points=1, limit=30)

        # when another worker's caller asks for 5, then 5, then 1
        first = await two.charge(subject=SUBJECT, points=5, limit=30)
        second = await two.charge(subject=SUBJECT, points=5, limit=30)
        third = await two.charge(subject=SUBJECT, points=1, limit=30)

        # then it leased exactly what each needed, and refused once the row was spent
        assert (first.granted, second.granted, third.granted) == (True, True, False)
        assert (second.remaining, third.remaining) == (0, 0)
        assert await rows(engine) == [30]
        # while the first worker still spends its lease
        for _ in range(19):
            assert (await one.charge(subject=SUBJECT, points=1, limit=30)).granted
        assert not (await one.charge(subject=SUBJECT, points=1, limit=30)).granted

    async def test_subjects_are_kept_up_to_a_bound(self, engine: AsyncEngine) -> None:
        # given a worker that keeps the leases of two callers
        ledger = Ledger(engine, max_subjects=2)

        # when three callers spend
        for subject in ("a", "b", "c"):
            await ledger.charge(subject=subject, points=1, limit=5000)

        # then the first caller's lease was dropped: its next request takes a new one
        assert len(ledger._leases) == 2
        await ledger.charge(subject="a", points=1, limit=5000)
        assert await rows(engine, "a") == [200]


class TestWindows:
    async def test_a_new_window_drops_the_old_lease(self, engine: AsyncEngine) -> None:
        # given a lease of 100 taken for one point
        clock = FakeClock()
        ledger = Ledger(engine, clock=clock)
        await ledger.charge(subject=SUBJECT, points=1, limit=5000)

        # when the hour turns
        await to_previous_hour(engine)
        clock.now += 3600
        charged = await ledger.charge(subject=SUBJECT, points=1, limit=5000)

        # then the request leased from the new window's row; the old lease's 99 are not spent
        assert await rows(engine) == [100, 100]
        assert (charged.granted, charged.remaining) == (True, 4999)

    async def test_within_its_window_the_lease_is_spent_without_the_database(
        self, engine: AsyncEngine
    ) -> None:
        # given a lease of 100 and a worker's clock that has not reached the window's end
        clock = FakeClock()
        ledger = Ledger(engine, clock=clock)
        await ledger.charge(subject=SUBJECT, points=1, limit=5000)
        clock.now = ledger._leases[SUBJECT].expires - 1

        # when another request comes
        await ledger.charge(subject=SUBJECT, points=1, limit=5000)

        # then it spent the lease (no new row, no new lease)
        assert await rows(engine) == [100]

    async def test_a_lease_taken_in_a_new_window_does_not_count_the_old_one(
        self, engine: AsyncEngine
    ) -> None:
        # given 19 points left of a lease of 20, and the hour turned in the database while this
        # worker's clock is a little behind
        ledger = Ledger(engine)
        await ledger.charge(subject=SUBJECT, points=1, limit=40)
        await to_previous_hour(engine)
        lease = ledger._leases[SUBJECT]
        assert lease.window is not None
        lease.window -= timedelta(hours=1)

        # when a request of 25 points needs a new lease
        charged = await ledger.charge(subject=SUBJECT, points=25, limit=40)

        # then the new window's lease covers all 25 (the old 19 were of the old window)
        assert charged.granted
        assert await rows(engine) == [20, 25]
        assert charged.remaining == 15


class TestStatements:
    async def test_small_requests_cost_far_fewer_statements_than_requests(
        self, worker: WorkerMaker
    ) -> None:
        # given a worker whose bookkeeping statements are counted, and a budget of 5,000
        async with worker(points_per_hour=5000) as guard:
            counter = database.StatementCounter()
            counter.attach(guard.engine)

            # when one caller sends 200 one-point requests
            for _ in range(200):
                ok, report = await ask(guard)
                assert ok

        # then two leases of 100 ran, one statement each (outside a transaction: one round trip)
        assert counter.count == 2
        assert report.remaining == 4800

    async def test_refusals_once_the_budget_is_spent_cost_no_statements(
        self, worker: WorkerMaker
    ) -> None:
        # given a worker that spent a budget of 20
        async with worker(points_per_hour=20) as guard:
            for _ in range(20):
                assert (await ask(guard))[0]
            counter = database.StatementCounter()
            counter.attach(guard.engine)

            # when five more requests come
            outcomes = [await ask(guard) for _ in range(5)]

        # then they are refused with the budget's state, without asking the database
        assert [ok for ok, _ in outcomes] == [False] * 5
        assert {(r.remaining, r.limit) for _, r in outcomes} == {(0, 20)}
        assert all(r.reset_at is not None for _, r in outcomes)
        assert counter.count == 0


class TestLeaseConnection:
    async def test_a_connection_the_server_ended_is_not_handed_out_again(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        # given a worker's ledger on a bookkeeping pool of one connection, which leased once
        # (a lease is sent straight through asyncpg: models.database.fetch_row)
        assert settings.database_url
        bookkeeping = database.create_engine(
            settings.database_url, pool_size=1, max_overflow=0, application_name="ledger-test"
        )
        try:
            ledger = Ledger(bookkeeping)
            assert (await ledger.charge(subject="first", points=1, limit=5000)).granted
            # when the server ends that connection
            async with engine.begin() as conn:
                ended = await conn.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE application_name = 'ledger-test'"
                    )
                )
            assert ended == 1
            # then the next lease fails as the database being away (answered 503), and the one
            # after it leases on a new connection
            with pytest.raises(DisconnectionError) as failed:
                await ledger.charge(subject="second", points=1, limit=5000)
            assert is_unavailable(failed.value), repr(failed.value)
            assert (await ledger.charge(subject="third", points=1, limit=5000)).granted
        finally:
            await bookkeeping.dispose()

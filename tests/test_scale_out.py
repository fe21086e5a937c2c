"""Scaling out: a read replica for query operations, and engines fit for PgBouncer's
transaction pooling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app import create_app
from models import CostBudget, Person, database
from resolvers.access import KeyRing
from resolvers.settings import Settings
from tests.conftest import Hub

REGISTER = """mutation { registerPerson(input: {pin: "21705201600123", firstName: "Азамат",
  lastName: "Асанов", birthDate: "2016-05-17", sex: MALE}) { person { id } userErrors { code } } }"""
COUNT = "{ persons(first: 1) { totalCount } }"
REGIONS = "{ regions(first: 2) { nodes { code } } }"


@pytest.fixture
async def replica_url(server_url: str, template_url: str) -> AsyncIterator[str]:
    """A second database standing for the replica: migrated like the primary, without its
    data (so a test sees which one answered)."""
    name = f"bilim_replica_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    yield database.plain_url(make_url(server_url).set(database=name))
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@asynccontextmanager
async def running(settings: Settings, **overrides: Any) -> AsyncIterator[tuple[Hub, Any]]:
    """The hub with some settings changed, and its app state (engines)."""
    changed = settings.model_copy(update=overrides)
    app = create_app(changed)
    async with app.router.lifespan_context(app):
        counter = database.StatementCounter()
        counter.attach(app.state.engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield (
                Hub(
                    client=client, settings=changed, keyring=KeyRing.load(changed), counter=counter
                ),
                app.state,
            )


async def persons_in(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(Person))).scalar_one())


class TestReadReplica:
    async def test_queries_read_from_the_replica_and_mutations_write_to_the_primary(
        self, settings: Settings, replica_url: str, engine: AsyncEngine
    ) -> None:
        async with running(settings, read_database_url=replica_url) as (hub, state):
            ministry = hub.token("ministry")
            on_replica = database.StatementCounter()
            on_replica.attach(state.read_engine)

            # when a person is registered, then the persons are counted
            created = await hub.data(REGISTER, token=ministry)
            assert created["registerPerson"]["userErrors"] == []
            primary_statements = hub.counter.count
            counted = await hub.data(COUNT, token=ministry)

        # then the mutation ran on the primary, the query on the replica (which does not
        # have the new person: nothing replicates between these two test databases)
        assert primary_statements > 0
        assert hub.counter.count == primary_statements
        assert on_replica.count > 0
        assert counted["persons"]["totalCount"] == 0
        assert await persons_in(engine) == 1

    async def test_the_replica_is_only_read(self, settings: Settings) -> None:
        async with (
            running(settings, read_database_url=settings.database_url) as (_, state),
            database.session_factory(state.read_engine)() as session,
        ):
            read_only = (await session.execute(text("SHOW transaction_read_only"))).scalar()
        assert read_only == "on"

    async def test_budgets_stay_on_the_primary(
        self, settings: Settings, replica_url: str, engine: AsyncEngine
    ) -> None:
        # when a query runs with a replica configured
        async with running(settings, read_database_url=replica_url) as (hub, _):
            await hub.data(REGIONS)

        # then its points were charged on the primary
        async with engine.connect() as conn:
            rows = (await conn.execute(select(func.count()).select_from(CostBudget))).scalar()
        assert rows == 1

    async def test_without_a_replica_queries_use_the_primary(self, hub: Hub) -> None:
        # when
        hub.counter.reset()
        await hub.data(REGIONS)

        # then
        assert hub.counter.count == 1

    async def test_readyz_checks_the_replica(self, settings: Settings, replica_url: str) -> None:
        async with running(settings, read_database_url=replica_url) as (hub, _):
            response = await hub.client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["replica"] == "ok"

    async def test_readyz_is_unavailable_when_the_replica_is_unreachable(
        self, settings: Settings
    ) -> None:
        assert settings.database_url
        missing = make_url(settings.database_url).set(database="bilim_no_such_replica")
        async with running(
            settings, read_database_url=missing.render_as_string(hide_password=False)
        ) as (hub, _):
            response = await hub.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["replica"] == "unreachable"

    def test_the_replica_url_is_read_from_the_environment(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("READ_DATABASE_URL", "postgresql://replica/bilim")
        assert Settings().read_database_url == "postgresql://replica/bilim"
        monkeypatch.setenv("BILIM_READ_DATABASE_URL", "postgresql://other/bilim")
        assert Settings().read_database_url == "postgresql://other/bilim"


class TestPgBouncerSettings:
    async def test_an_engine_for_pgbouncer_runs_the_same_statement_twice(self, db_url: str) -> None:
        # given an engine made for PgBouncer's transaction pooling
        engine = database.create_engine(db_url, pgbouncer=True, statement_timeout_ms=5_000)
        names = "SELECT name FROM pg_prepared_statements"
        try:
            # when the same statement runs twice on one connection, in two transactions
            async with engine.connect() as conn:
                first = (await conn.execute(text(names))).scalars().all()
                await conn.commit()
                second = (await conn.execute(text(names))).scalars().all()
        finally:
            await engine.dispose()

        # then each ran as its own uniquely named statement, neither kept for the next
        assert len(first) == len(second) == 1
        assert first[0] != second[0]
        assert first[0].startswith("__asyncpg_")

    async def test_the_statement_timeout_holds_without_a_startup_parameter(
        self, db_url: str
    ) -> None:
        # given an engine for PgBouncer (which refuses statement_timeout at connection start)
        engine = database.create_engine(db_url, pgbouncer=True, statement_timeout_ms=300)
        try:
            async with engine.connect() as conn:
                # then the server has no timeout, and the client cancels a long statement
                assert (await conn.execute(text("SHOW statement_timeout"))).scalar() == "0"
                with pytest.raises(TimeoutError):
                    await conn.execute(text("SELECT pg_sleep(5)"))
        finally:
            await engine.dispose()

    async def test_the_hub_serves_queries_and_mutations_behind_pgbouncer_settings(
        self, settings: Settings
    ) -> None:
        async with running(settings, pgbouncer=True) as (hub, _):
            ministry = hub.token("ministry")
            created = await hub.data(REGISTER, token=ministry)
            assert created["registerPerson"]["userErrors"] == []
            for _ in range(2):
                assert (await hub.data(COUNT, token=ministry))["persons"]["totalCount"] == 1

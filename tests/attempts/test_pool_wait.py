"""A request waits for a pooled connection up to ``BILIM_POOL_TIMEOUT_SECONDS`` (a burst
queues on the pool rather than failing: issue 15's 1,000 teachers marking at once), and one
that waited longer is answered 503 with ``Retry-After`` and ``SERVICE_UNAVAILABLE``, never
200 "Unexpected error"; nothing of its change is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from app import create_app
from resolvers.access import KeyRing, Role, issue_token
from resolvers.faults import RETRY_AFTER_SECONDS
from resolvers.settings import Settings

REGISTER = """
mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code } }
}
"""


def child(pin: str) -> dict[str, Any]:
    return {
        "pin": pin,
        "firstName": "Айбек",
        "lastName": "Сыдыков",
        "birthDate": date(2016, 5, 17).isoformat(),
        "sex": "MALE",
    }


@asynccontextmanager
async def one_connection_hub(
    settings: Settings, wait: float
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine, str]]:
    """A hub whose request pool holds one connection and waits ``wait`` seconds for it."""
    settings = settings.model_copy(
        update={"pool_size": 1, "pool_max_overflow": 0, "pool_timeout_seconds": wait}
    )
    app = create_app(settings)
    token = issue_token(KeyRing.load(settings), settings, role=Role.MINISTRY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield client, app.state.engine, token


async def register(client: httpx.AsyncClient, token: str, pin: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"input": child(pin)}},
        headers={"Authorization": f"Bearer {token}"},
    )


async def people(db_url: str, pin: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM person WHERE pin = $1", pin))
    finally:
        await conn.close()


async def test_the_pool_timeout_reaches_every_request_pool(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"pool_timeout_seconds": 42.0}))
    async with app.router.lifespan_context(app):
        assert app.state.engine.pool.timeout() == 42.0
        assert app.state.bookkeeping_engine.pool.timeout() == 42.0
        assert app.state.compiled_pool.pool_timeout == 42.0


async def test_a_request_waits_for_a_busy_pool_within_its_timeout(
    settings: Settings, db_url: str
) -> None:
    async with one_connection_hub(settings, wait=30) as (client, engine, token):
        # given the pool's only connection checked out by someone else
        held = await engine.connect()
        await held.exec_driver_sql("SELECT 1")

        # when a mutation arrives, and the connection comes free a moment later
        sent = asyncio.create_task(register(client, token, "21705201600131"))
        await asyncio.sleep(0.5)
        assert not sent.done()
        await held.close()
        response = await sent

        # then it waited and succeeded
        assert response.status_code == 200, response.text
        assert response.json()["data"]["registerPerson"]["userErrors"] == []
    assert await people(db_url, "21705201600131") == 1


async def test_a_request_that_waits_past_the_pool_timeout_is_answered_503(
    settings: Settings, db_url: str
) -> None:
    async with one_connection_hub(settings, wait=0.3) as (client, engine, token):
        # given the pool's only connection held past the pool's timeout
        held = await engine.connect()
        await held.exec_driver_sql("SELECT 1")
        try:
            # when a mutation arrives
            response = await register(client, token, "21705201600132")
        finally:
            await held.close()

        # then it is told to come back, not that something unexpected happened
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        codes = [e["extensions"]["code"] for e in response.json()["errors"]]
        assert codes == ["SERVICE_UNAVAILABLE"], response.text

        # and once the pool has a connection again, the same request succeeds
        again = await register(client, token, "21705201600132")
        assert again.status_code == 200, again.text
    assert await people(db_url, "21705201600132") == 1


REGIONS = "{ regions(first: 3) { nodes { id code } } }"


async def test_a_compiled_read_that_waits_past_the_pool_timeout_is_answered_503(
    settings: Settings,
) -> None:
    # The compiled path's own pool (models/database.py DirectPool) waits as long as the
    # engines' pools do, and no longer: it once waited without bound.
    settings = settings.model_copy(
        update={"pool_size": 1, "pool_max_overflow": 0, "pool_timeout_seconds": 0.3}
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            assert (await client.post("/graphql", json={"query": REGIONS})).status_code == 200
            # given the compiled pool's only connection busy for longer than the wait
            busy = asyncio.create_task(
                app.state.compiled_pool.fetch_bytes("SELECT pg_sleep(1.5)::text::bytea", ())
            )
            await asyncio.sleep(0.2)
            # when a public read the compiled path answers arrives
            response = await client.post("/graphql", json={"query": REGIONS})
            # then it is told to come back (the request pool was free: it was the compiled one)
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
            codes = [e["extensions"]["code"] for e in response.json()["errors"]]
            assert codes == ["SERVICE_UNAVAILABLE"], response.text
            # and once the connection is back, the same read is answered
            await busy
            again = await client.post("/graphql", json={"query": REGIONS})
            assert again.status_code == 200, again.text
            assert again.json()["data"]["regions"]["nodes"], again.text


async def test_the_compiled_paths_long_statements_stay_prepared(settings: Settings) -> None:
    # A compiled page's statement is often longer than asyncpg prepares by default (15 KiB):
    # sent unnamed, PostgreSQL planned it anew on every request (2.2 ms of a licensing
    # officer's list, issue 21). The compiled path's connections keep them prepared.
    if settings.pgbouncer:
        return  # behind PgBouncer nothing is prepared by name (docs/operating.md)
    settings = settings.model_copy(update={"pool_size": 1, "pool_max_overflow": 0})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        pool = app.state.compiled_pool
        # given a statement of 20 KiB
        padding = "/* " + "x" * 20_000 + " */"
        sql = f"SELECT convert_to('long ' || $1::text, 'UTF8') {padding}"
        # when it is run three times
        for n in range(3):
            assert await pool.fetch_bytes(sql, (str(n),)) == f"long {n}".encode()
        # then its one connection holds it prepared, planned for each run
        async with pool._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT generic_plans + custom_plans AS plans FROM pg_prepared_statements"
                " WHERE statement LIKE 'SELECT convert_to(''long ''%'"
            )
        assert row is not None
        assert row["plans"] == 3

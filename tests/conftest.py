"""Test fixtures: a real PostgreSQL (embedded unless DATABASE_URL is set), a template database
built by the migrations, and a fresh copy of it for every test."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app import create_app
from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings

TEMPLATE = "bilim_test_template"


# The test server's data lives as long as the run: it needs no durability, and with it every
# commit, every database copied for a test and every database dropped after it waits for the
# disk (a drop forces a checkpoint): 0.6 s to create and 4-7 s to drop a test's database on
# the shared machine, 0.3 s and 0.1 s without. Set on the embedded server only, never on
# DATABASE_URL's.
TEST_SERVER_SETTINGS = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}


@pytest.fixture(scope="session")
async def server_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """URL of a PostgreSQL server's maintenance database."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield database.plain_url(make_url(configured).set(database="postgres"))
        return
    pg = database.EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    pg.start()
    url = pg.url("postgres")
    conn = await asyncpg.connect(url)
    try:
        for name, value in TEST_SERVER_SETTINGS.items():
            await conn.execute(f"ALTER SYSTEM SET {name} = {value}")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    yield url
    pg.stop()


def _with_database(server: str, name: str) -> str:
    return database.plain_url(make_url(server).set(database=name))


@pytest.fixture(scope="session")
async def template_url(server_url: str, worker_id: str) -> str:
    """A database built by `alembic upgrade head`, copied for each test."""
    name = f"{TEMPLATE}_{worker_id}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _with_database(server_url, name)
    await asyncio.to_thread(database.migrate, url)
    return url


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "main"))


@pytest.fixture(scope="session")
async def copy_strategy(server_url: str) -> str:
    """How test databases are copied: file by file when the server skips fsync (about half
    the CPU of writing the copy to the WAL, PostgreSQL's default), else the default."""
    conn = await asyncpg.connect(server_url)
    try:
        fsync = await conn.fetchval("SHOW fsync")
    finally:
        await conn.close()
    return "FILE_COPY" if fsync == "off" else "WAL_LOG"


@pytest.fixture
async def db_url(server_url: str, template_url: str, copy_strategy: str) -> AsyncIterator[str]:
    """A fresh database for one test, copied from the migrated template."""
    name = f"bilim_test_{uuid.uuid4().hex[:12]}"
    template = make_url(template_url).database
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(
            f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY {copy_strategy}'
        )
    finally:
        await conn.close()
    yield _with_database(server_url, name)
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The hub's settings for one test. ``BILIM_TEST_READ_REPLICA=1`` runs every query operation
    on a read-only engine (the test's database standing for its replica), and
    ``BILIM_TEST_PGBOUNCER=1`` uses the engines made for PgBouncer."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        environment="test",
        read_database_url=db_url if os.environ.get("BILIM_TEST_READ_REPLICA") == "1" else None,
        pgbouncer=os.environ.get("BILIM_TEST_PGBOUNCER") == "1",
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine for arranging data and checking results directly in the database."""
    assert settings.database_url
    eng = database.create_engine(settings.database_url, pool_size=4, pgbouncer=settings.pgbouncer)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for factories; tests commit what they arrange so the hub can see it."""
    async with database.session_factory(engine)() as s:
        yield s


@dataclass
class Hub:
    """The running hub, reached over HTTP (in process), with a statement counter."""

    client: httpx.AsyncClient
    settings: Settings
    keyring: KeyRing
    counter: database.StatementCounter
    app: Any = None

    def forget_kept_answers(self) -> None:
        """Empty the hub's kept answers (schema/http/kept.py): the next keepable request runs
        its operation, as the first after a write does."""
        self.app.state.kept_answers.clear()

    def token(
        self,
        role: Role | str,
        *,
        scopes: list[str] | None = None,
        person_id: int | None = None,
        **kwargs: Any,
    ) -> str:
        return issue_token(
            self.keyring,
            self.settings,
            role=Role(role),
            scopes=scopes,
            person_id=person_id,
            **kwargs,
        )

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=all_headers)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation; return the whole response body (data and errors)."""
        response = await self.post(query, variables, token=token)
        assert response.status_code in (200, 401), response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation that must succeed; return its data."""
        body = await self.gql(query, variables, token=token)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    async with running_hub(settings) as running:
        yield running


@pytest.fixture
async def resolver_hub(settings: Settings) -> AsyncIterator[Hub]:
    """The hub without the compiled path: every query runs through the resolvers (for tests
    that pin the resolvers' own statements)."""
    async with running_hub(settings.model_copy(update={"compiled_queries": False})) as running:
        yield running


@asynccontextmanager
async def running_hub(settings: Settings) -> AsyncIterator[Hub]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        counter = database.StatementCounter()
        counter.attach_all(app.state.engine, app.state.read_engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            yield Hub(
                client=client,
                settings=settings,
                keyring=KeyRing.load(settings),
                counter=counter,
                app=app,
            )


@pytest.fixture
def ministry(hub: Hub) -> str:
    """A ministry token."""
    return hub.token(Role.MINISTRY)


def pytest_configure(config: pytest.Config) -> None:
    """Keep this run's temporary folders (the embedded PostgreSQL's data among them) in a
    folder of its own: pytest's shared ``pytest-of-<user>`` keeps only the last three runs'
    folders, so a fourth run on the same machine would delete this one's database under it."""
    if config.option.basetemp or hasattr(config, "workerinput"):
        return  # given by the caller, or a worker of a run that chose it
    config.option.basetemp = tempfile.mkdtemp(prefix="bilim-tests-")
    config.stash[_OWN_BASETEMP] = config.option.basetemp


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


_OWN_BASETEMP = pytest.StashKey[str]()

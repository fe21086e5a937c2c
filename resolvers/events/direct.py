"""The events machinery's own statements, sent straight through asyncpg on a pooled connection
of the events engine: the dispatcher's lease, read and acknowledgement, the consumers' inserts,
the senders' claims and records.

SQLAlchemy's connection, transaction and result objects cost ~0.4 ms of CPU a statement in the
hub, asyncpg ~0.14 ms with the pool's checkout (issue 21: the dispatcher was half of a
mutation's CPU, each event taking a dozen such statements). Each statement here is one
round trip, outside a transaction (PostgreSQL runs it in its own); several that must commit
together go in one statement (CTEs) or in :meth:`Direct.transaction`. Statements are written
with ``$n`` parameters and arrays for the rows (``unnest``), so each has one text whatever the
number of rows, prepared once per connection. ``before_cursor_execute`` listeners of the
engine still see every statement (statement counts, telemetry), as
``models.database.fetch_bytes`` does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn


class Statements:
    """One connection's statements (see :class:`Direct`), inside a transaction or not."""

    def __init__(self, direct: Direct, driver: Any) -> None:
        self._direct = direct
        self._driver = driver

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self._direct.seen(sql, args)
        rows: list[Any] = await self._driver.fetch(sql, *args)
        return rows

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; the number of rows it changed."""
        self._direct.seen(sql, args)
        status: str = await self._driver.execute(sql, *args)
        tail = status.rpartition(" ")[2]
        return int(tail) if tail.isdigit() else 0


class Direct:
    """Single statements on the events engine's pool, through the driver."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def seen(self, sql: str, args: tuple[Any, ...]) -> None:
        dispatch = self.engine.sync_engine.dispatch.before_cursor_execute
        if dispatch:
            dispatch(None, None, sql, args, None, False)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Statements]:
        """A pooled connection for statements of their own (each its own transaction). A
        connection that broke (the server went away) or whose statement was cancelled midway
        is dropped from the pool, not handed out again: SQLAlchemy, which would notice it on
        its own statements, never sees these."""
        raw = await self.engine.raw_connection()
        driver: Any = raw.driver_connection
        broken = False
        try:
            yield Statements(self, driver)
        except BaseException as err:
            broken = isinstance(err, asyncio.CancelledError) or driver.is_closed()
            raise
        finally:
            if broken:
                await greenlet_spawn(raw.invalidate)
            await greenlet_spawn(raw.close)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Statements]:
        """A pooled connection in a transaction, committed when the block ends without an
        error, else rolled back."""
        async with self.connection() as statements, statements._driver.transaction():
            yield statements

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.connection() as conn:
            return await conn.fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        async with self.connection() as conn:
            return await conn.execute(sql, *args)

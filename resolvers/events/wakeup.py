"""Waking readers when events commit: one ``LISTEN bilim_outbox`` connection per process,
shared by everything in it that reads the outbox (the dispatcher, the live feed of
subscriptions). Readers also poll, so a lost connection (or PgBouncer in transaction mode,
which cannot carry LISTEN) delays events by one poll, never loses them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from models import database

log = logging.getLogger("bilim.events")

CHANNEL = "bilim_outbox"
RECONNECT_SECONDS = 5.0


class Wakeup:
    """Sets every registered :class:`asyncio.Event` when the outbox gets new events."""

    def __init__(self, url: str | None) -> None:
        self.url = database.plain_url(url) if url else None
        self.waiters: set[asyncio.Event] = set()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    def waiter(self) -> asyncio.Event:
        """A new event set on every wake-up (the caller clears it before it reads)."""
        each = asyncio.Event()
        self.waiters.add(each)
        return each

    def forget(self, waiter: asyncio.Event) -> None:
        self.waiters.discard(waiter)

    def wake(self, *_: Any) -> None:
        for each in self.waiters:
            each.set()

    def start(self) -> None:
        if self.url is not None and self._task is None:
            self._task = asyncio.create_task(self._listen(), name="events-wakeup")

    async def _listen(self) -> None:
        while True:
            try:
                self._conn = await asyncpg.connect(
                    self.url, server_settings={"application_name": "bilim-hub-listen"}
                )
                lost = asyncio.Event()
                self._conn.add_termination_listener(lambda *_, lost=lost: lost.set())
                await self._conn.add_listener(CHANNEL, self.wake)
                self.connected.set()
                # Whatever committed while this connection was away is read now.
                self.wake()
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the database is away: poll until it is back
                log.warning("events.listen_failed", extra={"error": type(err).__name__})
            finally:
                self.connected.clear()
                # Readers that rested on this connection go back to polling now.
                self.wake()
                await self._close_connection()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._close_connection()


async def wait_for(waiter: asyncio.Event, seconds: float) -> bool:
    """Sleep until ``waiter`` is set or ``seconds`` pass, then clear it; True when it was set.
    (A timeout on the waiting task itself: ``asyncio.wait_for`` made a task per wait, one per
    dispatcher round.)"""
    if not waiter.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await waiter.wait()
    woken = waiter.is_set()
    waiter.clear()
    return woken

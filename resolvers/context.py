"""The per-request context: the caller, one database session (one transaction) and the
request's DataLoaders. A query operation's session may come from the read replica."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import Info as StrawberryInfo

from resolvers.access import Principal
from resolvers.errors import RequestError
from resolvers.relay import CursorKeys

T = TypeVar("T")


@dataclass
class Context:
    """What every resolver can reach through ``info.context``."""

    principal: Principal
    sessions: async_sessionmaker[AsyncSession]
    request_id: str
    # Seal and open the request's cursors (the hub's keys: resolvers.access.KeyRing.cursors).
    cursors: CursorKeys
    request: Any = None
    response: Any = None
    # Sessions on the read replica (``BILIM_READ_DATABASE_URL``), for query operations only.
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    _session: AsyncSession | None = field(default=None, repr=False)
    # DataLoaders dispatch their batches as separate tasks; one session serves one statement at
    # a time, so every database call of the request goes through this lock.
    db_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # The transaction can no longer be committed (a savepoint could not be rolled back).
    failed: bool = False
    # The request's mutation attempts (resolvers.mutations.Attempt), in order; each is settled
    # once its field's payload is complete (schema/execution.py).
    attempts: list[Any] = field(default_factory=list, repr=False)
    # A bad bearer token: the view answers UNAUTHENTICATED without running the operation.
    auth_error: RequestError | None = None
    # The worker's safety machinery (resolvers.safety.Guard); None when run outside the app.
    guard: Any = None
    # The GraphQL schema the request runs on (graphql-core's), for steps that check names
    # against it (a partner key's field list); set by the view.
    graphql_schema: Any = None
    # Set by the RequestGuard extension before execution: the operation, its variables
    # (redacted when the operation is audited: resolvers.audit.redact_variables), its cost
    # report, and the personal fields a partner reads.
    operation_name: str | None = None
    # query, mutation or subscription, for the request's log line and metrics.
    operation_type: str | None = None
    variables: dict[str, Any] | None = None
    cost: Any = None
    personal_read: frozenset[str] = frozenset()
    # A persisted-query registration (hash, document), stored once the request is admitted.
    persist: tuple[str, str] | None = None
    # The request's DataLoaders by class (resolvers.loaders.RequestLoader), made on first use.
    loader_cache: dict[type, Any] = field(default_factory=dict, repr=False)
    # False once a resolver read data that no kept answer's version covers (a census date
    # without a rollup, counted live from the registry): the answer is not kept
    # (schema/http/kept.py).
    keep_answer: bool = True

    @property
    def session(self) -> AsyncSession:
        """The request's session, opened on first use; the view commits or rolls it back."""
        if self._session is None:
            self._session = self.sessions()
        return self._session

    def read_from_replica(self) -> None:
        """Run this request's transaction on the read replica, if there is one and the request
        has not opened its session yet (called for query operations, before they execute)."""
        if self.read_sessions is not None and self._session is None:
            self.sessions = self.read_sessions

    @property
    def settled(self) -> bool:
        """Every mutation attempt of the request was settled (kept or rolled back)."""
        return all(attempt.settled for attempt in self.attempts)

    def forget_loaders(self) -> None:
        """Drop the request's loaders and what they cached: reads after a mutation see its
        writes."""
        self.loader_cache.clear()

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run database work on the request's session, one caller at a time.

        A caller cancelled while its statement runs (graphql-core cancels a field's siblings
        when one fails with an error that nulls their parent) stops waiting, but the statement
        runs to its end before the session is let go: interrupted, it would invalidate the
        connection, and the request's commit would then fail as if the database were down (a
        503 instead of the field's typed error)."""
        async with self.db_lock:
            task = asyncio.ensure_future(work(self.session))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                await _finished(task)
                raise

    async def close(self, *, commit: bool) -> None:
        """End the request's transaction: commit when the operation succeeded (after any
        statement still running for a cancelled caller, :meth:`run`)."""
        if self._session is None:
            return
        async with self.db_lock:
            await self._end(commit=commit)

    async def _end(self, *, commit: bool) -> None:
        if self._session is None:
            return
        try:
            if commit and not self.failed:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None


async def _finished(task: asyncio.Future[Any]) -> None:
    """Wait for ``task`` to end whatever cancels the waiter (the task itself is never
    cancelled: a statement cut short leaves its connection unusable), and take its outcome so
    that a failure is not reported as never retrieved."""
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            continue
    if not task.cancelled():
        task.exception()


Info = StrawberryInfo[Context, None]

"""What notices and webhook deliveries share: claiming the due ones (several workers at once,
none twice), and recording each attempt with its retry, in bulk (statements of the events
machinery's own, :mod:`resolvers.events.direct`).

A claimed row's next attempt moves a lease ahead, in a short transaction of its own; a worker
that dies while sending leaves the row due again once the lease passes (at least once)."""

from __future__ import annotations

import collections
import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from resolvers.events.direct import Statements

if TYPE_CHECKING:
    import aiohttp

Table = Literal["notice", "webhook_delivery"]

# What is read of a receiver's answer before its connection goes back to the pool: an answer
# longer than this closes the connection instead (nobody reads it).
ANSWER_LIMIT = 64 * 1024


class SendFailed(Exception):
    """The request did not get an answer (no connection, a timeout, a broken connection);
    the message names the kind of failure, never the address."""


@dataclass(frozen=True)
class Answer:
    """A receiver's answer: its status and its ``Retry-After`` header, if any."""

    status: int
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class HttpClient:
    """The process's one HTTP client (a keep-alive pool shared by webhook deliveries and the
    SMS gateway), made on first use: a worker that never sends does not import it.

    aiohttp, not httpx: posting a delivery cost httpx and httpcore ~2 ms of CPU, 80% of the
    dispatcher's time; aiohttp's C parser and connection pool take ~0.16 ms for the same
    request (issue 18: >= 500 deliveries a second; docs/performance.md)."""

    def __init__(self, *, timeout: float, connections: int) -> None:
        self.timeout = timeout
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            import aiohttp

            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # The senders limit each endpoint themselves; the pool bounds the whole.
                connector=aiohttp.TCPConnector(limit=self.connections, limit_per_host=0),
                # A receiver's answer is read as bytes, never decompressed.
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._session

    async def post(self, url: str, *, body: bytes, headers: Mapping[str, str]) -> Answer:
        """POST ``body``; redirects are not followed (a receiver cannot send the hub
        elsewhere). Raises SendFailed when no answer came."""
        import aiohttp

        try:
            async with self._client().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                await _drain(response)
                return Answer(response.status, response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as err:
            raise SendFailed(type(err).__name__) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the answer's body (so the connection can carry the next request), up to
    ANSWER_LIMIT; a longer one closes the connection."""
    read = 0
    while chunk := await response.content.read(16 * 1024):
        read += len(chunk)
        if read > ANSWER_LIMIT:
            response.close()
            return


@dataclass(frozen=True)
class Attempt:
    """How one send went."""

    id: int
    ok: bool
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    # Seconds the receiver asked to wait (Retry-After), or None.
    retry_after: float | None = None
    # The receiver will never take it (410 Gone): no further attempt.
    give_up: bool = False


@dataclass(frozen=True)
class Schedule:
    """Pauses between attempts; after the last one fails the row is failed for good."""

    pauses: tuple[timedelta, ...]
    jitter: float = 0.1

    @property
    def attempts(self) -> int:
        return len(self.pauses) + 1

    def pause_after(self, attempts: int) -> float | None:
        """Seconds before the next attempt after ``attempts`` failed ones; None: give up."""
        if attempts > len(self.pauses):
            return None
        base = self.pauses[attempts - 1].total_seconds()
        return base * (1 + random.uniform(-self.jitter, self.jitter))


async def claim_due(
    conn: Statements,
    table: Table,
    columns: str,
    limit: int,
    lease_seconds: float,
    where: str = "TRUE",
) -> list[Any]:
    """Take up to ``limit`` due rows for this worker (rows another worker is claiming are
    skipped); their next attempt moves ``lease_seconds`` ahead meanwhile. One statement, a
    transaction of its own."""
    rows = await conn.fetch(
        f"UPDATE {table} AS t SET next_attempt_at = clock_timestamp() "
        "+ make_interval(secs => $1) "
        f"WHERE t.id IN (SELECT id FROM {table} WHERE status = 'pending' "
        f"AND next_attempt_at <= clock_timestamp() AND {where} "
        "ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
        f"RETURNING {columns}",
        lease_seconds,
        limit,
    )
    return as_objects(rows)


def as_objects(rows: Sequence[Any]) -> list[Any]:
    """Driver rows as objects whose columns are attributes (``row.id``), as SQLAlchemy's are."""
    if not rows:
        return []
    shape = _shape(tuple(rows[0].keys()))
    return [shape._make(r) for r in rows]


@functools.cache
def _shape(columns: tuple[str, ...]) -> Any:
    return collections.namedtuple("Row", columns)


def _record_sql(table: Table) -> str:
    done_column = "sent_at" if table == "notice" else "delivered_at"
    extra = (
        ""
        if table == "notice"
        else ", last_status_code = v.code, last_attempt_at = clock_timestamp()"
    )
    target = "notice_id" if table == "notice" else "delivery_id"
    return (
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::int[], "
        "$5::text[], $6::boolean[], $7::int[]) AS v(id, status, pause, code, error, ok, ms)), "
        f"rows AS (UPDATE {table} AS t SET status = v.status, attempts = t.attempts + 1, "
        "next_attempt_at = clock_timestamp() + make_interval(secs => v.pause), "
        f"last_error = v.error, {done_column} = CASE WHEN v.status = 'delivered' "
        f"THEN clock_timestamp() ELSE t.{done_column} END{extra} "
        "FROM v WHERE t.id = v.id) "
        f"INSERT INTO delivery_attempt ({target}, ok, status_code, error, duration_ms) "
        "SELECT id, ok, code, error, ms FROM v"
    )


RECORD_SQL: dict[str, str] = {table: _record_sql(table) for table in ("notice", "webhook_delivery")}


def outcomes(
    attempts: Sequence[Attempt], tries_before: dict[int, int], schedule: Schedule
) -> tuple[list[str], list[float], list[int]]:
    """Each attempt's new status and pause before the next try, and the ids failed for good
    (their last try failed, or the receiver will never take them)."""
    statuses, pauses, failed = [], [], []
    for a in attempts:
        tries = tries_before[a.id] + 1
        pause = None if a.ok or a.give_up else schedule.pause_after(tries)
        if a.ok:
            statuses.append("delivered")
        elif pause is None:
            statuses.append("failed")
            failed.append(a.id)
        else:
            statuses.append("pending")
        if pause is not None and a.retry_after is not None:
            pause = max(pause, min(a.retry_after, 86_400.0))
        pauses.append(pause or 0.0)
    return statuses, pauses, failed


async def record_attempts(
    conn: Statements,
    table: Table,
    attempts: Sequence[Attempt],
    tries_before: dict[int, int],
    schedule: Schedule,
) -> list[int]:
    """Write how each attempt went: delivered, due again after its pause, or failed for good
    (its ids are returned). One statement for the rows and the attempt log."""
    if not attempts:
        return []
    statuses, pauses, failed = outcomes(attempts, tries_before, schedule)
    errors = [None if a.ok else (a.error or "failed")[:300] for a in attempts]
    await conn.execute(
        RECORD_SQL[table],
        [a.id for a in attempts],
        statuses,
        pauses,
        [a.status_code for a in attempts],
        errors,
        [a.ok for a in attempts],
        [a.duration_ms for a in attempts],
    )
    return failed

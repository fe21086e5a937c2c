"""What notices and webhook deliveries share: claiming the due ones (several workers at once,
none twice), and recording each attempt with its retry, in bulk.

A claimed row's next attempt moves a lease ahead, in a short transaction of its own; a worker
that dies while sending leaves the row due again once the lease passes (at least once)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    import httpx

Table = Literal["notice", "webhook_delivery"]


class HttpClient:
    """The process's one HTTP client (a keep-alive pool shared by webhook deliveries and the
    SMS gateway), made on first use: a worker that never sends does not import httpx, which
    brings its command line's rich and pygments along (~4 MB of an idle worker)."""

    def __init__(self, *, timeout: float, connections: int) -> None:
        self.timeout = timeout
        self.connections = connections
        self._client: httpx.AsyncClient | None = None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=self.connections,
                    max_keepalive_connections=self.connections,
                ),
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


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
    conn: AsyncConnection,
    table: Table,
    columns: str,
    limit: int,
    lease_seconds: float,
    where: str = "TRUE",
    params: dict[str, Any] | None = None,
) -> list[Any]:
    """Take up to ``limit`` due rows for this worker (rows another worker is claiming are
    skipped); their next attempt moves ``lease_seconds`` ahead meanwhile."""
    rows = await conn.execute(
        text(
            f"UPDATE {table} AS t SET next_attempt_at = clock_timestamp() "
            "+ make_interval(secs => :lease) "
            f"WHERE t.id IN (SELECT id FROM {table} WHERE status = 'pending' "
            f"AND next_attempt_at <= clock_timestamp() AND {where} "
            "ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED) "
            f"RETURNING {columns}"
        ),
        {"lease": lease_seconds, "limit": limit, **(params or {})},
    )
    return list(rows)


async def record_attempts(
    conn: AsyncConnection,
    table: Table,
    attempts: Sequence[Attempt],
    tries_before: dict[int, int],
    schedule: Schedule,
) -> list[int]:
    """Write how each attempt went: delivered, due again after its pause, or failed for good
    (its ids are returned). One statement for the rows, one for the attempt log."""
    if not attempts:
        return []
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
    done_column = "sent_at" if table == "notice" else "delivered_at"
    extra = (
        ""
        if table == "notice"
        else ", last_status_code = v.code, last_attempt_at = clock_timestamp()"
    )
    await conn.execute(
        text(
            f"UPDATE {table} AS t SET status = v.status, attempts = t.attempts + 1, "
            "next_attempt_at = clock_timestamp() + make_interval(secs => v.pause), "
            f"last_error = v.error, {done_column} = CASE WHEN v.status = 'delivered' "
            f"THEN clock_timestamp() ELSE t.{done_column} END{extra} "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:statuses AS text[]), "
            "CAST(:pauses AS float8[]), CAST(:codes AS int[]), CAST(:errors AS text[])) "
            "AS v(id, status, pause, code, error) WHERE t.id = v.id"
        ),
        {
            "ids": [a.id for a in attempts],
            "statuses": statuses,
            "pauses": pauses,
            "codes": [a.status_code for a in attempts],
            "errors": [None if a.ok else (a.error or "failed")[:300] for a in attempts],
        },
    )
    target = "notice_id" if table == "notice" else "delivery_id"
    await conn.execute(
        text(
            f"INSERT INTO delivery_attempt ({target}, ok, status_code, error, duration_ms) "
            "SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:oks AS boolean[]), "
            "CAST(:codes AS int[]), CAST(:errors AS text[]), CAST(:durations AS int[]))"
        ),
        {
            "ids": [a.id for a in attempts],
            "oks": [a.ok for a in attempts],
            "codes": [a.status_code for a in attempts],
            "errors": [None if a.ok else (a.error or "failed")[:300] for a in attempts],
            "durations": [a.duration_ms for a in attempts],
        },
    )
    return failed

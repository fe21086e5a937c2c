"""Durable consumers of the outbox and their progress: each has a row holding the last event
it acknowledged and the worker that holds it now (a lease), so any number of dispatchers can
run while each consumer is served by one at a time, and one slow consumer never holds the
others back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.events.direct import Direct
from resolvers.events.outbox import (
    EVENT_SQL,
    HORIZON_SQL,
    MAX_ID,
    READ_AFTER_SQL,
    Event,
    Position,
    event_of_record,
)


class Consumer(Protocol):
    """Something that takes every event once its transaction committed, at least once."""

    name: str

    async def deliver(self, events: Sequence[Event]) -> None:
        """Handle a batch in outbox order. Raise to have the whole batch offered again; a
        batch may come again after a crash, so handling must be idempotent."""


@dataclass(frozen=True)
class Progress:
    """A consumer's row: where it is and how it fares."""

    name: str
    position: Position
    delivered: int
    lease_owner: str | None
    failures: int
    last_error: str | None


async def ensure_consumers(conn: AsyncConnection, names: Sequence[str]) -> None:
    """Give each consumer a row starting at the outbox's head (a new consumer takes events
    from now on, not the whole history)."""
    for name in names:
        await conn.execute(
            text(
                "INSERT INTO event_consumer (name, after_txid, after_id) "
                f"SELECT :name, {HORIZON_SQL} - 1, :max_id ON CONFLICT (name) DO NOTHING"
            ),
            {"name": name, "max_id": MAX_ID},
        )


# Take the consumer's lease unless another worker holds it (a row another worker is updating
# right now is skipped, not waited for), and read the settled events after its position, in
# one statement: one row per event with the position first, one row with no event when there
# is none, no row when the lease is another's.
LEASE_AND_READ_SQL = f"""
WITH lease AS (
    UPDATE event_consumer SET lease_owner = $2,
        lease_until = clock_timestamp() + make_interval(secs => $3)
    WHERE name = (
        SELECT name FROM event_consumer WHERE name = $1
        AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < clock_timestamp())
        FOR UPDATE SKIP LOCKED)
    RETURNING after_txid, after_id)
SELECT l.after_txid, l.after_id, {EVENT_SQL}
FROM lease l LEFT JOIN LATERAL (
    SELECT * FROM outbox o
    WHERE (o.txid, o.id) > (l.after_txid, l.after_id) AND o.txid < {HORIZON_SQL}
    ORDER BY o.txid, o.id LIMIT $4) o ON TRUE
ORDER BY o.txid, o.id
"""

HAS_WORK_SQL = (
    "SELECT EXISTS (SELECT 1 FROM outbox o, event_consumer c WHERE c.name = $1 "
    f"AND (o.txid, o.id) > (c.after_txid, c.after_id) AND o.txid < {HORIZON_SQL})"
)

ACKNOWLEDGE_SQL = (
    "UPDATE event_consumer SET after_txid = $3, after_id = $4, "
    "delivered = delivered + $5, failures = 0, last_error = NULL, "
    "lease_until = clock_timestamp() + make_interval(secs => $6), updated_at = now() "
    "WHERE name = $1 AND lease_owner = $2 AND (after_txid, after_id) <= ($3, $4)"
)


async def lease_and_read(
    direct: Direct, name: str, worker: str, seconds: float, limit: int
) -> tuple[Position, list[Event]] | None:
    """Hold ``name`` for ``seconds`` unless another worker holds it (None then), and read up
    to ``limit`` settled events after its position: the position and the events."""
    rows = await direct.fetch(LEASE_AND_READ_SQL, name, worker, seconds, limit)
    if not rows:
        return None
    position = Position(rows[0][0], rows[0][1])
    return position, [event_of_record(r, 2) for r in rows if r[2] is not None]


async def read(direct: Direct, position: Position, limit: int) -> list[Event]:
    """Up to ``limit`` settled events after ``position`` (a lease held already)."""
    rows = await direct.fetch(READ_AFTER_SQL, position.txid, position.id, limit)
    return [event_of_record(r) for r in rows]


async def has_work(direct: Direct, name: str) -> bool:
    """Are there settled events after the consumer's position? A read only: an idle dispatcher
    asks this instead of taking its lease (an UPDATE) every round."""
    rows = await direct.fetch(HAS_WORK_SQL, name)
    return bool(rows[0][0])


async def acknowledge(
    direct: Direct,
    name: str,
    worker: str,
    position: Position,
    count: int,
    seconds: float,
) -> bool:
    """Record that the consumer handled every event up to ``position`` and extend the lease;
    False when the lease was lost (another worker took over: it will offer these again)."""
    changed = await direct.execute(
        ACKNOWLEDGE_SQL, name, worker, position.txid, position.id, count, seconds
    )
    return bool(changed)


async def renew_lease(conn: AsyncConnection, name: str, worker: str, seconds: float) -> bool:
    result = await conn.execute(
        text(
            "UPDATE event_consumer SET "
            "lease_until = clock_timestamp() + make_interval(secs => :seconds) "
            "WHERE name = :name AND lease_owner = :worker"
        ),
        {"name": name, "worker": worker, "seconds": seconds},
    )
    return bool(result.rowcount)


async def record_failure(conn: AsyncConnection, name: str, worker: str, error: str) -> int:
    """Count a failed batch (the consumer keeps its lease and tries again after a pause)."""
    row = (
        await conn.execute(
            text(
                "UPDATE event_consumer SET failures = failures + 1, last_error = :error, "
                "updated_at = now() WHERE name = :name AND lease_owner = :worker "
                "RETURNING failures"
            ),
            {"name": name, "worker": worker, "error": error[:300]},
        )
    ).first()
    return 0 if row is None else int(row.failures)


async def release(conn: AsyncConnection, names: Sequence[str], worker: str) -> None:
    """Give the consumers back (on shutdown), so another worker takes them at once."""
    await conn.execute(
        text(
            "UPDATE event_consumer SET lease_owner = NULL, lease_until = NULL "
            "WHERE name = ANY(:names) AND lease_owner = :worker"
        ),
        {"names": list(names), "worker": worker},
    )


async def progress(conn: AsyncConnection) -> list[Progress]:
    """Every consumer's row."""
    rows = await conn.execute(
        text(
            "SELECT name, after_txid, after_id, delivered, lease_owner, failures, last_error "
            "FROM event_consumer ORDER BY name"
        )
    )
    return [
        Progress(
            name=r.name,
            position=Position(r.after_txid, r.after_id),
            delivered=r.delivered,
            lease_owner=r.lease_owner,
            failures=r.failures,
            last_error=r.last_error,
        )
        for r in rows
    ]

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

from resolvers.events.outbox import HORIZON_SQL, MAX_ID, Event, Position


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


async def take_lease(
    conn: AsyncConnection, name: str, worker: str, seconds: float
) -> Position | None:
    """Hold ``name`` for ``seconds`` unless another worker holds it; return its position.
    A row another worker is updating right now is skipped, not waited for."""
    row = (
        await conn.execute(
            text(
                "UPDATE event_consumer SET lease_owner = :worker, "
                "lease_until = clock_timestamp() + make_interval(secs => :seconds) "
                "WHERE name = (SELECT name FROM event_consumer WHERE name = :name "
                "AND (lease_owner IS NULL OR lease_owner = :worker "
                "OR lease_until < clock_timestamp()) FOR UPDATE SKIP LOCKED) "
                "RETURNING after_txid, after_id"
            ),
            {"name": name, "worker": worker, "seconds": seconds},
        )
    ).first()
    return None if row is None else Position(row.after_txid, row.after_id)


async def has_work(conn: AsyncConnection, name: str) -> bool:
    """Are there settled events after the consumer's position? A read only: an idle dispatcher
    asks this instead of taking its lease (an UPDATE) every round."""
    row = (
        await conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM outbox o, event_consumer c WHERE c.name = :name "
                "AND (o.txid, o.id) > (c.after_txid, c.after_id) "
                f"AND o.txid < {HORIZON_SQL})"
            ),
            {"name": name},
        )
    ).scalar_one()
    return bool(row)


async def acknowledge(
    conn: AsyncConnection,
    name: str,
    worker: str,
    position: Position,
    count: int,
    seconds: float,
) -> bool:
    """Record that the consumer handled every event up to ``position`` and extend the lease;
    False when the lease was lost (another worker took over: it will offer these again)."""
    result = await conn.execute(
        text(
            "UPDATE event_consumer SET after_txid = :txid, after_id = :id, "
            "delivered = delivered + :count, failures = 0, last_error = NULL, "
            "lease_until = clock_timestamp() + make_interval(secs => :seconds), "
            "updated_at = now() "
            "WHERE name = :name AND lease_owner = :worker "
            "AND (after_txid, after_id) <= (:txid, :id)"
        ),
        {
            "name": name,
            "worker": worker,
            "txid": position.txid,
            "id": position.id,
            "count": count,
            "seconds": seconds,
        },
    )
    return bool(result.rowcount)


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

"""Retention: events every consumer has passed are pruned once older than the retention
(30 days by default), in batches, oldest first; deliveries, attempts and notices likewise.
The change feed answers CURSOR_EXPIRED for a cursor before what was pruned.

A year of the country (docs/domains/events.md): about 25 million events at most, ~11 GB of
outbox if nothing were pruned; with 30 days kept the table holds about 2 million rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("bilim.events")

BATCH = 10_000
# Only one worker prunes at a time (a transaction-level advisory lock).
LOCK_KEY = 0x6269_6C69_6D01


@dataclass
class Pruned:
    events: int = 0
    deliveries: int = 0
    attempts: int = 0
    notices: int = 0


async def prune(engine: AsyncEngine, *, retention_days: int, notice_days: int = 365) -> Pruned:
    """Remove what is past retention; returns how many rows of each kind went."""
    done = Pruned()
    while True:
        async with engine.begin() as conn:
            if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}):
                return done
            row = (
                await conn.execute(text(_PRUNE_EVENTS), {"days": retention_days, "batch": BATCH})
            ).first()
            count = int(row.n or 0) if row is not None else 0
            if row is not None and count:
                await conn.execute(
                    text(_MARK), {"txid": row.last_txid, "id": row.last_id, "count": count}
                )
        done.events += count
        if count < BATCH:
            break
    async with engine.begin() as conn:
        for name, sql, days in (
            ("deliveries", _PRUNE_DELIVERIES, retention_days),
            ("attempts", _PRUNE_ATTEMPTS, retention_days),
            ("notices", _PRUNE_NOTICES, notice_days),
        ):
            result = await conn.execute(text(sql), {"days": days})
            setattr(done, name, result.rowcount or 0)
    if done.events:
        log.info("events.pruned", extra={"events": done.events})
    return done


# Events up to the slowest consumer and older than the retention, oldest first.
_PRUNE_EVENTS = """
WITH floor AS (
    SELECT min(ARRAY[after_txid, after_id]) AS p FROM event_consumer
), gone AS (
    DELETE FROM outbox WHERE id IN (
        SELECT o.id FROM outbox o, floor
        WHERE o.at < now() - make_interval(days => :days)
          AND (floor.p IS NULL OR ARRAY[o.txid, o.id] <= floor.p)
        ORDER BY o.txid, o.id LIMIT :batch
    ) RETURNING txid, id
)
SELECT count(*) AS n, (max(ARRAY[txid, id]))[1] AS last_txid,
       (max(ARRAY[txid, id]))[2] AS last_id
FROM gone
"""
_MARK = """
INSERT INTO outbox_retention (id, pruned_txid, pruned_id, pruned_total, pruned_at)
VALUES (1, :txid, :id, :count, now())
ON CONFLICT (id) DO UPDATE SET
    pruned_txid = (GREATEST(ARRAY[outbox_retention.pruned_txid, outbox_retention.pruned_id],
                            ARRAY[EXCLUDED.pruned_txid, EXCLUDED.pruned_id]))[1],
    pruned_id = (GREATEST(ARRAY[outbox_retention.pruned_txid, outbox_retention.pruned_id],
                          ARRAY[EXCLUDED.pruned_txid, EXCLUDED.pruned_id]))[2],
    pruned_total = outbox_retention.pruned_total + EXCLUDED.pruned_total,
    pruned_at = now()
"""
_PRUNE_DELIVERIES = (
    "DELETE FROM webhook_delivery WHERE status <> 'pending' "
    "AND created_at < now() - make_interval(days => :days)"
)
_PRUNE_ATTEMPTS = "DELETE FROM delivery_attempt WHERE at < now() - make_interval(days => :days)"
_PRUNE_NOTICES = (
    "DELETE FROM notice WHERE status <> 'pending' "
    "AND created_at < now() - make_interval(days => :days)"
)

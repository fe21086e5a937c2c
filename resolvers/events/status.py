"""``bilim events status``: each durable consumer's position, backlog and last error, and the
senders' queues."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import database
from models.events import OutboxEvent
from resolvers.events.consumers import progress
from resolvers.events.outbox import after, count_after, settled


async def report(url: str) -> list[str]:
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    lines = []
    try:
        async with engine.connect() as conn:
            for each in await progress(conn):
                backlog = await count_after(conn, each.position)
                lines.append(
                    f"{each.name}: delivered {each.delivered:,}, backlog {backlog:,}, "
                    f"held by {each.lease_owner or 'nobody'}"
                    + (f", failing ({each.failures}): {each.last_error}" if each.failures else "")
                )
            for table in ("notice", "webhook_delivery"):
                rows = await conn.execute(
                    text(f"SELECT status, count(*) AS n FROM {table} GROUP BY status ORDER BY 1")
                )
                lines.append(
                    f"{table}: " + (", ".join(f"{r.status} {r.n:,}" for r in rows) or "none")
                )
    finally:
        await engine.dispose()
    return lines


async def lag(engine: AsyncEngine) -> list[tuple[str, int, float]]:
    """Each consumer's backlog and the age in seconds of its oldest undelivered event (0 when
    it is up to date): /metrics reads them at each scrape."""
    found = []
    async with engine.connect() as conn:
        for each in await progress(conn):
            backlog = await count_after(conn, each.position)
            oldest = None
            if backlog:
                stmt = select(func.min(OutboxEvent.at)).where(after(each.position), settled())
                oldest = (await conn.execute(stmt)).scalar_one()
            age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
            found.append((each.name, backlog, max(0.0, age)))
    return found

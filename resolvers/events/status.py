"""``bilim events status``: each durable consumer's position, backlog and last error, and the
senders' queues."""

from __future__ import annotations

from sqlalchemy import text

from models import database
from resolvers.events.consumers import progress
from resolvers.events.outbox import count_after


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

"""The rollups: each census date's cells kept in ``stat_cell``, rebuilt by the daily job
(``bilim jobs run``) so that a statistics query reads thousands of cells, not millions of
enrollments. A census date without a rollup is counted live by the same statement."""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import StatRefresh, stat_cell
from resolvers.analytics.census import CELL_COLUMNS, CELLS_SQL, recent_census_dates

log = logging.getLogger("bilim.analytics")

# Years of census dates the job keeps rolled up (the charts' "by year").
YEARS_KEPT = 5


async def refresh(session: AsyncSession, census_date: date) -> int:
    """Rebuild one census date's cells in the session's transaction (readers keep seeing
    the old cells until it commits); return how many cells it holds."""
    started = time.perf_counter()
    await session.execute(delete(stat_cell).where(stat_cell.c.census_date == census_date))
    columns = ", ".join(CELL_COLUMNS)
    result: Any = await session.execute(
        text(
            f"INSERT INTO stat_cell (census_date, {columns}) "
            f"SELECT CAST(:d AS date), {columns} FROM ({CELLS_SQL}) AS cells"
        ),
        {"d": census_date},
    )
    cells = int(result.rowcount or 0)
    duration_ms = int((time.perf_counter() - started) * 1000)
    upsert = insert(StatRefresh).values(
        census_date=census_date, cells=cells, duration_ms=duration_ms
    )
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[StatRefresh.census_date],
            set_={"cells": cells, "duration_ms": duration_ms, "refreshed_at": func.now()},
        )
    )
    log.info(
        "analytics.rollup_refreshed",
        extra={"census_date": census_date.isoformat(), "cells": cells, "ms": duration_ms},
    )
    return cells


async def refresh_recent(session: AsyncSession, *, years: int = YEARS_KEPT) -> dict[str, int]:
    """Rebuild the last ``years`` census dates (the job's work); census date -> cells."""
    return {d.isoformat(): await refresh(session, d) for d in recent_census_dates(years)}


async def rolled_up_dates(session: AsyncSession) -> list[date]:
    """The census dates that have a rollup, oldest first."""
    rows = await session.scalars(select(StatRefresh.census_date).order_by(StatRefresh.census_date))
    return list(rows)


async def recount(session: AsyncSession, census_date: date) -> list[tuple[Any, ...]]:
    """Every cell counted afresh from the registry (what the rollup must equal)."""
    rows = await session.execute(text(CELLS_SQL), {"d": census_date})
    return [tuple(r) for r in rows]

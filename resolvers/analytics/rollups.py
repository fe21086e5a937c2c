"""The rollups: each census date's cells kept in ``stat_cell`` so that a statistics query reads
thousands of cells, not millions of enrollments. A census date without a rollup is counted live
by the same statement.

The nightly job (``bilim jobs run``) refreshes only what changed: triggers on the counted tables
(migration 0031) note each changed area (a region and its district) with the earliest census
date the change can alter in ``stat_dirty``; the job builds the census dates it does not have
yet in full, and recounts only the noted areas of the dates it has. A day of changes after the
census alters no rolled-up date at all; a back-dated change recounts its districts only."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import StatRefresh, stat_cell
from resolvers.analytics.census import (
    AREAS,
    CELL_COLUMNS,
    CELLS_SQL,
    cells_sql,
    recent_census_dates,
)
from resolvers.analytics.statistics import ROLLED_UP

log = logging.getLogger("bilim.analytics")

# Years of census dates the job keeps rolled up (the charts' "by year").
YEARS_KEPT = 5
_COLUMNS = ", ".join(CELL_COLUMNS)


@dataclass(frozen=True)
class Area:
    """A region and one of its districts (None: institutions directly under the region)."""

    region_id: int
    district_id: int | None


async def refresh(session: AsyncSession, census_date: date) -> int:
    """Rebuild one census date's cells in the session's transaction (readers keep seeing
    the old cells until it commits); return how many cells it holds."""
    started = time.perf_counter()
    await session.execute(delete(stat_cell).where(stat_cell.c.census_date == census_date))
    result: Any = await session.execute(
        text(
            f"INSERT INTO stat_cell (census_date, {_COLUMNS}) "
            f"SELECT CAST(:d AS date), {_COLUMNS} FROM ({CELLS_SQL}) AS cells"
        ),
        {"d": census_date},
    )
    cells = int(result.rowcount or 0)
    await _record(session, census_date, cells=cells, started=started, areas=None)
    return cells


async def refresh_areas(session: AsyncSession, census_date: date, areas: Sequence[Area]) -> int:
    """Recount only ``areas``' cells of a rolled-up census date (the rest are unchanged);
    return how many cells the date holds afterwards."""
    started = time.perf_counter()
    params = _area_params(census_date, areas)
    await session.execute(
        text(
            "DELETE FROM stat_cell WHERE census_date = :d "
            f"AND (region_id, coalesce(district_id, 0)) IN {AREAS}"
        ),
        params,
    )
    await session.execute(
        text(
            f"INSERT INTO stat_cell (census_date, {_COLUMNS}) "
            f"SELECT CAST(:d AS date), {_COLUMNS} FROM ({cells_sql(in_areas=True)}) AS cells"
        ),
        params,
    )
    cells = int(
        await session.scalar(
            text("SELECT count(*) FROM stat_cell WHERE census_date = :d"), {"d": census_date}
        )
        or 0
    )
    await _record(session, census_date, cells=cells, started=started, areas=len(areas))
    return cells


async def take_changed_areas(session: AsyncSession) -> dict[Area, date]:
    """The areas changed since the last refresh, each with the earliest census date its
    changes can alter; the marks are removed in the session's transaction (a mark written
    by a transaction still running stays for the next refresh)."""
    rows = await session.execute(
        text("DELETE FROM stat_dirty RETURNING region_id, district_id, since")
    )
    changed: dict[Area, date] = {}
    for region_id, district_id, since in rows:
        area = Area(region_id, district_id)
        changed[area] = min(since, changed.get(area, since))
    return changed


async def refresh_recent(session: AsyncSession, *, years: int = YEARS_KEPT) -> dict[str, int]:
    """The job's refresh: build the last ``years`` census dates that have no rollup yet, and
    recount the changed areas of every date that has one; census date -> cells (only the
    dates it touched)."""
    changed = await take_changed_areas(session)
    rolled = set(await rolled_up_dates(session))
    touched: dict[str, int] = {}
    for day in recent_census_dates(years):
        if day not in rolled:
            touched[day.isoformat()] = await refresh(session, day)
    for day in sorted(rolled):
        areas = [area for area, since in changed.items() if since <= day]
        if areas:
            touched[day.isoformat()] = await refresh_areas(session, day, areas)
    return touched


async def rebuild_recent(session: AsyncSession, *, years: int = YEARS_KEPT) -> dict[str, int]:
    """Rebuild the last ``years`` census dates in full (after a bulk load done with the
    triggers off, or to check a refresh); census date -> cells."""
    await take_changed_areas(session)
    return {d.isoformat(): await refresh(session, d) for d in recent_census_dates(years)}


async def rolled_up_dates(session: AsyncSession) -> list[date]:
    """The census dates that have a rollup, oldest first."""
    rows = await session.scalars(select(StatRefresh.census_date).order_by(StatRefresh.census_date))
    return list(rows)


async def recount(session: AsyncSession, census_date: date) -> list[tuple[Any, ...]]:
    """Every cell counted afresh from the registry (what the rollup must equal)."""
    rows = await session.execute(text(CELLS_SQL), {"d": census_date})
    return [tuple(r) for r in rows]


def _area_params(census_date: date, areas: Sequence[Area]) -> dict[str, Any]:
    return {
        "d": census_date,
        "area_regions": [a.region_id for a in areas],
        "area_districts": [a.district_id or 0 for a in areas],
    }


async def _record(
    session: AsyncSession, census_date: date, *, cells: int, started: float, areas: int | None
) -> None:
    duration_ms = int((time.perf_counter() - started) * 1000)
    # A statistics query later in this session reads the dates afresh (statistics.py).
    session.info.pop(ROLLED_UP, None)
    upsert = insert(StatRefresh).values(
        census_date=census_date, cells=cells, duration_ms=duration_ms, areas=areas
    )
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[StatRefresh.census_date],
            set_={
                "cells": cells,
                "duration_ms": duration_ms,
                "areas": areas,
                "refreshed_at": func.now(),
            },
        )
    )
    log.info(
        "analytics.rollup_refreshed",
        extra={
            "census_date": census_date.isoformat(),
            "cells": cells,
            "areas": areas,
            "ms": duration_ms,
        },
    )

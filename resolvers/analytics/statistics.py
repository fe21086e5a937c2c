"""A statistics query: one measure as of a census date, grouped and filtered by dimensions,
read from the rollup (or counted live for a date without one) and protected by disclosure
control unless the caller may see exact counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import Principal
from resolvers.analytics.census import CELLS_SQL, latest_census_date
from resolvers.analytics.differencing import Row as LinkedRow
from resolvers.analytics.differencing import conditions_of, linked_risks
from resolvers.analytics.dimensions import PERSON_MEASURES, Dimension, Measure
from resolvers.analytics.disclosure import Cell, suppress, under_threshold
from resolvers.analytics.policy import disclosure_rule
from resolvers.analytics.rules import sees_exact_counts
from resolvers.errors import ErrorCode, RequestError

MAX_GROUP_BY = 3


@dataclass
class Filters:
    """Keep only cells whose dimension value is one of the listed ones; ages in a range."""

    values: dict[Dimension, list[Any]] = field(default_factory=dict)
    age_from: int | None = None
    age_to: int | None = None


@dataclass
class StatisticsTable:
    measure: Measure
    census_date: date
    group_by: list[Dimension]
    cells: list[Cell]
    total: int
    total_suppressed: bool
    exact: bool
    from_rollup: bool


# The census dates with a rollup, read once per request: kept in the request's session (the
# /stats page's five tables and its indicators read them once; a refresh in the same session,
# rollups.py, drops them there).
ROLLED_UP = "analytics.rolled_up_dates"


async def rolled_up(session: AsyncSession) -> frozenset[date]:
    """The census dates that have a rollup (once per session)."""
    cached = session.info.get(ROLLED_UP)
    if isinstance(cached, frozenset):
        return cached
    dates = frozenset(await session.scalars(text("SELECT census_date FROM stat_refresh")))
    session.info[ROLLED_UP] = dates
    return dates


async def source_for(session: AsyncSession, census_date: date) -> tuple[str, bool]:
    """The FROM clause of a census date's cells: its rollup, or the live count without one."""
    if census_date in await rolled_up(session):
        return "(SELECT * FROM stat_cell WHERE census_date = :d) AS cells", True
    return f"({CELLS_SQL}) AS cells", False


async def default_census_date(session: AsyncSession) -> date:
    """The latest census date that has a rollup, else the latest census day."""
    dates = await rolled_up(session)
    return max(dates) if dates else latest_census_date()


async def statistics(
    session: AsyncSession,
    principal: Principal,
    *,
    measure: Measure,
    census_date: date | None,
    group_by: list[Dimension],
    filters: Filters,
) -> StatisticsTable:
    """Count ``measure`` as of ``census_date`` by ``group_by``; hide small counts of people
    from all but the ministry (disclosure.py), and what a differently filtered table would
    give away (differencing.py)."""
    if len(group_by) > MAX_GROUP_BY or len(set(group_by)) != len(group_by):
        raise RequestError(
            ErrorCode.INVALID_INPUT, f"Group by at most {MAX_GROUP_BY} distinct dimensions"
        )
    day = census_date or await default_census_date(session)
    source, rolled = await source_for(session, day)
    where, params = _where(filters)
    params.update({"d": day, "measure": measure.value})
    keys = ", ".join(d.value for d in group_by)
    select_keys = f"{keys}, " if keys else ""
    group = f"GROUP BY {keys} ORDER BY {keys}" if keys else ""
    rows = await session.execute(
        text(f"SELECT {select_keys}sum(count)::bigint FROM {source} WHERE {where} {group}"),
        params,
    )
    cells = [Cell(keys=tuple(r[:-1]), count=int(r[-1] or 0)) for r in rows]
    cells = [c for c in cells if c.count > 0]
    total = sum(c.count for c in cells)
    exact = sees_exact_counts(principal) or measure not in PERSON_MEASURES
    total_hidden = False
    if not exact:
        rule = await disclosure_rule(session)
        risky, total_hidden = await _linked_risks(
            session, source, day, measure, group_by, filters, rule.threshold
        )
        if total_hidden:
            # A total that would give a group away is not published in detail either: its
            # cells would add up to it.
            risky = {c.keys for c in cells}
        suppress(cells, rule.threshold, secondary=rule.secondary_suppression, also=risky)
        total_hidden |= under_threshold(total, rule.threshold)
    return StatisticsTable(
        measure=measure,
        census_date=day,
        group_by=list(group_by),
        cells=cells,
        total=total,
        total_suppressed=total_hidden,
        exact=exact,
        from_rollup=rolled,
    )


def _where(filters: Filters) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a table's cells (its measure and filters) and its parameters."""
    params: dict[str, Any] = {}
    where = ["measure = :measure"]
    for dim, values in filters.values.items():
        params[f"f_{dim.value}"] = values
        where.append(f"{dim.value} = ANY(:f_{dim.value})")
    if filters.age_from is not None:
        params["age_from"] = filters.age_from
        where.append("age >= :age_from")
    if filters.age_to is not None:
        params["age_to"] = filters.age_to
        where.append("age <= :age_to")
    return " AND ".join(where), params


async def _linked_risks(
    session: AsyncSession,
    source: str,
    day: date,
    measure: Measure,
    group_by: list[Dimension],
    filters: Filters,
    threshold: int,
) -> tuple[set[tuple[Any, ...]], bool]:
    """The cells (and whether the total) that a table with one filter dropped or narrowed
    would give away (differencing.py); one more statement, only for filtered tables."""
    conditions = conditions_of(
        {d.value: v for d, v in filters.values.items()}, filters.age_from, filters.age_to
    )
    if not conditions:
        return set(), False
    keys = [d.value for d in group_by]
    columns = keys + [c.column for c in conditions if c.column not in keys]
    listed = ", ".join(columns)
    rows = await session.execute(
        text(
            f"SELECT {listed}, sum(count)::bigint FROM {source} WHERE measure = :measure "
            f"GROUP BY {listed}"
        ),
        {"d": day, "measure": measure.value},
    )
    at = {column: i for i, column in enumerate(columns)}
    cells = [
        LinkedRow(
            keys=tuple(r[at[k]] for k in keys),
            values=tuple(r[at[c.column]] for c in conditions),
            count=int(r[-1] or 0),
        )
        for r in rows
    ]
    return linked_risks(cells, conditions, threshold)

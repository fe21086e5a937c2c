"""`bilim import population FILE`: the statistics committee's population by district and
single year of age (CSV with columns ``year,district_code,age,count``). Good rows replace the
same (year, district, age); each bad row is reported with its line and a typed problem."""

from __future__ import annotations

import asyncio
import csv
import enum
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Population, database

COLUMNS = ("year", "district_code", "age", "count")
MAX_BYTES = 20 * 1024 * 1024


class PopulationProblem(enum.StrEnum):
    NOT_A_NUMBER = "not_a_number"
    UNKNOWN_DISTRICT = "unknown_district"
    OUT_OF_RANGE = "out_of_range"
    DUPLICATE_ROW = "duplicate_row"
    WRONG_COLUMNS = "wrong_columns"


class PopulationRefused(Exception):
    """The whole file was refused (not UTF-8 CSV, missing columns, too large)."""


@dataclass
class Problem:
    line: int
    code: PopulationProblem
    message: str


@dataclass
class PopulationReport:
    rows_total: int = 0
    rows_loaded: int = 0
    problems: list[Problem] = field(default_factory=list)


_RANGES = {"year": (1990, 2100), "age": (0, 120), "count": (0, 10_000_000)}


async def import_population(session: AsyncSession, data: bytes) -> PopulationReport:
    """Check every row, then write the good ones (the caller commits)."""
    if len(data) > MAX_BYTES:
        raise PopulationRefused(f"the file is over {MAX_BYTES // 1024 // 1024} MB")
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    except UnicodeDecodeError:
        raise PopulationRefused("the file is not UTF-8 text") from None
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise PopulationRefused(f"missing columns: {', '.join(missing)}")
    districts = {r.code: r.id for r in await session.execute(text("SELECT id, code FROM district"))}
    report = PopulationReport()
    good: dict[tuple[int, int, int], int] = {}
    for line, row in enumerate(reader, start=2):
        report.rows_total += 1
        problem, parsed = _check(row, districts)
        if problem is None and parsed is not None:
            key = parsed[:3]
            if key in good:
                problem = Problem(
                    line,
                    PopulationProblem.DUPLICATE_ROW,
                    "year, district and age repeat an earlier row",
                )
            else:
                good[key] = parsed[3]
        if problem is not None:
            problem.line = line
            report.problems.append(problem)
    if good:
        values = [
            {"year": y, "district_id": d, "age": a, "count": n} for (y, d, a), n in good.items()
        ]
        for start in range(0, len(values), 5_000):
            stmt = insert(Population).values(values[start : start + 5_000])
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["year", "district_id", "age"],
                    set_={"count": stmt.excluded.count},
                )
            )
    report.rows_loaded = len(good)
    return report


def _check(
    row: dict[str, str | None], districts: dict[str, int]
) -> tuple[Problem | None, tuple[int, int, int, int] | None]:
    if None in row or any(row.get(c) is None for c in COLUMNS):
        return Problem(
            0, PopulationProblem.WRONG_COLUMNS, "the row has a different number of columns"
        ), None
    numbers: dict[str, int] = {}
    for name, (low, high) in _RANGES.items():
        raw = (row[name] or "").strip()
        if not raw.isdigit():
            return Problem(
                0, PopulationProblem.NOT_A_NUMBER, f"{name} is not a whole number: {raw!r}"
            ), None
        numbers[name] = int(raw)
        if not low <= numbers[name] <= high:
            return Problem(
                0, PopulationProblem.OUT_OF_RANGE, f"{name} is outside {low}..{high}"
            ), None
    code = (row["district_code"] or "").strip()
    if code not in districts:
        return Problem(
            0, PopulationProblem.UNKNOWN_DISTRICT, f"no district has code {code!r}"
        ), None
    return None, (numbers["year"], districts[code], numbers["age"], numbers["count"])


async def import_file(url: str, path: Path) -> PopulationReport:
    """Load one file in one transaction; raise :class:`PopulationRefused` for a bad file."""
    data = await asyncio.to_thread(path.read_bytes)
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with database.session_factory(engine)() as session:
            report = await import_population(session, data)
            await session.commit()
            return report
    finally:
        await engine.dispose()

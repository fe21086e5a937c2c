"""The demo dataset into a database: the regions and keys already there are read, the
generator plans the institutions and makes the people, and binary COPY writes them in one
transaction."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import asyncpg

from models.database import plain_url
from resolvers.demo.institutions import InstitutionPlanner
from resolvers.demo.people import PeopleMaker
from resolvers.demo.reference import (
    BATCH_ROWS,
    COLLEGES,
    KINDERGARTENS,
    NAME_MIX,
    SCHOOLS,
    UNIVERSITIES,
)
from resolvers.demo.state import (
    COLUMNS,
    COUNT_KEYS,
    PEOPLE_TABLES,
    District,
    Region,
    Row,
)

INSTITUTIONS = SCHOOLS + KINDERGARTENS + COLLEGES + UNIVERSITIES


class Generator(InstitutionPlanner, PeopleMaker):
    """Plans the institutions, then yields the people in batches (single-threaded use)."""


def _locality(kind: str, name_ru: str, region_kind: str, region_name_ru: str) -> str:
    """How an address starts in a district: 'г. Каракол', 'г. Бишкек, Ленинский район', ..."""
    city = region_name_ru.removeprefix("город ")
    if name_ru.startswith("город "):
        return "г. " + name_ru.removeprefix("город ")
    if region_kind == "city":
        return f"г. {city}, {name_ru}"
    return f"{region_name_ru}, {name_ru}"


async def _regions(conn: Any) -> list[Region]:
    rows = await conn.fetch(
        "SELECT id, code, kind, name_ru FROM region WHERE valid_to IS NULL ORDER BY id"
    )
    districts = await conn.fetch(
        "SELECT id, region_id, code, kind, name_ru FROM district "
        "WHERE valid_to IS NULL AND kind <> 'ayil_aimak' ORDER BY id"
    )
    regions = []
    for r in rows:
        members = [
            District(
                id=d["id"],
                region_id=d["region_id"],
                code=d["code"],
                urban=d["kind"] in ("city", "city_district") or r["kind"] == "city",
                locality=_locality(d["kind"], d["name_ru"], r["kind"], r["name_ru"]),
            )
            for d in districts
            if d["region_id"] == r["id"]
        ]
        if members:
            mix = NAME_MIX.get(r["code"], (0.9, 0.05, 0.05))
            regions.append(Region(id=r["id"], code=r["code"], districts=members, mix=mix))
    return regions


async def _connect(url: str) -> Any:
    return await asyncpg.connect(plain_url(url))


async def is_loaded(url: str) -> bool:
    """True if the database already holds any institution (demo data or real data)."""
    conn = await _connect(url)
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM institution)"))
    finally:
        await conn.close()


async def _copy(conn: Any, table: str, rows: list[Row]) -> None:
    for start in range(0, len(rows), BATCH_ROWS * 2):
        await conn.copy_records_to_table(
            table, records=rows[start : start + BATCH_ROWS * 2], columns=COLUMNS[table]
        )


PROGRESS_STEPS = 40
PROGRESS_MIN_BATCH = 500


class _Bar:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.progress: Any = None
        self.task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("Demo data", total=total)

    def describe(self, text: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)

    def advance(self, units: int) -> None:
        if self.progress is not None:
            self.progress.advance(self.task, units)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


async def load(
    url: str,
    *,
    scale: float,
    seed: int,
    progress: bool,
    institutions: int | None = None,
) -> dict[str, int]:
    """Load the dataset for (``scale``, ``seed``) in one transaction; return rows per table.
    ``institutions`` sets how many institutions of the country's kinds to make (default: the
    country's number times ``scale``), the learners staying those of ``scale``.

    Ids continue after each table's current maximum, PIN serials after the highest serial in
    use for the same sex and birth date, and legal ids avoid those in use, so loading into a
    database that already holds data works. The same (scale, seed) into an empty database
    always gives the same rows.
    """
    conn = await _connect(url)
    bar: _Bar | None = None
    try:
        async with conn.transaction():
            regions = await _regions(conn)
            next_ids, legal_ids, serials = await _keys_in_use(conn)
            gen = Generator(
                scale=scale,
                institution_scale=None if institutions is None else institutions / INSTITUTIONS,
                seed=seed,
                regions=regions,
                next_ids=next_ids,
                legal_ids=legal_ids,
                pin_serials=serials,
            )
            gen.plan()
            counts = dict.fromkeys(COLUMNS, 0)
            total = gen.total_units()
            # Some forty steps of progress, however small the dataset (the demo's is one batch
            # of the bulk size: the bar sat at 0 and jumped to the end).
            gen.batch_rows = max(PROGRESS_MIN_BATCH, min(gen.batch_rows, total // PROGRESS_STEPS))
            bar = _Bar(progress, total)
            bar.describe("Institutions")
            await _copy(conn, "institution", gen.institution_rows)
            counts["institution"] = len(gen.institution_rows)
            catchments = gen.catchment_area_rows()
            await _copy(conn, "catchment_area", catchments)
            counts["catchment_area"] = len(catchments)
            bar.describe("People")
            await _copy_people(conn, gen, counts, bar)
            bar.describe("Sequences")
            for table, written in counts.items():
                if written:
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) "
                        f"FROM {table}"
                    )
            bar.describe("Demo data")
        # Statistics for the planner and the visibility map for index-only scans, as
        # autovacuum would leave them some minutes later.
        bar.describe("Vacuum")
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(COLUMNS)}")
    finally:
        if bar is not None:
            bar.stop()
        await conn.close()
    return {COUNT_KEYS[table]: n for table, n in counts.items()}


async def _keys_in_use(
    conn: Any,
) -> tuple[dict[str, int], set[str], dict[tuple[int, int], int]]:
    """The next id of each table, the legal ids in use, and the next PIN serial per (sex
    digit, birth date) after those in use."""
    next_ids = {
        table: int(await conn.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))
        for table in COLUMNS
    }
    legal_ids = {
        r[0]
        for r in await conn.fetch("SELECT legal_id FROM institution WHERE legal_id IS NOT NULL")
    }
    serials: dict[tuple[int, int], int] = {}
    for r in await conn.fetch(
        "SELECT left(pin, 9) AS prefix, max(substr(pin, 10)::int) AS serial FROM ("
        " SELECT pin FROM person_pin UNION ALL"
        " SELECT pin FROM person WHERE pin IS NOT NULL) p"
        " WHERE pin ~ '^[12][0-9]{13}$' GROUP BY 1"
    ):
        prefix: str = r["prefix"]
        try:
            born = date(int(prefix[5:9]), int(prefix[3:5]), int(prefix[1:3]))
        except ValueError:
            continue
        serials[(int(prefix[0]), born.toordinal())] = int(r["serial"]) + 1
    return next_ids, legal_ids, serials


async def _copy_people(conn: Any, gen: Generator, counts: dict[str, int], bar: _Bar) -> None:
    """Copy the people's batches, counting rows per table.

    The next batch is generated in a thread while this one is copied; only one thread touches
    the generator at a time, so the output stays deterministic."""
    batches = gen.people()
    pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
    while True:
        batch = await pending
        if batch is None:
            break
        pending = asyncio.ensure_future(asyncio.to_thread(next, batches, None))
        for table in PEOPLE_TABLES:
            rows = batch.rows[table]
            if rows:
                await _copy(conn, table, rows)
                counts[table] += len(rows)
        bar.advance(batch.units)

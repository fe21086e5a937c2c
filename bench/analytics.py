"""Benchmark of the EMIS statistics at country scale (issue 19).

    python -m bench.analytics [--scale 1.0] [--samples 30] [--data-dir DIR]
                              [--measure-only] [--explain]

Seeds the demo dataset as ``bilim seed --scale`` does (binary COPY; into an embedded
PostgreSQL in ``--data-dir``, kept and reused when given, or DATABASE_URL), builds the census
rollups of five dates in full, then applies a day of changes (2,000 exits spread over the
country: once dated after the census, once back-dated before it) and runs the nightly refresh
(``bilim jobs run``: only the changed districts of the dates they alter); then measures through
the real GraphQL endpoint (in process, one request at a time, as an anonymous caller so
disclosure control runs, and as the ministry). Every figure carries the CPU time of the hub
process and of the PostgreSQL server (from /proc) and the load average, since wall-clock time
on a shared machine is noise. Every measured request is a document text new to the worker (a
numbered comment): the same text asked again is a kept answer (schema/http/kept.py), which
reads one version and runs none of the statistics:

* every one-dimension statistics query (p95 over dimensions x samples), target < 100 ms;
* two-dimension queries, target < 300 ms;
* the /stats page's two operations together, target < 1 s;
* ``_entities`` for 100 persons: SQL statements and time (target: one statement).

With ``--data-dir`` the seeded country is kept: a second run seeds nothing. ``--measure-only``
also skips the rollups' build and the day of changes (the rollups the first run left are
read). ``--explain`` adds, for every statistics query, the plan of each SQL statement the hub
sent for it, run again under ``EXPLAIN (ANALYZE, BUFFERS)``: PostgreSQL's execution time and
the buffers it touched, which a loaded machine changes far less than wall time.

Prints a table; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from models import database
from resolvers import analytics as analytics_service
from resolvers import demo
from resolvers.access import KeyRing, Role, issue_token
from resolvers.relay import encode_id
from resolvers.settings import Settings
from schema.http.stats import STATS_LATEST, STATS_YEARS

ONE = [
    "REGION",
    "DISTRICT",
    "SETTLEMENT",
    "INSTITUTION_KIND",
    "OWNERSHIP",
    "LEVEL",
    "GRADE",
    "SEX",
    "AGE",
    "LANGUAGE",
]
TWO = [
    ("REGION", "SEX"),
    ("DISTRICT", "GRADE"),
    ("GRADE", "SEX"),
    ("REGION", "LANGUAGE"),
    ("DISTRICT", "AGE"),
    ("LEVEL", "SETTLEMENT"),
]
STATISTICS = """
query Bench($measure: Measure!, $groupBy: [StatisticsDimension!]) {
  statistics(measure: $measure, groupBy: $groupBy) { total cells { count suppressed } }
}
"""
ENTITIES = """
query Entities($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id firstName } } }
"""
# A day of changes: this many school enrollments end.
DAY_OF_CHANGES = 2_000


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def seed(url: str, scale: float) -> str:
    if await demo.is_loaded(url):
        return "reused the seeded database"
    started = time.perf_counter()
    rows = await demo.load(url, scale=scale, seed=1, progress=True)
    summary = ", ".join(f"{k}: {v:,}" for k, v in rows.items())
    return f"seeded in {time.perf_counter() - started:.0f} s ({summary})"


def _ticks(pid: int) -> int:
    """User + system CPU of a process, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


class CpuMeter:
    """CPU seconds of this process and of the PostgreSQL server (its postmaster and every
    backend of it), so that figures taken on a loaded machine are not wall-clock noise. Reads
    /proc: the server must run on this machine (the embedded one does)."""

    def __init__(self, backend_pid: int | None) -> None:
        self.postmaster = (
            _parent(backend_pid) if backend_pid and _proc_readable(backend_pid) else None
        )

    def server(self) -> float:
        if self.postmaster is None:
            return float("nan")
        ticks = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (
                        int(entry.name) == self.postmaster
                        or _parent(int(entry.name)) == self.postmaster
                    ):
                        ticks += _ticks(int(entry.name))
                except (OSError, ValueError, IndexError):
                    continue
        return ticks / os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> tuple[float, float, float]:
        return time.perf_counter(), time.process_time(), self.server()

    @staticmethod
    def since(start: tuple[float, float, float], end: tuple[float, float, float]) -> str:
        wall, hub, server = (b - a for a, b in zip(start, end, strict=True))
        return (
            f"{wall:.1f} s wall, CPU {hub:.1f} s hub + {server:.1f} s PostgreSQL "
            f"(load {os.getloadavg()[0]:.1f})"
        )


def _proc_readable(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").exists()


def per_request(
    start: tuple[float, float, float], end: tuple[float, float, float], requests: int
) -> str:
    """CPU per request of the hub and of PostgreSQL (what an idle machine's latency is made
    of), with the load average beside it."""
    _, hub, server = ((b - a) / requests for a, b in zip(start, end, strict=True))
    return (
        f"CPU/request {hub * 1000:.1f} ms hub + {server * 1000:.1f} ms PostgreSQL "
        f"(load {os.getloadavg()[0]:.1f})"
    )


async def rollups(url: str) -> list[tuple[str, str]]:
    """The job's first build (every census date in full), then its nightly refresh after a
    day of changes (only the changed districts of the dates they alter), with CPU figures."""
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    out: list[tuple[str, str]] = []
    try:
        async with database.session_factory(engine)() as session:
            meter = CpuMeter(await session.scalar(text("SELECT pg_backend_pid()")))
            await session.commit()
            start = meter.snapshot()
            cells = await analytics_service.rebuild_recent(session)
            await session.commit()
            out.append(
                (
                    f"rollups: build 5 census dates in full ({sum(cells.values()):,} cells)",
                    CpuMeter.since(start, meter.snapshot()),
                )
            )
            latest = analytics_service.latest_census_date()
            days = (
                ("after the census (today)", latest + timedelta(days=30)),
                ("back-dated before the latest census", latest - timedelta(days=1)),
            )
            for shift, (label, exit_day) in enumerate(days):
                await _day_of_changes(session, exit_day, shift)
                start = meter.snapshot()
                touched = await analytics_service.refresh_recent(session)
                await session.commit()
                areas = await session.scalar(
                    text(
                        "SELECT coalesce(sum(areas), 0) FROM stat_refresh "
                        "WHERE census_date = ANY(:d)"
                    ),
                    {"d": [date.fromisoformat(d) for d in touched]},
                )
                out.append(
                    (
                        f"rollups: nightly refresh, {DAY_OF_CHANGES:,} exits {label}: "
                        f"{len(touched)} date(s), {areas} area(s) recounted",
                        CpuMeter.since(start, meter.snapshot()),
                    )
                )
    finally:
        await engine.dispose()
    return out


async def _day_of_changes(session: Any, exit_day: date, shift: int) -> None:
    """A day of changes: school enrollments spread over the country end (one open enrollment
    in 997, ``shift`` choosing which, so most districts are touched)."""
    await session.execute(
        text(
            "UPDATE enrollment SET exit_date = :day, exit_reason = 'transferred' "
            "WHERE id IN (SELECT id FROM enrollment WHERE sector = 'school' "
            "AND exit_date IS NULL AND entry_date <= :day AND id % 997 = :shift LIMIT :n)"
        ),
        {"day": exit_day, "n": DAY_OF_CHANGES, "shift": shift},
    )
    await session.commit()


async def measure(url: str, data_dir: Path, samples: int) -> list[tuple[str, str]]:
    from app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    app = create_app(settings)
    ring = KeyRing.load(settings)
    ministry = issue_token(ring, settings, role=Role.MINISTRY)
    out: list[tuple[str, str]] = []
    async with app.router.lifespan_context(app):
        async with app.state.engine.connect() as conn:
            meter = CpuMeter(await conn.scalar(text("SELECT pg_backend_pid()")))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            sent = itertools.count()

            async def timed(query: str, variables: dict[str, Any], token: str | None) -> float:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                # Each request a document text new to the worker (a numbered comment): the same
                # text asked again is a kept answer (schema/http/kept.py, one primary-key read),
                # and this measures the statistics themselves (parse and validation included).
                document = f"{query}\n# sample {next(sent)}\n"
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=headers
                )
                elapsed = time.perf_counter() - started
                body = response.json()
                assert "errors" not in body, body
                return elapsed

            for who, token in (("anonymous", None), ("ministry", ministry)):
                for label, groups in (
                    ("one dimension", [[d] for d in ONE]),
                    ("two dimensions", [list(p) for p in TWO]),
                ):
                    times: list[float] = []
                    start = meter.snapshot()
                    for group in groups:
                        await timed(STATISTICS, {"measure": "PUPILS", "groupBy": group}, token)
                        for _ in range(samples):
                            times.append(
                                await timed(
                                    STATISTICS, {"measure": "PUPILS", "groupBy": group}, token
                                )
                            )
                    out.append(
                        (
                            f"statistics, {label} ({who})",
                            f"median {ms(statistics.median(times))}, p95 {ms(p95(times))}; "
                            + per_request(start, meter.snapshot(), len(groups) * (samples + 1)),
                        )
                    )
            latest = analytics_service.latest_census_date()
            dates = {
                f"d{i}": date(latest.year - 5 + i, latest.month, latest.day).isoformat()
                for i in range(1, 6)
            }
            page_times = []
            start = meter.snapshot()
            for _ in range(samples):
                page_times.append(
                    await timed(STATS_LATEST, {}, None) + await timed(STATS_YEARS, dates, None)
                )
            out.append(
                (
                    "/stats page's two operations together",
                    f"median {ms(statistics.median(page_times))}, p95 {ms(p95(page_times))}; "
                    + per_request(start, meter.snapshot(), samples),
                )
            )
            engine = app.state.engine
            async with engine.connect() as conn:
                ids = list(
                    (
                        await conn.execute(text("SELECT id FROM person ORDER BY id LIMIT 100"))
                    ).scalars()
                )
            reps = [{"__typename": "Person", "id": encode_id("Person", i)} for i in ids]
            counter = database.StatementCounter()
            counter.attach_all(engine, app.state.read_engine)
            counter.reset()
            elapsed = await timed(ENTITIES, {"r": reps}, ministry)
            out.append(("_entities, 100 persons", f"{counter.count} statement(s), {ms(elapsed)}"))
    return out


class Captured:
    """The statements (driver SQL and parameters) an engine sends while attached."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        self.statements.append((statement, parameters))


def _plan_totals(plan: dict[str, Any]) -> tuple[float, int, int]:
    """(execution ms, shared buffers hit, shared buffers read) of one EXPLAIN JSON plan."""
    top = plan["Plan"]
    return (
        float(plan["Execution Time"]),
        int(top.get("Shared Hit Blocks", 0)),
        int(top.get("Shared Read Blocks", 0)),
    )


async def explain(url: str, data_dir: Path) -> list[tuple[str, str]]:
    """Each statistics query once (anonymous: disclosure control runs), every SELECT it sent
    explained with ANALYZE and BUFFERS on the server: what PostgreSQL spends per query."""
    from sqlalchemy import event

    from app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    app = create_app(settings)
    out: list[tuple[str, str]] = []
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            for group in [[d] for d in ONE] + [list(p) for p in TWO]:
                variables = {"measure": "PUPILS", "groupBy": group}
                await client.post("/graphql", json={"query": STATISTICS, "variables": variables})
                captured = Captured()
                event.listen(engine.sync_engine, "before_cursor_execute", captured)
                try:
                    # Another document text: the same one again is a kept answer, which sends
                    # none of the statistics' statements (schema/http/kept.py).
                    await client.post(
                        "/graphql",
                        json={"query": f"{STATISTICS}\n# explained\n", "variables": variables},
                    )
                finally:
                    event.remove(engine.sync_engine, "before_cursor_execute", captured)
                selects = [
                    (sql, params)
                    for sql, params in captured.statements
                    if sql.lstrip().upper().startswith(("SELECT", "WITH"))
                ]
                totals = []
                async with engine.connect() as conn:
                    for sql, params in selects:
                        plan = await conn.exec_driver_sql(
                            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params
                        )
                        totals.append(_plan_totals(plan.scalar_one()[0]))
                slowest = max(t[0] for t in totals)
                out.append(
                    (
                        f"EXPLAIN statistics by {' x '.join(group)}",
                        f"{len(selects)} SELECT(s): {sum(t[0] for t in totals):.1f} ms "
                        f"executing (slowest {slowest:.1f} ms), buffers hit "
                        f"{sum(t[1] for t in totals):,}, read {sum(t[2] for t in totals):,} "
                        f"(load {os.getloadavg()[0]:.1f})",
                    )
                )
    return out


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bilim-bench-analytics-") as tmp:
        folder = Path(args.data_dir) if args.data_dir else Path(tmp)
        pg = None
        if configured:
            url = configured
        else:
            pg = database.EmbeddedPostgres(folder)
            server = pg.start()
            await database.ensure_database(server, database.EMBEDDED_DATABASE)
            url = pg.url()
        try:
            await asyncio.to_thread(database.migrate, url)
            print(await seed(url, args.scale))
            results = [] if args.measure_only else await rollups(url)
            results += await measure(url, Path(tmp), args.samples)
            if args.explain:
                results += await explain(url, Path(tmp))
            width = max(len(k) for k, _ in results)
            print(f"\n{'measurement'.ljust(width)} | result")
            print(f"{'-' * width}-|-------")
            for key, value in results:
                print(f"{key.ljust(width)} | {value}")
        finally:
            if pg is not None:
                pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--data-dir", default=None, help="Keep the embedded database here.")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="Skip the rollups' build and the day of changes (a second run on --data-dir).",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="Also EXPLAIN (ANALYZE, BUFFERS) every statement of each statistics query.",
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

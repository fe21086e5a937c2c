"""Benchmark of the EMIS statistics at country scale (issue 19).

    python -m bench.analytics [--scale 1.0] [--samples 30] [--data-dir DIR]

Seeds the demo dataset as ``bilim seed --scale`` does (into an embedded PostgreSQL in
``--data-dir``, kept and reused when given, or DATABASE_URL), rebuilds the census rollups as
``bilim jobs run`` does, then applies a day of changes and rebuilds them again; then measures
through the real GraphQL endpoint (in process, one request at a time, as an anonymous caller
so disclosure control runs, and as the ministry):

* every one-dimension statistics query (p95 over dimensions x samples), target < 100 ms;
* two-dimension queries, target < 300 ms;
* the /stats page's two operations together, target < 1 s;
* ``_entities`` for 100 persons: SQL statements and time (target: one statement).

Prints a table; figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
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
# A day of changes: this many school enrollments end and as many pupils enroll elsewhere.
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


async def rollups(url: str) -> list[tuple[str, str]]:
    """The job's rebuild from scratch, then after a day of changes (latest date, all five)."""
    engine = database.create_engine(url, pool_size=1, max_overflow=0)
    out: list[tuple[str, str]] = []
    try:
        async with database.session_factory(engine)() as session:
            started = time.perf_counter()
            cells = await analytics_service.refresh_recent(session)
            await session.commit()
            out.append(
                (
                    "rollups: rebuild 5 census dates",
                    f"{time.perf_counter() - started:.1f} s ({sum(cells.values()):,} cells)",
                )
            )
            latest = analytics_service.latest_census_date()
            # a day of changes after the census: some pupils leave, as many join elsewhere
            await session.execute(
                text(
                    "UPDATE enrollment SET exit_date = :day, exit_reason = 'transferred' "
                    "WHERE id IN (SELECT id FROM enrollment WHERE sector = 'school' "
                    "AND exit_date IS NULL ORDER BY id LIMIT :n)"
                ),
                {"day": latest - timedelta(days=1), "n": DAY_OF_CHANGES},
            )
            await session.commit()
            started = time.perf_counter()
            await analytics_service.refresh(session, latest)
            await session.commit()
            out.append(
                ("rollups: refresh the latest date after a day", ms(time.perf_counter() - started))
            )
            started = time.perf_counter()
            await analytics_service.refresh_recent(session)
            await session.commit()
            out.append(
                (
                    "rollups: the job's refresh (5 dates) after a day",
                    f"{time.perf_counter() - started:.1f} s",
                )
            )
    finally:
        await engine.dispose()
    return out


async def measure(url: str, data_dir: Path, samples: int) -> list[tuple[str, str]]:
    from app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    app = create_app(settings)
    ring = KeyRing.load(settings)
    ministry = issue_token(ring, settings, role=Role.MINISTRY)
    out: list[tuple[str, str]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

            async def timed(query: str, variables: dict[str, Any], token: str | None) -> float:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                started = time.perf_counter()
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
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
                            f"median {ms(statistics.median(times))}, p95 {ms(p95(times))}",
                        )
                    )
            latest = analytics_service.latest_census_date()
            dates = {
                f"d{i}": date(latest.year - 5 + i, latest.month, latest.day).isoformat()
                for i in range(1, 6)
            }
            page_times = []
            for _ in range(samples):
                page_times.append(
                    await timed(STATS_LATEST, {}, None) + await timed(STATS_YEARS, dates, None)
                )
            out.append(
                (
                    "/stats page's two operations together",
                    f"median {ms(statistics.median(page_times))}, p95 {ms(p95(page_times))}",
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
            results = await rollups(url)
            results += await measure(url, Path(tmp), args.samples)
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
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

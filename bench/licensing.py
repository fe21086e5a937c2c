"""Licensing benchmark: the admission guard and public licence verification against a register
of many licences.

    python -m bench.licensing [--licences 20000] [--calls 2000]

Starts an embedded PostgreSQL in a temporary folder, builds the schema with the migrations,
bulk-loads private schools with licences, then times (1) `require_teaching_licence`, the check
every admission runs, on one session, and (2) `verifyLicence` over the in-process HTTP app.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import text

from models import EducationLevel, database

LOAD = [
    """INSERT INTO institution (kind, ownership, name, region_id, country_code, languages)
       SELECT 'school', 'private', 'Bench school ' || g, 8, 'KG', '{}'
       FROM generate_series(1, :n) g""",
    """INSERT INTO licence_application
         (institution_id, applied_as, applicant_subject, status, levels, submitted_on, due_on)
       SELECT id, 'institution', 'bench', 'approved', '{primary,basic,secondary}',
              DATE '2025-01-01', DATE '2025-01-21'
       FROM institution WHERE name LIKE 'Bench school %'""",
    """INSERT INTO licence (number, institution_id, application_id, status, levels, issued_on)
       SELECT 'KG-LIC-B-' || lpad(a.id::text, 7, '0'), a.institution_id, a.id,
              CASE WHEN a.id % 10 = 0 THEN 'suspended' ELSE 'active' END, a.levels,
              DATE '2025-01-01'
       FROM licence_application a""",
    "ANALYZE",
]


def _summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return f"p50 {statistics.median(ms):.2f} ms, p95 {p95:.2f} ms, n={len(ms)}"


async def _bench(url: str, licences: int, calls: int) -> None:
    from app import create_app
    from resolvers import licensing as licensing_service
    from resolvers.errors import DomainError
    from resolvers.settings import Settings

    engine = database.create_engine(url, pool_size=2)
    async with engine.begin() as conn:
        started = time.perf_counter()
        for stmt in LOAD:
            await conn.execute(text(stmt), {"n": licences} if ":n" in stmt else {})
        print(f"loaded {licences:,} licences in {time.perf_counter() - started:.1f} s")
        ids = list((await conn.execute(text("SELECT institution_id FROM licence"))).scalars())
        numbers = list((await conn.execute(text("SELECT number FROM licence"))).scalars())

    rng = random.Random(1)
    samples: list[float] = []
    refused = 0
    async with database.session_factory(engine)() as session:
        for _ in range(calls):
            inst = rng.choice(ids)
            started = time.perf_counter()
            try:
                await licensing_service.require_teaching_licence(
                    session,
                    institution_id=inst,
                    on=date(2026, 9, 1),
                    level=EducationLevel.PRIMARY,
                )
            except DomainError:
                refused += 1
            samples.append(time.perf_counter() - started)
            await session.rollback()
    print(f"require_teaching_licence: {_summary(samples)} ({refused} refused: suspended)")
    await engine.dispose()

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(database_url=url, data_dir=Path(data_dir), environment="test"))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                query = (
                    "query V($n: String!) { verifyLicence(number: $n) "
                    "{ number status validToday institution { name } addresses { address } } }"
                )
                samples = []
                for _ in range(min(calls, 1000)):
                    started = time.perf_counter()
                    response = await client.post(
                        "/graphql",
                        json={"query": query, "variables": {"n": rng.choice(numbers)}},
                    )
                    samples.append(time.perf_counter() - started)
                    assert response.status_code == 200
    print(f"verifyLicence over HTTP (in process, anonymous): {_summary(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--licences", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pg = database.EmbeddedPostgres(Path(folder))
        server = pg.start()
        try:
            asyncio.run(database.ensure_database(server, "bench_licensing"))
            url = pg.url("bench_licensing")
            database.migrate(url)
            asyncio.run(_bench(url, args.licences, args.calls))
        finally:
            pg.stop()


if __name__ == "__main__":
    main()

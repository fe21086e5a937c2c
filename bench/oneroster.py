"""Benchmark of the OneRoster 1.2 endpoints (issue 15) on the LMS benchmark's dataset.

    python -m bench.oneroster [--pupils 20000] [--weeks 2] [--samples 60]
                              [--data-dir DIR [--reuse]] [--export]

Generates the dataset of :mod:`bench.lms` (last school year's classes, lessons and marks;
``--reuse`` measures a ``--data-dir`` that ``bench.lms`` or this module loaded), creates a
partner's key granted the roster and gradebook scope and personal data, and measures through
the real endpoints, in process, one request at a time: a class's lineItems, a class's
results, a school's students, one user by sourcedId and a page of 100 of the country's
enrollments. For each: wall p50/p95 and what a loaded machine does not distort, CPU ms per
request of the hub and of PostgreSQL and statements per request (:mod:`bench.lms_meter`),
then the plan of each statement of one request (EXPLAIN ANALYZE, BUFFERS).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.lms import existing, load
from bench.lms_meter import HEADER, Figures, Meter, load_average
from models import database
from resolvers.access.keys import hash_secret, load_pepper
from resolvers.settings import Settings

ROSTER = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"


async def _key(url: str, settings: Settings) -> str:
    """A partner's key with the roster and gradebook scope and personal data."""
    prefix, secret = f"b{uuid.uuid4().hex[:7]}", uuid.uuid4().hex
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO api_key (prefix, secret_hash, name, created_by, expires_at,"
            " allowed_fields, personal_data, region_ids, points_per_hour)"
            " VALUES ($1, $2, 'OneRoster bench', 'bench', $3, $4, true, '{}', 10000000)",
            prefix,
            hash_secret(load_pepper(settings), secret),
            datetime.now(UTC) + timedelta(days=1),
            ["ClassGroup.*", "Person.*", "Mark.*"],
        )
    finally:
        await conn.close()
    return f"bk_{prefix}_{secret}"


async def _rebuild_roster(url: str) -> None:
    """bench.lms loads with triggers off: fill the kept OneRoster users and enrollments
    (migration 0042) as the triggers would have."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT oneroster_rebuild()")
        await conn.execute("ANALYZE oneroster_user, oneroster_enrollment")
    finally:
        await conn.close()


async def _paths(conn: asyncpg.Connection, samples: int) -> dict[str, list[str]]:
    """Paths of each kind of request, over random classes, schools and pupils."""
    classes = await conn.fetch(
        "SELECT DISTINCT s.gid, k.institution_id FROM mark m"
        " JOIN class_subject s ON s.class_group_id = m.class_group_id"
        " AND s.subject_id = m.subject_id JOIN class_group k ON k.id = m.class_group_id"
        " WHERE m.superseded_at IS NULL AND m.id % 97 = 0 LIMIT $1",
        samples,
    )
    schools = await conn.fetch(
        "SELECT gid FROM institution WHERE kind = 'school' ORDER BY random() LIMIT $1", samples
    )
    pupils = await conn.fetch(
        "SELECT p.gid FROM class_membership c JOIN person p ON p.id = c.pupil_id"
        " ORDER BY random() LIMIT $1",
        samples,
    )
    since = "2000-01-01T00:00:00Z"
    return {
        "a class's students (page of 100)": [
            f"{ROSTER}/classes/{c['gid']}/students" for c in classes
        ],
        "users changed since a time (dateLastModified filter, page of 100)": [
            f"{ROSTER}/users?filter=dateLastModified>'{since}'" for _ in pupils
        ],
        "enrollments, the page after a sourcedId (the Link's keyset)": [
            f"{ROSTER}/enrollments?offset=100000&after=m{5000 + i * 97}" for i in range(len(pupils))
        ],
        "a class's lineItems": [f"{GRADEBOOK}/classes/{c['gid']}/lineItems" for c in classes],
        "a class's results (page of 100)": [
            f"{GRADEBOOK}/classes/{c['gid']}/results" for c in classes
        ],
        "a school's students (page of 100)": [
            f"{ROSTER}/schools/{s['gid']}/students" for s in schools
        ],
        "one user by sourcedId": [f"{ROSTER}/users/{p['gid']}" for p in pupils],
        "enrollments, a page of 100 at offset 1,000": [
            f"{ROSTER}/enrollments?offset=1000" for _ in pupils
        ],
    }


async def _export(meter: Meter, app: Any, key: str, folder: Path) -> str:
    """One export of the country's CSV binding zip, as ``bilim export oneroster`` writes it
    (a file; the HTTP endpoint streams the same writer): seconds, size, CPU of the hub and of
    PostgreSQL, and how much the process's peak memory grew (it streams: it should not)."""
    from resolvers.access.fields import personal_fields
    from resolvers.access.keys import principal_from_key
    from resolvers.lms.oneroster import bulk
    from schema import schema

    target = folder / "oneroster-bench.zip"
    before_pg = await meter._pg_cpu(set())
    cpu, started = time.process_time(), time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with app.state.engine.connect() as conn:
        principal = await principal_from_key(conn, load_pepper(app.state.settings), key)
        with target.open("wb") as stream:
            counts = await bulk.write_zip(
                conn,
                principal,
                stream,
                scope=bulk.Scope(),
                base_url="http://hub",
                personal=personal_fields(schema._schema),
            )
    hub = time.process_time() - cpu
    wall = time.perf_counter() - started
    after_pg = await meter._pg_cpu(set(before_pg))
    pg = sum(after_pg[p] - before_pg.get(p, 0.0) for p in after_pg)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    size = target.stat().st_size
    target.unlink()
    rows = ", ".join(f"{k} {v:,}" for k, v in counts.items())
    return (
        f"\nthe country's CSV zip: {size / 1e6:.1f} MB ({rows}) in {wall:.1f} s wall;"
        f" hub CPU {hub:.1f} s, PostgreSQL CPU {pg:.1f} s; peak RSS grew {grown / 1024:.0f} MB"
        f" (at {load_average()})"
    )


async def measure(
    url: str, data_dir: Path, args: argparse.Namespace
) -> tuple[list[Figures], list[str]]:
    from app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    key = await _key(url, settings)
    app = create_app(settings)
    conn = await asyncpg.connect(url)
    figures: list[Figures] = []
    plans: list[str] = []
    async with app.router.lifespan_context(app):
        meter = Meter(conn, app.state.engine)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

            def request(path: str) -> Callable[[], Awaitable[None]]:
                async def send() -> None:
                    response = await client.get(path, headers=headers)
                    assert response.status_code == 200, response.text

                return send

            for name, paths in (await _paths(conn, args.samples)).items():
                figures.append(await meter.measure(name, [request(p) for p in paths]))
                plans.append(f"\n{name}:")
                plans.extend(await meter.explain())
            if args.export:
                plans.append(await _export(meter, app, key, data_dir))
    await conn.close()
    return figures, plans


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    folder = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="bilim-or-"))
    pg = None
    if configured:
        server = database.plain_url(configured)
    else:
        pg = database.EmbeddedPostgres(folder)
        server = pg.start()
    try:
        from sqlalchemy.engine import make_url

        name = "bench_lms" if args.data_dir else f"bench_or_{uuid.uuid4().hex[:8]}"
        url = database.plain_url(make_url(server).set(database=name))
        if args.reuse:
            await existing(url, args)
            # A kept database from before migration 0042 gains the kept roster here.
            await asyncio.to_thread(database.migrate, url)
        else:
            await database.ensure_database(server, name)
            await asyncio.to_thread(database.migrate, url)
            data = await load(url, args)
            await _rebuild_roster(url)
            print(f"generated in {data['load_seconds']:.1f} s ({data['schools']:,} schools):")
            for table, count in data["counts"].items():
                print(f"  {table}: {count:,}")
        print(f"measured at {load_average()}")
        figures, plans = await measure(url, folder, args)
        print(f"\n{HEADER}")
        for each in figures:
            print(each.row())
        print(f"(after: {load_average()})")
        print("\nplans of one request each (EXPLAIN ANALYZE, BUFFERS):" + "\n".join(plans))
    finally:
        if pg is not None:
            pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=20_000)
    parser.add_argument("--class-size", type=float, default=28.6)
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--data-dir", default=None, help="keep the embedded database here")
    parser.add_argument("--reuse", action="store_true", help="measure --data-dir's data again")
    parser.add_argument("--export", action="store_true", help="also download the CSV zip once")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

"""Benchmark of the kindergarten queue and first-grade enrollment at national scale.

    python -m bench.preschool [--children 100000] [--kindergartens 1500] [--schools 2300]
                              [--applications 150000] [--samples 300]

Builds a fresh database (embedded PostgreSQL unless DATABASE_URL is set), loads a synthetic
queue and first-grade season by bulk COPY, then measures through the real GraphQL endpoint
(in process, one request at a time):

* one guardian's queue positions (the portal's ``MyKindergartenApplications``): median, p95;
* offering 1,000 places (``offerPlaces`` on 40 kindergartens x 5 age groups x 5 places);
* allocating first-grade places for every school in one ``allocateFirstGradePlaces``.

Deterministic (seeded); prints a table. Targets (issue 3): < 20 ms median, < 2 s, < 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from models import database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.clock import today
from resolvers.relay import encode_id
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent / "portals"
GROUPS = [("2-3", 2), ("3-4", 3), ("4-5", 4), ("5-6", 5), ("6-7", 6)]


async def _copy(conn: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def _setval(conn: Any, table: str) -> None:
    await conn.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
    )


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Load the synthetic dataset; return what the measurements need."""
    rng = random.Random(args.seed)
    on = today()
    conn = await asyncpg.connect(url)
    try:
        kg_year = on.year
        fg_year = on.year + 1 if on.month >= 9 else on.year
        await conn.execute(
            "UPDATE intake_season SET starts_on = $1, ends_on = $2 WHERE kind = 'kindergarten'"
            " AND year = $3",
            on - timedelta(days=100),
            on + timedelta(days=200),
            kg_year,
        )
        kg_season = await conn.fetchval(
            "SELECT id FROM intake_season WHERE kind = 'kindergarten' AND year = $1", kg_year
        )
        fg_season = await conn.fetchval(
            "SELECT id FROM intake_season WHERE kind = 'first_grade' AND year = $1", fg_year
        )
        assert kg_season, "the migration seeds this year's seasons"
        assert fg_season, "the migration seeds this year's seasons"
        kg_benefit = await conn.fetchval(
            "SELECT id FROM benefit_category WHERE season_id = $1 LIMIT 1", kg_season
        )
        fg_benefits = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM benefit_category WHERE season_id = $1", fg_season
            )
        ]
        districts = [tuple(r) for r in await conn.fetch("SELECT id, region_id FROM district")]

        # institutions
        inst_rows = []
        next_id = 1
        kg_ids, school_ids = [], []
        for i in range(args.kindergartens):
            d, r = districts[i % len(districts)]
            inst_rows.append(
                (
                    next_id,
                    "kindergarten",
                    "municipal",
                    f"Бала бакча №{i + 1}",
                    r,
                    d,
                    ["ky", "ru"],
                    rng.randint(80, 300),
                )
            )
            kg_ids.append(next_id)
            next_id += 1
        for i in range(args.schools):
            d, r = districts[i % len(districts)]
            inst_rows.append(
                (
                    next_id,
                    "school",
                    "state",
                    f"Орто мектеп №{i + 1}",
                    r,
                    d,
                    ["ky", "ru"],
                    rng.choice([300, 600, 900, 1200]),
                )
            )
            school_ids.append(next_id)
            next_id += 1
        await _copy(
            conn,
            "institution",
            [
                "id",
                "kind",
                "ownership",
                "name",
                "region_id",
                "district_id",
                "languages",
                "design_capacity",
            ],
            inst_rows,
        )
        await _setval(conn, "institution")

        # people: guardians, queue children, first-grade children
        people: list[tuple[Any, ...]] = []
        pid = 1
        guardians = list(range(pid, pid + args.children * 7 // 10))
        for g in guardians:
            people.append((g, "Сыдыкова", "Гульнара", "female", date(1990, 1, 1)))
        pid += len(guardians)
        queue_children = []
        for i in range(args.children):
            years = GROUPS[i % len(GROUPS)][1]
            born = date(kg_year - years, 1 + i % 12, 1 + i % 28)
            people.append((pid, "Асанов", "Айбек", "male", born))
            queue_children.append((pid, GROUPS[i % len(GROUPS)][0]))
            pid += 1
        fg_children = []
        for i in range(args.applications):
            born = date(fg_year - 6, 1 + i % 12, 1 + i % 28)
            people.append((pid, "Бакиров", "Эмир", "male", born))
            fg_children.append(pid)
            pid += 1
        await _copy(conn, "person", ["id", "last_name", "first_name", "sex", "birth_date"], people)
        await _setval(conn, "person")
        links = [
            (g, c, "mother")
            for c, g in (
                (c, guardians[i % len(guardians)]) for i, (c, _) in enumerate(queue_children)
            )
        ]
        links += [(guardians[i % len(guardians)], c, "mother") for i, c in enumerate(fg_children)]
        await _copy(conn, "guardianship", ["guardian_id", "child_id", "kind"], links)

        # the kindergarten queue
        t0 = datetime(on.year - 2, 1, 1, tzinfo=UTC)
        apps, prefs = [], []
        for i, (child, group) in enumerate(queue_children):
            app_id = i + 1
            benefit = rng.random() < 0.1
            apps.append(
                (
                    app_id,
                    child,
                    guardians[i % len(guardians)],
                    kg_season,
                    t0 + timedelta(minutes=rng.randint(0, 1_000_000)),
                    "waiting",
                    kg_year,
                    group,
                    kg_benefit if benefit else None,
                    "verified" if benefit else "none",
                    "справка" if benefit else None,
                    "resident",
                )
            )
            home = rng.randrange(len(kg_ids))
            for rank in range(1, rng.randint(1, 3) + 1):
                kg = kg_ids[(home + rank * 7) % len(kg_ids)] if rank > 1 else kg_ids[home]
                prefs.append((app_id, kg, rank))
        await _copy(
            conn,
            "kindergarten_application",
            [
                "id",
                "child_id",
                "guardian_id",
                "season_id",
                "registered_at",
                "status",
                "intake_year",
                "age_group",
                "benefit_category_id",
                "benefit_status",
                "benefit_proof",
                "residency",
            ],
            apps,
        )
        await _setval(conn, "kindergarten_application")
        await _copy(
            conn, "kindergarten_preference", ["application_id", "kindergarten_id", "rank"], prefs
        )

        # first grade: verified applications; a fifth of the children attend a kindergarten
        school_year = date(fg_year, 9, 1)
        fg_apps, enrollments = [], []
        for i, child in enumerate(fg_children):
            category = fg_benefits[i % len(fg_benefits)] if rng.random() < 0.08 else None
            fg_apps.append(
                (
                    fg_season,
                    child,
                    guardians[i % len(guardians)],
                    school_ids[i % len(school_ids)],
                    "ky",
                    1,
                    False,
                    "catchment",
                    "I-АН 000001",
                    rng.random() < 0.7,
                    category,
                    "verified" if category else "none",
                    "справка" if category else None,
                    t0 + timedelta(minutes=rng.randint(0, 1_000_000)),
                    "verified",
                )
            )
            if i % 5 == 0:
                enrollments.append(
                    (child, kg_ids[i % len(kg_ids)], "preschool", school_year - timedelta(days=700))
                )
        await _copy(
            conn,
            "first_grade_application",
            [
                "season_id",
                "child_id",
                "guardian_id",
                "school_id",
                "language",
                "grade_level",
                "finished_preschool_programme",
                "stage",
                "birth_certificate",
                "catchment",
                "benefit_category_id",
                "benefit_status",
                "benefit_proof",
                "applied_at",
                "status",
            ],
            fg_apps,
        )
        await _copy(
            conn, "enrollment", ["person_id", "institution_id", "sector", "entry_date"], enrollments
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {
        "kg_ids": kg_ids,
        "guardians": guardians,
        "fg_season": fg_season,
        "people": len(people),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def measure(
    url: str, data_dir: Path, data: dict[str, Any], samples: int
) -> list[tuple[str, str]]:
    from app import create_app

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    app = create_app(settings)
    ring = KeyRing.load(settings)
    results: list[tuple[str, str]] = []
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:

            async def gql(query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
                response = await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {token}"},
                )
                body: dict[str, Any] = response.json()
                assert "errors" not in body, body
                return body

            # 1. one guardian's queue positions
            positions = (
                PORTALS / "kindergarten-queue" / "MyKindergartenApplications.graphql"
            ).read_text()
            timings = []
            guardians = rng.sample(data["guardians"], samples)
            for g in guardians[:20]:  # warm the pools and caches
                await gql(
                    positions, {}, issue_token(ring, settings, role=Role.GUARDIAN, person_id=g)
                )
            for g in guardians:
                token = issue_token(ring, settings, role=Role.GUARDIAN, person_id=g)
                started = time.perf_counter()
                body = await gql(positions, {}, token)
                timings.append(time.perf_counter() - started)
                assert body["data"]["kindergartenApplications"]["nodes"]
            timings.sort()
            results.append(("guardian's queue positions, median", _ms(statistics.median(timings))))
            results.append(
                ("guardian's queue positions, p95", _ms(timings[int(len(timings) * 0.95)]))
            )

            # 2. offering 1,000 places: 40 kindergartens x 5 age groups x 5 places
            ministry = issue_token(ring, settings, role=Role.MINISTRY)
            declare = (PORTALS / "kindergarten-queue" / "DeclareFreePlaces.graphql").read_text()
            offer = (PORTALS / "kindergarten-queue" / "OfferPlaces.graphql").read_text()
            chosen = rng.sample(data["kg_ids"], 40)
            for kg in chosen:
                for group, _ in GROUPS:
                    await gql(
                        declare,
                        {
                            "input": {
                                "kindergartenId": encode_id("Institution", kg),
                                "ageGroup": group,
                                "freePlaces": 5,
                            }
                        },
                        ministry,
                    )
            made = 0
            started = time.perf_counter()
            for kg in chosen:
                body = await gql(
                    offer, {"input": {"kindergartenId": encode_id("Institution", kg)}}, ministry
                )
                made += len(body["data"]["offerPlaces"]["offers"])
            elapsed = time.perf_counter() - started
            results.append((f"offering {made:,} places (40 offerPlaces calls)", _ms(elapsed)))

            # 3. first-grade allocation of every school in one call
            allocate = (PORTALS / "first-grade" / "AllocateFirstGradePlaces.graphql").read_text()
            started = time.perf_counter()
            body = await gql(
                allocate,
                {"input": {"seasonId": encode_id("IntakeSeason", data["fg_season"])}},
                ministry,
            )
            elapsed = time.perf_counter() - started
            out = body["data"]["allocateFirstGradePlaces"]
            results.append(
                (
                    f"allocating first grade ({out['schools']:,} school grades; "
                    f"{out['admitted']:,} admitted, {out['waitlisted']:,} waitlisted)",
                    f"{elapsed:.2f} s",
                )
            )
    return results


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bilim-bench-preschool-") as tmp:
        pg = None
        if configured:
            server = database.plain_url(configured)
        else:
            pg = database.EmbeddedPostgres(Path(tmp))
            server = pg.start()
        try:
            name = f"bench_preschool_{uuid.uuid4().hex[:8]}"
            await database.ensure_database(server, name)
            from sqlalchemy.engine import make_url

            url = database.plain_url(make_url(server).set(database=name))
            await asyncio.to_thread(database.migrate, url)
            started = time.perf_counter()
            data = await load(url, args)
            print(
                f"loaded {data['people']:,} people and both intakes in "
                f"{time.perf_counter() - started:.1f} s"
            )
            results = await measure(url, Path(tmp), data, args.samples)
            width = max(len(k) for k, _ in results)
            print(f"\n{'measurement'.ljust(width)} | result")
            print(f"{'-' * width}-|-------")
            for key, value in results:
                print(f"{key.ljust(width)} | {value}")
        finally:
            if pg is not None:
                pg.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--kindergartens", type=int, default=1_500)
    parser.add_argument("--schools", type=int, default=2_300)
    parser.add_argument("--applications", type=int, default=150_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

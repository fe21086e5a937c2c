"""University admission at national scale: 60,000 applicants with 5 choices each over 1,500
programmes. Measures publishing a round (ranking every programme and pool, writing the
recommended lists) and an applicant's page (the portal's `MyApplications` query).

    python -m bench.admission [--applicants 60000] [--programmes 1500] [--pages 300]

Runs on an embedded PostgreSQL in a temporary folder unless DATABASE_URL names a server (the
database named there is dropped and recreated). The hub is called in process over HTTP (ASGI),
so the figures include GraphQL parsing, validation, authorization and serialisation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from app import create_app
from models import database
from models.people import Sex
from resolvers import clock
from resolvers.access import KeyRing, Role, issue_token
from resolvers.people.pin import make_pin
from resolvers.relay import encode_id
from resolvers.settings import Settings

PORTAL = Path(__file__).resolve().parent.parent / "portals" / "university-admission"
SUBJECTS = ("math", "physics", "chemistry", "biology", "history", "english")
FIELDS = ("engineering", "economics", "health", "teacher_education", "agriculture", "law")
GRANT_PLACES = {"bishkek": 5, "regional_town": 4, "rural": 6, "high_altitude": 2, "orphan": 1}
CONTRACT_PLACES = 20
CHOICES = 5


async def _reset(server_url: str, name: str) -> str:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database.plain_url(make_url(server_url).set(database=name))


async def load(url: str, *, applicants: int, programmes: int, seed: int) -> dict[str, Any]:
    """Bulk-load (COPY) a season, its programmes and applicants with their certificates,
    school records and five applications each; returns the ids the benchmark needs."""
    rng = random.Random(seed)
    today = clock.today()
    conn = await asyncpg.connect(url)
    try:
        districts = await conn.fetch(
            "SELECT d.id, d.region_id, p.pool FROM district d "
            "JOIN admission_district_pool p ON p.district_id = d.id ORDER BY d.id"
        )
        season_id = await conn.fetchval(
            "INSERT INTO admission_season (year, intake, name, max_choices, main_score_max, "
            "subject_score_max, state_language_score_max, main_threshold, subject_threshold, "
            "state_language_threshold, studies_start) VALUES "
            "($1, 'main', 'Bench', 5, 245, 150, 150, 110, 60, 50, $2) RETURNING id",
            today.year,
            date(today.year, 9, 1),
        )
        round_id = await conn.fetchval(
            "INSERT INTO admission_round (season_id, number, registration_opens, "
            "registration_closes, publication_on, confirmation_opens, confirmation_closes) "
            "VALUES ($1, 1, $2, $3, $4, $4, $5) RETURNING id",
            season_id,
            today - timedelta(days=20),
            today - timedelta(days=1),
            today,
            today + timedelta(days=5),
        )
        # Schools across every district (the applicant's pool comes from theirs).
        schools = await conn.fetch(
            "INSERT INTO institution (kind, ownership, name, region_id, district_id) "
            "SELECT 'school', 'state', 'Bench school ' || g, d.region_id, d.id "
            "FROM generate_series(1, 10) g CROSS JOIN district d RETURNING id, district_id"
        )
        pool_of = {d["id"]: d["pool"] for d in districts}
        universities = [
            await conn.fetchval(
                "INSERT INTO institution (kind, ownership, name, region_id) "
                "VALUES ('university', 'state', $1, 8) RETURNING id",
                f"Bench university {u}",
            )
            for u in range(max(1, programmes // 30))
        ]
        # State universities need a licence too (issue 5): each holds one for higher education.
        await conn.execute(
            "WITH a AS (INSERT INTO licence_application (institution_id, applied_as, "
            "applicant_subject, status, levels, submitted_on, due_on) "
            "SELECT u, 'institution', 'bench', 'approved', '{higher}', DATE '2025-01-01', "
            "DATE '2025-01-21' FROM unnest($1::int[]) u RETURNING id, institution_id, levels) "
            "INSERT INTO licence (number, institution_id, application_id, status, levels, "
            "issued_on) SELECT 'KG-LIC-U-' || lpad(a.id::text, 7, '0'), a.institution_id, a.id, "
            "'active', a.levels, DATE '2025-01-01' FROM a",
            universities,
        )
        programme_rows = []
        for p in range(programmes):
            required = rng.sample(SUBJECTS, rng.choice((1, 2)))
            programme_rows.append(
                (
                    season_id,
                    universities[p % len(universities)],
                    f"B{p:05d}",
                    f"Programme {p}",
                    rng.choice(FIELDS),
                    required,
                )
            )
        await conn.copy_records_to_table(
            "admission_programme",
            records=programme_rows,
            columns=[
                "season_id",
                "institution_id",
                "code",
                "name",
                "field_of_study",
                "required_subjects",
            ],
        )
        progs = await conn.fetch(
            "SELECT id, required_subjects FROM admission_programme WHERE season_id = $1 "
            "ORDER BY id",
            season_id,
        )
        places = [
            (p["id"], category, count)
            for p in progs
            for category, count in (*GRANT_PLACES.items(), ("contract", CONTRACT_PLACES))
        ]
        await conn.copy_records_to_table(
            "admission_programme_places",
            records=places,
            columns=["programme_id", "category", "places"],
        )

        first_person = (await conn.fetchval("SELECT coalesce(max(id), 0) FROM person")) + 1
        people, pins, enrollments, results, applications = [], [], [], [], []
        first_result = (
            await conn.fetchval("SELECT coalesce(max(id), 0) FROM admission_test_result")
        ) + 1
        for i in range(applicants):
            person_id = first_person + i
            sex = Sex.FEMALE if i % 2 else Sex.MALE
            birth = date(today.year - 17, 1, 1) + timedelta(days=rng.randrange(365))
            pin = make_pin(sex=sex, birth_date=birth, serial=i)
            people.append((person_id, pin, f"Фамилия{i}", f"Имя{i}", sex.value, birth))
            pins.append((person_id, pin, "issued"))
            school = schools[rng.randrange(len(schools))]
            enrollments.append((person_id, school["id"], "school", date(today.year - 11, 9, 1), 11))
            main = max(110, min(245, int(rng.gauss(160, 30))))
            subjects = {s: max(60, min(150, int(rng.gauss(95, 20)))) for s in SUBJECTS}
            state_language = rng.randint(50, 150)
            result_id = first_result + i
            results.append(
                (
                    result_id,
                    f"BENCH{i:08d}",
                    person_id,
                    today.year,
                    main,
                    state_language,
                    json.dumps(subjects),
                )
            )
            pool = pool_of[school["district_id"]]
            for preference, p in enumerate(rng.sample(range(len(progs)), CHOICES), start=1):
                funding = rng.choices(("grant", "both", "contract"), (4, 4, 2))[0]
                prog = progs[p]
                applications.append(
                    (
                        season_id,
                        person_id,
                        prog["id"],
                        result_id,
                        preference,
                        funding,
                        None if funding == "contract" else pool,
                        main,
                        sum(subjects[s] for s in prog["required_subjects"]),
                        state_language,
                        1,
                    )
                )
        await conn.copy_records_to_table(
            "person",
            records=people,
            columns=["id", "pin", "last_name", "first_name", "sex", "birth_date"],
        )
        await conn.copy_records_to_table(
            "person_pin", records=pins, columns=["person_id", "pin", "reason"]
        )
        await conn.copy_records_to_table(
            "enrollment",
            records=enrollments,
            columns=["person_id", "institution_id", "sector", "entry_date", "grade_level"],
        )
        await conn.copy_records_to_table(
            "admission_test_result",
            records=results,
            columns=[
                "id",
                "certificate_number",
                "person_id",
                "year",
                "main_score",
                "state_language_score",
                "subject_scores",
            ],
        )
        await conn.copy_records_to_table(
            "admission_application",
            records=applications,
            columns=[
                "season_id",
                "person_id",
                "programme_id",
                "test_result_id",
                "preference",
                "funding",
                "grant_category",
                "main_score",
                "subject_score",
                "state_language_score",
                "round_number",
            ],
        )
        for table in ("person", "admission_test_result", "admission_application"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return {
        "season_id": season_id,
        "round_id": round_id,
        "first_person": first_person,
        "applications": len(applications),
    }


async def measure(url: str, ids: dict[str, Any], *, applicants: int, pages: int) -> dict[str, Any]:
    """Publish the round through the hub, then time applicants' pages."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(database_url=url, data_dir=Path(data_dir), environment="test")
        app = create_app(settings)
        ring = KeyRing.load(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                ministry = issue_token(ring, settings, role=Role.MINISTRY)
                started = time.perf_counter()
                response = await client.post(
                    "/graphql",
                    json={
                        "query": "mutation($id: ID!) { publishRound(input: {roundId: $id}) "
                        "{ recommended userErrors { code message } } }",
                        "variables": {"id": encode_id("AdmissionRound", ids["round_id"])},
                    },
                    headers={"Authorization": f"Bearer {ministry}"},
                    timeout=120,
                )
                publish_seconds = time.perf_counter() - started
                body = response.json()
                assert not body.get("errors"), body
                payload = body["data"]["publishRound"]
                assert payload["userErrors"] == [], payload
                page = (PORTAL / "MyApplications.graphql").read_text()
                rng = random.Random(7)
                timings = []
                for _ in range(pages):
                    person_id = ids["first_person"] + rng.randrange(applicants)
                    token = issue_token(ring, settings, role=Role.PUPIL, person_id=person_id)
                    t0 = time.perf_counter()
                    response = await client.post(
                        "/graphql",
                        json={
                            "query": page,
                            "variables": {"personId": encode_id("Person", person_id)},
                        },
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    timings.append(time.perf_counter() - t0)
                    data = response.json()
                    assert "errors" not in data, data
                    assert len(data["data"]["admissionApplications"]["nodes"]) == CHOICES
    timings.sort()
    return {
        "publish_seconds": publish_seconds,
        "recommended": payload["recommended"],
        "page_median_ms": statistics.median(timings) * 1000,
        "page_p95_ms": timings[int(len(timings) * 0.95) - 1] * 1000,
    }


async def main_async(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    pg = None
    if configured:
        server = database.plain_url(make_url(configured).set(database="postgres"))
    else:
        pg = database.EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="bilim-bench-")))
        pg.start()
        server = pg.url("postgres")
    try:
        url = await _reset(server, "bilim_bench_admission")
        await asyncio.to_thread(database.migrate, url)
        t0 = time.perf_counter()
        ids = await load(url, applicants=args.applicants, programmes=args.programmes, seed=1)
        load_seconds = time.perf_counter() - t0
        result = await measure(url, ids, applicants=args.applicants, pages=args.pages)
    finally:
        if pg is not None:
            pg.stop()
    print(f"applicants            {args.applicants:>10,}")
    print(f"programmes            {args.programmes:>10,}")
    print(f"applications          {ids['applications']:>10,}")
    print(f"dataset load (COPY)   {load_seconds:>10.1f} s")
    print(f"publish round 1       {result['publish_seconds']:>10.2f} s")
    print(f"places recommended    {result['recommended']:>10,}")
    print(f"applicant page median {result['page_median_ms']:>10.1f} ms")
    print(f"applicant page p95    {result['page_p95_ms']:>10.1f} ms  ({args.pages} pages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=60_000)
    parser.add_argument("--programmes", type=int, default=1_500)
    parser.add_argument("--pages", type=int, default=300)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

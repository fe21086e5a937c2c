"""Benchmark of the school LMS at country scale (issue 15).

    python -m bench.lms [--pupils 400000] [--class-size 28.6] [--weeks 8] [--samples 200]
                        [--workers 2]

Builds a fresh database (embedded PostgreSQL unless DATABASE_URL is set) and generates, in
SQL, last school year's classes of the country: schools of 6 classes, classes of
``--class-size`` pupils (400,000 pupils are ~14,000 classes) in grades 1-11, each pupil
enrolled and in their class, three teachers per class, 30 weekly slots per class, and the
first ``--weeks`` weeks of lessons with a mark for a quarter of the pupil-lessons and an
absence for one in twenty (a term at 400,000 pupils: ~3.4 million lessons, ~24 million marks,
~5 million absences). The load runs with ``session_replication_role = replica`` (no triggers,
no foreign key checks: the generator makes valid rows by construction; CHECKs and exclusion
constraints still hold). Then it measures through the real GraphQL endpoint, in process:

* a guardian's week of the diary (``portals/lms/Diary.graphql``): median, p95;
* a class's gradebook for a term and subject (``ClassGradebook``): median, p95;
* marking a class in one ``recordMarks`` (``RecordMarks``, after ``recordClassLesson``):
  median, p95;
* year-end promotion for the country: ``closeAcademicYear`` (the ministry) and
  ``--workers`` processes working off the schools' closures.

Targets: diary p50 < 15 ms, gradebook p50 < 25 ms, marking p50 < 40 ms, promotion < 5 min.
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
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from models import database
from resolvers import clock
from resolvers.access import KeyRing, Role, issue_token
from resolvers.lms import default_terms
from resolvers.relay import encode_id
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent / "portals" / "lms"
CLASSES_PER_SCHOOL = 6
TEACHERS_PER_CLASS = 3
SLOTS_PER_DAY = 6


def school_year_now() -> int:
    today = clock.today()
    return today.year if today.month >= 9 else today.year - 1


async def load(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Generate the dataset; return what the measurements need."""
    conn = await asyncpg.connect(url)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    async def step(name: str, sql: str, *params: Any) -> None:
        t = time.perf_counter()
        await conn.execute(sql, *params)
        timings[name] = time.perf_counter() - t

    try:
        last = school_year_now() - 1
        year_ids = []
        for start in (last, last + 1):
            starts, ends = date(start, 9, 1), date(start + 1, 5, 31)
            # Inserted with triggers on: creating a year creates its partitions.
            year_id = await conn.fetchval(
                "INSERT INTO academic_year (start_year, name, starts_on, ends_on)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (start_year) DO UPDATE"
                " SET name = excluded.name RETURNING id",
                start,
                f"{start}-{start + 1}",
                starts,
                ends,
            )
            for t in default_terms(starts, ends):
                await conn.execute(
                    "INSERT INTO term (academic_year_id, number, starts_on, ends_on)"
                    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    year_id,
                    t.number,
                    t.starts_on,
                    t.ends_on,
                )
            year_ids.append(year_id)
        year_id = year_ids[0]
        term1 = default_terms(date(last, 9, 1), date(last + 1, 5, 31))[0]
        schools = max(1, round(args.pupils / args.class_size / CLASSES_PER_SCHOOL))
        classes = schools * CLASSES_PER_SCHOOL
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET synchronous_commit = off")
        await conn.execute("SET work_mem = '256MB'")
        await step(
            "schools",
            """INSERT INTO institution (kind, ownership, name, region_id, district_id, languages,
                 design_capacity, country_code)
               SELECT 'school', 'state', 'School ' || g, d.region_id, d.id, ARRAY['ky','ru'],
                      900, 'KG'
               FROM generate_series(1, $1) g
               JOIN LATERAL (SELECT id, region_id FROM district
                             ORDER BY id OFFSET (g % (SELECT count(*) FROM district)) LIMIT 1) d
                 ON true""",
            schools,
        )
        school_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM institution WHERE kind = 'school' ORDER BY id DESC LIMIT $1",
                schools,
            )
        ]
        await conn.execute("CREATE TEMP TABLE bench_school AS SELECT unnest($1::int[]) AS id, "
                           "generate_subscripts($1::int[], 1) AS n", school_ids)  # fmt: skip
        await step(
            "classes",
            f"""INSERT INTO class_group (institution_id, academic_year_id, grade, letter, language,
                 shift, curriculum_model, capacity, pupil_count)
               SELECT s.id, $1, 1 + (c.n % 11), (ARRAY['А','Б','В','Г','Д','Е'])[c.n + 1], 'ky',
                      1, CASE WHEN $2 - (1 + c.n % 11) + 1 >= 2025 THEN 'twelve_year'
                              ELSE 'eleven_year' END, 36, 0
               FROM bench_school s
               CROSS JOIN generate_series(0, {CLASSES_PER_SCHOOL - 1}) AS c(n)
               WHERE (s.n - 1) * {CLASSES_PER_SCHOOL} + c.n < $3""",
            year_id,
            last,
            classes,
        )
        await step(
            "class subjects",
            """INSERT INTO class_subject (class_group_id, subject_id, weekly_hours)
               SELECT k.id, p.subject_id, p.weekly_hours FROM class_group k
               JOIN curriculum_plan p ON p.grade = k.grade
                 AND p.curriculum_model = k.curriculum_model
               WHERE k.academic_year_id = $1""",
            year_id,
        )
        per_class = args.pupils / classes
        await conn.execute(
            """CREATE TEMP TABLE bench_class AS
               SELECT id, institution_id, grade, row_number() OVER (ORDER BY id) AS n
               FROM class_group WHERE academic_year_id = $1""",
            year_id,
        )
        await step(
            "pupils",
            """INSERT INTO person (last_name, first_name, patronymic, sex, birth_date)
               SELECT 'Асанов' || (g % 997), 'Айбек' || (g % 101), NULL,
                      CASE WHEN g % 2 = 0 THEN 'male' ELSE 'female' END,
                      make_date($2 - 6 - (1 + ((g - 1) / $3)::int % 11), 1 + g % 12, 1 + g % 27)
               FROM generate_series(1, $1) g""",
            args.pupils,
            last,
            max(1, int(per_class)),
        )
        await conn.execute(
            """CREATE TEMP TABLE bench_pupil AS
               SELECT p.id AS pupil_id, k.id AS class_id, k.institution_id, k.grade
               FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                     FROM person ORDER BY id DESC LIMIT $1) p
               JOIN bench_class k ON k.n = 1 + (p.n * $2 / $1)""",
            args.pupils,
            classes,
        )
        await step(
            "enrollments",
            """INSERT INTO enrollment (person_id, institution_id, sector, entry_date, grade_level)
               SELECT pupil_id, institution_id, 'school', $1, grade FROM bench_pupil""",
            date(last, 9, 1),
        )
        await step(
            "class memberships",
            """INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id,
                 institution_id, academic_year_id, grade, since)
               SELECT b.class_id, e.id, b.pupil_id, b.institution_id, $1, b.grade, $2
               FROM bench_pupil b JOIN enrollment e ON e.person_id = b.pupil_id""",
            year_id,
            date(last, 9, 1),
        )
        await conn.execute(
            """UPDATE class_group k SET pupil_count = c.n FROM (
                 SELECT class_group_id, count(*) AS n FROM class_membership
                 GROUP BY class_group_id) c WHERE c.class_group_id = k.id"""
        )
        await step(
            "teachers and posts",
            f"""WITH t AS (
                 INSERT INTO person (last_name, first_name, sex, birth_date)
                 SELECT 'Бекова', 'Чолпон' || g, 'female', date '1985-04-02'
                 FROM generate_series(1, $1 * {TEACHERS_PER_CLASS}) g RETURNING id)
               INSERT INTO staff_position (person_id, institution_id, role, start_date, rate)
               SELECT t.id, k.institution_id, 'teacher', date '2020-09-01', 1.0
               FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM t) t
               JOIN bench_class k ON k.n = 1 + t.n / {TEACHERS_PER_CLASS}""",
            classes,
        )
        await step(
            "teaching assignments",
            f"""INSERT INTO teaching_assignment (class_group_id, subject_id, teacher_id,
                 staff_position_id, institution_id, academic_year_id, since)
               SELECT s.class_group_id, s.subject_id, p.person_id, p.id, p.institution_id, $1, $2
               FROM (SELECT class_group_id, subject_id,
                            row_number() OVER (PARTITION BY class_group_id ORDER BY subject_id)
                              AS n FROM class_subject) s
               JOIN bench_class k ON k.id = s.class_group_id
               JOIN (SELECT id, person_id, institution_id,
                            row_number() OVER (ORDER BY id) - 1 AS n FROM staff_position
                     WHERE start_date = date '2020-09-01' ORDER BY id DESC LIMIT $3) p
                 ON p.n = (k.n - 1) * {TEACHERS_PER_CLASS} + s.n % {TEACHERS_PER_CLASS}""",
            year_id,
            date(last, 9, 1),
            classes * TEACHERS_PER_CLASS,
        )
        await step(
            "bell periods",
            f"""INSERT INTO bell_period (institution_id, shift, number, starts_minute, ends_minute)
               SELECT s.id, 1, b.n, 480 + (b.n - 1) * 55, 480 + (b.n - 1) * 55 + 45
               FROM bench_school s CROSS JOIN generate_series(1, {SLOTS_PER_DAY}) AS b(n)""",
        )
        await step(
            "timetable slots",
            f"""INSERT INTO timetable_slot (academic_year_id, institution_id, class_group_id,
                 subject_id, teacher_id, weekday, shift, period, starts_minute, ends_minute,
                 subgroup, valid_from)
               SELECT $1, k.institution_id, k.id, ta.subject_id, ta.teacher_id, d, 1, p,
                      480 + (p - 1) * 55, 480 + (p - 1) * 55 + 45, 0, $2
               FROM bench_class k
               CROSS JOIN generate_series(1, 5) d CROSS JOIN generate_series(1, {SLOTS_PER_DAY}) p
               JOIN LATERAL (
                 SELECT subject_id, teacher_id FROM teaching_assignment
                 WHERE class_group_id = k.id ORDER BY subject_id
                 OFFSET ((d * {SLOTS_PER_DAY} + p) % (SELECT count(*) FROM teaching_assignment
                                                     WHERE class_group_id = k.id))
                 LIMIT 1) ta ON true""",
            year_id,
            date(last, 9, 1),
        )
        until = min(term1.ends_on, term1.starts_on + timedelta(weeks=args.weeks))
        await step(
            "lessons",
            """INSERT INTO class_lesson (academic_year_id, institution_id, class_group_id,
                 subject_id, slot_id, teacher_id, on_date, starts_minute, ends_minute, subgroup,
                 topic, status, attendance_taken_at, recorded_by)
               SELECT s.academic_year_id, s.institution_id, s.class_group_id, s.subject_id, s.id,
                      s.teacher_id, d::date, s.starts_minute, s.ends_minute, 0,
                      'Тема ' || extract(doy FROM d), 'held', d + interval '9 hours', 'bench'
               FROM timetable_slot s
               CROSS JOIN generate_series($2::date, $3::date, interval '1 day') d
               WHERE s.academic_year_id = $1 AND extract(isodow FROM d) = s.weekday""",
            year_id,
            term1.starts_on,
            until,
        )
        await step(
            "marks",
            """INSERT INTO mark (academic_year_id, lesson_id, pupil_id, class_group_id,
                 subject_id, on_date, work, scheme, value, comment, teacher_id, recorded_by)
               SELECT l.academic_year_id, l.id, m.pupil_id, l.class_group_id, l.subject_id,
                      l.on_date, 'oral',
                      CASE WHEN k.curriculum_model = 'twelve_year' THEN 'descriptive'
                           ELSE 'five_point' END,
                      CASE WHEN k.curriculum_model = 'twelve_year' THEN NULL
                           ELSE 2 + (m.pupil_id + l.id) % 4 END,
                      CASE WHEN k.curriculum_model = 'twelve_year' THEN 'Молодец' END,
                      l.teacher_id, 'bench'
               FROM class_lesson l JOIN class_group k ON k.id = l.class_group_id
               JOIN class_membership m ON m.class_group_id = l.class_group_id
               WHERE l.academic_year_id = $1 AND (m.pupil_id + l.id) % 4 = 0""",
            year_id,
        )
        await step(
            "absences",
            """INSERT INTO attendance (academic_year_id, lesson_id, pupil_id, class_group_id,
                 on_date, status, reason, recorded_by)
               SELECT l.academic_year_id, l.id, m.pupil_id, l.class_group_id, l.on_date,
                      CASE WHEN (m.pupil_id + l.id) % 3 = 0 THEN 'excused' ELSE 'absent' END,
                      CASE WHEN (m.pupil_id + l.id) % 3 = 0 THEN 'болеет' END, 'bench'
               FROM class_lesson l JOIN class_membership m ON m.class_group_id = l.class_group_id
               WHERE l.academic_year_id = $1 AND (m.pupil_id * 7 + l.id) % 20 = 0""",
            year_id,
        )
        await conn.execute("SET session_replication_role = origin")
        samples = await conn.fetch(
            "SELECT pupil_id, class_id, institution_id FROM bench_pupil ORDER BY random() LIMIT $1",
            args.samples,
        )
        guardians = []
        for row in samples:
            guardian = await conn.fetchval(
                "INSERT INTO person (last_name, first_name, sex, birth_date)"
                " VALUES ('Асанова', 'Гульнара', 'female', date '1985-01-01') RETURNING id"
            )
            await conn.execute(
                "INSERT INTO guardianship (guardian_id, child_id, kind, valid_from)"
                " VALUES ($1, $2, 'mother', date '2015-01-01')",
                guardian,
                row["pupil_id"],
            )
            guardians.append((guardian, row["pupil_id"]))
        await conn.execute("ANALYZE")
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("class_group", "class_membership", "class_lesson", "mark", "attendance")
        }
        return {
            "year_id": year_id,
            "next_year_id": year_ids[1],
            "term1": term1,
            "guardians": guardians,
            "counts": counts,
            "timings": timings,
            "load_seconds": time.perf_counter() - started,
            "schools": schools,
        }
    finally:
        await conn.close()


def _stats(timings: list[float]) -> str:
    timings.sort()
    p50 = statistics.median(timings) * 1000
    p95 = timings[int(len(timings) * 0.95)] * 1000
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"


async def measure(url: str, data_dir: Path, data: dict[str, Any], args: argparse.Namespace
                  ) -> list[tuple[str, str]]:  # fmt: skip
    from app import create_app
    from resolvers import lms as lms_service

    settings = Settings(database_url=url, data_dir=data_dir, environment="test")
    app = create_app(settings)
    ring = KeyRing.load(settings)
    results: list[tuple[str, str]] = []
    rng = random.Random(7)
    conn = await asyncpg.connect(url)
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

            # 1. a guardian's week of the diary (the second week of the term)
            diary = (PORTALS / "Diary.graphql").read_text()
            monday = data["term1"].starts_on + timedelta(
                days=(7 - data["term1"].starts_on.weekday())
            )
            week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
            timings = []
            for i, (guardian, pupil) in enumerate(data["guardians"]):
                token = issue_token(ring, settings, role=Role.GUARDIAN, person_id=guardian)
                variables = week | {"pupilId": encode_id("Person", pupil)}
                started = time.perf_counter()
                body = await gql(diary, variables, token)
                if i >= 10:  # the first ones warm the pools and caches
                    timings.append(time.perf_counter() - started)
                assert body["data"]["diary"]["days"]
            results.append(("a guardian's week of the diary", _stats(timings)))

            # 2. a class's gradebook for the term and a subject, read by its teacher
            gradebook = (PORTALS / "ClassGradebook.graphql").read_text()
            term = await conn.fetchval(
                "SELECT id FROM term WHERE academic_year_id = $1 AND number = 1", data["year_id"]
            )
            assignments = await conn.fetch(
                """SELECT ta.class_group_id, ta.subject_id, ta.teacher_id, ta.institution_id
                   FROM teaching_assignment ta JOIN class_group k ON k.id = ta.class_group_id
                   WHERE ta.academic_year_id = $1 AND k.grade >= 4
                   ORDER BY random() LIMIT $2""",
                data["year_id"],
                args.samples,
            )
            timings = []
            for i, a in enumerate(assignments):
                token = issue_token(
                    ring, settings, role=Role.TEACHER, person_id=a["teacher_id"],
                    scopes=[f"institution:{a['institution_id']}"],
                )  # fmt: skip
                variables = {
                    "classGroupId": encode_id("ClassGroup", a["class_group_id"]),
                    "subjectId": encode_id("Subject", a["subject_id"]),
                    "termId": encode_id("Term", term),
                }
                started = time.perf_counter()
                body = await gql(gradebook, variables, token)
                if i >= 10:
                    timings.append(time.perf_counter() - started)
                assert body["data"]["gradebook"]["rows"]
            results.append(("a class's gradebook for a term and subject", _stats(timings)))

            # 3. marking a class in one recordMarks (a lesson of the second term recorded first)
            record_class_lesson = (PORTALS / "RecordClassLesson.graphql").read_text()
            record_marks = (PORTALS / "RecordMarks.graphql").read_text()
            term2 = await conn.fetchrow(
                "SELECT starts_on FROM term WHERE academic_year_id = $1 AND number = 2",
                data["year_id"],
            )
            slots = await conn.fetch(
                """SELECT DISTINCT ON (s.class_group_id) s.id, s.weekday, s.teacher_id,
                          s.institution_id, s.class_group_id
                   FROM timetable_slot s JOIN class_group k ON k.id = s.class_group_id
                   WHERE s.academic_year_id = $1 AND k.grade >= 4
                     AND k.curriculum_model = 'eleven_year'
                   ORDER BY s.class_group_id, s.id""",
                data["year_id"],
            )
            slots = rng.sample(list(slots), min(args.samples, len(slots)))
            timings = []
            sizes = []
            for i, slot in enumerate(slots):
                token = issue_token(
                    ring, settings, role=Role.TEACHER, person_id=slot["teacher_id"],
                    scopes=[f"institution:{slot['institution_id']}"],
                )  # fmt: skip
                on = term2["starts_on"] + timedelta(
                    days=(slot["weekday"] - 1 - term2["starts_on"].weekday()) % 7
                )
                body = await gql(
                    record_class_lesson,
                    {"input": {"slotId": encode_id("TimetableSlot", slot["id"]),
                               "date": on.isoformat(), "topic": "Контрольная"}},
                    token,
                )  # fmt: skip
                lesson = body["data"]["recordClassLesson"]
                assert not lesson["userErrors"], lesson
                pupils = await conn.fetch(
                    "SELECT pupil_id FROM class_membership WHERE class_group_id = $1",
                    slot["class_group_id"],
                )
                marks = [
                    {"pupilId": encode_id("Person", p["pupil_id"]), "value": 2 + n % 4}
                    for n, p in enumerate(pupils)
                ]
                started = time.perf_counter()
                body = await gql(
                    record_marks,
                    {"input": {"lessonId": lesson["lesson"]["id"], "marks": marks}},
                    token,
                )
                elapsed = time.perf_counter() - started
                assert not body["data"]["recordMarks"]["userErrors"], body
                if i >= 10:
                    timings.append(elapsed)
                    sizes.append(len(marks))
            results.append(
                (
                    f"marking a class in one recordMarks ({statistics.mean(sizes):.0f} pupils)",
                    _stats(timings),
                )
            )

            # 4. year-end promotion of the country
            close = """mutation($input: CloseAcademicYearInput!) {
              closeAcademicYear(input: $input) { pending userErrors { code message } } }"""
            ministry = issue_token(ring, settings, role=Role.MINISTRY)
            started = time.perf_counter()
            body = await gql(
                close, {"input": {"academicYearId": encode_id("AcademicYear", data["year_id"])}},
                ministry,
            )  # fmt: skip
            queued = time.perf_counter() - started
            assert not body["data"]["closeAcademicYear"]["userErrors"], body
            started = time.perf_counter()
            closed = sum(
                await asyncio.gather(
                    *(lms_service.run_pending_closures(url) for _ in range(args.workers))
                )
            )
            elapsed = time.perf_counter() - started
            promoted = await conn.fetchval(
                "SELECT count(*) FROM enrollment WHERE exit_reason IN ('promoted', 'retained')"
            )
            results.append(
                (
                    f"year-end promotion: {closed:,} schools, {promoted:,} pupils moved on "
                    f"({args.workers} workers; queuing {queued:.2f} s)",
                    f"{elapsed:.1f} s",
                )
            )
    await conn.close()
    return results


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="bilim-bench-lms-") as tmp:
        pg = None
        if configured:
            server = database.plain_url(configured)
        else:
            pg = database.EmbeddedPostgres(Path(tmp))
            server = pg.start()
        try:
            name = f"bench_lms_{uuid.uuid4().hex[:8]}"
            await database.ensure_database(server, name)
            from sqlalchemy.engine import make_url

            url = database.plain_url(make_url(server).set(database=name))
            await asyncio.to_thread(database.migrate, url)
            data = await load(url, args)
            print(f"generated in {data['load_seconds']:.1f} s ({data['schools']:,} schools):")
            for table, count in data["counts"].items():
                print(f"  {table}: {count:,}")
            for step, seconds in data["timings"].items():
                print(f"  {step}: {seconds:.1f} s")
            results = await measure(url, Path(tmp), data, args)
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
    parser.add_argument("--pupils", type=int, default=400_000)
    parser.add_argument("--class-size", type=float, default=28.6)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

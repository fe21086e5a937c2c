"""Benchmark of the school LMS at country scale (issue 15).

    python -m bench.lms [--pupils 400000] [--class-size 28.6] [--weeks 8] [--samples 200]
                        [--workers 2] [--data-dir DIR [--reuse]] [--no-promotion]
                        [--resolvers-only] [--[no-]compiled-gradebook]
                        [--crowd 1000 [--crowd-only]]

Builds a database (embedded PostgreSQL unless DATABASE_URL is set; kept in ``--data-dir`` and
measured again without loading with ``--reuse``) and generates, in SQL, last school year's
classes of the country: schools of 6 classes, classes of ``--class-size`` pupils (400,000
pupils are ~14,000 classes) in grades 1-11, each pupil enrolled and in their class, three
teachers per class, 30 weekly slots per class, and the first ``--weeks`` weeks of lessons with
a mark for a quarter of the pupil-lessons and an absence for one in twenty (a term at 400,000
pupils: ~3.4 million lessons, ~24 million marks, ~5 million absences). The load runs with
``session_replication_role = replica`` (no triggers, no foreign key checks: the generator
makes valid rows by construction; CHECKs and exclusion constraints still hold). Then it
measures through the real GraphQL endpoint, in process, one request at a time:

* the floor: the smallest signed-in request (``{ __typename }``);
* a guardian's week of the diary (``portals/lms/Diary.graphql``);
* a class's gradebook for a term and subject (``ClassGradebook``);
* marking a class in one ``recordMarks`` (``RecordMarks``, after ``recordClassLesson``);

each with wall p50/p95 and, what a loaded machine does not distort, the CPU milliseconds per
request of the hub and of PostgreSQL's backends and the statements per request
(:mod:`bench.lms_meter`), then the plan of each statement of one request (EXPLAIN ANALYZE,
BUFFERS). Last, year-end promotion: every school's closure queued (as the ministry's
``closeAcademicYear`` does), ``--workers`` processes working them off, the time per school
projected to the country's ~2,330 schools (on a copy of the database when ``--data-dir`` is
given, so the data stays reusable). With ``--crowd N``, before promotion: N teachers marking
their classes at once through ``bilim serve --workers W`` and wrk (:mod:`bench.lms_crowd`;
``--crowd-only`` runs just that, 1,000 teachers unless ``--crowd`` says otherwise).

Targets: diary p50 < 15 ms, gradebook p50 < 25 ms, marking p50 < 40 ms, promotion < 5 min,
1,000 teachers marking at once with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.lms_meter import HEADER, Figures, Meter, load_average, server_cpu
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


async def measure(url: str, data_dir: Path, data: dict[str, Any], args: argparse.Namespace
                  ) -> tuple[list[Figures], list[str]]:  # fmt: skip
    """The three requests through the real GraphQL endpoint, in process: CPU per request of
    the hub and of PostgreSQL, statements, and the plans of one request of each."""
    from app import create_app

    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        environment="test",
        compiled_queries=not args.resolvers_only,
    )
    app = create_app(settings)
    ring = KeyRing.load(settings)
    conn = await asyncpg.connect(url)
    figures: list[Figures] = []
    plans: list[str] = []
    async with app.router.lifespan_context(app):
        meter = Meter(conn, app.state.engine)
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

            floor = issue_token(ring, settings, role=Role.GUARDIAN, person_id=1)

            async def smallest() -> None:
                await gql("query Floor { __typename }", {}, floor)

            floors: list[Any] = [smallest] * len(data["guardians"])
            for name, requests in (
                ("the floor: `{ __typename }` signed in", floors),
                ("a guardian's week of the diary", _diary(gql, ring, settings, data)),
                (
                    "a class's gradebook for a term and subject",
                    await _gradebook(gql, conn, ring, settings, data, args),
                ),
                ("marking a class in one recordMarks", await _marking(gql, conn, ring, settings,
                                                                      data, args)),
            ):  # fmt: skip
                figures.append(await meter.measure(name, requests))
                plans.append(f"\n{name}:")
                plans.extend(await meter.explain())
    await conn.close()
    return figures, plans


Gql = Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]


def _diary(gql: Gql, ring: KeyRing, settings: Settings, data: dict[str, Any]) -> list[Any]:
    """A guardian reads their child's diary for the second week of the term."""
    diary = (PORTALS / "Diary.graphql").read_text()
    monday = data["term1"].starts_on + timedelta(days=(7 - data["term1"].starts_on.weekday()))
    week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}

    def request(guardian: int, pupil: int) -> Callable[[], Awaitable[None]]:
        token = issue_token(ring, settings, role=Role.GUARDIAN, person_id=guardian)
        variables = week | {"pupilId": encode_id("Person", pupil)}

        async def send() -> None:
            body = await gql(diary, variables, token)
            assert body["data"]["diary"]["days"]

        return send

    return [request(g, p) for g, p in data["guardians"]]


async def _gradebook(
    gql: Gql, conn: Any, ring: KeyRing, settings: Settings, data: dict[str, Any], args: Any
) -> list[Any]:
    """A teacher reads a class's gradebook for the first term and a subject they teach."""
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

    def request(a: Any) -> Callable[[], Awaitable[None]]:
        token = issue_token(
            ring, settings, role=Role.TEACHER, person_id=a["teacher_id"],
            scopes=[f"institution:{a['institution_id']}"],
        )  # fmt: skip
        variables = {
            "classGroupId": encode_id("ClassGroup", a["class_group_id"]),
            "subjectId": encode_id("Subject", a["subject_id"]),
            "termId": encode_id("Term", term),
        }

        async def send() -> None:
            body = await gql(gradebook, variables, token)
            assert body["data"]["gradebook"]["rows"]

        return send

    return [request(a) for a in assignments]


async def _marking(
    gql: Gql, conn: Any, ring: KeyRing, settings: Settings, data: dict[str, Any], args: Any
) -> list[Any]:
    """A teacher marks the whole class in a lesson of the second term (recorded beforehand,
    outside the measurement); a later run on the same data uses a later week."""
    record_class_lesson = (PORTALS / "RecordClassLesson.graphql").read_text()
    record_marks = (PORTALS / "RecordMarks.graphql").read_text()
    term2 = await conn.fetchrow(
        "SELECT starts_on, ends_on FROM term WHERE academic_year_id = $1 AND number = 2",
        data["year_id"],
    )
    runs = await conn.fetchval("SELECT count(*) FROM class_lesson WHERE topic = 'Контрольная'")
    week = 1 + int(runs) // max(1, args.samples)
    slots = await conn.fetch(
        """SELECT DISTINCT ON (s.class_group_id) s.id, s.weekday, s.teacher_id,
                  s.institution_id, s.class_group_id
           FROM timetable_slot s JOIN class_group k ON k.id = s.class_group_id
           WHERE s.academic_year_id = $1 AND k.grade >= 4
             AND k.curriculum_model = 'eleven_year'
           ORDER BY s.class_group_id, s.id""",
        data["year_id"],
    )
    chosen = random.Random(7).sample(list(slots), min(args.samples, len(slots)))
    requests = []
    for slot in chosen:
        token = issue_token(
            ring, settings, role=Role.TEACHER, person_id=slot["teacher_id"],
            scopes=[f"institution:{slot['institution_id']}"],
        )  # fmt: skip
        on = term2["starts_on"] + timedelta(
            days=(slot["weekday"] - 1 - term2["starts_on"].weekday()) % 7 + 7 * week
        )
        assert on <= term2["ends_on"], "run the benchmark on fresh data"
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
        variables = {"input": {"lessonId": lesson["lesson"]["id"], "marks": marks}}
        requests.append(_marks_request(gql, record_marks, variables, token))
    return requests


def _marks_request(
    gql: Gql, document: str, variables: dict[str, Any], token: str
) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        body = await gql(document, variables, token)
        assert not body["data"]["recordMarks"]["userErrors"], body

    return send


async def promotion(
    url: str, data: dict[str, Any], args: argparse.Namespace, pgdata: Path | None
) -> str:
    """Year-end promotion: the ministry's closeAcademicYear queues every school, then
    ``--workers`` processes close them (each school one transaction); the time per school
    projected to the country's schools."""
    from resolvers import lms as lms_service

    conn = await asyncpg.connect(url)
    try:
        year = data["year_id"]
        await conn.execute(
            "INSERT INTO academic_year_closure (academic_year_id, institution_id, status,"
            " requested_by) SELECT $1, id, 'pending', 'bench' FROM institution"
            " WHERE kind = 'school' ON CONFLICT DO NOTHING",
            year,
        )
        server_before = server_cpu(pgdata) if pgdata else None
        cpu = time.process_time()
        started = time.perf_counter()
        closed = sum(
            await asyncio.gather(
                *(lms_service.run_pending_closures(url) for _ in range(args.workers))
            )
        )
        elapsed = time.perf_counter() - started
        hub_cpu = time.process_time() - cpu
        await asyncio.sleep(1)  # the workers' backends exit and are counted by the server
        server_after = server_cpu(pgdata) if pgdata else None
        moved = await conn.fetchval(
            "SELECT count(*) FROM enrollment WHERE exit_reason IN ('promoted', 'retained')"
        )
    finally:
        await conn.close()
    country = round(400_000 / 28.6 / CLASSES_PER_SCHOOL)
    per_school = elapsed / max(1, closed) * args.workers
    text = (
        f"year-end promotion: {closed:,} schools, {moved:,} pupils moved on in {elapsed:.1f} s"
        f" ({args.workers} workers, {load_average()}); {per_school * 1000:.0f} ms per school"
        f" and worker; the country ({country:,} schools) at this rate: "
        f"{per_school * country / args.workers / 60:.1f} min with {args.workers} workers."
        f" CPU per school: workers {hub_cpu / max(1, closed) * 1000:.0f} ms"
    )
    if server_before is not None and server_after is not None:
        pg = (server_after - server_before) / max(1, closed)
        total = pg + hub_cpu / max(1, closed)
        text += (
            f", PostgreSQL {pg * 1000:.0f} ms; the country's CPU at that rate:"
            f" {total * country / 60:.1f} min, {total * country / 60 / args.workers:.1f} min"
            f" on {args.workers} idle cores"
        )
    return text


async def existing(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """What the measurements need from a database an earlier run loaded (``--reuse``)."""
    conn = await asyncpg.connect(url)
    try:
        last = school_year_now() - 1
        year_id = await conn.fetchval("SELECT id FROM academic_year WHERE start_year = $1", last)
        guardians = await conn.fetch(
            "SELECT guardian_id, child_id FROM guardianship WHERE valid_from = '2015-01-01'"
            " AND kind = 'mother' ORDER BY guardian_id LIMIT $1",
            args.samples,
        )
        return {
            "year_id": year_id,
            "term1": default_terms(date(last, 9, 1), date(last + 1, 5, 31))[0],
            "guardians": [(g["guardian_id"], g["child_id"]) for g in guardians],
            "schools": await conn.fetchval(
                "SELECT count(*) FROM institution WHERE kind = 'school'"
            ),
            "counts": {},
            "timings": {},
            "load_seconds": 0.0,
        }
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> None:
    configured = os.environ.get("DATABASE_URL")
    folder = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="bilim-lms-"))
    pg = None
    if configured:
        server = database.plain_url(configured)
    else:
        pg = database.EmbeddedPostgres(folder)
        server = pg.start()
    try:
        from sqlalchemy.engine import make_url

        name = "bench_lms" if args.data_dir else f"bench_lms_{uuid.uuid4().hex[:8]}"
        url = database.plain_url(make_url(server).set(database=name))
        if args.reuse:
            data = await existing(url, args)
            print(f"reusing {folder} ({data['schools']:,} schools)")
        else:
            await database.ensure_database(server, name)
            await asyncio.to_thread(database.migrate, url)
            data = await load(url, args)
            print(f"generated in {data['load_seconds']:.1f} s ({data['schools']:,} schools):")
            for table, count in data["counts"].items():
                print(f"  {table}: {count:,}")
            for step, seconds in data["timings"].items():
                print(f"  {step}: {seconds:.1f} s")
        pgdata = pg.pgdata if pg is not None else None
        if not (args.promotion_only or args.crowd_only):
            print(f"measured at {load_average()}")
            figures, plans = await measure(url, folder, data, args)
            print(f"\n{HEADER}")
            for each in figures:
                print(each.row())
            print(f"(after: {load_average()})")
            print("\nplans of one request each (EXPLAIN ANALYZE, BUFFERS):" + "\n".join(plans))
        if args.crowd:
            from bench.lms_crowd import crowd

            print(
                "\n" + await crowd(url, folder, data["year_id"], args.crowd, args.workers, pgdata)
            )
        if not (args.no_promotion or args.crowd_only):
            # Promotion changes the data: with --data-dir it runs on a copy, kept reusable.
            target = url
            if args.data_dir:
                target = await _copy(server, name, f"{name}_promotion")
            print("\n" + await promotion(target, data, args, pgdata))
    finally:
        if pg is not None:
            pg.stop()


async def _copy(server: str, name: str, copy: str) -> str:
    from sqlalchemy.engine import make_url

    conn = await asyncpg.connect(database.plain_url(server))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{copy}"')
        await conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    finally:
        await conn.close()
    return database.plain_url(make_url(server).set(database=copy))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=400_000)
    parser.add_argument("--class-size", type=float, default=28.6)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", default=None, help="keep the embedded database here")
    parser.add_argument("--reuse", action="store_true", help="measure --data-dir's data again")
    parser.add_argument("--no-promotion", action="store_true", help="skip the year-end run")
    parser.add_argument("--promotion-only", action="store_true", help="only the year-end run")
    parser.add_argument(
        "--crowd",
        type=int,
        default=0,
        metavar="N",
        help="N teachers marking their classes at once, through `bilim serve` and wrk"
        " (bench/lms_crowd.py; 1,000 is the issue's)",
    )
    parser.add_argument(
        "--crowd-only", action="store_true", help="only the crowd (--crowd, 1,000 if not given)"
    )
    parser.add_argument(
        "--compiled-gradebook",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="turn the compiled gradebook on or off (schema/compiled/gradebook.py; on by"
        " default; --no-compiled-gradebook sends it through the resolvers)",
    )
    parser.add_argument(
        "--resolvers-only",
        action="store_true",
        help="without the compiled path (the gradebook through the resolvers, to compare)",
    )
    args = parser.parse_args()
    if args.compiled_gradebook is not None:
        from schema.compiled import gradebook

        gradebook.ENABLED = args.compiled_gradebook
    if args.crowd_only and not args.crowd:
        args.crowd = 1000
    if args.reuse and not args.data_dir:
        parser.error("--reuse needs --data-dir")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

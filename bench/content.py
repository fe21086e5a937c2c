"""Benchmark of learning content at the issue's sizes (issue 16).

    python -m bench.content [--lessons 20000] [--learners 400000] [--duration 15]
                            [--workers 1] [--connections 4] [--samples 400]
                            [--data-dir DIR [--reuse]] [--no-progress]
                            [--feed-only] [--feed-resolvers]

Builds a database (embedded PostgreSQL unless DATABASE_URL is set): the registry's synthetic
country (``bilim seed``: schools and their pupils, at the scale that gives ``--learners``
current pupils), then by bulk COPY the curriculum and ``--lessons`` published lessons over all
grades, subjects and the four languages, each with five files and a quiz question; the
learners' classes in the school LMS (this school year, classes of up to 30 of a school's
pupils of a grade under the curriculum model of their cohort, their memberships, and a few
recorded lessons per class naming curriculum units, one subject of each class taught in
halves with its pupils placed in them: so a pupil's feed takes the class path); and for every
learner progress in three lessons of their grade (1.2 M progress rows and statements).
VACUUM ANALYZE, then ``bilim serve`` as production runs it, and measures through HTTP:

* the anonymous lesson list by grade, subject and language (the portal's ``Lessons``, rotating
  over 48 pages), with ``wrk`` and ``--connections`` connections: req/s, p50, p99;
* search (the portal's ``LessonSearch``: Kyrgyz and Russian, Cyrillic and Latin, suffixes,
  typos), one request at a time: p50, p95;
* a pupil's feed (the portal's ``MyLearning``) for ``--samples`` pupils, twice: each pupil's
  first feed since the hub started, then the same pupils again (the compiled path keeps a
  statement per caller until its caller keys become arguments): p50, p95, and the CPU each
  request cost the hub and PostgreSQL; with ``--feed-resolvers`` also on a second hub without
  the compiled path (the resolvers' five statements), in the same run;
* progress statements: ``recordLessonProgress`` one statement a request, and
  ``syncLessonProgress`` 50 a request, each statement sent once by ``wrk``; statements/s, then
  the rows counted in the database (none lost, none twice).

Targets: >= 2,000 req/s; search p95 < 50 ms; feed p50 < 15 ms; 1,000 statements/s.

First it measures ``public/Regions`` the same way: its figure on the idle machine is on record
(docs/performance.md), so a run on a busy machine says how busy it was. The database stays in
the data folder: ``--data-dir DIR --reuse`` measures it again without loading (about 15 minutes
at these sizes on a busy machine; a kept database whose learners have no classes yet is
migrated and given them first). ``--feed-only`` measures the feed alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.api import _free_port, _lua, _lua_calls, _stop_hub, _wrk
from bench.workloads import Call
from bench.workloads.lms import school_year
from models import database
from resolvers import clock
from resolvers.access import KeyRing, Role, issue_token
from resolvers.lms import default_terms
from resolvers.relay import encode_id
from resolvers.settings import Settings

PORTALS = Path(__file__).resolve().parent.parent / "portals" / "sanarip-sabak"
LANGUAGES = ("ky", "ru", "uz", "tg")
# Subjects by grade band, and the words their topics are named with, per language.
SUBJECTS = {
    "mathematics": range(1, 7),
    "algebra": range(7, 13),
    "geometry": range(7, 13),
    "kyrgyz_language": range(1, 13),
    "russian_language": range(1, 13),
    "english": range(2, 13),
    "natural_science": range(1, 5),
    "homeland_studies": range(1, 5),
    "biology": range(5, 12),
    "physics": range(7, 12),
    "chemistry": range(8, 12),
    "geography": range(5, 11),
    "history_kyrgyzstan": range(5, 12),
    "informatics": range(5, 12),
}
WORDS = {
    "ky": (
        "Бөлчөктөр",
        "Теңдемелер",
        "Кыргыз каганаты",
        "Манас эпосу",
        "Өсүмдүктөр",
        "Күч жана кыймыл",
        "Суу айлануусу",
        "Сандар",
        "Үй жаныбарлары",
        "Тоолор жана өзөндөр",
        "Химиялык реакциялар",
        "Алгоритмдер",
        "Сөз түркүмдөрү",
        "Жер шары",
        "Электр тогу",
        "Клетка",
    ),
    "ru": (
        "Дроби",
        "Уравнения",
        "Кыргызский каганат",
        "Эпос Манас",
        "Растения",
        "Сила и движение",
        "Круговорот воды",
        "Числа",
        "Домашние животные",
        "Горы и реки",
        "Химические реакции",
        "Алгоритмы",
        "Части речи",
        "Земной шар",
        "Электрический ток",
        "Клетка",
    ),
    "uz": (
        "Касрлар",
        "Тенгламалар",
        "Қирғиз хоқонлиги",
        "Манас достони",
        "Ўсимликлар",
        "Куч ва ҳаракат",
        "Сувнинг айланиши",
        "Сонлар",
        "Уй ҳайвонлари",
        "Тоғлар ва дарёлар",
        "Кимёвий реакциялар",
        "Алгоритмлар",
        "Сўз туркумлари",
        "Ер шари",
        "Электр токи",
        "Ҳужайра",
    ),
    "tg": (
        "Касрҳо",
        "Муодилаҳо",
        "Хоқонии қирғиз",
        "Достони Манас",
        "Растаниҳо",
        "Қувва ва ҳаракат",
        "Гардиши об",
        "Ададҳо",
        "Ҳайвоноти хонагӣ",
        "Кӯҳҳо ва дарёҳо",
        "Реаксияҳои кимиёвӣ",
        "Алгоритмҳо",
        "Ҳиссаҳои нутқ",
        "Кураи замин",
        "Ҷараёни барқ",
        "Ҳуҷайра",
    ),
}
# What readers type: a word, a Kyrgyz word with suffixes, Latin letters, a typo, Russian forms.
SEARCHES = (
    "бөлчөк",
    "бөлчөктөрдү",
    "bolchok",
    "bölchöktör",
    "теңдеме",
    "kyrgyz kaganaty",
    "манас",
    "өсүмдүк",
    "дроби",
    "дробей",
    "уравнение",
    "растений",
    "каганатыы",
    "алгоритм",
    "electr togu",
    "клетка",
    "жер шары",
    "круговорот",
    "числа",
    "химия реакция",
)
PROGRESS_PER_LEARNER = 3
# The LMS's classes of the learners: up to CLASS_SIZE of a school's pupils of a grade a class;
# in RECORDED subjects of each class two lessons naming units, the second in the first of them
# given to each half of the class (its pupils placed in halves).
CLASS_SIZE = 30
RECORDED = 4
LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУ"
RECORD = ("Тема", "held", "bench")  # a recorded lesson's topic, status and recorder
# The learners: pupils with an open school enrollment, in this order (classes and progress).
LEARNERS = (
    "SELECT e.id AS enrollment_id, e.person_id, e.institution_id, e.grade_level,"
    " i.languages[1] AS language FROM enrollment e"
    " JOIN institution i ON i.id = e.institution_id WHERE e.sector = 'school'"
    " AND e.exit_date IS NULL AND e.grade_level BETWEEN 1 AND 12 ORDER BY e.person_id LIMIT $1"
)


async def _copy(conn: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def load_content(url: str, lessons: int, seed: int) -> dict[str, Any]:
    """The curriculum, ``lessons`` published lessons with files and quizzes (bulk COPY)."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(url)
    try:
        slots = [(s, g) for s, grades in SUBJECTS.items() for g in grades]
        topics = -(-lessons // len(LANGUAGES))
        per_slot = -(-topics // len(slots))
        units: list[tuple[Any, ...]] = []
        unit_id = 0
        for subject, grade in slots:
            for k in range(per_slot):
                unit_id += 1
                term = 1 + k * 4 // per_slot
                word = WORDS["ky"][(unit_id + k) % len(WORDS["ky"])]
                units.append(
                    (
                        unit_id,
                        "twelve_year",
                        subject,
                        grade,
                        term,
                        1 + k // 4,
                        word,
                        1 + k % 4,
                        f"{word} {k + 1}",
                        ["Окуучу түшүнөт"],
                        2,
                        list(LANGUAGES),
                    )
                )
        await _copy(
            conn,
            "curriculum_unit",
            [
                "id",
                "standard",
                "subject_code",
                "grade",
                "term",
                "unit_no",
                "unit_title",
                "topic_no",
                "topic_title",
                "outcomes",
                "hours",
                "languages",
            ],
            units,
        )
        now = datetime.now(UTC)
        rows: list[tuple[Any, ...]] = []
        lesson_id = 0
        for unit in units[:topics]:
            for language in LANGUAGES:
                lesson_id += 1
                word = WORDS[language][(unit[0] + unit[7]) % len(WORDS[language])]
                rows.append(
                    (
                        lesson_id,
                        unit[0],
                        language,
                        "twelve_year",
                        unit[2],
                        unit[3],
                        unit[4],
                        unit[5],
                        unit[7],
                        1,
                        f"{word}: {unit[7]}-сабак",
                        f"{word} {unit[3]}",
                        f"{word}. " * 20,
                        rng.randint(600, 2400),
                        "published",
                        1,
                        "bench",
                        now,
                    )
                )
        await _copy(
            conn,
            "lesson",
            [
                "id",
                "unit_id",
                "language",
                "standard",
                "subject_code",
                "grade",
                "term",
                "unit_no",
                "topic_no",
                "position",
                "title",
                "summary",
                "body",
                "duration_seconds",
                "status",
                "version",
                "author",
                "published_at",
            ],
            rows,
        )
        files, media = [], []
        for lesson in rows:
            for kind, rendition, height, size, media_type in (
                ("video", "240p", 240, 22_000_000, "video/mp4"),
                ("video", "480p", 480, 64_000_000, "video/mp4"),
                ("video", "720p", 720, 150_000_000, "video/mp4"),
                ("audio", "audio", None, 9_000_000, "audio/mpeg"),
                ("subtitles", lesson[2], None, 6_000, "text/vtt"),
            ):
                sha = uuid.uuid5(uuid.NAMESPACE_OID, f"{lesson[0]}/{rendition}").hex * 2
                files.append((sha, size, media_type))
                media.append((lesson[0], kind, rendition, sha, size, media_type, height, 400))
        await _copy(conn, "file_object", ["sha256", "size_bytes", "media_type"], files)
        await _copy(
            conn,
            "lesson_media",
            [
                "lesson_id",
                "kind",
                "rendition",
                "sha256",
                "size_bytes",
                "media_type",
                "height",
                "bitrate_kbps",
            ],
            media,
        )
        await _copy(
            conn,
            "quiz_question",
            ["lesson_id", "position", "kind", "prompt", "choices", "answer", "points"],
            [(r[0], 1, "single_choice", "?", ["a", "b", "c"], '{"choice": 1}', 1) for r in rows],
        )
        for table in ("curriculum_unit", "lesson"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        return {"lessons": len(rows), "units": len(units), "files": len(files)}
    finally:
        await conn.close()


def _school_year(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


async def _this_year(conn: Any, today: date) -> tuple[int, list[Any]]:
    """This school year in the LMS's calendar (made with its terms, and by its trigger the
    partitions of its lessons, unless there) and its terms."""
    start = _school_year(today)
    year_id, _, _ = await school_year(conn, start)
    return year_id, default_terms(date(start, 9, 1), date(start + 1, 5, 31))


async def _next_id(conn: Any, table: str) -> int:
    return int(await conn.fetchval(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))


async def load_classes(url: str, learners: int, seed: int) -> dict[str, Any]:
    """The learners' classes in the school LMS, by bulk COPY: this school year; per school and
    grade, classes of up to :data:`CLASS_SIZE` pupils under their cohort's curriculum model
    (the national policy's first 12-year intake; a 12th grade is of the 12-year standard), in
    the school's first language, with the plan's subjects; the pupils' memberships; a teacher
    per class; in :data:`RECORDED` subjects that have units of the grade, two held lessons
    naming units (the class on the later), the second of the first subject given to each half
    of the class on a unit of its own, the pupils placed in halves by turns. Written with
    ``session_replication_role = replica`` (no triggers: the rows are valid by construction,
    the class's pupil count written with it), as ``bench.lms`` loads."""
    rng = random.Random(seed)
    today = clock.today()
    conn = await asyncpg.connect(url)
    try:
        year_id, terms = await _this_year(conn, today)
        if await conn.fetchval(
            "SELECT count(*) FROM class_membership WHERE academic_year_id = $1", year_id
        ):
            return {"classes": 0, "memberships": 0, "lessons": 0, "halves": 0}
        first_intake = await conn.fetchval(
            "SELECT twelve_year_from FROM lms_policy WHERE institution_id IS NULL"
        )
        pupils = await conn.fetch(LEARNERS, learners)
        by_place: dict[tuple[int, int], list[Any]] = {}
        for p in pupils:
            by_place.setdefault((p["institution_id"], p["grade_level"]), []).append(p)
        start = _school_year(today)
        class_id = await _next_id(conn, "class_group")
        membership_id = await _next_id(conn, "class_membership")
        classes, members = [], []
        for (school, grade), group in sorted(by_place.items()):
            twelve = grade == 12 or start - grade + 1 >= first_intake
            language = group[0]["language"] if group[0]["language"] in LANGUAGES else "ky"
            for k in range(0, len(group), CLASS_SIZE):
                chunk = group[k : k + CLASS_SIZE]
                n = k // CLASS_SIZE
                letter = LETTERS[n % len(LETTERS)] + (str(n // len(LETTERS)) if n >= 19 else "")
                assert len(letter) <= 3, "a class letter is 1-3 characters"
                model = "twelve_year" if twelve else "eleven_year"
                classes.append(
                    (class_id, school, year_id, grade, letter, language, 1, model, 36, len(chunk))
                )
                for p in chunk:
                    members.append(
                        (membership_id, class_id, p["enrollment_id"], p["person_id"], school,
                         year_id, grade, terms[0].starts_on)
                    )  # fmt: skip
                    membership_id += 1
                class_id += 1
        await conn.execute("SET session_replication_role = replica")
        await _copy(
            conn,
            "class_group",
            ["id", "institution_id", "academic_year_id", "grade", "letter", "language", "shift",
             "curriculum_model", "capacity", "pupil_count"],
            classes,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO class_subject (class_group_id, subject_id, weekly_hours)"
            " SELECT k.id, p.subject_id, p.weekly_hours FROM class_group k"
            " JOIN curriculum_plan p ON p.grade = k.grade"
            " AND p.curriculum_model = k.curriculum_model WHERE k.id >= $1",
            classes[0][0] if classes else class_id,
        )
        await _copy(
            conn,
            "class_membership",
            ["id", "class_group_id", "enrollment_id", "pupil_id", "institution_id",
             "academic_year_id", "grade", "since"],
            members,
        )  # fmt: skip
        teachers = [
            r["id"]
            for r in await conn.fetch(
                "INSERT INTO person (last_name, first_name, sex, birth_date)"
                " SELECT 'Бекова', 'Чолпон' || g, 'female', date '1985-04-02'"
                " FROM generate_series(1, $1) g RETURNING id",
                len(classes),
            )
        ]
        lessons, halves = await _recorded(conn, rng, classes, members, teachers, terms, today)
        await conn.execute("SET session_replication_role = origin")
        for table in ("class_group", "class_membership"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        return {
            "classes": len(classes),
            "memberships": len(members),
            "lessons": lessons,
            "halves": halves,
        }
    finally:
        await conn.close()


async def _recorded(
    conn: Any,
    rng: random.Random,
    classes: list[tuple[Any, ...]],
    members: list[tuple[Any, ...]],
    teachers: list[int],
    terms: list[Any],
    today: date,
) -> tuple[int, int]:
    """Each class's recorded lessons naming units, and its pupils' halves (COPY)."""
    units: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
    for u in await conn.fetch(
        "SELECT id, subject_code, grade, term, unit_no FROM curriculum_unit"
        " ORDER BY grade, subject_code, term, unit_no, topic_no, id"
    ):
        units.setdefault((u["subject_code"], u["grade"]), []).append(
            (u["id"], u["term"], u["unit_no"])
        )
    subjects: dict[int, list[tuple[int, str]]] = {}
    for r in await conn.fetch(
        "SELECT c.class_group_id, s.id, s.code FROM class_subject c"
        " JOIN subject s ON s.id = c.subject_id WHERE c.class_group_id >= $1 ORDER BY 1, 2",
        classes[0][0] if classes else 0,
    ):
        subjects.setdefault(r["class_group_id"], []).append((r["id"], r["code"]))
    # School days of the year so far (a lesson after today would not place the class yet).
    days = [
        t.starts_on + timedelta(days=d)
        for t in terms
        for d in range((t.ends_on - t.starts_on).days + 1)
        if t.starts_on + timedelta(days=d) < today
    ] or [terms[0].starts_on]
    now_term = max([t.number for t in terms if t.starts_on <= today] or [1])
    pupils_of: dict[int, list[int]] = {}
    for m in members:
        pupils_of.setdefault(m[1], []).append(m[0])
    rows: list[tuple[Any, ...]] = []
    halves: list[tuple[int, int, int, int]] = []
    for klass, teacher in zip(classes, teachers, strict=True):
        class_id, school, year_id, grade = klass[0], klass[1], klass[2], klass[3]
        taught = [(sid, code) for sid, code in subjects.get(class_id, []) if (code, grade) in units]
        for k, (subject, code) in enumerate(rng.sample(taught, min(RECORDED, len(taught)))):
            choices = [u for u in units[(code, grade)] if u[1] <= now_term] or units[(code, grade)]
            picked = rng.sample(choices, 2) if len(choices) > 1 else choices * 2
            earlier, later = sorted(picked, key=lambda u: (u[1], u[2]))
            on = sorted(rng.sample(days, 2) if len(days) > 1 else days * 2)
            minute = 480 + k * 160  # the teacher's lessons never overlap
            rows.append(
                (year_id, school, class_id, subject, teacher, on[0], minute, minute + 45, 0,
                 earlier[0], *RECORD)
            )  # fmt: skip
            if k == 0:  # taught in halves: each half on a unit of its own
                other = rng.choice(choices)
                for half, unit in ((1, later), (2, other)):
                    start = minute + 50 * half
                    rows.append(
                        (year_id, school, class_id, subject, teacher, on[1], start, start + 45,
                         half, unit[0], *RECORD)
                    )  # fmt: skip
                halves.extend(
                    (membership, subject, class_id, 1 + n % 2)
                    for n, membership in enumerate(pupils_of.get(class_id, []))
                )
            else:
                rows.append(
                    (year_id, school, class_id, subject, teacher, on[1], minute + 50, minute + 95,
                     0, later[0], *RECORD)
                )  # fmt: skip
    await _copy(
        conn,
        "class_lesson",
        ["academic_year_id", "institution_id", "class_group_id", "subject_id", "teacher_id",
         "on_date", "starts_minute", "ends_minute", "subgroup", "curriculum_unit_id", "topic",
         "status", "recorded_by"],
        rows,
    )  # fmt: skip
    await _copy(
        conn,
        "class_membership_half",
        ["membership_id", "subject_id", "class_group_id", "subgroup"],
        halves,
    )
    return len(rows), len(halves)


async def load_progress(url: str, learners: int, seed: int) -> dict[str, Any]:
    """Progress of ``learners`` pupils (with an open school enrollment) in three lessons of
    their grade in their school's first language, with the statements it adds up to."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(url)
    try:
        pupils = await conn.fetch(LEARNERS, learners)
        by_place: dict[tuple[int, str], list[int]] = {}
        for r in await conn.fetch("SELECT id, grade, language FROM lesson ORDER BY id"):
            by_place.setdefault((r["grade"], r["language"]), []).append(r["id"])
        progress, statements = [], []
        now = datetime.now(UTC)
        for p in pupils:
            language = p["language"] if p["language"] in LANGUAGES else "ky"
            choices = (
                by_place.get((p["grade_level"], language)) or by_place[(p["grade_level"], "ky")]
            )
            for lesson in rng.sample(choices, min(PROGRESS_PER_LEARNER, len(choices))):
                done = rng.random() < 0.6
                at = now - timedelta(days=rng.randint(1, 60))
                seconds = rng.randint(60, 2400)
                progress.append(
                    (
                        p["person_id"],
                        lesson,
                        "completed" if done else "started",
                        1,
                        seconds,
                        at,
                        at if done else None,
                    )
                )
                statements.append(
                    (
                        p["person_id"],
                        uuid.UUID(int=rng.getrandbits(128)),
                        lesson,
                        1,
                        "completed" if done else "started",
                        seconds,
                        at,
                        "bench",
                    )
                )
        await _copy(
            conn,
            "lesson_progress",
            [
                "learner_id",
                "lesson_id",
                "status",
                "attempts",
                "seconds_spent",
                "started_at",
                "completed_at",
            ],
            progress,
        )
        await _copy(
            conn,
            "lesson_progress_statement",
            [
                "learner_id",
                "statement_id",
                "lesson_id",
                "attempt",
                "verb",
                "seconds",
                "occurred_at",
                "recorded_by",
            ],
            statements,
        )
        return {
            "learners": len(pupils),
            "progress": len(progress),
            "grades": sorted({p["grade_level"] for p in pupils}),
            "pupils": [p["person_id"] for p in pupils],
        }
    finally:
        await conn.close()


def _start_hub(
    db_url: str, data_dir: Path, workers: int, *, compiled: bool = True, log: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """``bilim serve`` as production runs it; budgets lifted (one address sends everything);
    ``compiled=False``: without the compiled path; ``log``: the hub's output there."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILIM_DATA_DIR": str(data_dir),
        "BILIM_FETCH_ASSETS": "false",
        "BILIM_POINTS_PER_HOUR": str(10**9),
        "BILIM_ANONYMOUS_POINTS_PER_HOUR": str(10**9),
        "BILIM_COMPILED_QUERIES": "true" if compiled else "false",
    }
    output = log.open("ab") if log else None
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ],
        env=env,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
    )
    if output:
        output.close()  # the hub has its own copy
    url = f"http://127.0.0.1:{port}/graphql"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url.replace("/graphql", "/readyz"), timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            _stop_hub(server)
            sys.exit("the hub did not start")
        time.sleep(0.5)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(
    client: httpx.Client, url: str, query: str, variables: dict[str, Any], token: str | None
) -> float:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = client.post(url, json={"query": query, "variables": variables}, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{query[:40]}... {variables}: {response.text[:300]}")
    return elapsed


def _wrk_cpu(
    url: str,
    script: Path,
    *,
    connections: int,
    duration: int,
    hub_pid: int | None,
    postmaster_pid: int | None,
) -> dict[str, Any]:
    """wrk's figures, and the CPU milliseconds per request of the hub and of PostgreSQL meanwhile
    (read from /proc: a figure other processes' load distorts far less than requests/s)."""
    before = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
    rps, p50, p99, bad = _wrk(url, script, connections=connections, duration=duration)
    after = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
    result: dict[str, Any] = {"rps": rps, "p50": p50, "p99": p99, "bad": bad}
    return result | _cpu_per_request(before, after, rps * duration)


Cpu = tuple[float, float | None] | None


def _cpu_per_request(before: Cpu, after: Cpu, requests: float) -> dict[str, float]:
    """The hub's and PostgreSQL's CPU milliseconds per request between two readings of
    :func:`cpu_seconds` (none when either was not read, or nothing was sent)."""
    if before is None or after is None or not requests:
        return {}
    out = {"hub_cpu_ms": (after[0] - before[0]) * 1000 / requests}
    if before[1] is not None and after[1] is not None:
        out["db_cpu_ms"] = (after[1] - before[1]) * 1000 / requests
    return out


def _anonymous_lua(script: Path, body: str, rotation: list[str] | None = None) -> Path:
    """bench.api's wrk script for ``body`` (or ``rotation``), sent without a token."""
    _lua(script, body, "", rotation=rotation)
    text = script.read_text().replace('wrk.headers["Authorization"] = "Bearer "\n', "")
    script.write_text(text)
    return script


def measure_list(
    url: str,
    duration: int,
    connections: int,
    work: Path,
    *,
    hub_pid: int | None = None,
    postmaster_pid: int | None = None,
) -> dict[str, Any]:
    """The anonymous lesson list, over 48 (grade, subject, language) pages."""
    query = (PORTALS / "Lessons.graphql").read_text()
    pages = [
        {"grade": g, "subject": s, "language": lang.upper()}
        for s, grades in list(SUBJECTS.items())[:4]
        for g in list(grades)[:3]
        for lang in LANGUAGES
    ][:48]
    bodies = [json.dumps({"query": query, "variables": v}) for v in pages]
    with httpx.Client(timeout=30) as client:
        # Each worker reads the subject codes once, through the resolvers.
        for body in bodies * 2:
            client.post(url, content=body, headers={"Content-Type": "application/json"})
    script = _anonymous_lua(work / "lessons.lua", bodies[0], rotation=bodies)
    _wrk(url, script, connections=connections, duration=3)  # warm
    result = _wrk_cpu(
        url,
        script,
        connections=connections,
        duration=duration,
        hub_pid=hub_pid,
        postmaster_pid=postmaster_pid,
    )
    return {**result, "pages": len(pages)}


def measure_calibration(
    url: str,
    duration: int,
    connections: int,
    work: Path,
    *,
    hub_pid: int | None = None,
    postmaster_pid: int | None = None,
) -> dict[str, Any]:
    """``public/Regions`` under the same conditions: a query whose figure on the idle machine is
    on record (docs/performance.md; this machine idle: 3,400-3,650 req/s with one worker), so a
    run on a busy machine says how busy it was."""
    query = (PORTALS.parent / "public" / "Regions.graphql").read_text()
    script = _anonymous_lua(work / "regions.lua", json.dumps({"query": query}))
    _wrk(url, script, connections=connections, duration=2)  # warm
    return _wrk_cpu(
        url,
        script,
        connections=connections,
        duration=duration,
        hub_pid=hub_pid,
        postmaster_pid=postmaster_pid,
    )


def measure_search(
    url: str, samples: int, *, hub_pid: int | None = None, postmaster_pid: int | None = None
) -> dict[str, Any]:
    """Searches one at a time: latency, and the CPU milliseconds each cost the hub and
    PostgreSQL."""
    query = (PORTALS / "LessonSearch.graphql").read_text()
    times = []
    with httpx.Client(timeout=30) as client:
        before = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
        for k in range(samples):
            variables: dict[str, Any] = {"query": SEARCHES[k % len(SEARCHES)]}
            if k % 3 == 0:
                variables["grade"] = 1 + k % 12
            times.append(_timed(client, url, query, variables, None))
        after = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
    result = {"p50": statistics.median(times), "p95": _percentile(times, 0.95), "n": samples}
    return result | _cpu_per_request(before, after, samples)


def _ticks(pid: int, *, children: bool) -> int:
    """CPU clock ticks a process has used (user + system), with its exited children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12])
    return used + (int(fields[13]) + int(fields[14]) if children else 0)


def cpu_seconds(hub_pid: int, postmaster_pid: int | None) -> tuple[float, float | None]:
    """CPU seconds used so far by the hub's process and by PostgreSQL (the postmaster, its
    live backends and those that exited): a figure the machine's load does not inflate, as
    wall-clock latency under load is (the brief's "speed under load")."""
    tick = os.sysconf("SC_CLK_TCK")
    hub = _ticks(hub_pid, children=True) / tick
    if postmaster_pid is None:
        return hub, None
    backends = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and _parent(int(p.name)) == postmaster_pid
    ]
    ticks = _ticks(postmaster_pid, children=True)
    for pid in backends:
        # One that exited meanwhile is counted with the postmaster's children.
        with contextlib.suppress(OSError):
            ticks += _ticks(pid, children=False)
    return hub, ticks / tick


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return None


def postmaster_of(data_dir: Path) -> int | None:
    """The embedded PostgreSQL's postmaster (None with DATABASE_URL: another machine's)."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if os.environ.get("DATABASE_URL") or not pid_file.exists():
        return None
    return int(pid_file.read_text().split()[0])


def measure_feed(
    url: str,
    tokens: list[str],
    warm: list[str],
    *,
    hub_pid: int | None = None,
    postmaster_pid: int | None = None,
) -> dict[str, Any]:
    """A pupil's feed, one request at a time: each pupil's first feed since the hub started
    (``first``), then the same pupils again (``again``): latency, and the CPU milliseconds each
    request cost the hub and PostgreSQL (the figures to compare across machines and loads).
    ``warm``: other pupils' tokens, to warm the hub up without seeing the measured pupils."""
    query = (PORTALS / "MyLearning.graphql").read_text()
    result: dict[str, Any] = {"n": len(tokens)}
    with httpx.Client(timeout=30) as client:
        for token in warm:
            _timed(client, url, query, {}, token)
        for name in ("first", "again"):
            times = []
            before = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
            for token in tokens:
                times.append(_timed(client, url, query, {}, token))
            after = cpu_seconds(hub_pid, postmaster_pid) if hub_pid else None
            run: dict[str, Any] = {
                "p50": statistics.median(times),
                "p95": _percentile(times, 0.95),
                "load": os.getloadavg()[0],
            }
            result[name] = run | _cpu_per_request(before, after, len(tokens))
    return result


def measure_feed_on(
    db_url: str, data_dir: Path, workers: int, tokens: list[str], warm: list[str], compiled: bool
) -> dict[str, Any]:
    """:func:`measure_feed` on a hub of its own, with or without the compiled path."""
    server, url = _start_hub(db_url, data_dir, workers, compiled=compiled)
    try:
        return measure_feed(
            url, tokens, warm, hub_pid=server.pid, postmaster_pid=postmaster_of(data_dir)
        )
    finally:
        _stop_hub(server)


async def _statement_rows(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        statements = await conn.fetchval("SELECT count(*) FROM lesson_progress_statement")
        seconds = await conn.fetchval("SELECT coalesce(sum(seconds_spent), 0) FROM lesson_progress")
        return int(statements), int(seconds)
    finally:
        await conn.close()


# wrk's main thread sleeps the whole ``--duration`` whatever its threads do, so a run of calls
# sent once each went on idle for minutes after the last answer. The script interrupts wrk
# when the last call is answered: SIGINT ends that sleep and wrk reports at once (the signal
# is process-directed, and Linux gives the main thread, which does not block it, first take).
ENDS_WHEN_ANSWERED = """
ffi.cdef[[
  int getpid(void);
  int kill(int pid, int sig);
]]
local answer_one = response
local ended = false
response = function(status, headers, body)
  answer_one(status, headers, body)
  if once and not ended and answered >= #calls then
    ended = true
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end
"""


def calls_script(path: Path, query: str, calls: list[Call]) -> None:
    """A wrk script sending each call once (bench.api's), ending wrk at the last answer."""
    _lua_calls(path, query, calls, once=True)
    path.write_text(path.read_text() + ENDS_WHEN_ANSWERED)


def measure_progress(
    url: str,
    db_url: str,
    ring: KeyRing,
    settings: Settings,
    pupils: list[int],
    lessons: list[int],
    *,
    batch: int,
    calls: int,
    connections: int,
    work: Path,
) -> dict[str, Any]:
    """Statements sent once each by wrk (one or ``batch`` a request); then the database must
    hold every one exactly once, their seconds added once."""
    name = "RecordLessonProgress" if batch == 1 else "SyncLessonProgress"
    query = (PORTALS / f"{name}.graphql").read_text()
    rng = random.Random(batch)
    when = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    sent: list[Call] = []
    for k in range(calls):
        pupil = pupils[k % len(pupils)]
        token = issue_token(ring, settings, role=Role.PUPIL, person_id=pupil, ttl_minutes=120)
        items = [
            {
                "statementId": str(uuid.uuid4()),
                "lessonId": encode_id("Lesson", rng.choice(lessons)),
                "verb": "PROGRESSED",
                "occurredAt": when,
                "seconds": 30,
            }
            for _ in range(batch)
        ]
        variables = {"input": items[0]} if batch == 1 else {"input": {"statements": items}}
        sent.append(Call(variables, token))
    before = asyncio.run(_statement_rows(db_url))
    script = work / f"{name}.lua"
    calls_script(script, query, sent)
    rps, p50, p99, bad = _wrk(url, script, connections=connections, duration=600, timeout=30)
    after = asyncio.run(_statement_rows(db_url))
    statements = calls * batch
    return {
        "requests_per_s": rps,
        "statements_per_s": rps * batch,
        "p50": p50,
        "p99": p99,
        "bad": bad,
        "statements_sent": statements,
        "statements_kept": after[0] - before[0],
        "seconds_added": after[1] - before[1],
        "seconds_sent": statements * 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lessons", type=int, default=20_000)
    parser.add_argument("--learners", type=int, default=400_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--progress-calls", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database a run before left in --data-dir (load nothing)",
    )
    parser.add_argument(
        "--feed-only",
        action="store_true",
        help="measure the pupil's feed alone (no calibration, lesson list, search, progress)",
    )
    parser.add_argument(
        "--feed-resolvers",
        action="store_true",
        help="measure the feed also on a hub without the compiled path (the resolvers)",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="skip the progress statements (they add rows: a --reuse run measures more)",
    )
    args = parser.parse_args()
    if args.reuse and args.data_dir is None:
        parser.error("--reuse needs --data-dir")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="bilim-bench-content-"))
    embedded = None
    db_url = os.environ.get("DATABASE_URL")
    if not db_url:
        embedded = database.EmbeddedPostgres(data_dir)
        server_url = embedded.start()
        asyncio.run(database.ensure_database(server_url, database.EMBEDDED_DATABASE))
        db_url = embedded.url()
    try:
        _run(args, db_url, data_dir)
    finally:
        if embedded is not None:
            embedded.stop()


def _classes_line(classes: dict[str, Any]) -> str:
    return (
        f"{classes['classes']:,} classes, {classes['memberships']:,} memberships, "
        f"{classes['lessons']:,} recorded lessons naming units, {classes['halves']:,} pupils "
        "in halves"
    )


def _run(args: argparse.Namespace, db_url: str, data_dir: Path) -> None:
    from resolvers import demo

    if args.reuse:
        # A database kept before the learners had classes gets them (and the migrations they
        # need) first; one that has them is measured as it is.
        database.migrate(db_url)
        started = time.perf_counter()
        learners = asyncio.run(_loaded(db_url))
        # The learners are the first pupils by person (LEARNERS), as many as have progress.
        classes = asyncio.run(load_classes(db_url, learners["learners"], args.seed))
        if classes["classes"]:
            asyncio.run(_vacuum(db_url))
            print(f"gave the kept learners classes in {time.perf_counter() - started:.0f} s: "
                  f"{_classes_line(classes)}")  # fmt: skip
        print(
            f"reusing {args.data_dir}: {learners['lessons']:,} lessons, "
            f"{learners['learners']:,} learners, {learners['progress']:,} progress rows"
        )
    else:
        started = time.perf_counter()
        database.migrate(db_url)
        # bilim seed's country at the scale that gives the learners asked for (~1.4 M pupils
        # at 1).
        scale = min(2.0, args.learners / 1_400_000 * 1.02)
        institutions = 2000 if args.learners >= 200_000 else None
        asyncio.run(
            demo.load(db_url, scale=scale, seed=args.seed, progress=True, institutions=institutions)
        )
        content = asyncio.run(load_content(db_url, args.lessons, args.seed))
        classes = asyncio.run(load_classes(db_url, args.learners, args.seed))
        learners = asyncio.run(load_progress(db_url, args.learners, args.seed))
        asyncio.run(_vacuum(db_url))
        loaded = time.perf_counter() - started
        print(
            f"loaded in {loaded:.0f} s: {content['lessons']:,} lessons "
            f"({content['units']:,} topics, {content['files']:,} files), "
            f"{learners['learners']:,} learners, {learners['progress']:,} progress rows; "
            f"{_classes_line(classes)}"
        )
    settings = Settings(data_dir=data_dir)
    ring = KeyRing.load(settings)
    rng = random.Random(args.seed)
    sample = rng.sample(learners["pupils"], min(args.samples, len(learners["pupils"])))
    chosen = set(sample)
    others = [p for p in learners["pupils"] if p not in chosen][:5]

    def tokens_of(people: list[int]) -> list[str]:
        return [
            issue_token(ring, settings, role=Role.PUPIL, person_id=p, ttl_minutes=120)
            for p in people
        ]

    tokens, warm = tokens_of(sample), tokens_of(others)
    results: dict[str, Any] = {}
    if args.feed_only:
        results["feed"] = measure_feed_on(db_url, data_dir, args.workers, tokens, warm, True)
    else:
        results.update(_measure_all(args, db_url, data_dir, ring, settings, sample, tokens, warm))
    if args.feed_resolvers:
        results["feed_resolvers"] = measure_feed_on(
            db_url, data_dir, args.workers, tokens, warm, False
        )
    _report(results, args)


def _measure_all(
    args: argparse.Namespace,
    db_url: str,
    data_dir: Path,
    ring: KeyRing,
    settings: Settings,
    sample: list[int],
    tokens: list[str],
    warm: list[str],
) -> dict[str, Any]:
    """Everything on one hub: calibration, lesson list, search, feed, progress statements."""
    server, url = _start_hub(db_url, data_dir, args.workers)
    work = Path(tempfile.mkdtemp(prefix="bilim-bench-wrk-"))
    try:
        lesson_ids = asyncio.run(_lesson_ids(db_url))
        pids = {"hub_pid": server.pid, "postmaster_pid": postmaster_of(data_dir)}
        results: dict[str, Any] = {
            "calibration": measure_calibration(url, args.duration, args.connections, work, **pids),
            "list": measure_list(url, args.duration, args.connections, work, **pids),
            "search": measure_search(
                url, args.samples, hub_pid=server.pid, postmaster_pid=postmaster_of(data_dir)
            ),
            "feed": measure_feed(
                url, tokens, warm, hub_pid=server.pid, postmaster_pid=postmaster_of(data_dir)
            ),
        }
        if not args.no_progress:
            for key, batch, calls in (
                ("record", 1, args.progress_calls),
                ("sync", 50, max(1, args.progress_calls // 25)),
            ):
                results[key] = measure_progress(
                    url,
                    db_url,
                    ring,
                    settings,
                    sample,
                    lesson_ids,
                    batch=batch,
                    calls=calls,
                    connections=args.connections,
                    work=work,
                )
    finally:
        _stop_hub(server)
    return results


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _loaded(url: str) -> dict[str, Any]:
    """What an earlier run loaded: its lessons, learners (those with progress) and progress."""
    conn = await asyncpg.connect(url)
    try:
        pupils = [
            r["learner_id"]
            for r in await conn.fetch(
                "SELECT DISTINCT learner_id FROM lesson_progress ORDER BY learner_id"
            )
        ]
        return {
            "lessons": await conn.fetchval("SELECT count(*) FROM lesson"),
            "learners": len(pupils),
            "progress": await conn.fetchval("SELECT count(*) FROM lesson_progress"),
            "pupils": pupils,
        }
    finally:
        await conn.close()


async def _lesson_ids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [
            r["id"] for r in await conn.fetch("SELECT id FROM lesson WHERE status = 'published'")
        ]
    finally:
        await conn.close()


def _cpu_of(run: dict[str, Any]) -> str:
    if "hub_cpu_ms" not in run:
        return ""
    return (
        f"; CPU per request: hub {run['hub_cpu_ms']:.2f} ms, PostgreSQL "
        f"{run.get('db_cpu_ms', float('nan')):.2f} ms"
    )


def _report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"workers: {args.workers}, connections: {args.connections}")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    if "calibration" in results:
        lst, search, cal = results["list"], results["search"], results["calibration"]
        print(
            f"calibration, public/Regions: {cal['rps']:,.0f} req/s, p50 {cal['p50']:.1f} ms"
            f"{_cpu_of(cal)}"
        )
        print(
            f"anonymous lesson list: {lst['rps']:,.0f} req/s, p50 {lst['p50']:.1f} ms, "
            f"p99 {lst['p99']:.1f} ms{_cpu_of(lst)} ({lst['pages']} pages rotating; "
            "target >= 2,000 req/s)"
        )
        cpu = ""
        if "hub_cpu_ms" in search:
            cpu = (
                f"; CPU per search: hub {search['hub_cpu_ms']:.2f} ms, PostgreSQL "
                f"{search.get('db_cpu_ms', float('nan')):.2f} ms"
            )
        print(
            f"search: p50 {search['p50']:.1f} ms, p95 {search['p95']:.1f} ms over "
            f"{search['n']} queries{cpu} (target p95 < 50 ms)"
        )
    for key, path in (("feed", "compiled path on"), ("feed_resolvers", "resolvers only")):
        feed = results.get(key)
        if feed is None:
            continue
        for name, label in (("first", "each pupil's first feed"), ("again", "the same again")):
            run = feed[name]
            cpu = ""
            if "hub_cpu_ms" in run:
                cpu = (
                    f"; CPU per request: hub {run['hub_cpu_ms']:.2f} ms, PostgreSQL "
                    f"{run.get('db_cpu_ms', float('nan')):.2f} ms"
                )
            print(
                f"pupil's feed ({path}), {label}: p50 {run['p50']:.1f} ms, p95 "
                f"{run['p95']:.1f} ms over {feed['n']} pupils{cpu} (load {run['load']:.1f}; "
                "target p50 < 15 ms)"
            )
    for name, key in (
        ("recordLessonProgress (1 a request)", "record"),
        ("syncLessonProgress (50 a request)", "sync"),
    ):
        if key not in results:
            continue
        r = results[key]
        print(
            f"{name}: {r['statements_per_s']:,.0f} statements/s ({r['requests_per_s']:,.0f} req/s, "
            f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms); sent {r['statements_sent']:,}, kept "
            f"{r['statements_kept']:,}, seconds added {r['seconds_added']:,} of "
            f"{r['seconds_sent']:,}; bad answers {r['bad']}"
        )


if __name__ == "__main__":
    main()

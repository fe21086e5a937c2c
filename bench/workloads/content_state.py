"""Writing learning content's state for the content portals' workloads (portals/sanarip-sabak,
primary-1-4, school-5-9, open-courses): curriculum topics with published lessons, their files
and quizzes, pupils of the dataset placed in a grade, universities licensed for higher
education with courses, runs and enrolled students. One statement per table."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from resolvers import clock

RENDITIONS = (("240p", 240, 22_000_000), ("480p", 480, 64_000_000), ("720p", 720, 150_000_000))
_tags = itertools.count(1)


def tag() -> str:
    """A word no earlier preparer used (titles and codes stay distinct between runs)."""
    return f"{datetime.now(UTC):%H%M%S%f}{next(_tags)}"


async def lessons(
    conn: asyncpg.Connection,
    n: int,
    *,
    grade: int,
    subject: str = "mathematics",
    language: str = "ky",
    term: int = 1,
    status: str = "published",
    media: bool = True,
) -> list[int]:
    """``n`` lessons of new topics of a grade and subject, each with three video renditions,
    the audio, Kyrgyz subtitles and a one-question quiz; their ids in curriculum order."""
    label = tag()
    units = await conn.fetch(
        """
        INSERT INTO curriculum_unit (standard, subject_code, grade, term, unit_no, unit_title,
            topic_no, topic_title, outcomes, hours, languages)
        SELECT 'twelve_year', $1::varchar, $2::smallint, $3::smallint,
               coalesce((SELECT max(unit_no) FROM curriculum_unit
                         WHERE standard = 'twelve_year' AND subject_code = $1::varchar
                           AND grade = $2::smallint), 0)
                 + k,
               'Бөлүм ' || $5::text, 1, 'Бөлчөктөр ' || $5::text || ' ' || k,
               ARRAY['Окуучу бөлчөктөрдү кошот'],
               2, ARRAY['ky', 'ru', 'uz', 'tg']
        FROM generate_series(1, $4::int) k
        RETURNING id, unit_no
        """,
        subject,
        grade,
        term,
        n,
        label,
    )
    rows = await conn.fetch(
        """
        INSERT INTO lesson (unit_id, language, standard, subject_code, grade, term, unit_no,
            topic_no, position, title, summary, body, duration_seconds, status, author,
            published_at)
        SELECT u.id, $1::varchar, 'twelve_year', $2::varchar, $3::smallint, $4::smallint,
               u.unit_no, 1, 1,
               'Бөлчөктөрдү кошуу ' || u.unit_no, 'Окшош бөлүмдүү бөлчөктөрдү кошобуз',
               'Бөлчөктүн алымы жана бөлүмү.', 1500, $5::varchar, 'content_editor:bench',
               CASE WHEN $5::varchar = 'published' THEN now() END
        FROM unnest($6::int[], $7::int[]) u(id, unit_no)
        ORDER BY u.unit_no
        RETURNING id
        """,
        language,
        subject,
        grade,
        term,
        status,
        [u["id"] for u in units],
        [u["unit_no"] for u in units],
    )
    ids = [r["id"] for r in rows]
    if media:
        await files(conn, ids)
    await conn.execute(
        """
        INSERT INTO quiz_question (lesson_id, position, kind, prompt, choices, answer, points)
        SELECT l, 1, 'single_choice', '1/4 + 2/4 = ?', ARRAY['1/4', '3/4', '3/8'],
               '{"choice": 1}'::jsonb, 1
        FROM unnest($1::int[]) l
        """,
        ids,
    )
    return ids


async def files(conn: asyncpg.Connection, lesson_ids: Sequence[int]) -> None:
    """Known files (rows only) for each lesson: three renditions, audio, subtitles."""
    kinds: list[tuple[str, str, int | None, int, str]] = [
        ("video", r, h, size, "video/mp4") for r, h, size in RENDITIONS
    ]
    kinds += [
        ("audio", "audio", None, 9_000_000, "audio/mpeg"),
        ("subtitles", "ky", None, 6_000, "text/vtt"),
    ]
    await conn.execute(
        """
        WITH wanted AS (
          SELECT l, k.kind, k.rendition, k.height, k.size, k.media_type,
                 encode(sha256(convert_to(l || '/' || k.kind || '/' || k.rendition, 'UTF8')), 'hex')
                   AS sha256
          FROM unnest($1::int[]) l
          CROSS JOIN unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[])
            k(kind, rendition, height, size, media_type)
        ), stored AS (
          INSERT INTO file_object (sha256, size_bytes, media_type)
          SELECT sha256, size, media_type FROM wanted ON CONFLICT DO NOTHING
        )
        INSERT INTO lesson_media (lesson_id, kind, rendition, sha256, size_bytes, media_type,
            height, bitrate_kbps)
        SELECT l, kind, rendition, sha256, size, media_type, height,
               CASE WHEN kind IN ('video', 'audio') THEN 400 END
        FROM wanted
        """,
        list(lesson_ids),
        [k[0] for k in kinds],
        [k[1] for k in kinds],
        [k[2] for k in kinds],
        [k[3] for k in kinds],
        [k[4] for k in kinds],
    )


async def pupils(conn: asyncpg.Connection, n: int, *, grade: int) -> list[int]:
    """Pupils of the dataset with an open enrollment in ``grade`` (another grade's when none)."""
    rows = await conn.fetch(
        "SELECT person_id FROM enrollment WHERE sector = 'school' AND exit_date IS NULL "
        "ORDER BY grade_level = $1 DESC, person_id LIMIT $2",
        grade,
        n,
    )
    return [r["person_id"] for r in rows]


def statement(lesson_id: str, *, verb: str = "STARTED", **more: Any) -> dict[str, Any]:
    return {
        "statementId": str(uuid.uuid4()),
        "lessonId": lesson_id,
        "verb": verb,
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
        "seconds": 90,
        **more,
    }


async def universities(conn: asyncpg.Connection, n: int) -> list[int]:
    """New state universities, each licensed for higher education from last year."""
    from bench.workloads.licensing import _licences

    label = tag()
    rows = await conn.fetch(
        "INSERT INTO institution (kind, ownership, name, region_id, district_id, address, "
        "languages) SELECT 'university', 'state', 'Университет ' || $1 || '-' || k, 8, 50, "
        "'Бишкек ш., Чүй пр., ' || k, ARRAY['ky', 'ru'] "
        "FROM generate_series(1, $2::int) k RETURNING id",
        label,
        n,
    )
    ids = [r["id"] for r in rows]
    await _licences(conn, ids, issued_on=clock.today() - timedelta(days=365))
    await conn.execute(
        "UPDATE licence SET levels = ARRAY['higher']::varchar[] "
        "WHERE institution_id = ANY($1::int[])",
        ids,
    )
    return ids


async def courses(conn: asyncpg.Connection, university_ids: Sequence[int]) -> list[tuple[int, int]]:
    """A course per university (two modules, a quiz of 40 and an exam of 60) and a run of it
    open for enrollment with room for everyone: (course, run) per university."""
    label = tag()
    rows = await conn.fetch(
        """
        INSERT INTO open_course (institution_id, code, title, language, level, credits,
            programme_code, created_by)
        SELECT u, 'BENCH-' || $2 || '-' || u, 'Программалоого киришүү', 'ky', 'bachelor', 3,
               'HE-COMPUTING', 'content_editor:bench'
        FROM unnest($1::int[]) u
        RETURNING id, institution_id
        """,
        list(university_ids),
        label,
    )
    course_ids = [r["id"] for r in rows]
    await conn.execute(
        "INSERT INTO course_module (course_id, position, title, hours) "
        "SELECT c, k, 'Модуль ' || k, 20 FROM unnest($1::int[]) c, generate_series(1, 2) k",
        course_ids,
    )
    await conn.execute(
        "INSERT INTO course_assessment (course_id, position, title, kind, weight) "
        "SELECT c, 1, 'Тест', 'quiz', 40 FROM unnest($1::int[]) c "
        "UNION ALL SELECT c, 2, 'Экзамен', 'exam', 60 FROM unnest($1::int[]) c",
        course_ids,
    )
    today = clock.today()
    runs = await conn.fetch(
        "INSERT INTO course_run (course_id, starts_on, ends_on, enrollment_closes_on, capacity, "
        "open_to_all, pass_mark) SELECT c, $2::date, $3::date, $2::date, 100000, true, 50 "
        "FROM unnest($1::int[]) c RETURNING id, course_id",
        course_ids,
        today + timedelta(days=30),
        today + timedelta(days=120),
    )
    run_of = {r["course_id"]: r["id"] for r in runs}
    return [(c, run_of[c]) for c in course_ids]


async def students(conn: asyncpg.Connection, university_id: int, n: int) -> list[int]:
    """``n`` persons of the dataset enrolled at the university now."""
    rows = await conn.fetch(
        """
        INSERT INTO enrollment (person_id, institution_id, sector, entry_date, programme)
        SELECT p.id, $1, 'higher', $2::date, 'Информатика'
        FROM person p
        WHERE NOT EXISTS (SELECT 1 FROM enrollment e WHERE e.person_id = p.id
                          AND e.sector = 'higher' AND e.exit_date IS NULL)
          AND p.birth_date < $2::date - interval '17 years'
        ORDER BY p.id DESC LIMIT $3
        RETURNING person_id
        """,
        university_id,
        clock.today() - timedelta(days=200),
        n,
    )
    return [r["person_id"] for r in rows]


async def enroll(
    conn: asyncpg.Connection, run_id: int, people: Sequence[int], *, scores: Sequence[int] = ()
) -> list[int]:
    """Enroll people in a run, with their results in the run's assessments in order."""
    rows = await conn.fetch(
        "INSERT INTO course_enrollment (run_id, person_id) SELECT $1, p FROM unnest($2::int[]) p "
        "RETURNING id",
        run_id,
        list(people),
    )
    await conn.execute(
        "UPDATE course_run SET enrolled = enrolled + $2 WHERE id = $1", run_id, len(rows)
    )
    ids = [r["id"] for r in rows]
    if scores:
        await conn.execute(
            """
            INSERT INTO course_assessment_result (enrollment_id, assessment_id, score, recorded_by)
            SELECT e, a.id, s.score, 'content_editor:bench'
            FROM unnest($1::int[]) e
            JOIN course_run r ON r.id = $2
            JOIN course_assessment a ON a.course_id = r.course_id
            JOIN unnest($3::int[]) WITH ORDINALITY s(score, k) ON s.k = a.position
            """,
            ids,
            run_id,
            list(scores),
        )
    return ids

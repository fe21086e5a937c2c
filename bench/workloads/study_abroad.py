"""Study abroad (portals/study-abroad): the ministry announces government-quota programmes and
decides each selection stage; applicants apply; the ministry lists a programme's candidates.

Preparers write programmes with SQL as the ministry would announce them: a foreign university
of the dataset (its country), the application window open today, ages 16-29 at the reference
date, a minimum school average in six fields and the four stages ending with nomination.
Applicants are the dataset's people of those ages.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bench.workloads import Bench, Call, Workload
from bench.workloads.arrange import connect as _connect
from resolvers import clock
from resolvers.access import Role
from resolvers.relay import encode_id

FIELDS = ("engineering", "economics", "health", "teacher_education", "agriculture", "law")
STAGES = ("document_check", "test", "interview", "nomination")
MIN_AGE, MAX_AGE = 16, 29
COUNTRIES = ("RU", "CN", "TR", "KZ", "KR", "DE", "HU", "US")


def _age_on() -> date:
    return clock.today() + timedelta(days=90)


async def _universities(conn: Any) -> list[tuple[int | None, str]]:
    """The dataset's foreign universities with their country; countries alone without any."""
    rows = await conn.fetch(
        "SELECT id, country_code FROM institution WHERE kind = 'foreign_university' "
        "AND country_code IS NOT NULL AND country_code <> 'KG' ORDER BY id"
    )
    return [(r["id"], r["country_code"]) for r in rows] or [(None, c) for c in COUNTRIES]


async def _programmes(conn: Any, count: int, quota: int, name: str) -> list[int]:
    """``count`` programmes open for applications today, each admitting the six fields with a
    minimum school average of 3.5."""
    universities = await _universities(conn)
    today = clock.today()
    ids = []
    for i in range(count):
        institution_id, country = universities[i % len(universities)]
        ids.append(
            await conn.fetchval(
                "INSERT INTO foreign_programme (year, country_code, name, institution_id, level, "
                "quota, opens_on, closes_on, min_age, max_age, age_on, stages) "
                "VALUES ($1, $2, $3, $4, 'bachelor', $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                today.year,
                country,
                f"{name} {i + 1}",
                institution_id,
                quota,
                today - timedelta(days=10),
                today + timedelta(days=20),
                MIN_AGE,
                MAX_AGE,
                _age_on(),
                list(STAGES),
            )
        )
    await conn.execute(
        "INSERT INTO foreign_field_rule (programme_id, field_of_study, min_average) "
        "SELECT p, f, 3.5 FROM unnest($1::int[]) p CROSS JOIN unnest($2::text[]) f",
        ids,
        list(FIELDS),
    )
    return ids


async def _people(conn: Any, count: int) -> list[int]:
    """People aged 16-29 on the programmes' reference date."""
    rows = await conn.fetch(
        "SELECT id FROM person WHERE birth_date <= $1::date - make_interval(years => $2::int) "
        "AND birth_date > $1::date - make_interval(years => $3::int) ORDER BY id LIMIT $4",
        _age_on(),
        MIN_AGE,
        MAX_AGE + 1,
        count,
    )
    return [r["id"] for r in rows]


async def _applications(conn: Any, programme_ids: list[int], people: list[int]) -> list[Any]:
    """Applications of ``people`` spread over the programmes, at stages in turn (the stages
    before theirs passed, with a score where the stage scores)."""
    rows = await conn.fetch(
        """
        INSERT INTO foreign_application (programme_id, person_id, field_of_study,
            school_average, stage)
        SELECT ($1::int[])[1 + (k - 1) % cardinality($1::int[])], p,
               ($2::text[])[1 + p % cardinality($2::text[])],
               3.5 + (p % 16) / 10.0,
               ($3::text[])[1 + (k - 1) % cardinality($3::text[])]
        FROM unnest($4::int[]) WITH ORDINALITY AS a(p, k)
        RETURNING id, programme_id, person_id, stage
        """,
        programme_ids,
        list(FIELDS),
        list(STAGES),
        people,
    )
    await conn.execute(
        """
        INSERT INTO foreign_stage_result (application_id, stage, score, decision, decided_by)
        SELECT a.id, s.stage,
               CASE WHEN s.stage IN ('test', 'interview') THEN 60 + a.id % 40 END,
               'passed', 'bench'
        FROM foreign_application a
        JOIN unnest($2::text[]) WITH ORDINALITY AS s(stage, n) ON true
        JOIN unnest($2::text[]) WITH ORDINALITY AS c(stage, n) ON c.stage = a.stage
        WHERE a.id = ANY($1::int[]) AND s.n < c.n
        """,
        [r["id"] for r in rows],
        list(STAGES),
    )
    return list(rows)


async def create_foreign_programme(bench: Bench, n: int) -> list[Call]:
    """The ministry announces a programme at a foreign university of the dataset (its
    country), open for applications today: a different programme per call."""
    async with _connect(bench) as conn:
        universities = await _universities(conn)
    today = clock.today()
    token = bench.token(Role.MINISTRY)
    calls = []
    for i in range(n):
        institution_id, country = universities[i % len(universities)]
        calls.append(
            Call(
                {
                    "input": {
                        "year": today.year,
                        "countryCode": country,
                        "name": f"Государственная стипендия {country} {i + 1}",
                        "institutionId": encode_id("Institution", institution_id)
                        if institution_id
                        else None,
                        "level": ("BACHELOR", "MASTER")[i % 2],
                        "quota": 5 + i % 20,
                        "opensOn": today.isoformat(),
                        "closesOn": (today + timedelta(days=30)).isoformat(),
                        "minAge": MIN_AGE,
                        "maxAge": MAX_AGE,
                        "ageOn": _age_on().isoformat(),
                        "stages": [s.upper() for s in STAGES[i % 2 :]],
                        "fieldRules": [
                            {"fieldOfStudy": f, "minAverage": str(3 + (i + k) % 4 * 0.5)}
                            for k, f in enumerate(FIELDS[: 2 + i % 5])
                        ],
                    }
                },
                token,
            )
        )
    return calls


async def apply_to_foreign_programme(bench: Bench, n: int) -> list[Call]:
    """An applicant of age applies to a programme open today, in a field it admits with a
    school average over its minimum: programmes of 500 applicants, a different applicant
    per call."""
    async with _connect(bench) as conn:
        people = await _people(conn, n)
        programmes = await _programmes(
            conn, max(1, (len(people) + 499) // 500), quota=50, name="Квота на обучение"
        )
    return [
        Call(
            {
                "input": {
                    "programmeId": encode_id("ForeignProgramme", programmes[k % len(programmes)]),
                    "personId": encode_id("Person", person_id),
                    "fieldOfStudy": FIELDS[person_id % len(FIELDS)],
                    "schoolAverage": f"{3.5 + (person_id % 16) / 10:.2f}",
                }
            },
            bench.token(Role.PUPIL, person_id=person_id),
        )
        for k, person_id in enumerate(people)
    ]


async def advance_foreign_application(bench: Bench, n: int) -> list[Call]:
    """The ministry passes an application's current stage (document check, test, interview
    or nomination, in turn; a score for the test and the interview): a different
    application per call, quotas large enough for every nomination."""
    async with _connect(bench) as conn:
        people = await _people(conn, n)
        programmes = await _programmes(
            conn, max(1, (len(people) + 499) // 500), quota=500, name="Отбор на обучение"
        )
        applications = await _applications(conn, programmes, people)
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("ForeignApplication", a["id"]),
                    "stage": a["stage"].upper(),
                    "decision": "PASSED",
                    "score": str(60 + a["id"] % 40)
                    if a["stage"] in ("test", "interview")
                    else None,
                }
            },
            token,
        )
        for a in applications
    ]


async def programme_candidates(bench: Bench, n: int) -> list[Call]:
    """The ministry lists a programme's candidates (first 100, with their stage results):
    three programmes of 300 applicants at every stage."""
    async with _connect(bench) as conn:
        people = await _people(conn, 300)
        programmes = await _programmes(conn, 3, quota=30, name="Кандидаты на обучение")
        for programme in programmes:
            await _applications(conn, [programme], people)
    token = bench.token(Role.MINISTRY)
    return [
        Call({"programmeId": encode_id("ForeignProgramme", p), "after": None}, token)
        for p in programmes
    ][:n]


async def my_foreign_applications(bench: Bench, n: int) -> list[Call]:
    """An applicant opens their page: fifty people, each with an application at some stage of
    a programme's selection."""
    async with _connect(bench) as conn:
        people = await _people(conn, min(n, 50))
        programmes = await _programmes(conn, 1, quota=50, name="Мои заявки за рубеж")
        await _applications(conn, programmes, people)
    return [
        Call({"personId": encode_id("Person", p)}, bench.token(Role.PUPIL, person_id=p))
        for p in people
    ]


async def foreign_programmes(bench: Bench, n: int) -> list[Call]:
    """An applicant browses the programmes open today (twenty new ones first), first page."""
    async with _connect(bench) as conn:
        await _programmes(conn, 20, quota=30, name="Программа обмена")
        person = (await _people(conn, 1))[0]
    return [
        Call({"openOn": clock.today().isoformat()}, bench.token(Role.PUPIL, person_id=person)),
        Call({}, bench.token(Role.PUPIL, person_id=person)),
    ]


WORKLOADS = [
    Workload("study-abroad/MyForeignApplications", my_foreign_applications),
    Workload("study-abroad/ForeignProgrammes", foreign_programmes),
    Workload("study-abroad/CreateForeignProgramme", create_foreign_programme),
    Workload("study-abroad/ApplyToForeignProgramme", apply_to_foreign_programme),
    Workload("study-abroad/AdvanceForeignApplication", advance_foreign_application),
    Workload("study-abroad/ProgrammeCandidates", programme_candidates),
]

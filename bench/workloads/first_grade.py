"""First-grade e-enrollment: applying, verification, quotas, allocation and a school's list.

Every preparer first opens stage 1 (by registered address) of next school year's season today,
as the tests do: the migration seeds the season with its real dates, which are months away.
Applicants are younger siblings of the dataset's pupils in grades 1-4 of state and municipal
schools (no licence needed): each is a new child born in the season's grade-1 year, registered
at the family's address, which lies in a catchment area of the sibling's school, and linked to
the sibling's guardian.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg

from bench.workloads import Bench, Call, Workload
from bench.workloads.arrange import FIRST_NAMES, NewPerson, connect, insert_people
from models.people import Sex
from resolvers.access import Role
from resolvers.clock import today
from resolvers.relay import encode_id

# Applications of a school the school's page is measured on: more than its first page of 50.
LISTED_PER_SCHOOL = 70
LISTED_SCHOOLS = 5
# Allocation calls: a district officer allocates the district's schools, each with this many
# new verified applications.
ALLOCATED_DISTRICTS = 12
ALLOCATED_PER_SCHOOL = 15


@dataclass(frozen=True)
class Season:
    id: int
    year: int
    class_size_max: int


@dataclass(frozen=True)
class Applicant:
    child_id: int
    pin: str
    guardian_id: int
    school_id: int
    language: str  # the Language enum's name
    district_id: int
    address: str


async def open_season(conn: asyncpg.Connection) -> Season:
    """Next school year's first-grade season, its stage 1 open today (stage 2 follows)."""
    on = today()
    year = on.year + 1 if on.month >= 9 else on.year
    row = await conn.fetchrow(
        "UPDATE intake_season SET starts_on = $2, stage1_starts = $2, stage1_ends = $3,"
        " stage2_starts = $4, stage2_ends = $5, ends_on = greatest(ends_on, $5)"
        " WHERE kind = 'first_grade' AND year = $1 RETURNING id, year, class_size_max",
        year,
        on - timedelta(days=10),
        on + timedelta(days=10),
        on + timedelta(days=11),
        on + timedelta(days=40),
    )
    assert row is not None, "the migration seeds the first-grade seasons"
    return Season(row["id"], row["year"], row["class_size_max"])


async def new_applicants(
    conn: asyncpg.Connection,
    season: Season,
    n: int,
    *,
    schools: list[int] | None = None,
    per_school: int | None = None,
) -> list[Applicant]:
    """``n`` new children of grade-1 age in families living in a school's catchment area (of
    ``schools`` if given, at most ``per_school`` each), a family that has not applied this
    season; each child is registered with a PIN and linked to the family's guardian."""
    families = await conn.fetch(
        "WITH family AS ("
        " SELECT DISTINCT ON (g.guardian_id) g.guardian_id, g.kind, s.id AS school_id,"
        "  s.languages[1] AS language, c.registered_district_id AS district_id,"
        "  c.registered_address AS address, c.last_name, c.patronymic, c.sex"
        " FROM enrollment e JOIN institution s ON s.id = e.institution_id"
        " JOIN person c ON c.id = e.person_id"
        " JOIN guardianship g ON g.child_id = c.id AND g.valid_to IS NULL"
        " WHERE e.sector = 'school' AND e.exit_date IS NULL AND e.grade_level <= 4"
        "  AND s.kind = 'school' AND s.ownership IN ('state', 'municipal')"
        "  AND s.closed_on IS NULL AND cardinality(s.languages) > 0"
        "  AND ($2::int[] IS NULL OR s.id = ANY($2::int[]))"
        "  AND EXISTS (SELECT FROM catchment_area a, unnest(a.streets) street"
        "   WHERE a.institution_id = s.id AND a.district_id = c.registered_district_id"
        "   AND strpos(c.registered_address, street) > 0)"
        "  AND NOT EXISTS (SELECT FROM first_grade_application f"
        "   WHERE f.guardian_id = g.guardian_id AND f.season_id = $1)"
        " ORDER BY g.guardian_id, e.id)"
        " SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY school_id"
        "  ORDER BY guardian_id) AS place FROM family) f"
        " WHERE $3::int IS NULL OR place <= $3 ORDER BY place, school_id LIMIT $4",
        season.id,
        schools,
        per_school,
        n,
    )
    grade1_year = season.year - 6
    people = []
    for k, f in enumerate(families):
        sex = Sex(f["sex"])
        people.append(
            NewPerson(
                last_name=f["last_name"],
                first_name=FIRST_NAMES[sex][k % len(FIRST_NAMES[sex])],
                patronymic=f["patronymic"],
                sex=sex,
                birth_date=date(grade1_year, 1 + k % 12, 1 + k % 28),
                district_id=f["district_id"],
                address=f["address"],
            )
        )
    made = await insert_people(conn, people, serial_from=80_000)
    await conn.execute(
        "INSERT INTO guardianship (guardian_id, child_id, kind, valid_from)"
        " SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::date[])",
        [f["guardian_id"] for f in families],
        [child for child, _ in made],
        [f["kind"] for f in families],
        [p.birth_date for p in people],
    )
    return [
        Applicant(
            child_id=child,
            pin=pin,
            guardian_id=f["guardian_id"],
            school_id=f["school_id"],
            language=f["language"].upper(),
            district_id=f["district_id"],
            address=f["address"],
        )
        for (child, pin), f in zip(made, families, strict=True)
    ]


async def insert_applications(
    conn: asyncpg.Connection, season: Season, applicants: list[Applicant], *, verified: bool
) -> list[int]:
    """Stage-1 applications of ``applicants`` as the guardians made them (every tenth claims
    the military benefit), submitted or also verified by the school; their ids, in order."""
    military = await conn.fetchval(
        "SELECT id FROM benefit_category WHERE season_id = $1 AND code = 'military'", season.id
    )
    claims = [k % 10 == 3 for k in range(len(applicants))]
    rows = await conn.fetch(
        "INSERT INTO first_grade_application (season_id, child_id, guardian_id, school_id,"
        " language, grade_level, finished_preschool_programme, stage, birth_certificate,"
        " address_district_id, address, catchment, benefit_category_id, benefit_status,"
        " benefit_proof, contact_phone, status, applied_at)"
        " SELECT $1, t.child, t.guardian, t.school, lower(t.language), 1, false, 'catchment',"
        "  'I-АН № ' || (600000 + t.k), t.district, t.address, true,"
        "  CASE WHEN t.claims THEN $7::int END,"
        "  CASE WHEN NOT t.claims THEN 'none' WHEN $8 THEN 'verified' ELSE 'claimed' END,"
        "  CASE WHEN t.claims THEN 'Справка воинской части' END,"
        "  '+996 555 ' || lpad((100000 + t.k)::text, 6, '0'),"
        "  CASE WHEN $8 THEN 'verified' ELSE 'submitted' END,"
        "  now() - make_interval(mins => t.k::int)"
        " FROM unnest($2::int[], $3::int[], $4::int[], $5::text[], $6::int[], $9::text[],"
        "  $10::bool[]) WITH ORDINALITY AS t(child, guardian, school, language, district,"
        "  address, claims, k)"
        " ORDER BY t.k RETURNING id, child_id",
        season.id,
        [a.child_id for a in applicants],
        [a.guardian_id for a in applicants],
        [a.school_id for a in applicants],
        [a.language for a in applicants],
        [a.district_id for a in applicants],
        military,
        verified,
        [a.address for a in applicants],
        claims,
    )
    ids = {r["child_id"]: r["id"] for r in rows}
    await conn.execute(
        "INSERT INTO first_grade_application_event (application_id, status, actor, at)"
        " SELECT f.id, 'submitted', 'person:' || f.guardian_id, f.applied_at"
        " FROM first_grade_application f WHERE f.id = ANY($1::int[])"
        " UNION ALL SELECT f.id, 'verified', 'school_admin:bench', now()"
        " FROM first_grade_application f WHERE $2 AND f.id = ANY($1::int[])",
        list(ids.values()),
        verified,
    )
    return [ids[a.child_id] for a in applicants]


def _school_admin(bench: Bench, school_id: int) -> str:
    return bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school_id}"])


async def apply_for_first_grade(bench: Bench, n: int) -> list[Call]:
    """Guardians apply in stage 1, each for their own new child (grade-1 age, registered in
    the catchment area of the school the family's elder child attends), in the school's
    first language, with the birth certificate; every tenth claims the military benefit."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        applicants = await new_applicants(conn, season, n)
    calls = []
    for k, a in enumerate(applicants):
        benefit = {"benefitCategory": "military", "benefitProof": "Справка воинской части"}
        calls.append(
            Call(
                {
                    "input": {
                        "childId": encode_id("Person", a.child_id),
                        "pin": a.pin,
                        "birthCertificate": f"I-АН № {700_000 + k}",
                        "schoolId": encode_id("Institution", a.school_id),
                        "language": a.language,
                        "contactPhone": f"+996 700 {100_000 + k}",
                        **(benefit if k % 10 == 3 else {}),
                    }
                },
                bench.token(Role.GUARDIAN, person_id=a.guardian_id),
            )
        )
    return calls


async def verify_first_grade_application(bench: Bench, n: int) -> list[Call]:
    """Schools check submitted applications, one per call, by the school's administrator:
    most documents hold (a claimed benefit's proof too), every eighth birth certificate does
    not and the application is rejected with that reason."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        applicants = await new_applicants(conn, season, n)
        ids = await insert_applications(conn, season, applicants, verified=False)
    calls = []
    for k, (a, application_id) in enumerate(zip(applicants, ids, strict=True)):
        valid = k % 8 != 5
        decision: dict[str, object] = (
            {"documentsValid": True, "benefitConfirmed": True}
            if valid
            else {
                "documentsValid": False,
                "rejectionReason": "BIRTH_CERTIFICATE_INVALID",
                "note": "Номер свидетельства не совпадает с записью ЗАГС",
            }
        )
        calls.append(
            Call(
                {
                    "input": {
                        "applicationId": encode_id("FirstGradeApplication", application_id),
                        **decision,
                    }
                },
                _school_admin(bench, a.school_id),
            )
        )
    return calls


async def set_first_grade_quota(bench: Bench, n: int) -> list[Call]:
    """School administrators set their places for next year's grades 1 and 2, one (school,
    grade) per call: 1-4 classes, 30 places a class, never below the places already
    admitted."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        rows = await conn.fetch(
            "SELECT s.id, g.grade, coalesce(q.admitted, 0) AS admitted"
            " FROM institution s CROSS JOIN (VALUES (1), (2)) AS g(grade)"
            " LEFT JOIN first_grade_quota q ON q.season_id = $1 AND q.school_id = s.id"
            "  AND q.grade_level = g.grade"
            " WHERE s.kind = 'school' AND s.closed_on IS NULL"
            " ORDER BY g.grade, s.id LIMIT $2",
            season.id,
            n,
        )
    calls = []
    for r in rows:
        classes = max(1 + (r["id"] + r["grade"]) % 4, -(-r["admitted"] // season.class_size_max))
        places = min(classes * season.class_size_max, max(classes * 30, r["admitted"]))
        calls.append(
            Call(
                {
                    "input": {
                        "seasonId": encode_id("IntakeSeason", season.id),
                        "schoolId": encode_id("Institution", r["id"]),
                        "gradeLevel": r["grade"],
                        "classes": classes,
                        "places": places,
                    }
                },
                _school_admin(bench, r["id"]),
            )
        )
    return calls


async def school_first_grade_applications(bench: Bench, n: int) -> list[Call]:
    """A school's page: its administrator lists the season's applications to the school,
    catchment first, 50 a page, with the school's quotas. Each of the five largest state or
    municipal schools gets up to 70 applications of new children (half verified, half still
    submitted); one call asks for the verified ones only."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        largest = await conn.fetch(
            "SELECT s.id FROM institution s JOIN enrollment e ON e.institution_id = s.id"
            " AND e.sector = 'school' AND e.exit_date IS NULL AND e.grade_level <= 4"
            " WHERE s.kind = 'school' AND s.ownership IN ('state', 'municipal')"
            " AND s.closed_on IS NULL AND cardinality(s.languages) > 0"
            " AND EXISTS (SELECT FROM catchment_area a WHERE a.institution_id = s.id)"
            " GROUP BY s.id ORDER BY count(*) DESC, s.id LIMIT $1",
            max(1, min(n, LISTED_SCHOOLS)),
        )
        applicants = await new_applicants(
            conn,
            season,
            len(largest) * LISTED_PER_SCHOOL,
            schools=[r["id"] for r in largest],
            per_school=LISTED_PER_SCHOOL,
        )
        by_school: dict[int, list[Applicant]] = {}
        for a in applicants:
            by_school.setdefault(a.school_id, []).append(a)
        for listed in by_school.values():
            half = len(listed) // 2
            await insert_applications(conn, season, listed[:half], verified=True)
            await insert_applications(conn, season, listed[half:], verified=False)
    return [
        Call(
            {
                "seasonId": encode_id("IntakeSeason", season.id),
                "schoolId": encode_id("Institution", school),
                **({"status": "VERIFIED"} if k == 1 else {}),
            },
            _school_admin(bench, school),
        )
        for k, school in enumerate(sorted(by_school))
    ]


async def allocate_first_grade_places(bench: Bench, n: int) -> list[Call]:
    """A batch operation: each call is one district's allocation by its district officer,
    over all the district's schools (each given 15 new verified applications), so a run has at
    most 12 calls, not ``n``. Quotas come from the school's design capacity unless set."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        districts = await conn.fetch(
            "SELECT s.district_id, array_agg(s.id ORDER BY s.id) AS schools"
            " FROM institution s WHERE s.kind = 'school' AND s.ownership IN ('state', 'municipal')"
            " AND s.closed_on IS NULL AND EXISTS (SELECT FROM catchment_area a"
            "  WHERE a.institution_id = s.id)"
            " GROUP BY s.district_id ORDER BY count(*) DESC, s.district_id LIMIT $1",
            min(n, ALLOCATED_DISTRICTS),
        )
        schools = [school for d in districts for school in d["schools"]]
        applicants = await new_applicants(
            conn,
            season,
            len(schools) * ALLOCATED_PER_SCHOOL,
            schools=schools,
            per_school=ALLOCATED_PER_SCHOOL,
        )
        await insert_applications(conn, season, applicants, verified=True)
    applied = {a.school_id for a in applicants}
    return [
        Call(
            {"input": {"seasonId": encode_id("IntakeSeason", season.id)}},
            bench.token(Role.DISTRICT_OFFICER, scopes=[f"district:{d['district_id']}"]),
        )
        for d in districts
        if applied.intersection(d["schools"])
    ]


async def withdraw_first_grade_application(bench: Bench, n: int) -> list[Call]:
    """Families take back open applications, each guardian their own child's: one in three
    still submitted, the others verified by the school (every tenth with the military
    benefit); every fourth call gives a reason."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        applicants = await new_applicants(conn, season, n)
        third = len(applicants) // 3
        ids = await insert_applications(conn, season, applicants[:third], verified=False)
        ids += await insert_applications(conn, season, applicants[third:], verified=True)
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("FirstGradeApplication", application_id),
                    **({"reason": "Семья переезжает в другой город"} if k % 4 == 1 else {}),
                }
            },
            bench.token(Role.GUARDIAN, person_id=a.guardian_id),
        )
        for k, (a, application_id) in enumerate(zip(applicants, ids, strict=True))
    ]


async def my_first_grade_applications(bench: Bench, n: int) -> list[Call]:
    """A guardian opens their page: fifty families, each with a verified application (its
    history, the school, the season)."""
    async with connect(bench) as conn:
        season = await open_season(conn)
        applicants = await new_applicants(conn, season, min(n, 50))
        await insert_applications(conn, season, applicants, verified=True)
    return [Call({}, bench.token(Role.GUARDIAN, person_id=a.guardian_id)) for a in applicants]


WORKLOADS = [
    Workload("first-grade/ApplyForFirstGrade", apply_for_first_grade),
    Workload("first-grade/VerifyFirstGradeApplication", verify_first_grade_application),
    Workload("first-grade/SetFirstGradeQuota", set_first_grade_quota),
    Workload("first-grade/SchoolFirstGradeApplications", school_first_grade_applications),
    Workload("first-grade/AllocateFirstGradePlaces", allocate_first_grade_places),
    Workload("first-grade/WithdrawFirstGradeApplication", withdraw_first_grade_application),
    Workload("first-grade/MyFirstGradeApplications", my_first_grade_applications),
]

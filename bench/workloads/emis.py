"""EMIS registry: registering people, institutions, enrollments and guardianship."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from bench.workloads import Bench, Call, Workload
from bench.workloads.arrange import FIRST_NAMES, NewPerson, connect, insert_people
from models.people import Sex
from resolvers.access import Role
from resolvers.clock import today
from resolvers.people.pin import make_pin
from resolvers.relay import encode_id


async def _free_pins(bench: Bench, n: int) -> list[tuple[str, date, Sex]]:
    """``n`` well-formed PINs no one holds: children born in 2021-2022, serials from 90000."""
    wanted: list[tuple[str, date, Sex]] = []
    for k in range(n * 2):
        born = date(2021, 1, 1) + timedelta(days=k % 700)
        sex = Sex.FEMALE if k % 2 else Sex.MALE
        wanted.append((make_pin(sex=sex, birth_date=born, serial=90_000 + k // 700), born, sex))
    conn = await asyncpg.connect(bench.db_url)
    try:
        taken = {
            r["pin"]
            for r in await conn.fetch(
                "SELECT pin FROM person_pin WHERE pin = ANY($1::text[])", [w[0] for w in wanted]
            )
        }
    finally:
        await conn.close()
    return [w for w in wanted if w[0] not in taken][:n]


async def register_person(bench: Bench, n: int) -> list[Call]:
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "pin": pin,
                    "firstName": "Айпери" if sex == Sex.FEMALE else "Бакыт",
                    "lastName": "Токтогулова" if sex == Sex.FEMALE else "Токтогулов",
                    "birthDate": born.isoformat(),
                    "sex": sex.name,
                }
            },
            token,
        )
        for pin, born, sex in await _free_pins(bench, n)
    ]


# Schools that admit pupils without a licence (the dataset holds none): state and municipal ones,
# open today.
OPEN_PUBLIC_SCHOOL = (
    "s.kind = 'school' AND s.ownership IN ('state', 'municipal')"
    " AND (s.closed_on IS NULL OR s.closed_on > $1) AND (s.opened_on IS NULL OR s.opened_on <= $1)"
)


# What the registry gains, in turn: (kind, ownership, name).
NEW_INSTITUTIONS = (
    ("SCHOOL", "MUNICIPAL", "Орто мектеп"),
    ("KINDERGARTEN", "MUNICIPAL", "Бала бакча"),
    ("SCHOOL", "MUNICIPAL", "Орто мектеп"),
    ("SCHOOL", "STATE", "Лицей"),
    ("KINDERGARTEN", "PRIVATE", "Жеке бала бакча"),
)


async def create_institution(bench: Bench, n: int) -> list[Call]:
    """The ministry adds schools and kindergartens (some private) opening next September, each
    in a district of the geography (in turn) with a legal identifier no one holds."""
    opens = date(today().year + (1 if today().month >= 9 else 0), 9, 1)
    async with connect(bench) as conn:
        districts = await conn.fetch(
            "SELECT id, region_id, name_ru FROM district WHERE valid_to IS NULL ORDER BY id"
        )
        wanted = [f"0{opens:%d%m%Y}{90_000 + k:05d}" for k in range(n * 2)]
        taken = {
            r["legal_id"]
            for r in await conn.fetch(
                "SELECT legal_id FROM institution WHERE legal_id = ANY($1::text[])", wanted
            )
        }
    legal_ids = [w for w in wanted if w not in taken][:n]
    token = bench.token(Role.MINISTRY)
    calls = []
    for k, legal_id in enumerate(legal_ids):
        district = districts[k % len(districts)]
        kind, ownership, name = NEW_INSTITUTIONS[k % len(NEW_INSTITUTIONS)]
        calls.append(
            Call(
                {
                    "input": {
                        "name": f"{name} №{200 + k}",
                        "kind": kind,
                        "ownership": ownership,
                        "legalId": legal_id,
                        "regionId": encode_id("Region", district["region_id"]),
                        "districtId": encode_id("District", district["id"]),
                        "address": f"{district['name_ru']}, ул. Жаңы-Жол, {1 + k % 150}",
                        "languages": ["KY", "RU"],
                        "designCapacity": 280 if kind == "KINDERGARTEN" else 1_200,
                        "openedOn": opens.isoformat(),
                    }
                },
                token,
            )
        )
    return calls


DESIGN_CAPACITY_MAX = 20_000  # the registry's rule (resolvers.institutions)
NEW_WING = 60


async def update_institution(bench: Bench, n: int) -> list[Call]:
    """District officers record a new wing: each call raises one institution's design capacity
    by 60 places (its languages sent again, as the registry's form does), for institutions
    with room under the registry's maximum. One institution per call; the caller is scoped to
    its district."""
    async with connect(bench) as conn:
        rows = await conn.fetch(
            "SELECT id, district_id, design_capacity, languages FROM institution"
            " WHERE district_id IS NOT NULL AND coalesce(design_capacity, 0) <= $2"
            " ORDER BY id LIMIT $1",
            n,
            DESIGN_CAPACITY_MAX - NEW_WING,
        )
    return [
        Call(
            {
                "input": {
                    "id": encode_id("Institution", r["id"]),
                    "designCapacity": (r["design_capacity"] or 0) + NEW_WING,
                    "languages": [lang.upper() for lang in r["languages"]],
                }
            },
            bench.token(Role.DISTRICT_OFFICER, scopes=[f"district:{r['district_id']}"]),
        )
        for r in rows
    ]


async def enroll_student(bench: Bench, n: int) -> list[Call]:
    """Children arriving in the country (registered here, with a PIN, in no school) are enrolled
    today in grades 1-4 of a state or municipal school of their district, by that school's
    administrator, who holds their documents (the PIN)."""
    on = today()
    school_year = on.year if on.month >= 9 else on.year - 1
    async with connect(bench) as conn:
        schools = await conn.fetch(
            f"SELECT s.id, s.district_id FROM institution s WHERE {OPEN_PUBLIC_SCHOOL}"
            " ORDER BY s.id",
            on,
        )
        people = []
        for k in range(n if schools else 0):
            sex = Sex.FEMALE if k % 2 else Sex.MALE
            people.append(
                NewPerson(
                    last_name="Осмонова" if sex == Sex.FEMALE else "Осмонов",
                    first_name=FIRST_NAMES[sex][k % len(FIRST_NAMES[sex])],
                    patronymic="Бакытовна" if sex == Sex.FEMALE else "Бакытович",
                    sex=sex,
                    birth_date=date(school_year - 9 + k % 4, 1 + k % 12, 1 + k % 28),
                    district_id=schools[k % len(schools)]["district_id"],
                    address=None,
                )
            )
        made = await insert_people(conn, people, serial_from=70_000)
    calls = []
    for k, ((person_id, pin), person) in enumerate(zip(made, people, strict=True)):
        school = schools[k % len(schools)]["id"]
        # The entry-age rule (domain.md F4): grade g takes children born in Y-5-g.
        grade = school_year - 5 - person.birth_date.year
        calls.append(
            Call(
                {
                    "input": {
                        "personId": encode_id("Person", person_id),
                        "institutionId": encode_id("Institution", school),
                        "entryDate": on.isoformat(),
                        "gradeLevel": grade,
                        "classGroup": f"{grade}В",
                        "pin": pin,
                    }
                },
                bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school}"]),
            )
        )
    return calls


async def _open_pupils(conn: asyncpg.Connection, n: int, *, spread: int) -> list[asyncpg.Record]:
    """``n`` pupils with an open school enrollment begun before today, spread over the schools
    (``spread`` picks a different sample for each workload)."""
    return await conn.fetch(
        "SELECT e.id, e.person_id, e.institution_id, e.grade_level, p.pin, s.district_id"
        " FROM enrollment e JOIN person p ON p.id = e.person_id"
        " JOIN institution s ON s.id = e.institution_id"
        " WHERE e.sector = 'school' AND e.exit_date IS NULL AND e.entry_date < $1"
        " AND p.pin IS NOT NULL AND s.district_id IS NOT NULL"
        " ORDER BY (e.id::bigint * $3::bigint) % 10007, e.id LIMIT $2",
        today(),
        n,
        spread,
    )


async def transfer_student(bench: Bench, n: int) -> list[Call]:
    """Families move: each pupil (a different one per call) is transferred today, grade
    unchanged, to another state or municipal school, of the same district if there is one,
    else of the region, else anywhere. The caller is the receiving school's administrator,
    who holds the pupil's documents (the PIN)."""
    on = today()
    async with connect(bench) as conn:
        schools = await conn.fetch(
            f"SELECT s.id, s.district_id, s.region_id FROM institution s WHERE {OPEN_PUBLIC_SCHOOL}"
            " ORDER BY s.id",
            on,
        )
        pupils = await _open_pupils(conn, n, spread=7_919) if len(schools) > 1 else []
        regions = dict(await conn.fetch("SELECT id, region_id FROM district"))
    by_district: dict[int, list[int]] = {}
    by_region: dict[int, list[int]] = {}
    for s in schools:
        by_district.setdefault(s["district_id"], []).append(s["id"])
        by_region.setdefault(s["region_id"], []).append(s["id"])
    everywhere = [s["id"] for s in schools]
    calls = []
    for p in pupils:
        for pool in (
            by_district.get(p["district_id"], []),
            by_region.get(regions[p["district_id"]], []),
            everywhere,
        ):
            choices = [t for t in pool if t != p["institution_id"]]
            if choices:
                break
        target = choices[p["id"] % len(choices)]
        calls.append(
            Call(
                {
                    "input": {
                        "enrollmentId": encode_id("Enrollment", p["id"]),
                        "toInstitutionId": encode_id("Institution", target),
                        "date": on.isoformat(),
                        "classGroup": f"{p['grade_level']}Г",
                        "pin": p["pin"],
                    }
                },
                bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{target}"]),
            )
        )
    return calls


async def withdraw_student(bench: Bench, n: int) -> list[Call]:
    """School administrators end pupils' enrollments today, a different pupil per call: most
    move abroad with their families, some are withdrawn on their guardians' request."""
    async with connect(bench) as conn:
        pupils = await _open_pupils(conn, n, spread=104_729)
    return [
        Call(
            {
                "input": {
                    "enrollmentId": encode_id("Enrollment", p["id"]),
                    "date": today().isoformat(),
                    "reason": "WITHDRAWN" if k % 4 == 3 else "MOVED_ABROAD",
                }
            },
            bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{p['institution_id']}"]),
        )
        for k, p in enumerate(pupils)
    ]


def _older_by(elder: date, younger: date, *, years: int) -> bool:
    return (elder.year + years, elder.month, elder.day) <= (
        younger.year,
        younger.month,
        younger.day,
    )


async def link_guardian(bench: Bench, n: int) -> list[Call]:
    """Parents leave for work abroad and a trustee takes their place: a school administrator
    links a pupil of the school (a different one per call) to an adult of another family of
    the same school, at least 18 years older, not yet linked to the child, who shows their
    PIN."""
    async with connect(bench) as conn:
        pupils = await conn.fetch(
            "SELECT e.person_id, e.institution_id, p.birth_date,"
            " (SELECT array_agg(g.guardian_id) FROM guardianship g"
            "   WHERE g.child_id = e.person_id AND g.valid_to IS NULL) AS linked"
            " FROM enrollment e JOIN person p ON p.id = e.person_id"
            " WHERE e.sector = 'school' AND e.exit_date IS NULL"
            " ORDER BY e.institution_id, e.person_id LIMIT $1",
            n * 3,
        )
        adults = {
            r["child_id"]: r
            for r in await conn.fetch(
                "SELECT DISTINCT ON (g.child_id) g.child_id, a.id, a.pin, a.birth_date"
                " FROM guardianship g JOIN person a ON a.id = g.guardian_id"
                " WHERE g.valid_to IS NULL AND a.pin IS NOT NULL"
                " AND g.child_id = ANY($1::int[]) ORDER BY g.child_id, a.id",
                [p["person_id"] for p in pupils],
            )
        }
    calls: list[Call] = []
    for k, pupil in enumerate(pupils):
        if len(calls) == n:
            break
        neighbour = pupils[k - 1]  # the previous pupil of the same school, another family
        adult = adults.get(neighbour["person_id"])
        if (
            neighbour["institution_id"] != pupil["institution_id"]
            or adult is None
            or adult["id"] in (pupil["linked"] or [])
            or not _older_by(adult["birth_date"], pupil["birth_date"], years=18)
        ):
            continue
        calls.append(
            Call(
                {
                    "input": {
                        "guardianId": encode_id("Person", adult["id"]),
                        "childId": encode_id("Person", pupil["person_id"]),
                        "kind": "TRUSTEE",
                        "guardianPin": adult["pin"],
                    }
                },
                bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{pupil['institution_id']}"]),
            )
        )
    return calls


WORKLOADS = [
    Workload("emis/RegisterPerson", register_person),
    Workload("emis/CreateInstitution", create_institution),
    Workload("emis/UpdateInstitution", update_institution),
    Workload("emis/EnrollStudent", enroll_student),
    Workload("emis/TransferStudent", transfer_student),
    Workload("emis/WithdrawStudent", withdraw_student),
    Workload("emis/LinkGuardian", link_guardian),
]

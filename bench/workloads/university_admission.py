"""University admission (portals/university-admission): the ministry's seasons, rounds, thresholds
and pools, the universities' programmes and creative tests, the applicants' lists and confirmed
places, publishing a round and the admission order; and the catalogue, applicant lists and rank
explanations the portal reads.

Most preparers build their own campaign with SQL, set-based as in ``bench/admission.py``: a
main-intake season of a year no season holds yet (from this year down), its first round in the
phase the operation needs (registration open today; publication due today with confirmation
open; or every window over), bench universities holding a licence for higher education (issue 5),
programmes with places in every pool and contract, and applicants drawn from the dataset's
pupils (the district of their last school decides their pool, as the hub decides it) with a
national test certificate of the season's year and, where the operation needs them, their
applications. Where a round must be published first the preparer publishes it with the
resolvers' own ``publish_round``, so the recommended lists are the real ranking's.

Seasons are unique per year and intake and the hub admits years 2000-2100, so season-making
operations are bounded: campaigns take main intakes of this year and earlier,
``CreateAdmissionSeason`` the main intakes of later years, and ``CreateAdmissionRound`` the
winter seasons it makes (each call adds the first round of its own season).

``ImportTestResults`` is not here: its file is a multipart upload, and a :class:`Call` is a JSON
request (the hub refuses a file sent any other way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.workloads import Bench, Call, Upload, Workload
from bench.workloads.arrange import connect as _connect
from models import database
from resolvers import admission as admission_service
from resolvers import clock
from resolvers.access import Principal, Role
from resolvers.relay import encode_id

SUBJECTS = ("math", "physics", "chemistry", "biology", "history", "english")
FIELDS = ("engineering", "economics", "health", "teacher_education", "agriculture", "law")
REQUIRED = (
    ["math"],
    ["math", "physics"],
    ["chemistry", "biology"],
    ["history"],
    ["english", "history"],
    ["biology"],
)
POOLS = ("bishkek", "regional_town", "rural", "high_altitude")
LOWEST_YEAR, HIGHEST_YEAR = 2000, 2100  # the years the hub admits for a season
CHOICES = 5
# Each batch call (publishing a round, issuing an order) is one season of this size.
BATCH_CALLS = 8
BATCH_PROGRAMMES = 30
BATCH_APPLICANTS = 900
MINISTRY = Principal(subject="bench", role=Role.MINISTRY)

# Round dates relative to today, by the phase an operation needs: (registration opens,
# registration closes, publication, confirmation opens, confirmation closes).
PHASES = {
    "registration": (-5, 5, 7, 7, 12),  # applicants apply today
    "publication": (-20, -1, 0, 0, 5),  # publishes today; confirmation open today
    "over": (-30, -10, -8, -8, -1),  # every window has passed: the order may be issued
}


async def _free_years(conn: Any, intake: str, years: range) -> list[int]:
    taken = {
        r["year"]
        for r in await conn.fetch("SELECT year FROM admission_season WHERE intake = $1", intake)
    }
    return [y for y in years if y not in taken]


async def _season(conn: Any, year: int, *, intake: str = "main", name: str = "") -> int:
    season_id: int = await conn.fetchval(
        "INSERT INTO admission_season (year, intake, name, max_choices, main_score_max, "
        "subject_score_max, state_language_score_max, main_threshold, subject_threshold, "
        "state_language_threshold, studies_start) "
        "VALUES ($1, $2, $3, $4, 245, 150, 150, 110, 60, 50, $5) RETURNING id",
        year,
        intake,
        name or f"Приём {year} (бенчмарк)",
        CHOICES,
        clock.today() + timedelta(days=60),
    )
    return season_id


async def _round(conn: Any, season_id: int, phase: str) -> int:
    today = clock.today()
    dates = [today + timedelta(days=d) for d in PHASES[phase]]
    round_id: int = await conn.fetchval(
        "INSERT INTO admission_round (season_id, number, registration_opens, "
        "registration_closes, publication_on, confirmation_opens, confirmation_closes) "
        "VALUES ($1, 1, $2, $3, $4, $5, $6) RETURNING id",
        season_id,
        *dates,
    )
    return round_id


async def _universities(conn: Any, count: int, tag: str) -> list[int]:
    """``count`` state universities, each holding a licence in force for higher education."""
    ids: list[int] = [
        r["id"]
        for r in await conn.fetch(
            "INSERT INTO institution (kind, ownership, name, region_id) "
            "SELECT 'university', 'state', $1 || ' №' || g, "
            "(SELECT region_id FROM district ORDER BY id LIMIT 1) "
            "FROM generate_series(1, $2) g RETURNING id",
            f"Бенчмарк университет {tag}",
            count,
        )
    ]
    await conn.execute(
        "WITH a AS (INSERT INTO licence_application (institution_id, applied_as, "
        "applicant_subject, status, levels, submitted_on, due_on) "
        "SELECT u, 'institution', 'bench', 'approved', '{higher}', DATE '2020-01-01', "
        "DATE '2020-01-21' FROM unnest($1::int[]) u RETURNING id, institution_id, levels) "
        "INSERT INTO licence (number, institution_id, application_id, status, levels, "
        "issued_on) SELECT 'BENCH-U-' || lpad(a.id::text, 8, '0'), a.institution_id, a.id, "
        "'active', a.levels, DATE '2020-01-01' FROM a",
        ids,
    )
    return ids


async def _programmes(
    conn: Any,
    season_id: int,
    universities: list[int],
    count: int,
    *,
    places: int,
    contract: int,
    creative: bool = False,
) -> list[int]:
    """``count`` programmes over the universities, each with ``places`` grant places in every
    pool and ``contract`` contract places."""
    rows = [
        (
            season_id,
            universities[p % len(universities)],
            f"B{p:04d}",
            f"{'Творческая программа' if creative else 'Программа'} {p}",
            FIELDS[p % len(FIELDS)],
            REQUIRED[p % len(REQUIRED)],
            creative,
        )
        for p in range(count)
    ]
    await conn.copy_records_to_table(
        "admission_programme",
        records=rows,
        columns=[
            "season_id",
            "institution_id",
            "code",
            "name",
            "field_of_study",
            "required_subjects",
            "creative_test",
        ],
    )
    ids: list[int] = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM admission_programme WHERE season_id = $1 ORDER BY id", season_id
        )
    ]
    await conn.execute(
        "INSERT INTO admission_programme_places (programme_id, category, places) "
        "SELECT p, c, CASE WHEN c = 'contract' THEN $3::int ELSE $2::int END "
        "FROM unnest($1::int[]) p CROSS JOIN unnest($4::text[]) c",
        ids,
        places,
        contract,
        [*POOLS, "contract"],
    )
    return ids


async def _applicants(conn: Any, count: int) -> list[tuple[int, str]]:
    """Up to ``count`` pupils with their pool: the district (or its parent's) classification of
    their last school, exactly as the hub finds it."""
    rows = await conn.fetch(
        """
        WITH latest AS (
            SELECT DISTINCT ON (e.person_id) e.person_id, e.institution_id
            FROM enrollment e WHERE e.sector = 'school'
            ORDER BY e.person_id, e.entry_date DESC, e.id DESC
        )
        SELECT l.person_id, coalesce(dp.pool, pp.pool) AS pool
        FROM latest l
        JOIN institution i ON i.id = l.institution_id
        LEFT JOIN district d ON d.id = i.district_id
        LEFT JOIN admission_district_pool dp ON dp.district_id = i.district_id
        LEFT JOIN admission_district_pool pp ON pp.district_id = d.parent_id
        WHERE coalesce(dp.pool, pp.pool) IS NOT NULL
        ORDER BY l.person_id
        LIMIT $1
        """,
        count,
    )
    return [(r["person_id"], r["pool"]) for r in rows]


def _certificate(year: int, person_id: int) -> str:
    return f"B{year}-{person_id}"


async def _certificates(conn: Any, year: int, people: list[int]) -> None:
    """A national test certificate of ``year`` for each person, every score over the season's
    thresholds (main 110, subjects 60, state language 50)."""
    subjects = ", ".join(f"'{s}', 62 + (p * {7 + 2 * k}) % 85" for k, s in enumerate(SUBJECTS))
    await conn.execute(
        "INSERT INTO admission_test_result (certificate_number, person_id, year, main_score, "
        "state_language_score, subject_scores) "
        f"SELECT 'B' || $1::int || '-' || p, p, $1::int, 120 + (p * 37) % 120, 60 + (p * 11) % 85, "
        f"jsonb_build_object({subjects}) FROM unnest($2::int[]) p",
        year,
        people,
    )


async def _applications(
    conn: Any,
    season_id: int,
    year: int,
    applicants: list[tuple[int, str]],
    programmes: list[int],
    choices: int,
) -> None:
    """``choices`` applications per applicant to different programmes, in order of preference,
    for grant, contract or both, with their scores copied from the certificate as the hub does."""
    await conn.execute(
        """
        INSERT INTO admission_application (season_id, person_id, programme_id, test_result_id,
            preference, funding, grant_category, main_score, subject_score,
            state_language_score, round_number)
        SELECT $1, a.person_id, p.id, r.id, c.pref, f.funding,
               CASE WHEN f.funding = 'contract' THEN NULL ELSE a.pool END,
               r.main_score,
               (SELECT coalesce(sum((r.subject_scores ->> s)::int), 0)
                FROM unnest(p.required_subjects) s),
               r.state_language_score, 1
        FROM unnest($2::int[], $3::text[]) WITH ORDINALITY AS a(person_id, pool, k)
        CROSS JOIN generate_series(1, $4) AS c(pref)
        CROSS JOIN LATERAL (SELECT CASE (a.k + c.pref) % 5 WHEN 0 THEN 'contract'
                            WHEN 1 THEN 'grant' ELSE 'both' END AS funding) f
        JOIN admission_test_result r ON r.person_id = a.person_id AND r.year = $5
        JOIN admission_programme p
          ON p.id = ($6::int[])[1 + (a.k * 7 + c.pref) % cardinality($6::int[])]
        """,
        season_id,
        [a[0] for a in applicants],
        [a[1] for a in applicants],
        choices,
        year,
        programmes,
    )


@dataclass
class Campaign:
    season_id: int
    year: int
    round_id: int
    universities: list[int]
    programmes: list[int]
    applicants: list[tuple[int, str]] = field(default_factory=list)


async def _campaign(
    conn: Any,
    phase: str,
    *,
    universities: int = 3,
    programmes: int = 0,
    places: int = 5,
    contract: int = 20,
    creative: bool = False,
    applicants: int = 0,
    choices: int = 0,
    tag: str = "",
) -> Campaign:
    """A season of a free year with its first round in ``phase``, licensed universities,
    programmes, applicants with certificates and ``choices`` applications each."""
    years = await _free_years(conn, "main", range(clock.today().year, LOWEST_YEAR - 1, -1))
    if not years:
        raise RuntimeError("no free main-intake year left for a benchmark campaign")
    year = years[0]
    season_id = await _season(conn, year)
    round_id = await _round(conn, season_id, phase)
    unis = await _universities(conn, universities, tag or str(season_id))
    progs = (
        await _programmes(
            conn, season_id, unis, programmes, places=places, contract=contract, creative=creative
        )
        if programmes
        else []
    )
    people = await _applicants(conn, applicants) if applicants else []
    if people:
        await _certificates(conn, year, [p for p, _ in people])
        if choices and progs:
            await _applications(conn, season_id, year, people, progs, choices)
    await conn.execute("ANALYZE admission_application")
    return Campaign(season_id, year, round_id, unis, progs, people)


async def _publish(bench: Bench, round_id: int) -> None:
    """Publish a round with the hub's own ranking (the recommended lists a real round makes)."""
    engine = database.create_engine(bench.db_url)
    try:
        async with database.session_factory(engine)() as session:
            await admission_service.publish_round(session, MINISTRY, round_id=round_id)
            await session.commit()
    finally:
        await engine.dispose()


def _officer(bench: Bench, university: int) -> str:
    return bench.token(Role.ADMISSION_OFFICER, scopes=[f"institution:{university}"])


# --- the ministry's policy -----------------------------------------------------------------


async def create_admission_season(bench: Bench, n: int) -> list[Call]:
    """The ministry opens the main intake of a year after this one that has no season yet
    (one call per year: at most the years up to 2100)."""
    async with _connect(bench) as conn:
        years = await _free_years(conn, "main", range(clock.today().year + 1, HIGHEST_YEAR + 1))
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "year": year,
                    "intake": "MAIN",
                    "name": f"Основной приём {year}",
                    "maxChoices": CHOICES,
                    "mainScoreMax": 245,
                    "subjectScoreMax": 150,
                    "stateLanguageScoreMax": 150,
                    "mainThreshold": 110,
                    "subjectThreshold": 60,
                    "stateLanguageThreshold": 50,
                    "studiesStart": date(year, 9, 1).isoformat(),
                }
            },
            token,
        )
        for year in years[:n]
    ]


async def create_admission_round(bench: Bench, n: int) -> list[Call]:
    """The ministry adds the first round to a winter-intake season the preparer opened (one
    season per call, since a season's rounds follow each other: at most the 101 winter
    intakes of 2000-2100)."""
    async with _connect(bench) as conn:
        years = await _free_years(conn, "winter", range(HIGHEST_YEAR, LOWEST_YEAR - 1, -1))
        seasons = [
            await _season(conn, year, intake="winter", name=f"Зимний приём {year}")
            for year in years[:n]
        ]
    today = clock.today()
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "seasonId": encode_id("AdmissionSeason", season_id),
                    "registrationOpens": (today + timedelta(days=30)).isoformat(),
                    "registrationCloses": (today + timedelta(days=40)).isoformat(),
                    "publicationOn": (today + timedelta(days=45)).isoformat(),
                    "confirmationOpens": (today + timedelta(days=45)).isoformat(),
                    "confirmationCloses": (today + timedelta(days=50)).isoformat(),
                }
            },
            token,
        )
        for season_id in seasons
    ]


async def set_field_threshold(bench: Bench, n: int) -> list[Call]:
    """The ministry sets the thresholds of a field of study in an open season: one season, a
    different field per call (the six common fields, then fields coded field_0007...)."""
    async with _connect(bench) as conn:
        campaign = await _campaign(conn, "registration", universities=1)
    token = bench.token(Role.MINISTRY)
    codes = [*FIELDS, *(f"field_{i:04d}" for i in range(len(FIELDS) + 1, n + 1))][:n]
    return [
        Call(
            {
                "input": {
                    "seasonId": encode_id("AdmissionSeason", campaign.season_id),
                    "fieldOfStudy": code,
                    "grantMainMin": 120 + i % 40,
                    "contractMainMin": 110 + i % 20,
                    "subjectMin": 60 + i % 30,
                }
            },
            token,
        )
        for i, code in enumerate(codes)
    ]


async def set_district_pool(bench: Bench, n: int) -> list[Call]:
    """The ministry classifies a district's schools into a pool: every district in turn, each
    kept in the pool it holds (so later workloads find the same pools), the list repeated up
    to ``n`` calls (the upsert succeeds in any order)."""
    async with _connect(bench) as conn:
        rows = await conn.fetch(
            "SELECT d.id, coalesce(dp.pool, pp.pool, 'rural') AS pool FROM district d "
            "LEFT JOIN admission_district_pool dp ON dp.district_id = d.id "
            "LEFT JOIN admission_district_pool pp ON pp.district_id = d.parent_id ORDER BY d.id"
        )
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "districtId": encode_id("District", rows[i % len(rows)]["id"]),
                    "pool": rows[i % len(rows)]["pool"].upper(),
                }
            },
            token,
        )
        for i in range(min(n, len(rows) * 40))
    ]


# --- the universities ------------------------------------------------------------------------


async def create_programme(bench: Bench, n: int) -> list[Call]:
    """A university's admission officer offers a programme in a season open for registration:
    five universities, a different code per call, places in every pool and contract."""
    async with _connect(bench) as conn:
        campaign = await _campaign(conn, "registration", universities=5)
    season = encode_id("AdmissionSeason", campaign.season_id)
    tokens = {u: _officer(bench, u) for u in campaign.universities}
    calls = []
    for i in range(n):
        university = campaign.universities[i % len(campaign.universities)]
        calls.append(
            Call(
                {
                    "input": {
                        "seasonId": season,
                        "institutionId": encode_id("Institution", university),
                        "code": f"N{i:05d}",
                        "name": f"Новая программа {i}",
                        "fieldOfStudy": FIELDS[i % len(FIELDS)],
                        "requiredSubjects": REQUIRED[i % len(REQUIRED)],
                        "creativeTest": i % 10 == 0,
                        "places": [
                            *({"category": p.upper(), "places": 3 + i % 5} for p in POOLS),
                            {"category": "CONTRACT", "places": 25},
                        ],
                    }
                },
                tokens[university],
            )
        )
    return calls


async def record_creative_test_score(bench: Bench, n: int) -> list[Call]:
    """A university's admission officer records a creative test score: a season open for
    registration with creative-test programmes, applicants with two applications each, one
    call per application."""
    async with _connect(bench) as conn:
        campaign = await _campaign(
            conn,
            "registration",
            programmes=20,
            creative=True,
            applicants=(n + 1) // 2,
            choices=2,
        )
        rows = await conn.fetch(
            "SELECT a.id, p.institution_id FROM admission_application a "
            "JOIN admission_programme p ON p.id = a.programme_id "
            "WHERE a.season_id = $1 ORDER BY a.id LIMIT $2",
            campaign.season_id,
            n,
        )
    tokens = {u: _officer(bench, u) for u in campaign.universities}
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("AdmissionApplication", r["id"]),
                    "score": 40 + r["id"] % 110,
                }
            },
            tokens[r["institution_id"]],
        )
        for r in rows
    ]


# --- applicants --------------------------------------------------------------------------------


async def apply_to_programmes(bench: Bench, n: int) -> list[Call]:
    """An applicant submits five programmes in order of preference (grant, contract or both)
    while round 1's registration is open: forty programmes, a different applicant per call, each
    holding a certificate of the season's year."""
    async with _connect(bench) as conn:
        campaign = await _campaign(conn, "registration", programmes=40, applicants=n)
    season = encode_id("AdmissionSeason", campaign.season_id)
    fundings = ("BOTH", "GRANT", "BOTH", "CONTRACT", "BOTH")
    calls = []
    for k, (person_id, _pool) in enumerate(campaign.applicants):
        picked = [
            campaign.programmes[(k * 7 + j) % len(campaign.programmes)] for j in range(CHOICES)
        ]
        calls.append(
            Call(
                {
                    "input": {
                        "seasonId": season,
                        "personId": encode_id("Person", person_id),
                        "certificateNumber": _certificate(campaign.year, person_id),
                        "choices": [
                            {
                                "programmeId": encode_id("Programme", p),
                                "funding": fundings[(k + j) % len(fundings)],
                            }
                            for j, p in enumerate(picked)
                        ],
                    }
                },
                bench.token(Role.PUPIL, person_id=person_id),
            )
        )
    return calls


async def confirm_place(bench: Bench, n: int) -> list[Call]:
    """An applicant takes the place round 1 recommended, in its confirmation window: a season
    whose programmes have room for every applicant, published by the hub's ranking, one call per
    recommended applicant."""
    async with _connect(bench) as conn:
        campaign = await _campaign(
            conn,
            "publication",
            programmes=max(10, n // 100),
            places=n,
            contract=n,
            applicants=n,
            choices=3,
        )
    await _publish(bench, campaign.round_id)
    async with _connect(bench) as conn:
        offers = await conn.fetch(
            "SELECT id, person_id FROM admission_offer WHERE round_id = $1 ORDER BY id LIMIT $2",
            campaign.round_id,
            n,
        )
    return [
        Call(
            {"input": {"offerId": encode_id("AdmissionOffer", o["id"])}},
            bench.token(Role.PUPIL, person_id=o["person_id"]),
        )
        for o in offers
    ]


# --- batches: publishing a round, the admission order ----------------------------------------


async def publish_round(bench: Bench, n: int) -> list[Call]:
    """The ministry publishes round 1 of a season (a batch: ranking every programme and pool).
    At most eight calls, each its own season on its publication day: thirty programmes at five
    universities and 900 applicants with five choices each."""
    rounds = []
    async with _connect(bench) as conn:
        for _ in range(min(n, BATCH_CALLS)):
            campaign = await _campaign(
                conn,
                "publication",
                programmes=BATCH_PROGRAMMES,
                universities=5,
                applicants=BATCH_APPLICANTS,
                choices=CHOICES,
            )
            rounds.append(campaign.round_id)
    token = bench.token(Role.MINISTRY)
    return [Call({"input": {"roundId": encode_id("AdmissionRound", r)}}, token) for r in rounds]


async def issue_admission_order(bench: Bench, n: int) -> list[Call]:
    """The ministry closes a season with its admission order (a batch: enrolling every
    confirmed applicant). At most eight calls, each its own season whose round is over: thirty
    programmes, 900 applicants with five choices, ranked by the hub's ``publish_round``, every
    recommended place then confirmed (places filled, lower preferences withdrawn)."""
    seasons = []
    for _ in range(min(n, BATCH_CALLS)):
        async with _connect(bench) as conn:
            campaign = await _campaign(
                conn,
                "over",
                programmes=BATCH_PROGRAMMES,
                universities=5,
                applicants=BATCH_APPLICANTS,
                choices=CHOICES,
            )
        await _publish(bench, campaign.round_id)
        async with _connect(bench) as conn:
            await conn.execute(
                """
                WITH taken AS (
                    UPDATE admission_offer SET status = 'confirmed', decided_at = now()
                    WHERE round_id = $1 AND status = 'recommended'
                    RETURNING application_id, programme_id, category
                ), apps AS (
                    UPDATE admission_application a SET status = 'confirmed'
                    FROM taken WHERE a.id = taken.application_id
                )
                UPDATE admission_programme_places pp SET filled = pp.filled + t.n
                FROM (SELECT programme_id, category, count(*) AS n FROM taken GROUP BY 1, 2) t
                WHERE pp.programme_id = t.programme_id AND pp.category = t.category
                """,
                campaign.round_id,
            )
            await conn.execute(
                "UPDATE admission_application a SET status = 'withdrawn' "
                "FROM admission_application c WHERE c.season_id = $1 AND c.status = 'confirmed' "
                "AND a.season_id = $1 AND a.person_id = c.person_id "
                "AND a.preference > c.preference AND a.status = 'active'",
                campaign.season_id,
            )
        seasons.append(campaign)
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "seasonId": encode_id("AdmissionSeason", c.season_id),
                    "number": f"ПР-{c.year}-{c.season_id}",
                }
            },
            token,
        )
        for c in seasons
    ]


# --- queries -----------------------------------------------------------------------------------


async def programme_catalogue(bench: Bench, n: int) -> list[Call]:
    """An applicant browses a season's programmes: 150 programmes at five universities, first
    page (50), read by an applicant."""
    async with _connect(bench) as conn:
        campaign = await _campaign(
            conn, "registration", universities=5, programmes=150, applicants=1
        )
    person_id = campaign.applicants[0][0]
    return [
        Call(
            {"seasonId": encode_id("AdmissionSeason", campaign.season_id), "after": None},
            bench.token(Role.PUPIL, person_id=person_id),
        )
    ][:n]


async def _published_campaign(bench: Bench) -> Campaign:
    """Ten programmes, 1,500 applicants with five choices each, round 1 published today."""
    async with _connect(bench) as conn:
        campaign = await _campaign(
            conn,
            "publication",
            universities=2,
            programmes=10,
            places=20,
            contract=60,
            applicants=1500,
            choices=CHOICES,
        )
    await _publish(bench, campaign.round_id)
    return campaign


async def programme_applicants(bench: Bench, n: int) -> list[Call]:
    """A university's admission officer lists a programme's applicants by score (first 100,
    with their offers) after round 1 was published: one call per programme."""
    campaign = await _published_campaign(bench)
    async with _connect(bench) as conn:
        rows = await conn.fetch(
            "SELECT id, institution_id FROM admission_programme WHERE season_id = $1 ORDER BY id",
            campaign.season_id,
        )
    return [
        Call(
            {"programmeId": encode_id("Programme", r["id"]), "after": None},
            _officer(bench, r["institution_id"]),
        )
        for r in rows
    ][:n]


async def rank_explanation(bench: Bench, n: int) -> list[Call]:
    """An applicant asks why their first choice ranks where it does after round 1 was
    published: twenty applicants, each reading their own application."""
    campaign = await _published_campaign(bench)
    async with _connect(bench) as conn:
        rows = await conn.fetch(
            "SELECT id, person_id FROM admission_application "
            "WHERE season_id = $1 AND preference = 1 ORDER BY person_id LIMIT $2",
            campaign.season_id,
            min(n, 20),
        )
    return [
        Call(
            {"applicationId": encode_id("AdmissionApplication", r["id"])},
            bench.token(Role.PUPIL, person_id=r["person_id"]),
        )
        for r in rows
    ]


IMPORT_ROWS = 200  # results in one file: a testing centre's file for a school
IMPORT_FILES = 200


async def import_test_results(bench: Bench, n: int) -> list[Call]:
    """The testing centre's files: each call uploads its own CSV of 200 results of people who
    have none for the year of an existing main-intake season (made if there is none), every
    row valid. A file is a unit of work, so at most 200 calls (40,000 people)."""
    files = min(n, IMPORT_FILES)
    async with _connect(bench) as conn:
        year = await conn.fetchval("SELECT max(year) FROM admission_season WHERE intake = 'main'")
        if year is None:
            year = (await _free_years(conn, "main", range(2026, 1999, -1)))[0]
            await _season(conn, year)
        people = await conn.fetch(
            "SELECT p.id, p.pin FROM person p WHERE p.pin IS NOT NULL AND NOT EXISTS ("
            " SELECT 1 FROM admission_test_result r WHERE r.person_id = p.id AND r.year = $1)"
            " ORDER BY p.id DESC LIMIT $2",
            year,
            files * IMPORT_ROWS,
        )
    header = "certificate_number,year,pin,main_score,state_language_score,subject_math\n"
    calls = []
    for k in range(0, len(people), IMPORT_ROWS):
        rows = [
            f"I{year}-{r['id']},{year},{r['pin']},{120 + r['id'] % 120},{60 + r['id'] % 85},"
            f"{62 + r['id'] % 85}\n"
            for r in people[k : k + IMPORT_ROWS]
        ]
        calls.append(
            Call(
                {"input": {"file": None}},
                bench.token(Role.MINISTRY),
                Upload(
                    "variables.input.file", f"ort-{year}-{k}.csv", (header + "".join(rows)).encode()
                ),
            )
        )
    return calls


async def my_applications(bench: Bench, n: int) -> list[Call]:
    """An applicant opens their page after round 1 was published: fifty applicants, each
    with a certificate, five choices and their offers."""
    campaign = await _published_campaign(bench)
    async with _connect(bench) as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT person_id FROM admission_application WHERE season_id = $1 "
            "ORDER BY person_id LIMIT $2",
            campaign.season_id,
            min(n, 50),
        )
    return [
        Call(
            {"personId": encode_id("Person", r["person_id"])},
            bench.token(Role.PUPIL, person_id=r["person_id"]),
        )
        for r in rows
    ]


async def admission_seasons(bench: Bench, n: int) -> list[Call]:
    """An applicant looks up the admission seasons with their rounds (a published campaign
    first), all of them and those of its year."""
    campaign = await _published_campaign(bench)
    async with _connect(bench) as conn:
        year = await conn.fetchval(
            "SELECT year FROM admission_season WHERE id = $1", campaign.season_id
        )
        person = await conn.fetchval(
            "SELECT min(person_id) FROM admission_application WHERE season_id = $1",
            campaign.season_id,
        )
    token = bench.token(Role.PUPIL, person_id=person)
    return [Call({}, token), Call({"year": year}, token)]


WORKLOADS = [
    Workload("university-admission/CreateAdmissionSeason", create_admission_season),
    Workload("university-admission/CreateAdmissionRound", create_admission_round),
    Workload("university-admission/SetFieldThreshold", set_field_threshold),
    Workload("university-admission/SetDistrictPool", set_district_pool),
    Workload("university-admission/CreateProgramme", create_programme),
    Workload("university-admission/RecordCreativeTestScore", record_creative_test_score),
    Workload("university-admission/ApplyToProgrammes", apply_to_programmes),
    Workload("university-admission/ConfirmPlace", confirm_place),
    Workload("university-admission/PublishRound", publish_round),
    Workload("university-admission/IssueAdmissionOrder", issue_admission_order),
    Workload("university-admission/ProgrammeCatalogue", programme_catalogue),
    Workload("university-admission/ProgrammeApplicants", programme_applicants),
    Workload("university-admission/RankExplanation", rank_explanation),
    Workload("university-admission/MyApplications", my_applications),
    Workload("university-admission/AdmissionSeasons", admission_seasons),
    Workload("university-admission/ImportTestResults", import_test_results),
]

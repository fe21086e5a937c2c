"""Kindergarten queue: registering children, checking benefits, declaring and offering places,
the family's answer to an offer, admission, transfer and withdrawal, and the officer's pages.

Every preparer first makes sure the season of today is open and a queue stands in front of
each municipal and state kindergarten (:func:`_ensure_queue`, once per database: about 60
children per kindergarten, each naming 1 to 3 kindergartens, a tenth with a verified benefit,
as bench/preschool.py loads it). It then writes, with set-based SQL, its own children (new
persons under existing guardians of the dataset), their applications in the state the
operation needs, and offers where it needs them. Only licence-exempt kindergartens are used
where offering or admitting is involved (a private one needs a licence the dataset does not
hold). A guardian sends the family's operations; a school admin scoped to the kindergarten
sends the officer's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.workloads import Bench, Call, Workload
from models import Ownership
from resolvers.access import Role
from resolvers.clock import today
from resolvers.licensing.rules import EXEMPT_OWNERSHIPS
from resolvers.relay import encode_id

# Children of the standing queue per kindergarten (the national ratio of bench/preschool.py:
# 100,000 children for 1,500 kindergartens, each naming about two).
QUEUE_PER_KINDERGARTEN = 60
# Places each kindergarten offers per age group in one OfferPlaces call (as bench/preschool.py).
PLACES_PER_GROUP = 5
# Kindergartens whose officer's pages the query workloads read.
PAGES = 5
# An application's status history up to each status a preparer writes.
STEPS = ("waiting", "offered", "accepted")
FIRST_NAMES = {"male": ["Айбек", "Бакыт", "Эмир", "Нурсултан"], "female": ["Айпери", "Асель"]}


@dataclass(frozen=True)
class _Group:
    code: str
    min_months: int
    max_months: int
    size: int


@dataclass(frozen=True)
class _Season:
    id: int
    year: int
    max_preferences: int
    groups: list[_Group]
    benefits: list[str]


@dataclass(frozen=True)
class _Spec:
    """One application to write: the kindergartens it names, its group and birth date."""

    kindergarten_ids: tuple[int, ...]
    group: str
    born: date
    registered_at: datetime
    benefit: str | None = None


@dataclass(frozen=True)
class _App:
    id: int
    child_id: int
    guardian_id: int
    kindergarten_ids: tuple[int, ...]
    group: str


async def _season(conn: Any) -> _Season:
    """The kindergarten season the hub works in today, opened around today as the tests and
    bench/preschool.py do (a copy of the latest season's policy if this year has none)."""
    on = today()
    exists = await conn.fetchval(
        "SELECT id FROM intake_season WHERE kind = 'kindergarten' AND year = $1", on.year
    )
    if exists is None:
        latest = await conn.fetchval(
            "SELECT id FROM intake_season WHERE kind = 'kindergarten' ORDER BY year DESC LIMIT 1"
        )
        exists = await conn.fetchval(
            "INSERT INTO intake_season (kind, year, name, starts_on, ends_on, school_year_starts,"
            " weekend_days, min_age_months, max_age_months, max_preferences,"
            " offer_deadline_working_days, decline_rule)"
            " SELECT kind, $2::int, 'Kindergarten intake ' || $2::text, $3::date, $3::date,"
            " make_date($2::int, 9, 1),"
            " weekend_days, min_age_months, max_age_months, max_preferences,"
            " offer_deadline_working_days, decline_rule FROM intake_season WHERE id = $1"
            " RETURNING id",
            latest,
            on.year,
            on,
        )
        await conn.execute(
            "INSERT INTO kindergarten_age_group (season_id, code, min_months, max_months,"
            " group_size) SELECT $2::int, code, min_months, max_months, group_size"
            " FROM kindergarten_age_group WHERE season_id = $1",
            latest,
            exists,
        )
        await conn.execute(
            "INSERT INTO benefit_category (season_id, code, name, rank)"
            " SELECT $2::int, code, name, rank FROM benefit_category WHERE season_id = $1",
            latest,
            exists,
        )
    await conn.execute(
        "UPDATE intake_season SET starts_on = LEAST(starts_on, $2),"
        " ends_on = GREATEST(ends_on, $3) WHERE id = $1",
        exists,
        on - timedelta(days=100),
        on + timedelta(days=200),
    )
    row = await conn.fetchrow(
        "SELECT id, year, max_preferences FROM intake_season WHERE kind = 'kindergarten'"
        " AND starts_on <= $1 AND ends_on >= $1 ORDER BY year DESC LIMIT 1",
        on,
    )
    groups = [
        _Group(r["code"], r["min_months"], r["max_months"], r["group_size"])
        for r in await conn.fetch(
            "SELECT code, min_months, max_months, group_size FROM kindergarten_age_group"
            " WHERE season_id = $1 ORDER BY min_months",
            row["id"],
        )
    ]
    benefits = [
        r["code"]
        for r in await conn.fetch(
            "SELECT code FROM benefit_category WHERE season_id = $1 ORDER BY code", row["id"]
        )
    ]
    return _Season(row["id"], row["year"], row["max_preferences"], groups, benefits)


async def _kindergartens(conn: Any, *, exempt: bool = True) -> list[int]:
    """Open kindergartens; ``exempt``: only those needing no licence (state, municipal)."""
    ownerships = sorted(o.value for o in (EXEMPT_OWNERSHIPS if exempt else set(Ownership)))
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM institution WHERE kind = 'kindergarten'"
            " AND ownership = ANY($1::text[]) AND (closed_on IS NULL OR closed_on > $2)"
            " ORDER BY id",
            ownerships,
            today(),
        )
    ]


def _born(year: int, group: _Group, k: int) -> date:
    """A birth date placing a child in ``group`` on 1 September of ``year``."""
    months = year * 12 + 8 - (group.min_months + 3 + k % 6)
    return date(months // 12, months % 12 + 1, 1 + k % 28)


async def _next_ids(conn: Any, table: str, n: int) -> list[int]:
    return [
        r[0]
        for r in await conn.fetch(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)",
            n,
        )
    ]


async def _guardians(conn: Any, n: int, salt: str) -> list[tuple[int, str]]:
    """``n`` guardians of the dataset (id, sex), spread by ``salt``; repeated if too few."""
    rows = await conn.fetch(
        "SELECT p.id, p.sex FROM (SELECT DISTINCT guardian_id FROM guardianship"
        " WHERE valid_to IS NULL) g JOIN person p ON p.id = g.guardian_id"
        " WHERE p.birth_date < $3 ORDER BY md5(p.id::text || $1) LIMIT $2",
        salt,
        n,
        today() - timedelta(days=18 * 366),
    )
    assert rows, "the dataset has guardians"
    return [(rows[k % len(rows)]["id"], rows[k % len(rows)]["sex"]) for k in range(n)]


async def _children(conn: Any, births: Sequence[date], salt: str) -> list[tuple[int, int]]:
    """New children born on ``births``, each under a guardian of the dataset (the guardian's
    family name and address): (child, guardian) per birth."""
    n = len(births)
    guardians = await _guardians(conn, n, salt)
    ids = await _next_ids(conn, "person", n)
    sexes = ["female" if k % 2 else "male" for k in range(n)]
    names = [FIRST_NAMES[s][k % len(FIRST_NAMES[s])] for k, s in enumerate(sexes)]
    await conn.execute(
        "INSERT INTO person (id, last_name, first_name, sex, birth_date, registered_district_id,"
        " registered_address) SELECT c.id, g.last_name, c.first_name, c.sex, c.born,"
        " g.registered_district_id, g.registered_address"
        " FROM unnest($1::int[], $2::int[], $3::text[], $4::text[], $5::date[])"
        " AS c(id, guardian_id, first_name, sex, born) JOIN person g ON g.id = c.guardian_id",
        ids,
        [g for g, _ in guardians],
        names,
        sexes,
        list(births),
    )
    await conn.execute(
        "INSERT INTO guardianship (guardian_id, child_id, kind, valid_from)"
        " SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::date[])",
        [g for g, _ in guardians],
        ids,
        ["mother" if sex == "female" else "father" for _, sex in guardians],
        list(births),
    )
    return [(c, g) for c, (g, _) in zip(ids, guardians, strict=True)]


async def _applications(
    conn: Any,
    season: _Season,
    specs: Sequence[_Spec],
    *,
    status: str = "waiting",
    benefit_status: str = "verified",
    salt: str,
) -> list[_App]:
    """Applications of new children in ``status`` (waiting, offered or accepted), with their
    preferences and status history; a benefit is ``benefit_status`` (claimed or verified)."""
    if not specs:
        return []
    children = await _children(conn, [s.born for s in specs], salt)
    ids = await _next_ids(conn, "kindergarten_application", len(specs))
    await conn.execute(
        "INSERT INTO kindergarten_application (id, child_id, guardian_id, season_id,"
        " registered_at, status, intake_year, age_group, benefit_category_id, benefit_status,"
        " benefit_proof, residency, contact_phone)"
        " SELECT a.id, a.child_id, a.guardian_id, $6::int, a.registered_at, $7::text, $8::int,"
        " a.age_group, b.id, CASE WHEN b.id IS NULL THEN 'none' ELSE $9::text END,"
        " CASE WHEN b.id IS NULL THEN NULL ELSE 'Справка №' || a.id::text END, 'resident',"
        " '+996 555 ' || lpad((a.id % 1000000)::text, 6, '0')"
        " FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[], $5::text[],"
        " $10::text[]) AS a(id, child_id, guardian_id, registered_at, age_group, benefit)"
        " LEFT JOIN benefit_category b ON b.season_id = $6 AND b.code = a.benefit",
        ids,
        [c for c, _ in children],
        [g for _, g in children],
        [s.registered_at for s in specs],
        [s.group for s in specs],
        season.id,
        status,
        season.year,
        benefit_status,
        [s.benefit for s in specs],
    )
    prefs = [
        (a, k, rank)
        for a, s in zip(ids, specs, strict=True)
        for rank, k in enumerate(s.kindergarten_ids, 1)
    ]
    await conn.execute(
        "INSERT INTO kindergarten_preference (application_id, kindergarten_id, rank)"
        " SELECT * FROM unnest($1::int[], $2::int[], $3::int[])",
        [p[0] for p in prefs],
        [p[1] for p in prefs],
        [p[2] for p in prefs],
    )
    history = list(STEPS[: STEPS.index(status) + 1])
    await conn.execute(
        "INSERT INTO kindergarten_application_event (application_id, status, at, actor)"
        " SELECT a.id, h.status, CASE h.status WHEN 'waiting' THEN a.at"
        " WHEN 'offered' THEN now() - interval '2 days' ELSE now() END, 'bench'"
        " FROM unnest($1::int[], $2::timestamptz[]) AS a(id, at)"
        " CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS h(status, step) ORDER BY a.id, h.step",
        ids,
        [s.registered_at for s in specs],
        history,
    )
    return [
        _App(a, c, g, s.kindergarten_ids, s.group)
        for a, (c, g), s in zip(ids, children, specs, strict=True)
    ]


async def _offers(conn: Any, season: _Season, apps: Sequence[_App], *, status: str) -> list[int]:
    """An offer (open or accepted) of each application's first kindergarten, in the age group's
    places row (made if missing: the offered places were taken from it), due in three weeks."""
    firsts = [a.kindergarten_ids[0] for a in apps]
    groups = [a.group for a in apps]
    await conn.execute(
        "INSERT INTO kindergarten_places (season_id, kindergarten_id, age_group, free_places,"
        " declared_by) SELECT DISTINCT $1::int, k, g, 0, 'bench'"
        " FROM unnest($2::int[], $3::text[]) AS x(k, g)"
        " ON CONFLICT (season_id, kindergarten_id, age_group) DO NOTHING",
        season.id,
        firsts,
        groups,
    )
    ids = await _next_ids(conn, "kindergarten_offer", len(apps))
    await conn.execute(
        "INSERT INTO kindergarten_offer (id, application_id, places_id, kindergarten_id,"
        " age_group, status, offered_at, deadline, decided_at, offered_by)"
        " SELECT o.id, o.application_id, p.id, o.k, o.g, $5::text, now() - interval '2 days',"
        " $6::date,"
        " CASE WHEN $5::text = 'open' THEN NULL ELSE now() END, 'bench'"
        " FROM unnest($1::int[], $2::int[], $3::int[], $4::text[])"
        " AS o(id, application_id, k, g) JOIN kindergarten_places p"
        " ON p.season_id = $7 AND p.kindergarten_id = o.k AND p.age_group = o.g",
        ids,
        [a.id for a in apps],
        firsts,
        groups,
        status,
        today() + timedelta(days=21),
        season.id,
    )
    return ids


def _spec(
    season: _Season,
    kindergartens: Sequence[int],
    k: int,
    *,
    home: int,
    prefs: int,
    group: _Group,
    registered_at: datetime,
    benefit: bool = False,
) -> _Spec:
    n = min(prefs, len(kindergartens), season.max_preferences)
    return _Spec(
        tuple(kindergartens[(home + j) % len(kindergartens)] for j in range(n)),
        group.code,
        _born(season.year, group, k),
        registered_at,
        season.benefits[k % len(season.benefits)] if benefit else None,
    )


async def _ensure_queue(conn: Any, season: _Season, kindergartens: Sequence[int]) -> None:
    """The standing queue, once per database: QUEUE_PER_KINDERGARTEN children per
    kindergarten registered over the last two years, naming 1 to 3 kindergartens (their own
    first), spread over the age groups, a tenth with a verified benefit."""
    wanted = QUEUE_PER_KINDERGARTEN * len(kindergartens)
    have = await conn.fetchval(
        "SELECT count(*) FROM kindergarten_application WHERE season_id = $1", season.id
    )
    if have >= wanted:
        return
    rng = random.Random(11)
    start = datetime.now(UTC) - timedelta(days=730)
    specs = [
        _spec(
            season,
            kindergartens,
            k,
            home=k % len(kindergartens),
            prefs=rng.randint(1, 3),
            group=season.groups[rng.randrange(len(season.groups))],
            registered_at=start + timedelta(minutes=rng.randint(0, 700 * 24 * 60)),
            benefit=rng.random() < 0.1,
        )
        for k in range(wanted)
    ]
    await _applications(conn, season, specs, salt="queue")
    await conn.execute("ANALYZE kindergarten_application, kindergarten_preference, person")


async def _setting(bench: Bench) -> tuple[Any, _Season, list[int]]:
    """A connection, today's season and the licence-exempt kindergartens, queue standing."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        season = await _season(conn)
        kindergartens = await _kindergartens(conn)
        assert len(kindergartens) >= 2, "the dataset has municipal kindergartens"
        await _ensure_queue(conn, season, kindergartens)
    except BaseException:
        await conn.close()
        raise
    return conn, season, kindergartens


def _recent(k: int) -> datetime:
    """A registration time in the last weeks (children who joined lately)."""
    return datetime.now(UTC) - timedelta(days=1 + k % 40, minutes=k % 1440)


class _Officers:
    """School admins' tokens, one per kindergarten."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.tokens: dict[int, str] = {}

    def __call__(self, kindergarten_id: int) -> str:
        if kindergarten_id not in self.tokens:
            self.tokens[kindergarten_id] = self.bench.token(
                Role.SCHOOL_ADMIN, scopes=[f"institution:{kindergarten_id}"]
            )
        return self.tokens[kindergarten_id]


def _guardian(bench: Bench, app: _App) -> str:
    return bench.token(Role.GUARDIAN, person_id=app.guardian_id)


async def _waiting(
    bench: Bench, n: int, salt: str, *, benefit: bool = False
) -> tuple[_Season, list[int], list[_App]]:
    """``n`` waiting applications of new children naming 1 to 3 kindergartens; ``benefit``:
    each claims one (proof not yet checked)."""
    conn, season, kindergartens = await _setting(bench)
    try:
        specs = [
            _spec(
                season,
                kindergartens,
                k,
                home=k,
                prefs=1 + k % 3,
                group=season.groups[k % len(season.groups)],
                registered_at=_recent(k),
                benefit=benefit,
            )
            for k in range(n)
        ]
        apps = await _applications(conn, season, specs, benefit_status="claimed", salt=salt)
    finally:
        await conn.close()
    return season, kindergartens, apps


# --- the family's operations -----------------------------------------------------------------


async def apply_to_queue(bench: Bench, n: int) -> list[Call]:
    """New children aged 2 to 5 under guardians of the dataset; each guardian registers one,
    naming 1 to 3 kindergartens, one in ten claiming a benefit."""
    conn, season, kindergartens = await _setting(bench)
    try:
        on = today()
        births = [on - timedelta(days=30 * (30 + k % 30) + k % 17) for k in range(n)]
        children = await _children(conn, births, salt="apply")
    finally:
        await conn.close()
    calls = []
    for k, (child, guardian) in enumerate(children):
        prefs = min(1 + k % 3, season.max_preferences, len(kindergartens))
        benefit = season.benefits[k % len(season.benefits)] if k % 10 == 0 else None
        calls.append(
            Call(
                {
                    "input": {
                        "childId": encode_id("Person", child),
                        "kindergartenIds": [
                            encode_id("Institution", kindergartens[(k + j) % len(kindergartens)])
                            for j in range(prefs)
                        ],
                        "benefitCategory": benefit,
                        "benefitProof": f"Справка №{k + 1}" if benefit else None,
                        "residency": "RESIDENT",
                        "contactPhone": f"+996 700 {k:06d}",
                    }
                },
                bench.token(Role.GUARDIAN, person_id=guardian),
            )
        )
    return calls


async def accept_offer(bench: Bench, n: int) -> list[Call]:
    """Applications offered a place (an open offer due in three weeks); the guardian accepts."""
    return await _offer_decisions(bench, n, "accept")


async def decline_offer(bench: Bench, n: int) -> list[Call]:
    """Applications offered a place; the guardian declines (the place returns, the child goes
    back to the queue by the season's rule)."""
    return await _offer_decisions(bench, n, "decline")


def _offered_specs(season: _Season, kindergartens: Sequence[int], n: int) -> list[_Spec]:
    """``n`` children registered about a year ago, naming 1 to 3 kindergartens: far enough
    up their queues to hold an offer."""
    return [
        _spec(
            season,
            kindergartens,
            k,
            home=k,
            prefs=1 + k % 3,
            group=season.groups[k % len(season.groups)],
            registered_at=_recent(k) - timedelta(days=300),
        )
        for k in range(n)
    ]


async def _offer_decisions(bench: Bench, n: int, salt: str) -> list[Call]:
    conn, season, kindergartens = await _setting(bench)
    try:
        specs = _offered_specs(season, kindergartens, n)
        apps = await _applications(conn, season, specs, status="offered", salt=salt)
        offers = await _offers(conn, season, apps, status="open")
    finally:
        await conn.close()
    return [
        Call({"input": {"offerId": encode_id("KindergartenOffer", o)}}, _guardian(bench, a))
        for o, a in zip(offers, apps, strict=True)
    ]


async def transfer_application(bench: Bench, n: int) -> list[Call]:
    """Waiting applications; the family moves and names 1 or 2 other kindergartens."""
    _, kindergartens, apps = await _waiting(bench, n, "transfer")
    calls = []
    for k, app in enumerate(apps):
        others = [i for i in kindergartens if i not in app.kindergarten_ids]
        start = (k * 7) % len(others)
        chosen = [others[(start + j) % len(others)] for j in range(min(1 + k % 2, len(others)))]
        calls.append(
            Call(
                {
                    "input": {
                        "applicationId": encode_id("KindergartenApplication", app.id),
                        "kindergartenIds": [encode_id("Institution", i) for i in chosen],
                    }
                },
                _guardian(bench, app),
            )
        )
    return calls


async def withdraw_application(bench: Bench, n: int) -> list[Call]:
    """Waiting applications; the guardian takes the child out of the queue."""
    _, _, apps = await _waiting(bench, n, "withdraw")
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("KindergartenApplication", app.id),
                    "reason": "Семья переезжает",
                }
            },
            _guardian(bench, app),
        )
        for app in apps
    ]


# --- the kindergarten's operations -----------------------------------------------------------


async def verify_benefit(bench: Bench, n: int) -> list[Call]:
    """Waiting applications claiming a benefit; the officer of the first kindergarten named
    checks the proof (one in five rejected, with a reason)."""
    _, _, apps = await _waiting(bench, n, "verify", benefit=True)
    officer = _Officers(bench)
    return [
        Call(
            {
                "input": {
                    "applicationId": encode_id("KindergartenApplication", app.id),
                    "verified": k % 5 != 4,
                    "reason": "Справка просрочена" if k % 5 == 4 else None,
                }
            },
            officer(app.kindergarten_ids[0]),
        )
        for k, app in enumerate(apps)
    ]


async def declare_free_places(bench: Bench, n: int) -> list[Call]:
    """One call per (kindergarten, age group) of the open kindergartens (up to ``n``: about
    five per kindergarten), its officer declaring the places free in 1 or 2 groups."""
    conn = await asyncpg.connect(bench.db_url)
    try:
        season = await _season(conn)
        kindergartens = await _kindergartens(conn, exempt=False)
    finally:
        await conn.close()
    officer = _Officers(bench)
    pairs = [(i, g) for i in kindergartens for g in season.groups][:n]
    return [
        Call(
            {
                "input": {
                    "kindergartenId": encode_id("Institution", i),
                    "ageGroup": g.code,
                    "freePlaces": 1 + k % g.size,
                    "groups": 1 + k % 2,
                }
            },
            officer(i),
        )
        for k, (i, g) in enumerate(pairs)
    ]


async def offer_places(bench: Bench, n: int) -> list[Call]:
    """A batch operation: one call per licence-exempt kindergarten (up to ``n``; about 630
    at the benchmark's scale), its officer offering all its free places at once. Each is
    given PLACES_PER_GROUP free places in every age group and a child waiting for it alone in
    each group, so each call has offers to make whatever the others took; the standing queue
    comes first, so most offers go to its children (up to 25 offers a call)."""
    conn, season, kindergartens = await _setting(bench)
    try:
        chosen = kindergartens[:n]
        await conn.execute(
            "INSERT INTO kindergarten_places (season_id, kindergarten_id, age_group,"
            " free_places, declared_by)"
            " SELECT $1::int, k, g, $4::int, 'bench' FROM unnest($2::int[]) AS k CROSS JOIN"
            " unnest($3::text[]) AS g ON CONFLICT (season_id, kindergarten_id, age_group)"
            " DO UPDATE SET free_places = EXCLUDED.free_places, declared_at = now()",
            season.id,
            chosen,
            [g.code for g in season.groups],
            PLACES_PER_GROUP,
        )
        specs = [
            _Spec((i,), g.code, _born(season.year, g, k), _recent(k))
            for k, (i, g) in enumerate((i, g) for i in chosen for g in season.groups)
        ]
        await _applications(conn, season, specs, salt="offer")
    finally:
        await conn.close()
    officer = _Officers(bench)
    return [
        Call({"input": {"kindergartenId": encode_id("Institution", i)}}, officer(i)) for i in chosen
    ]


async def confirm_admission(bench: Bench, n: int) -> list[Call]:
    """Applications whose offer the family accepted; the kindergarten's officer admits the
    child from today."""
    conn, season, kindergartens = await _setting(bench)
    try:
        specs = _offered_specs(season, kindergartens, n)
        apps = await _applications(conn, season, specs, status="accepted", salt="admit")
        offers = await _offers(conn, season, apps, status="accepted")
    finally:
        await conn.close()
    officer = _Officers(bench)
    return [
        Call(
            {"input": {"offerId": encode_id("KindergartenOffer", o)}},
            officer(a.kindergarten_ids[0]),
        )
        for o, a in zip(offers, apps, strict=True)
    ]


# --- the officer's pages -----------------------------------------------------------------------


async def _busiest(conn: Any, season: _Season, status: str) -> list[int]:
    """The PAGES kindergartens with the most applications in ``status``."""
    return [
        r["kindergarten_id"]
        for r in await conn.fetch(
            "SELECT p.kindergarten_id FROM kindergarten_preference p"
            " JOIN kindergarten_application a ON a.id = p.application_id"
            " JOIN institution i ON i.id = p.kindergarten_id"
            " WHERE a.season_id = $1 AND a.status = $2 AND i.ownership = ANY($3::text[])"
            " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT $4",
            season.id,
            status,
            sorted(o.value for o in EXEMPT_OWNERSHIPS),
            PAGES,
        )
    ]


async def kindergarten_queue(bench: Bench, n: int) -> list[Call]:
    """The waiting lists of the PAGES kindergartens with the longest queues (the standing
    queue), whole and of their most common age group, read by each one's officer."""
    conn, season, _ = await _setting(bench)
    try:
        busiest = await _busiest(conn, season, "waiting")
        groups = {
            r["kindergarten_id"]: r["age_group"]
            for r in await conn.fetch(
                "SELECT DISTINCT ON (p.kindergarten_id) p.kindergarten_id, a.age_group"
                " FROM kindergarten_preference p JOIN kindergarten_application a"
                " ON a.id = p.application_id WHERE p.kindergarten_id = ANY($1::int[])"
                " AND a.status = 'waiting' GROUP BY 1, 2 ORDER BY 1, count(*) DESC, 2",
                busiest,
            )
        }
    finally:
        await conn.close()
    officer = _Officers(bench)
    calls = []
    for i in busiest:
        calls.append(Call({"kindergartenId": encode_id("Institution", i)}, officer(i)))
        calls.append(
            Call({"kindergartenId": encode_id("Institution", i), "ageGroup": groups[i]}, officer(i))
        )
    return calls[:n]


async def kindergarten_offers(bench: Bench, n: int) -> list[Call]:
    """Children who accepted an offer and are awaited with their documents: 30 at each of
    PAGES kindergartens, whose officers read the list."""
    conn, season, kindergartens = await _setting(bench)
    try:
        chosen = kindergartens[:PAGES]
        specs = [
            _spec(
                season,
                kindergartens,
                k,
                home=kindergartens.index(i),
                prefs=1 + k % 3,
                group=season.groups[k % len(season.groups)],
                registered_at=_recent(k) - timedelta(days=300),
            )
            for i in chosen
            for k in range(30)
        ]
        apps = await _applications(conn, season, specs, status="accepted", salt="page")
        await _offers(conn, season, apps, status="accepted")
    finally:
        await conn.close()
    officer = _Officers(bench)
    return [Call({"kindergartenId": encode_id("Institution", i)}, officer(i)) for i in chosen][:n]


async def my_kindergarten_applications(bench: Bench, n: int) -> list[Call]:
    """A guardian opens their page: fifty families, each with a child waiting for 1 to 3
    kindergartens (the queue positions are computed for each)."""
    _, _, apps = await _waiting(bench, min(n, 50), "mine")
    return [Call({}, _guardian(bench, app)) for app in apps]


WORKLOADS = [
    Workload("kindergarten-queue/MyKindergartenApplications", my_kindergarten_applications),
    Workload("kindergarten-queue/ApplyToKindergartenQueue", apply_to_queue),
    Workload("kindergarten-queue/VerifyKindergartenBenefit", verify_benefit),
    Workload("kindergarten-queue/TransferKindergartenApplication", transfer_application),
    Workload("kindergarten-queue/WithdrawKindergartenApplication", withdraw_application),
    Workload("kindergarten-queue/DeclareFreePlaces", declare_free_places),
    Workload("kindergarten-queue/OfferPlaces", offer_places),
    Workload("kindergarten-queue/AcceptOffer", accept_offer),
    Workload("kindergarten-queue/DeclineOffer", decline_offer),
    Workload("kindergarten-queue/ConfirmAdmission", confirm_admission),
    Workload("kindergarten-queue/KindergartenQueue", kindergarten_queue),
    Workload("kindergarten-queue/KindergartenOffers", kindergarten_offers),
]

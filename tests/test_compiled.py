"""The compiled path (schema/compiled/) answers exactly as the resolvers do.

Every supported shape runs twice for every kind of caller: through a hub with the compiled
path and through one without it, and the two responses must be equal byte for byte
(up to the budget each hub reports), cursors and global IDs included. Shapes it does not know must fall back."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from models import InstitutionKind, Sex, database
from resolvers.access import KeyRing, Role, issue_token
from resolvers.access.keys import load_pepper
from resolvers.institutions import INSTITUTION_ORDERINGS
from resolvers.relay import cursor_text
from resolvers.settings import Settings
from tests.factories import (
    BISHKEK,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_api_key,
    make_class_teacher,
    make_enrollment,
    make_family,
    make_guardianship,
    make_institution,
    make_person,
)

PORTALS = Path(__file__).resolve().parent.parent / "portals"


def portal(name: str) -> str:
    return (PORTALS / f"{name}.graphql").read_text()


@dataclass
class Pair:
    """Two hubs over one database: with the compiled path and without it."""

    fast: httpx.AsyncClient
    slow: httpx.AsyncClient
    counter: database.StatementCounter
    settings: Settings
    compiler: Any
    fast_app: Any = None
    slow_app: Any = None

    def forget_kept_answers(self) -> None:
        """Empty both hubs' kept answers (schema/http/kept.py): the next keepable request runs
        its operation on each."""
        self.fast_app.state.kept_answers.clear()
        self.slow_app.state.kept_answers.clear()

    def token(self, role: Role, **kwargs: Any) -> str:
        return issue_token(KeyRing.load(self.settings), self.settings, role=role, **kwargs)

    def cursor(self, values: list[Any]) -> str:
        """A cursor of ``institutions(orderBy: ID)`` holding ``values``, sealed by the hub."""
        digest = INSTITUTION_ORDERINGS["ID"].digest
        return KeyRing.load(self.settings).cursors.seal(digest, cursor_text(values))

    async def both(
        self, query: str, variables: dict[str, Any] | None, headers: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, Any], int]:
        body = {"query": query, "variables": variables or {}}
        self.counter.reset()
        fast = await self.fast.post("/graphql", json=body, headers=headers)
        statements = self.counter.count
        slow = await self.slow.post("/graphql", json=body, headers=headers)
        assert fast.status_code == slow.status_code == 200, (fast.text, slow.text)
        # Byte for byte up to the budget (which the two hubs spend apart): the same
        # separators, escapes, key order and number and date forms.
        assert _data_part(fast.content) == _data_part(slow.content), (fast.text, slow.text)
        return _comparable(fast.json()), _comparable(slow.json()), statements


def _data_part(content: bytes) -> bytes:
    return content.split(b',"extensions":', 1)[0]


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """The response without what the two hubs may not share: the budget they both spend."""
    cost = (body.get("extensions") or {}).get("cost")
    if cost is not None:
        assert cost["remaining"] <= cost["limit"]
        body["extensions"]["cost"] = {k: cost[k] for k in ("requested", "nodeCount", "limit")}
    return body


@pytest.fixture
async def pair(settings: Settings) -> AsyncIterator[Pair]:
    # Budgets are not what is compared here: the two hubs spend from the same one.
    settings = settings.model_copy(update={"points_per_hour": 10**9})
    fast_app = create_app(settings)
    slow_app = create_app(settings.model_copy(update={"compiled_queries": False}))
    async with (
        fast_app.router.lifespan_context(fast_app),
        slow_app.router.lifespan_context(slow_app),
    ):
        counter = database.StatementCounter()
        counter.attach(fast_app.state.engine)
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=fast_app), base_url="http://hub"
            ) as fast,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=slow_app), base_url="http://hub"
            ) as slow,
        ):
            yield Pair(
                fast=fast,
                slow=slow,
                counter=counter,
                settings=settings,
                compiler=fast_app.state.compiler,
                fast_app=fast_app,
                slow_app=slow_app,
            )


@dataclass
class World:
    ids: dict[str, str]
    callers: dict[str, dict[str, str]]


@pytest.fixture
async def world(pair: Pair, session: AsyncSession, settings: Settings) -> World:
    """Two regions, schools with current and past pupils (names with quotes, Cyrillic and
    equal last names, so cursors carry every kind of text), a transfer, a family, a teacher
    and the callers who see different parts of it."""
    school = await make_institution(session, name='Школа-гимназия №5 "Илим"')
    # Every kind of character JSON escapes or passes (both paths must write it alike).
    other = await make_institution(
        session, name="Лицей им. Ч. Айтматова \\ /\t\n\x01\x7f\u2028 😀", languages=[]
    )
    kindergarten = await make_institution(
        session, kind=InstitutionKind.KINDERGARTEN, name="Балдар бакчасы «Айчүрөк»"
    )
    elsewhere = await make_institution(
        session, region_id=CHUY, district_id=CHUY_SOKULUK, name="Сокулук орто мектеби"
    )
    closed = await make_institution(session, name="Жабык мектеп", closed_on=date(2020, 6, 1))
    mother, (son, daughter) = await make_family(session, children=2)
    pupils = [son, daughter]
    names = ["Асанов", "Асанов", "О'Коннор", 'Бек "Кичи"', "Zhusupov", "Ümötaliev", "Асанова"]
    for i, last in enumerate(names):
        pupil = await make_person(
            session,
            last_name=last,
            first_name=["Азамат", "Бакыт", "Нурай", "Элина"][i % 4],
            patronymic=None if i % 3 == 0 else "Маратович",
            sex=Sex.MALE if i % 2 else Sex.FEMALE,
            birth_date=date(2014, 1 + i, 10),
        )
        pupils.append(pupil)
    for i, pupil in enumerate(pupils):
        where = [school, other, elsewhere][i % 3]
        await make_enrollment(
            session,
            person=pupil,
            institution=where,
            grade_level=5 if i % 2 == 0 else 6,
            class_group="5А" if i % 2 == 0 else "6Б",
        )
    # a past enrollment and a transfer chain
    old = await make_enrollment(
        session,
        person=son,
        institution=kindergarten,
        entry_date=date(2018, 9, 1),
        exit_date=date(2022, 5, 31),
        exit_reason="completed_level",
    )
    first = await make_enrollment(
        session,
        person=daughter,
        institution=elsewhere,
        entry_date=date(2022, 9, 1),
        exit_date=date(2024, 6, 1),
        grade_level=4,
        exit_reason="transferred",
    )
    from sqlalchemy import update

    from models import Enrollment

    await session.execute(
        update(Enrollment)
        .where(Enrollment.person_id == daughter.id, Enrollment.exit_date.is_(None))
        .values(previous_enrollment_id=first.id)
    )
    teacher = await make_person(session, last_name="Мугалимова", birth_date=date(1985, 2, 2))
    await make_class_teacher(session, school=school, teacher=teacher, class_name="5А")
    father = await make_person(
        session, last_name="Сыдыков", sex=Sex.MALE, birth_date=date(1984, 1, 1)
    )
    await make_guardianship(session, guardian=father, child=son)
    pepper = load_pepper(settings)
    _, national = await make_api_key(
        session,
        pepper=pepper,
        allowed_fields=["Query.persons", "Person.*", "Query.institutions", "Institution.*"],
        personal_data=True,
    )
    _, regional = await make_api_key(
        session,
        pepper=pepper,
        allowed_fields=["Query.institutions", "Institution.*", "Enrollment.*", "Region.*"],
        region_ids=[CHUY],
    )
    await session.commit()
    del old, closed

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    callers = {
        "anonymous": {},
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "region officer": bearer(pair.token(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"])),
        "school admin": bearer(pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])),
        "teacher": bearer(
            pair.token(Role.TEACHER, scopes=[f"institution:{school.id}"], person_id=teacher.id)
        ),
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=mother.id)),
        "pupil": bearer(pair.token(Role.PUPIL, person_id=daughter.id)),
        "national partner": {"X-Api-Key": national},
        "regional partner": {"X-Api-Key": regional},
    }
    ids = {
        "bishkek": gid("Region", BISHKEK),
        "chuy": gid("Region", CHUY),
        "school": gid("Institution", school.id),
        "elsewhere": gid("Institution", elsewhere.id),
        "mother": gid("Person", mother.id),
        "son": gid("Person", son.id),
        "daughter": gid("Person", daughter.id),
        "teacher": gid("Person", teacher.id),
        "daughterNow": "",
        "transfer": gid("Enrollment", first.id),
    }
    return World(ids=ids, callers=callers)


EXTRA: dict[str, tuple[str, dict[str, Any]]] = {
    "edges and cursors": (
        """query($regionId: ID!, $after: String) {
          persons(filter: {regionId: $regionId}, first: 3, after: $after) {
            totalCount
            edges { cursor node { id __typename fullName sex } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          }
        }""",
        {"regionId": "bishkek"},
    ),
    "birth date order, fragments and aliases": (
        """query($first: Int!) {
          people: persons(orderBy: BIRTH_DATE, first: $first) {
            list: nodes { ...card who: fullName }
            pageInfo { endCursor startCursor }
          }
        }
        fragment card on Person { id born: birthDate ... on Node { id } }""",
        {"first": 5},
    ),
    "enrollment node with its relations": (
        """query($id: ID!) {
          node(id: $id) {
            __typename id
            ... on Enrollment {
              sector entryDate exitDate exitReason isCurrent gradeLevel classGroup programme
              person { fullName registeredDistrict { nameKy } }
              institution { name kind languages region { code kind } district { kind region { nameEn } } }
              previousEnrollment { id institution { name } }
            }
          }
        }""",
        {"id": "transfer"},
    ),
    "institution node with filtered, ordered enrollments": (
        """query($id: ID!) {
          node(id: $id) {
            id
            ... on Institution {
              name ownership designCapacity openedOn closedOn countryCode legalId address nameRu
              past: enrollments(first: 5, filter: {current: false}, orderBy: ENTRY_DATE) {
                totalCount nodes { id exitReason }
              }
              now: enrollments(first: 2, filter: {current: true, gradeLevel: 5}) {
                totalCount
                edges { cursor node { id person { id lastName } } }
                pageInfo { hasNextPage endCursor }
              }
            }
          }
        }""",
        {"id": "elsewhere"},
    ),
    "a family": (
        """query($id: ID!) {
          node(id: $id) {
            ... on Person {
              fullName
              children { kind validFrom validTo child { id fullName enrollments(first: 5) {
                nodes { institution { name } } } } }
              guardians { id guardian { id } }
            }
          }
        }""",
        {"id": "son"},
    ),
    "closed institutions, name search, first 0": (
        """{
          all: institutions(filter: {includeClosed: true}, orderBy: ID, first: 10) {
            totalCount nodes { name closedOn }
          }
          named: institutions(filter: {name: "мектеб"}, first: 0) {
            totalCount pageInfo { hasNextPage endCursor startCursor } nodes { id }
          }
          __typename
        }""",
        {},
    ),
}


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("emis/PersonById", portal("emis/PersonById"), {"id": "son"}),
        ("emis/PersonById mother", portal("emis/PersonById"), {"id": "mother"}),
        ("emis/EnrollmentHistory", portal("emis/EnrollmentHistory"), {"personId": "daughter"}),
        (
            "emis/InstitutionsOfRegion",
            portal("emis/InstitutionsOfRegion"),
            {"regionId": "bishkek", "pupils": 2},
        ),
        ("emis/PupilCounts", portal("emis/PupilCounts"), {"regionId": "bishkek"}),
        ("emis/PupilsOfGrade", portal("emis/PupilsOfGrade"), {"regionId": "bishkek", "grade": 5}),
        ("public/InstitutionSearch", portal("public/InstitutionSearch"), {}),
        ("public/Regions", portal("public/Regions"), {}),
    ]
    cases += [(name, query, variables) for name, (query, variables) in EXTRA.items()]
    return cases


CASES = _cases()


def _variables(world: World, raw: dict[str, Any]) -> dict[str, Any]:
    return {k: world.ids.get(v, v) if isinstance(v, str) else v for k, v in raw.items()}


async def _pages(pair: Pair, query: str, variables: dict[str, Any], headers: dict[str, str]) -> int:
    """Compare page after page (following endCursor); return how many pages."""
    pages = 0
    while True:
        fast, slow, _ = await pair.both(query, variables, headers)
        assert fast == slow, (fast, slow)
        pages += 1
        data = fast.get("data") or {}
        connection = next(
            (v for v in data.values() if isinstance(v, dict) and "pageInfo" in v), None
        )
        info = (connection or {}).get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor") or pages > 10:
            return pages
        variables = {**variables, "after": info["endCursor"]}


async def test_every_shape_answers_as_the_resolvers_do_for_every_caller(
    pair: Pair, world: World
) -> None:
    compared = 0
    escaped = 0
    for name, query, raw in CASES:
        for caller, headers in world.callers.items():
            variables = _variables(world, raw)
            fast, slow, _ = await pair.both(query, variables, headers)
            assert fast == slow, (name, caller, fast, slow)
            compared += 1
            escaped += "\\x01" in str(fast)  # the repr of the name
    assert compared == len(CASES) * len(world.callers)
    assert escaped, "no answer carried the name that needs escapes"


async def test_pages_followed_by_cursor_stay_equal(pair: Pair, world: World) -> None:
    query = portal("emis/PupilsOfGrade")
    for caller in ("ministry", "region officer", "national partner"):
        pages = await _pages(
            pair,
            query,
            {"regionId": world.ids["bishkek"], "grade": 5, "first": 1},
            world.callers[caller],
        )
        assert pages >= 2, caller
    edges = EXTRA["edges and cursors"][0]
    pages = await _pages(pair, edges, {"regionId": world.ids["bishkek"]}, world.callers["ministry"])
    assert pages >= 2


async def test_the_compiled_path_sends_one_statement_whatever_the_depth(
    pair: Pair, world: World
) -> None:
    ministry = world.callers["ministry"]
    for name, query, raw in CASES:
        fast, _, statements = await pair.both(query, _variables(world, raw), ministry)
        assert "errors" not in fast, (name, fast)
        assert statements == 1, name


def _compiled_so_far() -> float:
    """Requests the compiled path answered so far, those tallied but not yet written counted
    (resolvers/telemetry/metrics.py writes the tally every FLUSH_SECONDS)."""
    from resolvers.telemetry import metrics
    from schema.http.metrics import COMPILED

    metrics.flush()
    return float(COMPILED._value.get())


async def test_what_it_does_not_know_takes_the_normal_path(pair: Pair, world: World) -> None:
    ministry = world.callers["ministry"]
    unknown: list[tuple[str, dict[str, Any]]] = [
        # a field without a compiled form, a backwards page, a directive, a root it does not
        # know, a node of a type it does not know, a fragment on another type
        ("{ persons(first: 2) { nodes { pinHistory { pin } } } }", {}),
        ("{ persons(last: 2) { nodes { id } } }", {}),
        (
            "query($x: Boolean!) { persons(first: 2) { nodes { id @include(if: $x) } } }",
            {"x": True},
        ),
        ("{ districts(first: 2) { nodes { id } } }", {}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": world.ids["bishkek"]}),
        ("query($id: ID!) { node(id: $id) { ... on Region { code } } }", {"id": world.ids["son"]}),
    ]
    for query, variables in unknown:
        before = _compiled_so_far()
        fast, slow, _ = await pair.both(query, variables, ministry)
        assert fast == slow
        assert _compiled_so_far() == before, query
    before = _compiled_so_far()
    for _name, query, raw in CASES:
        await pair.both(query, _variables(world, raw), ministry)
    assert _compiled_so_far() == before + len(CASES)
    # a timestamp in a cursor is written as the resolvers write it (issue 21: the queue's order)
    timestamps = "{ persons(orderBy: CREATED_AT, first: 2) { pageInfo { endCursor } } }"
    fast, slow, _ = await pair.both(timestamps, {}, ministry)
    assert fast == slow
    assert _compiled_so_far() == before + len(CASES) + 1


async def test_errors_are_the_normal_paths(pair: Pair, world: World) -> None:
    """Bad ids, bad cursors, too-large pages, unknown variables, anonymous reads of people:
    the same typed error either way."""
    person = portal("emis/PersonById")
    grade = portal("emis/PupilsOfGrade")
    bad: list[tuple[str, dict[str, Any], str]] = [
        (person, {"id": "not-an-id"}, "ministry"),
        (person, {"id": gid("Nothing", 1)}, "ministry"),
        (person, {"id": 5}, "ministry"),
        (grade, {"regionId": world.ids["bishkek"], "grade": 5, "after": "garbage"}, "ministry"),
        (grade, {"regionId": world.ids["bishkek"], "grade": 5, "first": 101}, "ministry"),
        (grade, {"regionId": world.ids["school"], "grade": 5}, "ministry"),
        (grade, {"regionId": world.ids["bishkek"], "grade": 5}, "anonymous"),
        ("{ persons(first: 1) { nodes { nope } } }", {}, "ministry"),
    ]
    # cursors crafted to hold what no cursor holds: null, booleans, floats, lists, bad dates
    for crafted in (
        '[null, "a", 1]',
        "[true, 1, 2]",
        '["a", "b", 1.5]',
        '[[1], "b", 1]',
        '[{"$d": "not a date"}, "b", 1]',
        '["a", "b", 99999999999999999999]',
    ):
        cursor = base64.urlsafe_b64encode(crafted.encode()).decode().rstrip("=")
        bad.append(
            (grade, {"regionId": world.ids["bishkek"], "grade": 5, "after": cursor}, "ministry")
        )
    for query, variables, caller in bad:
        fast, slow, _ = await pair.both(query, variables, world.callers[caller])
        assert "errors" in fast, (query, variables)
        assert fast == slow, (fast, slow)
        if "after" in variables:
            assert fast["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION", fast


async def test_a_partner_outside_its_subgraph_is_refused_alike(pair: Pair, world: World) -> None:
    regional = world.callers["regional partner"]
    fast, slow, _ = await pair.both(
        portal("emis/PupilsOfGrade"), {"regionId": world.ids["bishkek"], "grade": 5}, regional
    )
    assert fast == slow
    assert fast["errors"][0]["extensions"]["code"] == "FORBIDDEN_FIELD" or fast["data"] is None


async def test_a_known_shape_is_answered_from_its_template(pair: Pair, world: World) -> None:
    """One statement is built per shape of request; other keys and cursors reuse it, and
    still answer exactly as the resolvers do."""
    ministry = world.callers["ministry"]
    person = portal("emis/PersonById")
    built = pair.compiler.templates_built
    for who in ("son", "mother", "daughter", "teacher"):
        fast, slow, _ = await pair.both(person, {"id": world.ids[who]}, ministry)
        assert fast == slow
        assert fast["data"]["node"]["id"] == world.ids[who]
    assert pair.compiler.templates_built == built + 1
    # pages after a cursor: the first page is one shape, every later page another
    built = pair.compiler.templates_built
    pages = await _pages(
        pair,
        portal("emis/PupilsOfGrade"),
        {"regionId": world.ids["bishkek"], "grade": 5, "first": 1},
        ministry,
    )
    assert pages >= 3
    assert pair.compiler.templates_built == built + 2
    # a guardian's rules are theirs: a template of their own
    built = pair.compiler.templates_built
    for who in ("son", "daughter", "teacher"):
        fast, slow, _ = await pair.both(person, {"id": world.ids[who]}, world.callers["guardian"])
        assert fast == slow
    assert fast["data"]["node"] is None  # not her child
    assert pair.compiler.templates_built == built + 1


async def test_kept_statements_belong_to_their_query_text(
    pair: Pair, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans come and go (a bounded cache); a kept statement is filed under its query's text,
    so a new plan never meets another query's statement."""
    monkeypatch.setattr("schema.compiled.cache.PLANS_KEPT", 1)
    ministry = world.callers["ministry"]
    names = "query($id: ID!) { node(id: $id) { ... on Person { lastName } } }"
    pins = "query($id: ID!) { node(id: $id) { ... on Person { pin } } }"
    for _ in range(3):
        for query in (names, pins):
            for who in ("son", "mother"):
                fast, slow, _ = await pair.both(query, {"id": world.ids[who]}, ministry)
                assert fast == slow


async def test_a_variable_used_as_a_cursor_and_elsewhere_is_taken_whole(
    pair: Pair, world: World
) -> None:
    query = """query($c: String, $first: Int!) {
      institutions(first: $first, after: $c, filter: {name: $c}, orderBy: ID) {
        totalCount nodes { name }
      }
    }"""
    ministry = world.callers["ministry"]
    for value in (None, pair.cursor([0]), pair.cursor([1]), "Лицей", "мектеб"):
        fast, slow, _ = await pair.both(query, {"c": value, "first": 5}, ministry)
        assert fast == slow, value


async def test_unreadable_cursors_and_out_of_range_keys(pair: Pair, world: World) -> None:
    ministry = world.callers["ministry"]
    deep = base64.urlsafe_b64encode(b"[" * 50_000).decode().rstrip("=")
    query = "query($c: String) { institutions(first: 2, after: $c) { nodes { id } } }"
    fast, slow, _ = await pair.both(query, {"c": deep}, ministry)
    assert fast == slow
    assert fast["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION"
    person = "query($id: ID!) { node(id: $id) { id ... on Person { pin } } }"
    for pk in (2**31, 2**40, 2**63 - 1):
        fast, slow, _ = await pair.both(person, {"id": gid("Person", pk)}, ministry)
        assert fast == slow, pk
        assert "INTERNAL_ERROR" not in str(fast), fast


async def test_cursors_of_another_list_or_forged_are_invalid_pagination(
    pair: Pair, world: World
) -> None:
    ministry = world.callers["ministry"]
    query = "query($c: String) { institutions(first: 2, after: $c, orderBy: ID) { nodes { id } } }"
    # a good cursor first, so the later ones meet a kept statement of the same shape
    fast, slow, _ = await pair.both(query, {"c": pair.cursor([1])}, ministry)
    assert fast == slow
    assert "errors" not in fast
    for values in (["x"], [2**40], [-(2**40)], ["Лицей", 3], [True]):
        fast, slow, _ = await pair.both(query, {"c": pair.cursor(values)}, ministry)
        assert fast == slow, values
        assert fast["errors"][0]["extensions"]["code"] == "INVALID_PAGINATION", fast


async def test_a_failed_statement_is_still_audited_for_a_partner(
    pair: Pair, world: World, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from models import AuditEntry

    async def broken(*args: Any) -> bytes:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("models.database.DirectPool.fetch_bytes", broken)
    response = await pair.fast.post(
        "/graphql",
        json={"query": "{ persons(first: 2) { nodes { pin lastName } } }"},
        headers=world.callers["national partner"],
    )
    body = response.json()
    assert response.status_code == 200
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    rows = (
        await session.scalars(
            select(AuditEntry).where(AuditEntry.operation == "access.personal_read")
        )
    ).all()
    assert [(r.outcome.value, r.error_codes) for r in rows] == [("rejected", ["INTERNAL_ERROR"])]

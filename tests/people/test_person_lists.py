"""The registry's person lists narrowed by enrollment (a grade of a region, a school's pupils):
whatever SQL builds them, they hold exactly the people the filter and the reader's row rule
name, in the same order, page after page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import exists, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from models import Enrollment, Institution, InstitutionKind, Person
from resolvers.access import Principal, Role
from resolvers.people import PersonFilter, persons_query
from resolvers.people.rules import person_readable, reads_everyone_enrolled_at
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_class_teacher,
    make_enrollment,
    make_institution,
    make_person,
    make_staff_position,
)

BISHKEK_OKTYABR = 51  # Oktyabr district of Bishkek (migration data)

PERSONS_PAGE = """
query PersonsPage($filter: PersonFilter, $orderBy: PersonOrder, $first: Int, $after: String,
                  $last: Int, $before: String) {
  persons(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
          before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id }
  }
}
"""


@dataclass
class Registry:
    """Grade 5 in two Bishkek schools and a Chuy school, with the cases a list must not get
    wrong: a pupil who left, one in another grade, one enrolled twice in grade 5, one also
    known in Chuy, and namesakes whose order only the id decides."""

    lenin_school: Institution
    oktyabr_school: Institution
    chuy_school: Institution
    teacher: Person
    grade5_bishkek: list[Person]
    known_in_chuy: list[Person]


@pytest.fixture
async def registry(session: AsyncSession) -> Registry:
    lenin = await make_institution(session, name="Ленин №1")
    oktyabr = await make_institution(session, name="Октябрь №2", district_id=BISHKEK_OKTYABR)
    college = await make_institution(
        session, name="Бишкек колледжи", kind=InstitutionKind.COLLEGE, district_id=BISHKEK_OKTYABR
    )
    chuy = await make_institution(
        session, name="Сокулук №1", region_id=CHUY, district_id=CHUY_SOKULUK
    )
    names = [
        ("Асанов", "Айбек"),
        ("Асанов", "Айбек"),
        ("Асанов", "Бакыт"),
        ("Абдыкадыров", "Эрлан"),
    ]
    names += [
        ("Токтогулов", "Нурлан"),
        ("Асанов", "Айбек"),
        ("Белов", "Иван"),
        ("Абдыкадыров", "Эрлан"),
    ]
    grade5: list[Person] = []
    for n, (last, first) in enumerate(names):
        pupil = await make_person(session, last_name=last, first_name=first)
        school = lenin if n % 2 == 0 else oktyabr
        group = "5А" if n % 4 == 0 else "5Б"
        await make_enrollment(
            session, person=pupil, institution=school, grade_level=5, class_group=group
        )
        grade5.append(pupil)
    # Enrolled twice in grade 5 in Bishkek (a school and a college course): listed once.
    twice = await make_person(session, last_name="Асанов", first_name="Айбек")
    await make_enrollment(session, person=twice, institution=oktyabr, grade_level=5)
    await make_enrollment(session, person=twice, institution=college, grade_level=5)
    grade5.append(twice)
    # Grade 5 in Bishkek, and known in Chuy: a past enrollment there, or a post there.
    moved = await make_person(session, last_name="Асанов", first_name="Бакыт")
    await make_enrollment(
        session,
        person=moved,
        institution=chuy,
        grade_level=4,
        entry_date=date(2024, 9, 1),
        exit_date=date(2025, 5, 31),
    )
    await make_enrollment(session, person=moved, institution=lenin, grade_level=5)
    working = await make_person(session, last_name="Жумабеков", first_name="Азамат")
    await make_staff_position(session, person=working, institution=chuy)
    await make_enrollment(session, person=working, institution=lenin, grade_level=5)
    grade5 += [moved, working]
    # Not in Bishkek's grade 5: left it, another grade, another region.
    left = await make_person(session, last_name="Асанов", first_name="Айбек")
    await make_enrollment(
        session,
        person=left,
        institution=lenin,
        grade_level=5,
        entry_date=date(2024, 9, 1),
        exit_date=date(2025, 5, 31),
    )
    sixth = await make_person(session, last_name="Асанов", first_name="Айбек")
    await make_enrollment(session, person=sixth, institution=lenin, grade_level=6)
    in_chuy = await make_person(session, last_name="Асанов", first_name="Айбек")
    await make_enrollment(session, person=in_chuy, institution=chuy, grade_level=5)
    # A teacher of 5А at the Lenin school.
    teacher = await make_person(session, last_name="Мугалимова", first_name="Гүлнара")
    await make_class_teacher(session, school=lenin, teacher=teacher, class_name="5А")
    await session.commit()
    return Registry(lenin, oktyabr, chuy, teacher, grade5, [moved, working])


def readers(registry: Registry) -> dict[str, tuple[Principal, dict[str, Any]]]:
    """The readers under test, as principals (for the reference query) and token claims."""
    lenin = registry.lenin_school.id
    return {
        "ministry": (Principal(subject="m", role=Role.MINISTRY), {"role": Role.MINISTRY}),
        "bishkek officer": (
            Principal(subject="b", role=Role.REGION_OFFICER, region_ids=frozenset({BISHKEK})),
            {"role": Role.REGION_OFFICER, "scopes": [f"region:{BISHKEK}"]},
        ),
        "chuy officer": (
            Principal(subject="c", role=Role.REGION_OFFICER, region_ids=frozenset({CHUY})),
            {"role": Role.REGION_OFFICER, "scopes": [f"region:{CHUY}"]},
        ),
        "lenin district officer": (
            Principal(
                subject="d", role=Role.DISTRICT_OFFICER, district_ids=frozenset({BISHKEK_LENIN})
            ),
            {"role": Role.DISTRICT_OFFICER, "scopes": [f"district:{BISHKEK_LENIN}"]},
        ),
        "lenin school admin": (
            Principal(subject="s", role=Role.SCHOOL_ADMIN, institution_ids=frozenset({lenin})),
            {"role": Role.SCHOOL_ADMIN, "scopes": [f"institution:{lenin}"]},
        ),
        "5А teacher": (
            Principal(
                subject="t",
                role=Role.TEACHER,
                person_id=registry.teacher.id,
                institution_ids=frozenset({lenin}),
            ),
            {
                "role": Role.TEACHER,
                "scopes": [f"institution:{lenin}"],
                "person_id": registry.teacher.id,
            },
        ),
    }


def filters(registry: Registry) -> dict[str, dict[str, Any]]:
    lenin = registry.lenin_school.id
    return {
        "grade 5 of Bishkek": {"region_id": BISHKEK, "grade_level": 5},
        "grade 5 of Chuy": {"region_id": CHUY, "grade_level": 5},
        "grade 5 of a school": {"institution_id": lenin, "grade_level": 5},
        "current pupils of a school": {"institution_id": lenin, "currently_enrolled": True},
        "anyone ever at a school": {"institution_id": lenin},
        "current pupils of Bishkek": {"region_id": BISHKEK, "currently_enrolled": True},
        "anyone ever in Bishkek": {"region_id": BISHKEK},
    }


def as_input(flt: dict[str, Any]) -> dict[str, Any]:
    """The filter as the GraphQL `PersonFilter` input."""
    value: dict[str, Any] = {}
    if "region_id" in flt:
        value["regionId"] = gid("Region", flt["region_id"])
    if "institution_id" in flt:
        value["institutionId"] = gid("Institution", flt["institution_id"])
    if "grade_level" in flt:
        value["gradeLevel"] = flt["grade_level"]
    if "currently_enrolled" in flt:
        value["currentlyEnrolled"] = flt["currently_enrolled"]
    return value


async def reference(session: AsyncSession, principal: Principal, flt: dict[str, Any]) -> list[str]:
    """The list as the filter reads, plainly: the row rule, then a probe of each person's
    enrollments, in name order."""
    clauses: list[Any] = []
    if "institution_id" in flt:
        clauses.append(Enrollment.institution_id == flt["institution_id"])
    if "region_id" in flt:
        clauses.append(
            Enrollment.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt["region_id"])
            )
        )
    if "grade_level" in flt:
        clauses.append(Enrollment.grade_level == flt["grade_level"])
    if flt.get("currently_enrolled") or "grade_level" in flt:
        clauses.append(Enrollment.exit_date.is_(None))
    stmt = (
        select(Person.id)
        .where(
            person_readable(principal), exists().where(Enrollment.person_id == Person.id, *clauses)
        )
        .order_by(Person.last_name, Person.first_name, Person.id)
    )
    return [gid("Person", pk) for pk in await session.scalars(stmt)]


async def page_through(hub: Hub, token: str, flt: dict[str, Any], *, backwards: bool) -> list[str]:
    """Every item of the list, two at a time, following the cursors."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        if backwards:
            variables = {"filter": as_input(flt), "last": 2, "before": cursor}
        else:
            variables = {"filter": as_input(flt), "first": 2, "after": cursor}
        data = (await hub.data(PERSONS_PAGE, variables, token=token))["persons"]
        page = [n["id"] for n in data["nodes"]]
        seen = page + seen if backwards else seen + page
        more = data["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]
        if not more:
            return seen
        cursor = data["pageInfo"]["startCursor" if backwards else "endCursor"]


READERS = [
    "ministry",
    "bishkek officer",
    "chuy officer",
    "lenin district officer",
    "lenin school admin",
    "5А teacher",
]


class TestListsNarrowedByEnrollment:
    @pytest.mark.parametrize("reader", READERS)
    async def test_pages_hold_the_people_the_filter_and_the_row_rule_name(
        self, reader: str, hub: Hub, session: AsyncSession, registry: Registry
    ) -> None:
        # given a reader
        principal, claims = readers(registry)[reader]
        token = hub.token(**claims)
        for name, flt in filters(registry).items():
            expected = await reference(session, principal, flt)

            # when they page through the list, forwards and backwards, two people at a time
            forwards = await page_through(hub, token, flt, backwards=False)
            backwards = await page_through(hub, token, flt, backwards=True)
            total = await hub.data(PERSONS_PAGE, {"filter": as_input(flt), "first": 1}, token=token)

            # then they meet the same people in the same order, each once
            assert forwards == expected, name
            assert backwards == expected, name
            assert total["persons"]["totalCount"] == len(expected), name

    async def test_grade_of_a_region_lists_its_current_pupils_by_name(
        self, hub: Hub, ministry: str, registry: Registry
    ) -> None:
        # given grade 5 of Bishkek: namesakes, a pupil enrolled twice, one who left, one in grade 6
        expected = sorted(registry.grade5_bishkek, key=lambda p: (p.last_name, p.first_name, p.id))

        # when
        listed = await page_through(
            hub, ministry, {"region_id": BISHKEK, "grade_level": 5}, backwards=False
        )

        # then
        assert listed == [gid("Person", p.id) for p in expected]

    async def test_officer_lists_another_regions_grade_with_only_the_people_they_read(
        self, hub: Hub, registry: Registry
    ) -> None:
        # given Chuy's officer, who reads only the people enrolled or employed in Chuy
        token = hub.token(Role.REGION_OFFICER, scopes=[f"region:{CHUY}"])

        # when they list Bishkek's grade 5
        listed = await page_through(
            hub, token, {"region_id": BISHKEK, "grade_level": 5}, backwards=False
        )

        # then they see only the Bishkek pupils once enrolled or working in Chuy
        expected = sorted(registry.known_in_chuy, key=lambda p: (p.last_name, p.first_name, p.id))
        assert listed == [gid("Person", p.id) for p in expected]

    async def test_grade_of_a_region_reads_its_pupils_from_the_enrollments(
        self, resolver_hub: Hub, registry: Registry
    ) -> None:
        hub = resolver_hub  # the resolvers' statements, not the compiled path's
        # given Bishkek's officer
        token = hub.token(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"])
        flt = {"region_id": BISHKEK, "grade_level": 5}

        # when they list Bishkek's grade 5
        hub.counter.reset()
        await hub.data(PERSONS_PAGE, {"filter": as_input(flt), "first": 50}, token=token)

        # then the page and the count read the pupils' ids first
        assert hub.counter.statements is not None
        assert len(hub.counter.statements) == 2
        for statement in hub.counter.statements:
            assert "= ANY (array((SELECT enrollment.person_id" in statement

    @pytest.mark.parametrize(
        ("scope", "probed"), [(BISHKEK, False), (CHUY, True)], ids=["own region", "another"]
    )
    async def test_row_rule_is_probed_only_outside_the_officers_region(
        self, scope: int, probed: bool, session: AsyncSession, registry: Registry
    ) -> None:
        # given an officer listing Bishkek's grade 5
        officer = Principal(subject="r", role=Role.REGION_OFFICER, region_ids=frozenset({scope}))
        stmt = persons_query(officer, PersonFilter(region_id=BISHKEK, grade_level=5))
        sql = stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})

        # when PostgreSQL plans it
        plan = "\n".join(await session.scalars(text(f"EXPLAIN {sql}")))

        # then it probes posts and enrollments only for an officer of another region
        assert ("staff_position" in plan) is probed, plan


class TestReadsEveryoneEnrolledAt:
    @pytest.mark.parametrize(
        ("principal", "region_id", "institution_id", "expected"),
        [
            (Principal(subject="m", role=Role.MINISTRY), BISHKEK, None, True),
            (Principal(subject="p", role=Role.PARTNER), None, 7, True),
            (
                Principal(subject="p", role=Role.PARTNER, region_ids=frozenset({BISHKEK})),
                BISHKEK,
                None,
                True,
            ),
            (
                Principal(subject="p", role=Role.PARTNER, region_ids=frozenset({CHUY})),
                BISHKEK,
                None,
                False,
            ),
            (
                Principal(subject="r", role=Role.REGION_OFFICER, region_ids=frozenset({BISHKEK})),
                BISHKEK,
                7,
                True,
            ),
            (
                Principal(subject="r", role=Role.REGION_OFFICER, region_ids=frozenset({BISHKEK})),
                None,
                7,
                False,
            ),
            (
                Principal(subject="r", role=Role.REGION_OFFICER, region_ids=frozenset({CHUY})),
                BISHKEK,
                None,
                False,
            ),
            (
                Principal(subject="s", role=Role.SCHOOL_ADMIN, institution_ids=frozenset({7})),
                BISHKEK,
                7,
                True,
            ),
            (
                Principal(subject="s", role=Role.SCHOOL_ADMIN, institution_ids=frozenset({7})),
                BISHKEK,
                None,
                False,
            ),
            (
                Principal(
                    subject="t",
                    role=Role.TEACHER,
                    person_id=1,
                    institution_ids=frozenset({7}),
                ),
                None,
                7,
                False,
            ),
            (
                Principal(
                    subject="d", role=Role.DISTRICT_OFFICER, district_ids=frozenset({BISHKEK_LENIN})
                ),
                BISHKEK,
                None,
                False,
            ),
            (Principal(subject="g", role=Role.GUARDIAN, person_id=1), BISHKEK, 7, False),
            (Principal(subject="a", role=Role.AUDITOR), BISHKEK, 7, False),
        ],
    )
    async def test_only_a_scope_that_holds_the_whole_filter_reads_everyone(
        self,
        principal: Principal,
        region_id: int | None,
        institution_id: int | None,
        expected: bool,
        session: AsyncSession,
    ) -> None:
        # when PostgreSQL evaluates the answer
        answer = reads_everyone_enrolled_at(
            principal, region_id=region_id, institution_id=institution_id
        )

        # then
        assert await session.scalar(select(answer)) is expected

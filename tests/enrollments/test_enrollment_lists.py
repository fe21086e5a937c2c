"""Enrollment lists: the root list, an institution's and a person's, and their SQL cost."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Enrollment, Institution, InstitutionKind, Ownership, Person, Sector, Sex
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_enrollment,
    make_institution,
    make_person,
)
from tests.people.helpers import error_codes

ENROLLMENTS = """
query Enrollments($filter: EnrollmentFilterInput) {
  enrollments(first: 50, filter: $filter) {
    totalCount
    nodes { id gradeLevel isCurrent institution { name } }
  }
}
"""

PERSON_ENROLLMENTS = """
query PersonEnrollments($id: ID!) {
  node(id: $id) {
    ... on Person {
      enrollments(first: 10) { totalCount nodes { entryDate exitReason institution { name } } }
    }
  }
}
"""

SCHOOL_ROSTERS = """
query SchoolRosters {
  institutions(first: 50) {
    nodes {
      name
      enrollments(first: 20, filter: {current: true}) {
        nodes { gradeLevel person { firstName birthDate } }
      }
    }
  }
}
"""

PUPILS_PER_SCHOOL = 20


async def arrange_rosters(session: AsyncSession, *, schools: int, offset: int = 0) -> None:
    """``schools`` schools of 20 pupils each, written with three bulk INSERTs."""
    institution_ids = list(
        await session.scalars(
            insert(Institution)
            .values(
                [
                    {
                        "kind": InstitutionKind.SCHOOL,
                        "ownership": Ownership.STATE,
                        "name": f"Мектеп №{offset + i:03d}",
                        "region_id": BISHKEK,
                        "district_id": BISHKEK_LENIN,
                        "languages": ["ky"],
                    }
                    for i in range(schools)
                ]
            )
            .returning(Institution.id)
        )
    )
    person_ids = list(
        await session.scalars(
            insert(Person)
            .values(
                [
                    {
                        "first_name": f"Окуучу {n}",
                        "last_name": "Асанов",
                        "sex": Sex.MALE,
                        "birth_date": date(2015, 1, 1 + n % 28),
                    }
                    for n in range(schools * PUPILS_PER_SCHOOL)
                ]
            )
            .returning(Person.id)
        )
    )
    await session.execute(
        insert(Enrollment).values(
            [
                {
                    "person_id": person_id,
                    "institution_id": institution_ids[n // PUPILS_PER_SCHOOL],
                    "sector": Sector.SCHOOL,
                    "entry_date": date(2025, 9, 1),
                    "grade_level": 1 + n % 12,
                }
                for n, person_id in enumerate(person_ids)
            ]
        )
    )
    await session.commit()


async def statements_for(hub: Hub, query: str, token: str) -> tuple[int, dict[str, Any]]:
    hub.counter.reset()
    data = await hub.data(query, token=token)
    return hub.counter.count, data


class TestEnrollmentLists:
    async def test_root_list_filters_current_and_region(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        pupil = await make_person(session)
        other = await make_person(session)
        bishkek = await make_institution(session, name="Бишкек мектеби")
        chuy = await make_institution(
            session, name="Чүй мектеби", region_id=CHUY, district_id=CHUY_SOKULUK
        )
        await make_enrollment(
            session,
            person=pupil,
            institution=bishkek,
            entry_date=date(2024, 9, 1),
            exit_date=date(2025, 5, 31),
        )
        await make_enrollment(session, person=pupil, institution=chuy)
        await make_enrollment(session, person=other, institution=bishkek)
        await session.commit()

        # when
        current = await hub.data(ENROLLMENTS, {"filter": {"current": True}}, token=ministry)
        ended = await hub.data(ENROLLMENTS, {"filter": {"current": False}}, token=ministry)
        in_chuy = await hub.data(
            ENROLLMENTS, {"filter": {"regionId": gid("Region", CHUY)}}, token=ministry
        )

        # then
        assert current["enrollments"]["totalCount"] == 2
        assert all(n["isCurrent"] for n in current["enrollments"]["nodes"])
        assert [n["institution"]["name"] for n in ended["enrollments"]["nodes"]] == [
            "Бишкек мектеби"
        ]
        assert [n["institution"]["name"] for n in in_chuy["enrollments"]["nodes"]] == [
            "Чүй мектеби"
        ]

    async def test_root_list_needs_a_sign_in(self, hub: Hub) -> None:
        # when
        body = await hub.gql(ENROLLMENTS)

        # then
        assert error_codes(body) == ["UNAUTHENTICATED"]

    async def test_school_admin_lists_only_their_schools_enrollments(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given
        own, other = await make_institution(session), await make_institution(session)
        for school in (own, own, other):
            await make_enrollment(session, person=await make_person(session), institution=school)
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{own.id}"])

        # when
        data = await hub.data(ENROLLMENTS, token=token)

        # then
        assert data["enrollments"]["totalCount"] == 2
        assert {n["institution"]["name"] for n in data["enrollments"]["nodes"]} == {own.name}

    async def test_persons_enrollments_come_newest_first(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given
        pupil = await make_person(session)
        first = await make_institution(session, name="Биринчи")
        second = await make_institution(session, name="Экинчи")
        await make_enrollment(
            session,
            person=pupil,
            institution=first,
            entry_date=date(2023, 9, 1),
            exit_date=date(2025, 5, 31),
        )
        await make_enrollment(session, person=pupil, institution=second)
        await session.commit()
        token = hub.token(Role.PUPIL, person_id=pupil.id)

        # when
        data = await hub.data(PERSON_ENROLLMENTS, {"id": gid("Person", pupil.id)}, token=token)

        # then
        enrollments = data["node"]["enrollments"]
        assert enrollments["totalCount"] == 2
        assert [(n["institution"]["name"], n["exitReason"]) for n in enrollments["nodes"]] == [
            ("Экинчи", None),
            ("Биринчи", "WITHDRAWN"),
        ]

    async def test_rosters_cost_the_same_few_statements_for_5_or_50_schools(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        await hub.data("{ regions(first: 1) { totalCount } }")  # the pool's first connection
        await arrange_rosters(session, schools=5)
        small_count, small = await statements_for(hub, SCHOOL_ROSTERS, ministry)
        await arrange_rosters(session, schools=45, offset=5)

        # when
        large_count, large = await statements_for(hub, SCHOOL_ROSTERS, ministry)

        # then
        schools = large["institutions"]["nodes"]
        assert len(schools) == 50
        assert all(len(s["enrollments"]["nodes"]) == PUPILS_PER_SCHOOL for s in schools)
        assert all(
            e["person"] is not None and e["person"]["birthDate"]
            for s in schools
            for e in s["enrollments"]["nodes"]
        )
        assert sum(len(s["enrollments"]["nodes"]) for s in schools) == 1000
        assert len(small["institutions"]["nodes"]) == 5
        assert large_count <= 4
        assert large_count == small_count


COUNTS_ONLY = """
query Counts {
  institutions(first: 10) {
    nodes { name enrollments(first: 0, filter: {current: true}) { totalCount } }
  }
}
"""

EMPTY_PAGES = """
query EmptyPages($after: String) {
  institutions(first: 10) {
    nodes {
      name
      enrollments(first: 0, after: $after) {
        totalCount
        edges { cursor }
        nodes { id }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}
"""

FIRST_ENROLLMENT = """
query FirstEnrollment {
  institutions(first: 10) {
    nodes { name enrollments(first: 1) { pageInfo { endCursor } } }
  }
}
"""

EMPTY_ROOT_PAGE = """
query EmptyRootPage($after: String) {
  persons(first: 0, after: $after) {
    totalCount
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


class TestEmptyPages:
    """`first: 0` asks for a list's size: no items, and no page statement unless `pageInfo`
    asks whether items lie beyond the cursor."""

    async def test_counts_alone_send_no_page_statement(
        self, resolver_hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        hub = resolver_hub  # the resolvers' statements, not the compiled path's
        # given two schools, one with two current pupils and a former one
        busy = await make_institution(session, name="А мектеби")
        await make_institution(session, name="Б мектеби")
        for exit_date in (None, None, date(2025, 5, 31)):
            await make_enrollment(
                session,
                person=await make_person(session),
                institution=busy,
                entry_date=date(2024, 9, 1),
                exit_date=exit_date,
            )
        await session.commit()
        await hub.data("{ regions(first: 1) { totalCount } }")  # the pool's first connection

        # when
        count, data = await statements_for(hub, COUNTS_ONLY, ministry)

        # then the institutions' page and the grouped count, and nothing else
        assert [
            (n["name"], n["enrollments"]["totalCount"]) for n in data["institutions"]["nodes"]
        ] == [("А мектеби", 2), ("Б мектеби", 0)]
        assert count == 2, hub.counter.statements

    async def test_empty_page_still_says_whether_items_follow_the_cursor(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a school with two pupils and one with none
        busy = await make_institution(session, name="А мектеби")
        await make_institution(session, name="Б мектеби")
        for _ in range(2):
            await make_enrollment(session, person=await make_person(session), institution=busy)
        await session.commit()
        first = await hub.data(FIRST_ENROLLMENT, token=ministry)
        cursor = first["institutions"]["nodes"][0]["enrollments"]["pageInfo"]["endCursor"]

        # when
        from_start = await hub.data(EMPTY_PAGES, token=ministry)
        after_first = await hub.data(EMPTY_PAGES, {"after": cursor}, token=ministry)

        # then no items, and items follow exactly where some are left
        def pages(data: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [
                (
                    n["name"],
                    n["enrollments"]["totalCount"],
                    n["enrollments"]["edges"],
                    n["enrollments"]["nodes"],
                    n["enrollments"]["pageInfo"],
                )
                for n in data["institutions"]["nodes"]
            ]

        empty = {"startCursor": None, "endCursor": None}
        assert pages(from_start) == [
            ("А мектеби", 2, [], [], {"hasNextPage": True, "hasPreviousPage": False, **empty}),
            ("Б мектеби", 0, [], [], {"hasNextPage": False, "hasPreviousPage": False, **empty}),
        ]
        assert pages(after_first) == [
            ("А мектеби", 2, [], [], {"hasNextPage": True, "hasPreviousPage": True, **empty}),
            ("Б мектеби", 0, [], [], {"hasNextPage": False, "hasPreviousPage": True, **empty}),
        ]

    async def test_empty_root_page_says_whether_items_follow(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given two people
        for _ in range(2):
            await make_person(session)
        await session.commit()
        everyone = await hub.data(
            "{ persons(first: 2) { pageInfo { endCursor } } }", token=ministry
        )
        last_cursor = everyone["persons"]["pageInfo"]["endCursor"]

        # when
        from_start = await hub.data(EMPTY_ROOT_PAGE, token=ministry)
        at_end = await hub.data(EMPTY_ROOT_PAGE, {"after": last_cursor}, token=ministry)

        # then
        empty = {"startCursor": None, "endCursor": None}
        assert from_start["persons"] == {
            "totalCount": 2,
            "nodes": [],
            "pageInfo": {"hasNextPage": True, "hasPreviousPage": False, **empty},
        }
        assert at_end["persons"] == {
            "totalCount": 2,
            "nodes": [],
            "pageInfo": {"hasNextPage": False, "hasPreviousPage": True, **empty},
        }

"""The public institution registry: filters, order and cursor pagination."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Ownership
from tests.conftest import Hub
from tests.factories import CHUY, CHUY_SOKULUK, gid, make_institution
from tests.people.helpers import error_codes

INSTITUTIONS = """
query Institutions(
  $filter: InstitutionFilter, $orderBy: InstitutionOrder,
  $first: Int, $after: String, $last: Int, $before: String
) {
  institutions(
    filter: $filter, orderBy: $orderBy,
    first: $first, after: $after, last: $last, before: $before
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id name kind ownership languages region { code } }
  }
}
"""


async def names(hub: Hub, **variables: Any) -> list[str]:
    variables.setdefault("first", 100)
    data = await hub.data(INSTITUTIONS, variables)
    return [n["name"] for n in data["institutions"]["nodes"]]


@pytest.fixture
async def registry(session: AsyncSession) -> None:
    await make_institution(session, name="Бишкек гимназия №5", languages=["ru"])
    await make_institution(
        session, name="Бишкек балдар бакчасы", kind=InstitutionKind.KINDERGARTEN, languages=["ky"]
    )
    await make_institution(
        session, name="Ала-Тоо лицей", ownership=Ownership.PRIVATE, languages=["en", "ru"]
    )
    await make_institution(
        session, name="Сокулук мектеби", region_id=CHUY, district_id=CHUY_SOKULUK, languages=["ky"]
    )
    await make_institution(session, name="Жабылган мектеп", closed_on=date(2020, 6, 1))
    await session.commit()


class TestInstitutionList:
    async def test_anonymous_caller_reads_open_institutions_by_name(
        self, hub: Hub, registry: None
    ) -> None:
        # when
        data = await hub.data(INSTITUTIONS, {"first": 10})

        # then
        nodes = data["institutions"]["nodes"]
        assert [n["name"] for n in nodes] == [
            "Ала-Тоо лицей",
            "Бишкек балдар бакчасы",
            "Бишкек гимназия №5",
            "Сокулук мектеби",
        ]
        assert data["institutions"]["totalCount"] == 4
        assert nodes[0]["ownership"] == "PRIVATE"
        assert nodes[0]["languages"] == ["EN", "RU"]
        assert nodes[0]["region"] == {"code": "KG-GB"}

    async def test_closed_institutions_are_listed_on_request(
        self, hub: Hub, registry: None
    ) -> None:
        # when
        found = await names(hub, filter={"includeClosed": True, "name": "мектеп"})

        # then
        assert found == ["Жабылган мектеп"]

    @pytest.mark.parametrize(
        ("flt", "expected"),
        [
            ({"regionId": gid("Region", CHUY)}, ["Сокулук мектеби"]),
            ({"kinds": ["KINDERGARTEN"]}, ["Бишкек балдар бакчасы"]),
            (
                {"kinds": ["KINDERGARTEN", "SCHOOL"], "regionId": gid("Region", 8)},
                ["Ала-Тоо лицей", "Бишкек балдар бакчасы", "Бишкек гимназия №5"],
            ),
            ({"language": "RU"}, ["Ала-Тоо лицей", "Бишкек гимназия №5"]),
            ({"ownership": "PRIVATE"}, ["Ала-Тоо лицей"]),
            ({"name": "бишкек"}, ["Бишкек балдар бакчасы", "Бишкек гимназия №5"]),
        ],
        ids=["region", "kind", "kinds-and-region", "language", "ownership", "name-any-case"],
    )
    async def test_filters_narrow_the_list(
        self, hub: Hub, registry: None, flt: dict[str, Any], expected: list[str]
    ) -> None:
        # when
        found = await names(hub, filter=flt)

        # then
        assert found == expected

    @pytest.mark.parametrize(
        ("needle", "expected"),
        [("100%", ["Мектеп 100%"]), ("a_b", ["Мектеп a_b"]), ("\\", ["Мектеп \\ сызык"])],
        ids=["percent", "underscore", "backslash"],
    )
    async def test_name_wildcards_are_matched_literally(
        self, hub: Hub, session: AsyncSession, needle: str, expected: list[str]
    ) -> None:
        # given
        for name in ["Мектеп 100%", "Мектеп 1000", "Мектеп a_b", "Мектеп axb", "Мектеп \\ сызык"]:
            await make_institution(session, name=name)
        await session.commit()

        # when
        found = await names(hub, filter={"name": needle})

        # then
        assert found == expected

    async def test_unknown_region_id_type_is_a_request_error(
        self, hub: Hub, registry: None
    ) -> None:
        # when
        body = await hub.gql(INSTITUTIONS, {"first": 5, "filter": {"regionId": gid("Person", 8)}})

        # then
        assert error_codes(body) == ["INVALID_ID"]


class TestInstitutionPagination:
    async def test_bad_bounds_are_refused(self, hub: Hub) -> None:
        # given
        cases: dict[str, dict[str, int]] = {
            "missing": {},
            "first-101": {"first": 101},
            "last-101": {"last": 101},
            "negative": {"first": -1},
            "first-and-last": {"first": 5, "last": 5},
        }

        # when
        answers = {}
        for name, bounds in cases.items():
            body = await hub.gql(INSTITUTIONS, bounds)
            answers[name] = (body["data"], error_codes(body))

        # then
        assert answers == {name: (None, ["INVALID_PAGINATION"]) for name in cases}

    async def test_hundred_is_the_largest_page(self, hub: Hub, session: AsyncSession) -> None:
        # given
        await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(INSTITUTIONS, {"first": 100})

        # then
        assert data["institutions"]["totalCount"] == 1

    async def test_garbage_cursor_is_refused(self, hub: Hub) -> None:
        # when
        body = await hub.gql(INSTITUTIONS, {"first": 2, "after": "%%%"})

        # then
        assert error_codes(body) == ["INVALID_PAGINATION"]

    async def test_pages_forward_and_backward_without_overlap(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: seven schools, two sharing a name (the id breaks the tie)
        for name in ["Г", "А", "Д", "В", "Б", "В", "Е"]:
            await make_institution(session, name=f"Мектеп {name}")
        await session.commit()
        everything = await hub.data(INSTITUTIONS, {"first": 100})
        all_ids = [n["id"] for n in everything["institutions"]["nodes"]]

        # when: forward, three at a time
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            data = (await hub.data(INSTITUTIONS, {"first": 3, "after": after}))["institutions"]
            seen += [n["id"] for n in data["nodes"]]
            pages += 1
            assert data["totalCount"] == 7
            assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["pageInfo"]["endCursor"]

        # then
        assert pages == 3
        assert seen == all_ids

        # when: backward from the end, three at a time
        last = (await hub.data(INSTITUTIONS, {"last": 3}))["institutions"]
        before = last["pageInfo"]["startCursor"]
        middle = (await hub.data(INSTITUTIONS, {"last": 3, "before": before}))["institutions"]

        # then
        assert [n["id"] for n in last["nodes"]] == all_ids[4:]
        assert last["pageInfo"]["hasPreviousPage"] is True
        assert [n["id"] for n in middle["nodes"]] == all_ids[1:4]
        assert middle["pageInfo"]["hasNextPage"] is True
        assert [n["name"] for n in everything["institutions"]["nodes"]] == [
            "Мектеп А",
            "Мектеп Б",
            "Мектеп В",
            "Мектеп В",
            "Мектеп Г",
            "Мектеп Д",
            "Мектеп Е",
        ]

    async def test_order_by_id_follows_creation(self, hub: Hub, session: AsyncSession) -> None:
        # given
        created = [await make_institution(session, name=n) for n in ["Я", "А", "М"]]
        await session.commit()

        # when
        data = await hub.data(INSTITUTIONS, {"first": 10, "orderBy": "ID"})

        # then
        assert [n["id"] for n in data["institutions"]["nodes"]] == [
            gid("Institution", i.id) for i in created
        ]

"""createInstitution, updateInstitution and addCatchmentArea: the registry's rules."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import CatchmentArea, Institution, InstitutionKind, Outcome
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_institution,
)
from tests.people.helpers import (
    audit_entries,
    count_rows,
    error_codes,
    outbox_topics,
    user_error_codes,
)

CREATE_INSTITUTION = """
mutation CreateInstitution($input: CreateInstitutionInput!) {
  createInstitution(input: $input) {
    institution {
      id name kind ownership legalId countryCode languages
      region { code } district { id }
    }
    userErrors { field code message }
  }
}
"""

UPDATE_INSTITUTION = """
mutation UpdateInstitution($input: UpdateInstitutionInput!) {
  updateInstitution(input: $input) {
    institution { id name kind legalId openedOn closedOn district { id } }
    userErrors { field code message }
  }
}
"""

ADD_CATCHMENT_AREA = """
mutation AddCatchmentArea($input: AddCatchmentAreaInput!) {
  addCatchmentArea(input: $input) {
    catchmentArea { id name streets district { id } }
    userErrors { field code message }
  }
}
"""

LEGAL_ID = "01234567891234"


def school_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "  Мектеп-гимназия   №12 ",
        "kind": "SCHOOL",
        "ownership": "MUNICIPAL",
        "legalId": LEGAL_ID,
        "regionId": gid("Region", BISHKEK),
        "districtId": gid("District", BISHKEK_LENIN),
        "languages": ["RU", "KY", "RU"],
    }
    values.update(overrides)
    return values


async def create(hub: Hub, token: str, **overrides: Any) -> dict[str, Any]:
    data = await hub.data(CREATE_INSTITUTION, {"input": school_input(**overrides)}, token=token)
    payload: dict[str, Any] = data["createInstitution"]
    return payload


class TestCreateInstitution:
    async def test_ministry_adds_a_school(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when
        payload = await create(hub, ministry)

        # then
        assert payload["userErrors"] == []
        inst = payload["institution"]
        assert inst["name"] == "Мектеп-гимназия №12"
        assert (inst["kind"], inst["ownership"], inst["legalId"]) == (
            "SCHOOL",
            "MUNICIPAL",
            LEGAL_ID,
        )
        assert inst["languages"] == ["KY", "RU"]
        assert inst["countryCode"] == "KG"
        assert inst["region"] == {"code": "KG-GB"}
        assert inst["district"] == {"id": gid("District", BISHKEK_LENIN)}
        assert await outbox_topics(engine) == ["institutions.institution_created"]
        audit = await audit_entries(engine, "institutions.create_institution")
        assert [a.outcome for a in audit] == [Outcome.SUCCEEDED]

    @pytest.mark.parametrize(
        "legal_id", ["0123456789123", "012345678912345", "0123456789123a", "01234 67891234"]
    )
    async def test_legal_id_is_fourteen_digits(
        self, hub: Hub, ministry: str, engine: AsyncEngine, legal_id: str
    ) -> None:
        # when
        payload = await create(hub, ministry, legalId=legal_id)

        # then
        assert user_error_codes(payload) == ["INVALID_LEGAL_ID"]
        assert payload["userErrors"][0]["field"] == "legalId"
        assert await count_rows(engine, Institution) == 0

    async def test_legal_id_is_unique(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        await make_institution(session, legal_id=LEGAL_ID)
        await session.commit()

        # when
        payload = await create(hub, ministry)

        # then
        assert user_error_codes(payload) == ["LEGAL_ID_TAKEN"]
        assert await count_rows(engine, Institution) == 1
        audit = await audit_entries(engine, "institutions.create_institution")
        assert [(a.outcome, a.error_codes) for a in audit] == [
            (Outcome.REJECTED, ["LEGAL_ID_TAKEN"])
        ]

    async def test_district_must_lie_in_the_region(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when: a Chuy district for a Bishkek school
        payload = await create(hub, ministry, districtId=gid("District", CHUY_SOKULUK))

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert payload["userErrors"][0]["field"] == "districtId"
        assert await count_rows(engine, Institution) == 0

    async def test_domestic_institution_needs_a_region(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when
        payload = await create(hub, ministry, regionId=None, districtId=None)

        # then
        assert user_error_codes(payload) == ["NOT_FOUND"]
        assert payload["userErrors"][0]["field"] == "regionId"
        assert await count_rows(engine, Institution) == 0

    async def test_foreign_university_is_abroad_without_a_region(
        self, hub: Hub, ministry: str
    ) -> None:
        # when
        payload = await create(
            hub,
            ministry,
            name="Middle East Technical University",
            kind="FOREIGN_UNIVERSITY",
            ownership="STATE",
            countryCode="tr",
            regionId=None,
            districtId=None,
            legalId=None,
        )

        # then
        assert payload["userErrors"] == []
        assert payload["institution"]["countryCode"] == "TR"
        assert payload["institution"]["region"] is None

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"countryCode": "KG", "regionId": None, "districtId": None}, "countryCode"),
            ({"countryCode": "TURKEY", "regionId": None, "districtId": None}, "countryCode"),
            ({"countryCode": "TR"}, "regionId"),
            ({"countryCode": "TR", "districtId": None}, "regionId"),
            ({"countryCode": "TR", "regionId": None}, "districtId"),
        ],
        ids=[
            "kg-country",
            "bad-country",
            "with-region-and-district",
            "with-region",
            "with-district",
        ],
    )
    async def test_foreign_university_needs_a_foreign_country_and_no_region(
        self, hub: Hub, ministry: str, engine: AsyncEngine, overrides: dict[str, Any], field: str
    ) -> None:
        # when
        payload = await create(hub, ministry, kind="FOREIGN_UNIVERSITY", legalId=None, **overrides)

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert payload["userErrors"][0]["field"] == field
        assert await count_rows(engine, Institution) == 0

    async def test_domestic_school_cannot_be_abroad(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when
        payload = await create(hub, ministry, countryCode="KZ")

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]
        assert payload["userErrors"][0]["field"] == "countryCode"

    async def test_region_officer_adds_in_their_region(self, hub: Hub) -> None:
        # given
        token = hub.token(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"])

        # when
        payload = await create(hub, token)

        # then
        assert payload["userErrors"] == []

    async def test_region_officer_cannot_add_in_another_region(
        self, hub: Hub, engine: AsyncEngine
    ) -> None:
        # given
        token = hub.token(Role.REGION_OFFICER, scopes=[f"region:{CHUY}"])

        # when
        payload = await create(hub, token)

        # then
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, Institution) == 0
        audit = await audit_entries(engine, "institutions.create_institution")
        assert [a.outcome for a in audit] == [Outcome.FORBIDDEN]

    async def test_school_admin_cannot_add_institutions(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])

        # when
        payload = await create(hub, token)

        # then
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, Institution) == 1

    async def test_anonymous_caller_is_unauthenticated(self, hub: Hub, engine: AsyncEngine) -> None:
        # when
        body = await hub.gql(CREATE_INSTITUTION, {"input": school_input()})

        # then
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert await count_rows(engine, Institution) == 0


class TestUpdateInstitution:
    async def test_school_admin_renames_their_school(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session, name="Эски ат")
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])

        # when
        data = await hub.data(
            UPDATE_INSTITUTION,
            {"input": {"id": gid("Institution", school.id), "name": "Жаңы ат"}},
            token=token,
        )

        # then
        payload = data["updateInstitution"]
        assert payload["userErrors"] == []
        assert payload["institution"]["name"] == "Жаңы ат"
        assert payload["institution"]["kind"] == "SCHOOL"
        assert await outbox_topics(engine) == ["institutions.institution_updated"]

    async def test_school_admin_cannot_change_the_kind(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])

        # when
        data = await hub.data(
            UPDATE_INSTITUTION,
            {"input": {"id": gid("Institution", school.id), "kind": "KINDERGARTEN"}},
            token=token,
        )

        # then
        assert user_error_codes(data["updateInstitution"]) == ["FORBIDDEN"]
        assert (
            await count_rows(engine, Institution, Institution.kind == InstitutionKind.SCHOOL) == 1
        )

    async def test_closing_before_opening_is_an_invalid_date(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(
            UPDATE_INSTITUTION,
            {
                "input": {
                    "id": gid("Institution", school.id),
                    "openedOn": "2000-09-01",
                    "closedOn": "1999-06-01",
                }
            },
            token=ministry,
        )

        # then
        assert user_error_codes(data["updateInstitution"]) == ["INVALID_DATE"]

    async def test_legal_id_of_another_institution_is_taken(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        await make_institution(session, legal_id=LEGAL_ID)
        school = await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(
            UPDATE_INSTITUTION,
            {"input": {"id": gid("Institution", school.id), "legalId": LEGAL_ID}},
            token=ministry,
        )

        # then
        assert user_error_codes(data["updateInstitution"]) == ["LEGAL_ID_TAKEN"]

    async def test_moving_to_a_district_of_another_region_is_refused(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(
            UPDATE_INSTITUTION,
            {
                "input": {
                    "id": gid("Institution", school.id),
                    "districtId": gid("District", CHUY_SOKULUK),
                }
            },
            token=ministry,
        )

        # then
        assert user_error_codes(data["updateInstitution"]) == ["INVALID_INPUT"]
        assert await count_rows(engine, Institution, Institution.district_id == BISHKEK_LENIN) == 1


class TestAddCatchmentArea:
    async def test_school_gets_a_catchment_area(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(
            ADD_CATCHMENT_AREA,
            {
                "input": {
                    "institutionId": gid("Institution", school.id),
                    "districtId": gid("District", BISHKEK_LENIN),
                    "name": "мкр. Асанбай",
                    "streets": ["ул. Асанбай  1-50", "  ", "ул. Кулатова"],
                }
            },
            token=ministry,
        )

        # then
        payload = data["addCatchmentArea"]
        assert payload["userErrors"] == []
        area = payload["catchmentArea"]
        assert area["streets"] == ["ул. Асанбай 1-50", "ул. Кулатова"]
        assert area["district"] == {"id": gid("District", BISHKEK_LENIN)}

    async def test_only_schools_have_catchment_areas(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        await session.commit()

        # when
        data = await hub.data(
            ADD_CATCHMENT_AREA,
            {
                "input": {
                    "institutionId": gid("Institution", kindergarten.id),
                    "districtId": gid("District", BISHKEK_LENIN),
                    "name": "мкр. Джал",
                    "streets": ["ул. Ахунбаева"],
                }
            },
            token=ministry,
        )

        # then
        assert user_error_codes(data["addCatchmentArea"]) == ["WRONG_INSTITUTION_KIND"]
        assert await count_rows(engine, CatchmentArea) == 0

    async def test_area_lies_in_the_schools_region(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()

        # when
        data = await hub.data(
            ADD_CATCHMENT_AREA,
            {
                "input": {
                    "institutionId": gid("Institution", school.id),
                    "districtId": gid("District", CHUY_SOKULUK),
                    "name": "Сокулук",
                    "streets": [],
                }
            },
            token=ministry,
        )

        # then
        assert user_error_codes(data["addCatchmentArea"]) == ["INVALID_INPUT"]
        assert await count_rows(engine, CatchmentArea) == 0

"""Issue 22.3 and 22.10: input values the database cannot take or an officer should not be
shown are refused before anything runs, with a typed error, for every input of the schema:
NUL and lone surrogates in any text, integers past their column, bidirectional controls in
names. The cases are generated from the schema (tests/security/schema_inputs.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Person
from resolvers.inputs import SMALLINT, WIDE_INTS, YEAR, int_range, is_name
from tests.conftest import Hub
from tests.people.helpers import count_rows, error_codes
from tests.security.schema_inputs import TEXT_SCALARS, Case, cases

NUL = "ab\x00cd"
SURROGATE = "ab\ud800cd"
RLO = "Asan\u202eova"

TEXT_CASES = cases(lambda scalar: scalar in TEXT_SCALARS, NUL)
# Every Int input but the page sizes (INVALID_PAGINATION) and those stored in wider columns.
INT_CASES = [
    case
    for case in cases(lambda scalar: scalar == "Int", 40_000, skip=set(WIDE_INTS))
    if int_range(case.location) is not None
]


def refused_at(body: dict[str, Any], location: str) -> bool:
    errors = body.get("errors") or []
    return body.get("data") is None and [
        (e["extensions"]["code"], e["extensions"].get("field")) for e in errors
    ] == [("INVALID_INPUT", location)]


def surrogate_body(case: Case) -> bytes:
    """The case's request with its NUL replaced by a lone surrogate escape (which JSON can
    carry and a GraphQL document cannot)."""
    text = json.dumps({"query": case.query, "variables": case.variables})
    return text.replace("\\u0000", "\\ud800").encode()


async def send(hub: Hub, token: str, body: bytes) -> dict[str, Any]:
    response = await hub.client.post(
        "/graphql",
        content=body,
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    result: dict[str, Any] = response.json()
    return result


class TestTextEverywhere:
    def test_every_text_input_of_the_schema_has_a_case(self) -> None:
        locations = {case.location for case in TEXT_CASES}
        assert {"PersonFilter.pin", "RegisterPersonInput.firstName", "Query.node(id)"} <= locations
        assert {"Query.persons(after)", "Query.institutions(before)"} <= locations
        assert len(TEXT_CASES) > 300

    async def test_nul_and_lone_surrogates_are_refused_in_every_text_input(
        self, hub: Hub, ministry: str
    ) -> None:
        # when every text input of the schema receives a NUL, then a lone surrogate
        missed = []
        for case in TEXT_CASES:
            nul = await hub.gql(case.query, case.variables, token=ministry)
            surrogate = await send(hub, ministry, surrogate_body(case))
            for kind, body in (("NUL", nul), ("surrogate", surrogate)):
                if not refused_at(body, case.location):
                    missed.append((kind, case.location, case.query, body.get("errors")))

        # then each is refused as invalid input at that input, before it runs
        assert missed == []

    async def test_a_nul_in_a_literal_is_refused_too(self, hub: Hub, ministry: str) -> None:
        query = '{ persons(first: 1, filter: {pin: "ab\\u0000cd"}) { totalCount } }'
        body = await hub.gql(query, token=ministry)
        assert refused_at(body, "PersonFilter.pin")

    async def test_registering_a_person_with_a_nul_in_a_name_writes_nothing(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given
        before = await count_rows(engine, Person)
        query = """mutation($i: RegisterPersonInput!) {
          registerPerson(input: $i) { person { id } userErrors { code } } }"""
        person = {"pin": "21505201312345", "firstName": NUL, "lastName": "Asanov"}
        person |= {"birthDate": "2013-05-15", "sex": "MALE"}

        # when
        body = await hub.gql(query, {"i": person}, token=ministry)

        # then
        assert refused_at(body, "RegisterPersonInput.firstName")
        assert await count_rows(engine, Person) == before

    async def test_a_cursor_that_holds_a_nul_is_refused(self, hub: Hub, ministry: str) -> None:
        # a cursor of the LAST_NAME order (last name, first name, id) with a NUL inside
        values = json.dumps(["ab\x00", "Aibek", 1])
        cursor = base64.urlsafe_b64encode(values.encode()).decode()
        query = "query($c: String) { persons(first: 1, after: $c, orderBy: LAST_NAME) { nodes { id } } }"
        body = await hub.gql(query, {"c": cursor.rstrip("=")}, token=ministry)
        assert error_codes(body) == ["INVALID_PAGINATION"]


class TestIntegersFitTheirColumns:
    def test_every_int_input_of_the_schema_has_a_case(self) -> None:
        locations = {case.location for case in INT_CASES}
        assert {"ForeignProgrammeFilterInput.year", "PersonFilter.gradeLevel"} <= locations
        assert "Query.publicHolidays(year)" in locations
        assert len(INT_CASES) > 50

    async def test_integers_past_their_column_are_refused_in_every_int_input(
        self, hub: Hub, ministry: str
    ) -> None:
        missed = []
        for case in INT_CASES:
            for value in (40_000, -40_000, 2**31 - 1):
                variables = json.loads(json.dumps(case.variables).replace("40000", str(value)))
                body = await hub.gql(case.query, variables, token=ministry)
                if not refused_at(body, case.location):
                    missed.append((case.location, value, body.get("errors")))
        assert missed == []

    async def test_integers_past_an_integer_column_are_refused_where_it_is_wide(
        self, hub: Hub, ministry: str
    ) -> None:
        # the inputs stored in `integer` columns take more than a smallint, not more than those
        integer_columns = {
            "PlacesInput.places",  # admission_programme_places.places
            "SetFirstGradeQuotaInput.places",  # first_grade_quota.places
            "DeclareFreePlacesInput.freePlaces",  # kindergarten_places.free_places
            "CreateForeignProgrammeInput.quota",  # foreign_programme.quota
            "CreateInstitutionInput.designCapacity",  # institution.design_capacity
        }
        wide = [c for c in cases(lambda s: s == "Int", 2**31) if c.location in WIDE_INTS]
        assert {c.location for c in wide} == set(WIDE_INTS) >= integer_columns
        missed = []
        for case in wide:
            body = await hub.gql(case.query, case.variables, token=ministry)
            if not refused_at(body, case.location):
                missed.append((case.location, 2**31, body.get("errors")))
            fits = json.loads(json.dumps(case.variables).replace(str(2**31), "40000"))
            body = await hub.gql(case.query, fits, token=ministry)
            if "INVALID_INPUT" in error_codes(body):
                missed.append((case.location, 40_000, body.get("errors")))
        assert missed == []

    @pytest.mark.parametrize(
        ("query", "location"),
        [
            (
                "{ foreignProgrammes(first: 5, filter: {year: 40000}) { totalCount } }",
                "ForeignProgrammeFilterInput.year",
            ),
            ("{ publicHolidays(year: 40000) { date } }", "Query.publicHolidays(year)"),
            (
                "{ admissionSeasons(first: 5, filter: {year: 40000}) { totalCount } }",
                "AdmissionSeasonFilterInput.year",
            ),
        ],
    )
    async def test_anonymous_year_filters_past_the_calendar_are_invalid_input(
        self, hub: Hub, query: str, location: str
    ) -> None:
        assert refused_at(await hub.gql(query), location)

    async def test_the_bounds_themselves_are_accepted(self, hub: Hub, ministry: str) -> None:
        query = """query($g: Int, $y: Int) {
          persons(first: 1, filter: {gradeLevel: $g}) { totalCount }
          foreignProgrammes(first: 1, filter: {year: $y}) { totalCount } }"""
        for grade, year in ((SMALLINT[1], YEAR[1]), (SMALLINT[0], YEAR[0])):
            body = await hub.gql(query, {"g": grade, "y": year}, token=ministry)
            assert "errors" not in body, body


class TestNames:
    REGISTER = """mutation($i: RegisterPersonInput!) {
      registerPerson(input: $i) { person { id } userErrors { code field } } }"""
    INSTITUTION = """mutation($i: CreateInstitutionInput!) {
      createInstitution(input: $i) { institution { id } userErrors { code } } }"""

    def person(self, **names: str) -> dict[str, Any]:
        return {
            "pin": "21505201312345",
            "firstName": "Aibek",
            "lastName": "Asanov",
            "birthDate": "2013-05-15",
            "sex": "MALE",
            **names,
        }

    @pytest.mark.parametrize("control", ["\u202e", "\u202d", "\u2066", "\u200f", "\u061c"])
    @pytest.mark.parametrize("field", ["firstName", "lastName", "patronymic"])
    async def test_person_names_refuse_bidirectional_controls(
        self, hub: Hub, ministry: str, field: str, control: str
    ) -> None:
        body = await hub.gql(
            self.REGISTER, {"i": self.person(**{field: f"Asan{control}ova"})}, token=ministry
        )
        assert refused_at(body, f"RegisterPersonInput.{field}")

    async def test_institution_names_refuse_them_too(self, hub: Hub, ministry: str) -> None:
        literal = 'name: "Школа \u202e1", kind: SCHOOL, ownership: STATE'
        query = (
            f"mutation {{ createInstitution(input: {{{literal}}}) {{ userErrors {{ code }} }} }}"
        )
        body = await hub.gql(query, token=ministry)
        assert refused_at(body, "CreateInstitutionInput.name")

    async def test_an_institutions_russian_name_refuses_them(self, hub: Hub, ministry: str) -> None:
        query = """mutation($i: CreateInstitutionInput!) {
          createInstitution(input: $i) { userErrors { code } } }"""
        institution = {"name": "Школа 1", "nameRu": "Школа \u202e1", "kind": "SCHOOL"}
        body = await hub.gql(query, {"i": institution | {"ownership": "STATE"}}, token=ministry)
        assert refused_at(body, "CreateInstitutionInput.nameRu")

    def test_every_name_input_of_the_schema_is_covered(self) -> None:
        locations = {case.location for case in TEXT_CASES}
        names = {loc for loc in locations if loc.rpartition(".")[2] in {"name", "nameRu"}}
        assert {"CreateInstitutionInput.name", "RegisterAccreditationAgencyInput.name"} <= names
        assert {"CreateInstitutionInput.nameRu", "UpdateInstitutionInput.nameRu"} <= names
        assert all(is_name(location) for location in names)

    async def test_kyrgyz_and_russian_letters_are_names(self, hub: Hub, ministry: str) -> None:
        body = await hub.gql(
            self.REGISTER,
            {"i": self.person(firstName="Өмүрбек", lastName="Ңурланов", patronymic="Үсөнович")},
            token=ministry,
        )
        assert "errors" not in body
        assert body["data"]["registerPerson"]["userErrors"] == []

"""Several mutation fields in one document (issue 12.7): each commits on its own, in order, and
every payload is true to what was committed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import AuditEntry, Outcome, Person, Sex
from resolvers.people.pin import make_pin
from resolvers.relay import decode_id
from tests.conftest import Hub
from tests.factories import BISHKEK, BISHKEK_LENIN, gid
from tests.people.helpers import count_rows, error_codes

BIRTH = date(2017, 4, 9)
PIN_A = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=1001)
PIN_B = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=1002)

# The document: the second field fails at execution, inside its payload.
TWO_REGISTRATIONS = """
mutation Two($a: RegisterPersonInput!, $b: RegisterPersonInput!) {
  a: registerPerson(input: $a) { person { id } userErrors { field code message } }
  b: registerPerson(input: $b) {
    person { id enrollments(first: 1000) { nodes { id } } }
    userErrors { field code message }
  }
}
"""

TWO_PLAIN_REGISTRATIONS = """
mutation Two($a: RegisterPersonInput!, $b: RegisterPersonInput!) {
  a: registerPerson(input: $a) { person { id } userErrors { field code message } }
  b: registerPerson(input: $b) { person { id } userErrors { field code message } }
}
"""

REGISTRATION_THEN_INSTITUTION = """
mutation Two($a: RegisterPersonInput!, $b: CreateInstitutionInput!) {
  a: registerPerson(input: $a) { person { id } userErrors { code } }
  b: createInstitution(input: $b) { institution { id } userErrors { code } }
}
"""


def person(pin: str) -> dict[str, Any]:
    return {
        "pin": pin,
        "firstName": "Бакыт",
        "lastName": "Токтогулов",
        "birthDate": BIRTH.isoformat(),
        "sex": "MALE",
    }


def school(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Мектеп №7",
        "kind": "SCHOOL",
        "ownership": "MUNICIPAL",
        "legalId": "01234567891234",
        "regionId": gid("Region", BISHKEK),
        "districtId": gid("District", BISHKEK_LENIN),
        **overrides,
    }


async def audit_of(engine: AsyncEngine) -> list[tuple[str, Outcome, list[str], str | None]]:
    """Every audit row: operation, outcome, codes and request id, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                AuditEntry.operation,
                AuditEntry.outcome,
                AuditEntry.error_codes,
                AuditEntry.request_id,
            ).order_by(AuditEntry.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def stored_pins(engine: AsyncEngine) -> list[str | None]:
    async with engine.connect() as conn:
        return list(await conn.scalars(select(Person.pin).order_by(Person.id)))


class TestAFieldWhosePayloadFails:
    async def test_is_rolled_back_while_the_field_before_it_is_kept_and_true(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when two people are registered in one document, the second asking an over-long list
        body = await hub.gql(
            TWO_REGISTRATIONS, {"a": person(PIN_A), "b": person(PIN_B)}, token=ministry
        )

        # then the first is stored, and its payload names the stored person
        a = body["data"]["a"]
        assert a["userErrors"] == []
        assert await stored_pins(engine) == [PIN_A]
        async with engine.connect() as conn:
            stored_id = await conn.scalar(select(Person.id).where(Person.pin == PIN_A))
        assert decode_id(a["person"]["id"]) == ("Person", stored_id)
        # and the second is not, and its payload says so (no person, the cause's code)
        b = body["data"]["b"]
        assert b["person"] is None
        assert [e["code"] for e in b["userErrors"]] == ["INVALID_PAGINATION"]
        assert error_codes(body) == ["INVALID_PAGINATION"]
        assert body["errors"][0]["path"][:2] == ["b", "person"]
        # and the trail has both attempts: the kept one, and the rolled back one as ERROR
        audit = await audit_of(engine)
        assert [(op, outcome, codes) for op, outcome, codes, _ in audit] == [
            ("people.register_person", Outcome.SUCCEEDED, []),
            ("people.register_person", Outcome.ERROR, ["INVALID_PAGINATION"]),
        ]
        assert audit[0][3] == audit[1][3] is not None  # the request id of both

    async def test_a_single_field_whose_payload_fails_keeps_nothing(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        document = """
        mutation One($b: RegisterPersonInput!) {
          registerPerson(input: $b) {
            person { id enrollments(first: 101) { totalCount } } userErrors { code }
          }
        }"""
        body = await hub.gql(document, {"b": person(PIN_B)}, token=ministry)
        assert body["data"]["registerPerson"] == {
            "person": None,
            "userErrors": [{"code": "INVALID_PAGINATION"}],
        }
        assert await count_rows(engine, Person) == 0


class TestAFieldRefusedWithAUserError:
    async def test_keeps_the_field_before_it(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when the second field registers the same PIN again
        body = await hub.gql(
            TWO_PLAIN_REGISTRATIONS, {"a": person(PIN_A), "b": person(PIN_A)}, token=ministry
        )

        # then the first is kept (the second saw it: fields run in order) and the second refused
        assert "errors" not in body, body
        assert body["data"]["a"]["person"] is not None
        assert body["data"]["b"]["person"] is None
        assert [e["code"] for e in body["data"]["b"]["userErrors"]] == ["PIN_TAKEN"]
        assert await stored_pins(engine) == [PIN_A]
        assert [(op, outcome) for op, outcome, _, _ in await audit_of(engine)] == [
            ("people.register_person", Outcome.SUCCEEDED),
            ("people.register_person", Outcome.REJECTED),
        ]

    async def test_both_fields_kept_when_both_succeed(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        body = await hub.gql(
            TWO_PLAIN_REGISTRATIONS, {"a": person(PIN_A), "b": person(PIN_B)}, token=ministry
        )
        assert "errors" not in body, body
        assert await stored_pins(engine) == [PIN_A, PIN_B]


class TestAFieldRefusedAsAMalformedRequest:
    async def test_refuses_the_whole_request_and_audits_the_field_before_as_rolled_back(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when the second field's input is malformed (six languages; at most five)
        languages = ["KY", "RU", "UZ", "TG", "EN", "KY"]
        body = await hub.gql(
            REGISTRATION_THEN_INSTITUTION,
            {"a": person(PIN_A), "b": school(languages=languages)},
            token=ministry,
        )

        # then the response has no data and nothing of the request is kept
        assert body["data"] is None
        assert error_codes(body) == ["INVALID_INPUT"]
        assert await count_rows(engine, Person) == 0
        # and each attempt left its row: the rolled back registration as ERROR
        assert [(op, outcome, codes) for op, outcome, codes, _ in await audit_of(engine)] == [
            ("people.register_person", Outcome.ERROR, ["INVALID_INPUT"]),
            ("institutions.create_institution", Outcome.REJECTED, ["INVALID_INPUT"]),
        ]


async def test_anonymous_caller_is_refused_every_field_and_nothing_is_audited(
    hub: Hub, engine: AsyncEngine
) -> None:
    body = await hub.gql(TWO_PLAIN_REGISTRATIONS, {"a": person(PIN_A), "b": person(PIN_B)})
    assert body["data"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert await count_rows(engine, Person) == 0
    assert await audit_of(engine) == []

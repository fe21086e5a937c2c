"""Every mutation attempt leaves an audit row, unexpected faults included (issue 12.6): the
attempt is audited as ERROR with the request id, in a transaction of its own, and nothing it
wrote is kept."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, Outcome, Person, Sex
from resolvers import people as people_service
from resolvers.people.pin import make_pin
from tests.conftest import Hub
from tests.people.helpers import count_rows, error_codes

BIRTH = date(2017, 4, 9)
PIN = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=2001)
OTHER_PIN = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=2002)

REGISTER = """
mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code message } }
}
"""
TWO = """
mutation Two($a: RegisterPersonInput!, $b: RegisterPersonInput!) {
  a: registerPerson(input: $a) { person { id } userErrors { code } }
  b: registerPerson(input: $b) { person { id } userErrors { code } }
}
"""


def person(pin: str = PIN, last_name: str = "Токтогулов") -> dict[str, Any]:
    return {
        "pin": pin,
        "firstName": "Бакыт",
        "lastName": last_name,
        "birthDate": BIRTH.isoformat(),
        "sex": "MALE",
    }


async def post(hub: Hub, token: str, request_id: str, document: str, **variables: Any) -> Any:
    response = await hub.client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"authorization": f"Bearer {token}", "x-request-id": request_id},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def audit_rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                AuditEntry.outcome,
                AuditEntry.error_codes,
                AuditEntry.request_id,
                AuditEntry.details,
                AuditEntry.variables,
            ).order_by(AuditEntry.id)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def failing_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """registerPerson's step writes the person, then fails unexpectedly (a bug), except for
    ``PIN``'s owner."""
    register = people_service.register_person

    async def half_then_fail(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        written = await register(session, *args, **kwargs)
        if kwargs["pin"] == PIN:
            return written
        raise RuntimeError("a fault after the write")

    monkeypatch.setattr(people_service, "register_person", half_then_fail)


class TestUnexpectedFault:
    @pytest.mark.usefixtures("failing_step")
    async def test_is_audited_as_error_with_the_request_id_and_keeps_nothing(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when the step fails after writing
        body = await post(hub, ministry, "req-bug-1", REGISTER, input=person(OTHER_PIN))

        # then the client gets a masked error with the request id, and a payload saying so
        assert error_codes(body) == ["INTERNAL_ERROR"]
        assert body["errors"][0]["extensions"]["requestId"] == "req-bug-1"
        assert "a fault after the write" not in str(body)
        assert body["data"]["registerPerson"]["person"] is None
        assert [e["code"] for e in body["data"]["registerPerson"]["userErrors"]] == [
            "INTERNAL_ERROR"
        ]
        # and nothing of the attempt is kept but its audit row: ERROR, the request id, the
        # fault's class (never its message), the variables redacted
        assert await count_rows(engine, Person) == 0
        ((outcome, codes, request_id, details, variables),) = await audit_rows(engine)
        assert (outcome, codes, request_id) == (Outcome.ERROR, ["INTERNAL_ERROR"], "req-bug-1")
        assert details == {"fault": "RuntimeError"}
        assert variables["input"]["pin"] == "[personal]"

    @pytest.mark.usefixtures("failing_step")
    async def test_of_a_second_field_keeps_the_first(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when the first field's step works and the second's fails
        body = await post(hub, ministry, "req-bug-2", TWO, a=person(), b=person(OTHER_PIN))

        # then the first is kept and says so; the second is not and says so
        assert error_codes(body) == ["INTERNAL_ERROR"]
        assert body["data"]["a"]["person"] is not None
        assert body["data"]["b"] == {"person": None, "userErrors": [{"code": "INTERNAL_ERROR"}]}
        async with engine.connect() as conn:
            assert list(await conn.scalars(select(Person.pin))) == [PIN]
        assert [r[:3] for r in await audit_rows(engine)] == [
            (Outcome.SUCCEEDED, [], "req-bug-2"),
            (Outcome.ERROR, ["INTERNAL_ERROR"], "req-bug-2"),
        ]

    async def test_an_unmapped_constraint_is_a_fault_audited_as_error(
        self, hub: Hub, ministry: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given a step that breaks a constraint no domain maps to a user error
        async def duplicate_region(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
            await session.execute(
                text(
                    "INSERT INTO region (id, code, kind, name_ky, name_ru, name_en) "
                    "SELECT id, code, kind, name_ky, name_ru, name_en FROM region LIMIT 1"
                )
            )

        monkeypatch.setattr(people_service, "register_person", duplicate_region)

        # when
        body = await post(hub, ministry, "req-bug-3", REGISTER, input=person())

        # then
        assert error_codes(body) == ["INTERNAL_ERROR"]
        ((outcome, codes, request_id, details, _),) = await audit_rows(engine)
        assert (outcome, codes, request_id) == (Outcome.ERROR, ["INTERNAL_ERROR"], "req-bug-3")
        assert details == {"fault": "IntegrityError"}


class TestCommitThatFails:
    async def test_audits_the_attempt_as_error_apart_from_the_rolled_back_request(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given a deferred check that refuses the registration when the transaction commits
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    "BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON person "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "WHEN (NEW.last_name = 'Отказ') EXECUTE FUNCTION refuse_at_commit()"
                )
            )

        # when the registration's step succeeds but the commit fails
        body = await post(hub, ministry, "req-commit", REGISTER, input=person(last_name="Отказ"))

        # then the client is told nothing was saved, and the attempt's row says ERROR
        assert error_codes(body) == ["INTERNAL_ERROR"]
        assert body["data"] is None
        assert await count_rows(engine, Person) == 0
        ((outcome, codes, request_id, details, _),) = await audit_rows(engine)
        assert (outcome, codes, request_id) == (Outcome.ERROR, ["INTERNAL_ERROR"], "req-commit")
        assert details == {"rolled_back": "request"}

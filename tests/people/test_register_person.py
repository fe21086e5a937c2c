"""registerPerson: the PIN rules, PIN uniqueness under concurrency, audit and outbox."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Outcome, Person, PersonPin, Sex
from resolvers.access import Role
from resolvers.people.pin import make_pin
from tests.conftest import Hub
from tests.factories import make_institution, make_person
from tests.people.helpers import (
    audit_entries,
    count_rows,
    error_codes,
    outbox_topics,
    user_error_codes,
)

REGISTER_PERSON = """
mutation RegisterPerson($input: RegisterPersonInput!) {
  registerPerson(input: $input) {
    person { id pin firstName lastName patronymic sex birthDate }
    userErrors { field code message }
  }
}
"""

BIRTH = date(2017, 4, 9)
PIN = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=4242)


def person_input(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pin": PIN,
        "firstName": "Бакыт",
        "lastName": "Токтогулов",
        "patronymic": "Асанович",
        "birthDate": BIRTH.isoformat(),
        "sex": "MALE",
    }
    values.update(overrides)
    return values


async def register(hub: Hub, token: str | None, **overrides: Any) -> dict[str, Any]:
    body = await hub.gql(REGISTER_PERSON, {"input": person_input(**overrides)}, token=token)
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["registerPerson"]
    return payload


class TestRegisterPerson:
    async def test_person_with_matching_pin_is_registered_audited_and_announced(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given
        assert await count_rows(engine, Person) == 0

        # when
        payload = await register(hub, ministry)

        # then
        assert payload["userErrors"] == []
        person = payload["person"]
        assert person["pin"] == PIN
        assert (person["sex"], person["birthDate"]) == ("MALE", "2017-04-09")
        assert await count_rows(engine, Person) == 1
        assert await count_rows(engine, PersonPin, PersonPin.valid_to.is_(None)) == 1
        audit = await audit_entries(engine, "people.register_person")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.SUCCEEDED, [])]
        assert await outbox_topics(engine) == ["people.person_registered"]

    async def test_names_are_trimmed_and_blank_patronymic_is_dropped(
        self, hub: Hub, ministry: str
    ) -> None:
        # when
        payload = await register(hub, ministry, firstName="  Бакыт  ", patronymic="   ")

        # then
        assert payload["person"]["firstName"] == "Бакыт"
        assert payload["person"]["patronymic"] is None

    @pytest.mark.parametrize(
        "pin",
        [
            pytest.param("2090420170424", id="13-digits"),
            pytest.param("209042017042421", id="15-digits"),
            pytest.param("20904201704a42", id="letter"),
            pytest.param("30904201704242", id="sex-digit-3"),
            pytest.param("23102201704242", id="31-february"),
            pytest.param("20913201704242", id="month-13"),
            pytest.param("20904189904242", id="before-1900"),
        ],
    )
    async def test_malformed_pin_is_refused_and_nothing_is_written(
        self, hub: Hub, ministry: str, engine: AsyncEngine, pin: str
    ) -> None:
        # when
        payload = await register(hub, ministry, pin=pin)

        # then
        assert payload["person"] is None
        assert user_error_codes(payload) == ["INVALID_PIN"]
        assert payload["userErrors"][0]["field"] == "pin"
        assert await count_rows(engine, Person) == 0
        assert await outbox_topics(engine) == []
        audit = await audit_entries(engine, "people.register_person")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.REJECTED, ["INVALID_PIN"])]

    async def test_pin_with_a_future_birth_date_is_invalid(self, hub: Hub, ministry: str) -> None:
        # given
        future = date(date.today().year + 2, 1, 1)  # noqa: DTZ011 - a date well ahead in any zone
        pin = make_pin(sex=Sex.MALE, birth_date=future, serial=1)

        # when
        payload = await register(hub, ministry, pin=pin, birthDate=future.isoformat())

        # then
        assert user_error_codes(payload) == ["INVALID_PIN"]

    @pytest.mark.parametrize(
        ("overrides", "why"),
        [
            ({"sex": "FEMALE"}, "sex differs from the sex digit"),
            ({"birthDate": "2017-04-10"}, "birth date differs from digits 2-9"),
        ],
    )
    async def test_pin_that_disagrees_with_the_record_is_a_mismatch(
        self, hub: Hub, ministry: str, engine: AsyncEngine, overrides: dict[str, str], why: str
    ) -> None:
        # when
        payload = await register(hub, ministry, **overrides)

        # then
        assert user_error_codes(payload) == ["PIN_MISMATCH"], why
        assert await count_rows(engine, Person) == 0
        audit = await audit_entries(engine, "people.register_person")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.REJECTED, ["PIN_MISMATCH"])]

    async def test_pin_held_by_another_person_is_taken(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        await make_person(session, pin=PIN, sex=Sex.MALE, birth_date=BIRTH)
        await session.commit()

        # when
        payload = await register(hub, ministry, firstName="Другой")

        # then
        assert user_error_codes(payload) == ["PIN_TAKEN"]
        assert await count_rows(engine, Person) == 1
        assert await outbox_topics(engine) == []
        audit = await audit_entries(engine, "people.register_person")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.REJECTED, ["PIN_TAKEN"])]

    async def test_two_concurrent_registrations_of_one_pin_leave_one_person(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when
        first, second = await asyncio.gather(
            register(hub, ministry, firstName="Первый"),
            register(hub, ministry, firstName="Второй"),
        )

        # then
        outcomes = sorted([user_error_codes(first), user_error_codes(second)])
        assert outcomes == [[], ["PIN_TAKEN"]]
        assert await count_rows(engine, Person, Person.pin == PIN) == 1
        assert await count_rows(engine, PersonPin, PersonPin.pin == PIN) == 1
        assert await outbox_topics(engine) == ["people.person_registered"]
        audit = await audit_entries(engine, "people.register_person")
        assert sorted(a.outcome for a in audit) == [Outcome.REJECTED, Outcome.SUCCEEDED]

    @pytest.mark.parametrize("role", [Role.GUARDIAN, Role.TEACHER, Role.PUPIL])
    async def test_guardians_teachers_and_pupils_may_not_register(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, role: Role
    ) -> None:
        # given
        someone = await make_person(session, birth_date=date(1985, 1, 1))
        school = await make_institution(session)
        await session.commit()
        token = hub.token(role, person_id=someone.id, scopes=[f"institution:{school.id}"])

        # when
        payload = await register(hub, token)

        # then
        assert payload["person"] is None
        assert user_error_codes(payload) == ["FORBIDDEN"]
        assert await count_rows(engine, Person) == 1
        assert await outbox_topics(engine) == []
        audit = await audit_entries(engine, "people.register_person")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.FORBIDDEN, ["FORBIDDEN"])]

    async def test_school_admin_may_register_a_pupil(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        school = await make_institution(session)
        await session.commit()
        token = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])

        # when
        payload = await register(hub, token)

        # then
        assert payload["userErrors"] == []
        registered = await count_rows(engine, Person, Person.pin == PIN)
        assert registered == 1

    async def test_anonymous_caller_gets_unauthenticated_and_nothing_is_written(
        self, hub: Hub, engine: AsyncEngine
    ) -> None:
        # when
        body = await hub.gql(REGISTER_PERSON, {"input": person_input()})

        # then
        assert error_codes(body) == ["UNAUTHENTICATED"]
        assert (body.get("data") or {}).get("registerPerson") is None
        assert await count_rows(engine, Person) == 0

    async def test_unknown_district_is_not_found(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given
        from tests.factories import gid

        # when
        payload = await register(hub, ministry, registeredDistrictId=gid("District", 99999))

        # then
        assert user_error_codes(payload) == ["NOT_FOUND"]
        assert payload["userErrors"][0]["field"] == "registeredDistrictId"
        async with engine.connect() as conn:
            assert (await conn.execute(select(Person.id))).first() is None

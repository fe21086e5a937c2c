"""reissuePin: a new current PIN, the old one kept in the history."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Outcome, Person, PersonPin, Sex
from resolvers.people.pin import make_pin
from tests.conftest import Hub
from tests.factories import gid, make_person
from tests.people.helpers import audit_entries, count_rows, outbox_topics, user_error_codes

REISSUE_PIN = """
mutation ReissuePin($input: ReissuePinInput!) {
  reissuePin(input: $input) {
    person {
      id pin sex birthDate
      pinHistory { pin reason validFrom validTo }
    }
    userErrors { field code message }
  }
}
"""

REGISTER_PERSON = """
mutation RegisterPerson($input: RegisterPersonInput!) {
  registerPerson(input: $input) {
    person { id pin }
    userErrors { code }
  }
}
"""

PERSONS_BY_PIN = """
query PersonsByPin($pin: String!) {
  persons(first: 10, filter: {pin: $pin}) { totalCount nodes { id } }
}
"""

BIRTH = date(2012, 2, 29)
OLD_PIN = make_pin(sex=Sex.FEMALE, birth_date=BIRTH, serial=111)
NEW_PIN = make_pin(sex=Sex.FEMALE, birth_date=BIRTH, serial=222)


async def reissue(
    hub: Hub, token: str, person: Person, new_pin: str, reason: str = "REISSUED"
) -> dict[str, Any]:
    data = await hub.data(
        REISSUE_PIN,
        {"input": {"personId": gid("Person", person.id), "newPin": new_pin, "reason": reason}},
        token=token,
    )
    payload: dict[str, Any] = data["reissuePin"]
    return payload


class TestReissuePin:
    async def test_new_pin_becomes_current_and_old_one_stays_in_history(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()

        # when
        payload = await reissue(hub, ministry, person, NEW_PIN)

        # then
        assert payload["userErrors"] == []
        assert payload["person"]["pin"] == NEW_PIN
        current, old = payload["person"]["pinHistory"]
        assert (current["pin"], current["reason"], current["validTo"]) == (
            NEW_PIN,
            "REISSUED",
            None,
        )
        assert (old["pin"], old["reason"]) == (OLD_PIN, "ISSUED")
        assert old["validTo"] is not None
        assert old["validTo"] == current["validFrom"]
        assert await count_rows(engine, PersonPin, PersonPin.valid_to.is_(None)) == 1
        assert await outbox_topics(engine) == ["people.pin_changed"]
        audit = await audit_entries(engine, "people.reissue_pin")
        assert [a.outcome for a in audit] == [Outcome.SUCCEEDED]

    async def test_person_is_found_by_the_new_pin_only(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()
        await reissue(hub, ministry, person, NEW_PIN)

        # when
        by_old = await hub.data(PERSONS_BY_PIN, {"pin": OLD_PIN}, token=ministry)
        by_new = await hub.data(PERSONS_BY_PIN, {"pin": NEW_PIN}, token=ministry)

        # then
        assert by_old["persons"]["totalCount"] == 0
        assert by_new["persons"]["nodes"] == [{"id": gid("Person", person.id)}]

    async def test_reissued_pin_that_changes_sex_is_a_mismatch(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()
        male_pin = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=333)

        # when
        payload = await reissue(hub, ministry, person, male_pin)

        # then
        assert user_error_codes(payload) == ["PIN_MISMATCH"]
        assert payload["person"] is None
        assert await count_rows(engine, PersonPin) == 1
        assert await count_rows(engine, Person, Person.pin == OLD_PIN) == 1
        audit = await audit_entries(engine, "people.reissue_pin")
        assert [(a.outcome, a.error_codes) for a in audit] == [(Outcome.REJECTED, ["PIN_MISMATCH"])]

    async def test_reissued_pin_that_changes_birth_date_is_a_mismatch(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()
        other_day = make_pin(sex=Sex.FEMALE, birth_date=date(2012, 3, 1), serial=333)

        # when
        payload = await reissue(hub, ministry, person, other_day)

        # then
        assert user_error_codes(payload) == ["PIN_MISMATCH"]
        assert await count_rows(engine, PersonPin) == 1

    async def test_corrected_pin_fixes_the_birth_date_and_sex(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()
        corrected = make_pin(sex=Sex.MALE, birth_date=date(2012, 3, 1), serial=333)

        # when
        payload = await reissue(hub, ministry, person, corrected, reason="CORRECTED")

        # then
        assert payload["userErrors"] == []
        assert (payload["person"]["sex"], payload["person"]["birthDate"]) == ("MALE", "2012-03-01")
        assert [r["reason"] for r in payload["person"]["pinHistory"]] == ["CORRECTED", "ISSUED"]

    async def test_another_persons_current_pin_is_taken(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await make_person(session, pin=NEW_PIN, birth_date=BIRTH)
        await session.commit()

        # when
        payload = await reissue(hub, ministry, person, NEW_PIN)

        # then
        assert user_error_codes(payload) == ["PIN_TAKEN"]
        assert await count_rows(engine, Person, Person.pin == OLD_PIN) == 1

    async def test_malformed_new_pin_is_invalid(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()

        # when
        payload = await reissue(hub, ministry, person, "1290220120022")

        # then
        assert user_error_codes(payload) == ["INVALID_PIN"]
        assert payload["userErrors"][0]["field"] == "newPin"

    async def test_the_current_pin_again_is_invalid_input(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given
        person = await make_person(session, pin=OLD_PIN, birth_date=BIRTH)
        await session.commit()

        # when
        payload = await reissue(hub, ministry, person, OLD_PIN)

        # then
        assert user_error_codes(payload) == ["INVALID_INPUT"]

    async def test_unknown_person_is_not_found(self, hub: Hub, ministry: str) -> None:
        # when
        data = await hub.data(
            REISSUE_PIN,
            {"input": {"personId": gid("Person", 424242), "newPin": NEW_PIN}},
            token=ministry,
        )

        # then
        assert user_error_codes(data["reissuePin"]) == ["NOT_FOUND"]

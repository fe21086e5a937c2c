"""A PIN is for life (domain.md P1; issue 12, finding 9): once issued it stays its holder's,
current or former; registerPerson and reissuePin refuse it to anyone else (PIN_TAKEN), and an
exclusion constraint holds the rule under concurrent transactions."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Person, PersonPin, PinChangeReason, Sex, database
from resolvers import people as people_service
from resolvers.access import Principal, Role
from resolvers.people.pin import make_pin
from tests.conftest import Hub
from tests.factories import gid, make_person
from tests.first_grade.test_withdrawal import blocked_on_a_lock
from tests.people.helpers import count_rows, user_error_codes

REGISTER = """
mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id pin } userErrors { field code message } }
}
"""
REISSUE = """
mutation Reissue($input: ReissuePinInput!) {
  reissuePin(input: $input) { person { id pin } userErrors { field code message } }
}
"""

BIRTH = date(2015, 7, 14)
FORMER = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=301)
CURRENT = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=302)
OTHER = make_pin(sex=Sex.MALE, birth_date=BIRTH, serial=303)
MINISTRY = Principal(subject="ministry:race", role=Role.MINISTRY)


def newcomer(pin: str) -> dict[str, Any]:
    return {
        "input": {
            "pin": pin,
            "firstName": "Эмир",
            "lastName": "Садыков",
            "birthDate": BIRTH.isoformat(),
            "sex": "MALE",
        }
    }


async def holder_of_a_former_pin(session: AsyncSession) -> Person:
    """A person issued FORMER, then re-issued CURRENT: FORMER stays in their history."""
    person = await make_person(session, pin=FORMER, sex=Sex.MALE, birth_date=BIRTH)
    await people_service.reissue_pin(
        session, MINISTRY, person_id=person.id, new_pin=CURRENT, reason=PinChangeReason.REISSUED
    )
    await session.commit()
    return person


class TestPinForLife:
    async def test_another_persons_former_pin_is_not_registered_p1(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a person whose former PIN is FORMER
        await holder_of_a_former_pin(session)
        before = await count_rows(engine, Person)

        # when someone else is registered with FORMER
        body = await hub.data(REGISTER, newcomer(FORMER), token=ministry)

        # then it is refused as taken, on the PIN, and nothing is written
        payload = body["registerPerson"]
        assert payload["person"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("pin", "PIN_TAKEN")]
        assert await count_rows(engine, Person) == before
        assert await count_rows(engine, PersonPin, PersonPin.pin == FORMER) == 1

    async def test_another_persons_former_pin_is_not_reissued_p1(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a person whose former PIN is FORMER, and someone else
        await holder_of_a_former_pin(session)
        other = await make_person(session, pin=OTHER, sex=Sex.MALE, birth_date=BIRTH)
        await session.commit()

        # when the other is re-issued FORMER
        body = await hub.data(
            REISSUE,
            {
                "input": {
                    "personId": gid("Person", other.id),
                    "newPin": FORMER,
                    "reason": "REISSUED",
                }
            },
            token=ministry,
        )

        # then it is refused as taken, and the other keeps their PIN
        assert user_error_codes(body["reissuePin"]) == ["PIN_TAKEN"]
        assert await count_rows(engine, PersonPin, PersonPin.person_id == other.id) == 1

    async def test_a_person_may_get_back_their_own_former_pin(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a person whose former PIN is FORMER
        person = await holder_of_a_former_pin(session)

        # when the registry corrects their PIN back to FORMER
        body = await hub.data(
            REISSUE,
            {
                "input": {
                    "personId": gid("Person", person.id),
                    "newPin": FORMER,
                    "reason": "CORRECTED",
                }
            },
            token=ministry,
        )

        # then it is theirs again
        assert body["reissuePin"]["userErrors"] == []
        assert body["reissuePin"]["person"]["pin"] == FORMER

    async def test_database_refuses_a_history_giving_a_pin_to_a_second_person_p1(
        self, session: AsyncSession
    ) -> None:
        # given a person whose former PIN is FORMER, and someone else
        await holder_of_a_former_pin(session)
        other = await make_person(session, pin=OTHER, sex=Sex.MALE, birth_date=BIRTH)
        await session.commit()

        # when a history row gives FORMER to the other past the workflows, then it is refused
        session.add(
            PersonPin(
                person_id=other.id,
                pin=FORMER,
                reason=PinChangeReason.ISSUED,
                valid_from=datetime(2016, 1, 1, tzinfo=UTC),
                valid_to=datetime(2016, 6, 1, tzinfo=UTC),
            )
        )
        with pytest.raises(IntegrityError, match="ex_person_pin_one_holder"):
            await session.flush()


class TestPinRaces:
    async def test_pin_retired_in_a_transaction_not_yet_committed_stays_its_holders_p1(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given a transaction, not yet committed, that registers a person with FORMER and
        # re-issues them CURRENT
        async with database.session_factory(engine)() as issuing:
            person = await people_service.register_person(
                issuing,
                MINISTRY,
                pin=FORMER,
                first_name="Айбек",
                last_name="Осмонов",
                patronymic=None,
                birth_date=BIRTH,
                sex=Sex.MALE,
            )
            await issuing.flush()
            await people_service.reissue_pin(
                issuing,
                MINISTRY,
                person_id=person.id,
                new_pin=CURRENT,
                reason=PinChangeReason.REISSUED,
            )
            await issuing.flush()
            # when someone else is registered with FORMER meanwhile, and the first commits
            registration = asyncio.create_task(hub.data(REGISTER, newcomer(FORMER), token=ministry))
            await blocked_on_a_lock(engine, registration)
            await issuing.commit()
        body = await registration

        # then the registration waited and was refused: FORMER is the first person's for life
        assert user_error_codes(body["registerPerson"]) == ["PIN_TAKEN"]
        assert await count_rows(engine, Person) == 1
        assert await count_rows(engine, PersonPin, PersonPin.pin == FORMER) == 1

    async def test_pin_registered_in_a_transaction_not_yet_committed_is_refused_after_p1(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # given a transaction, not yet committed, that registers a person with FORMER
        async with database.session_factory(engine)() as issuing:
            await people_service.register_person(
                issuing,
                MINISTRY,
                pin=FORMER,
                first_name="Айбек",
                last_name="Осмонов",
                patronymic=None,
                birth_date=BIRTH,
                sex=Sex.MALE,
            )
            await issuing.flush()
            # when someone else is registered with FORMER meanwhile, and the first commits
            registration = asyncio.create_task(hub.data(REGISTER, newcomer(FORMER), token=ministry))
            await blocked_on_a_lock(engine, registration)
            await issuing.commit()
        body = await registration

        # then the second registration waited and was refused
        assert user_error_codes(body["registerPerson"]) == ["PIN_TAKEN"]
        assert await count_rows(engine, Person) == 1

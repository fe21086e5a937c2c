"""Registering people and their PINs (domain.md P1: one person row, a PIN history, the
current PIN unique, and a PIN for life: once issued, never anyone else's)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import District, Person, PersonPin, PinChangeReason, Sex
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.people.errors import PeopleCode
from resolvers.people.pin import check_pin_matches, parse_pin
from resolvers.people.rules import can_register_person, person_for_action

NAME_MAX = 100


def _clean_name(value: str | None, field: str, *, required: bool) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise DomainError(ErrorCode.INVALID_INPUT, "This name is required", field=field)
        return None
    if len(cleaned) > NAME_MAX:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A name is at most {NAME_MAX} characters", field=field
        )
    return cleaned


async def _held_by_another(session: AsyncSession, pin: str, person_id: int | None) -> bool:
    """Is ``pin`` now, or was it ever, the PIN of a person other than ``person_id``? (The
    exclusion constraint ``ex_person_pin_one_holder`` holds the same under concurrency.)"""
    holder = select(PersonPin.id).where(PersonPin.pin == pin)
    if person_id is not None:
        holder = holder.where(PersonPin.person_id != person_id)
    return await session.scalar(holder.limit(1)) is not None


async def register_person(
    session: AsyncSession,
    principal: Principal,
    *,
    pin: str,
    first_name: str,
    last_name: str,
    patronymic: str | None,
    birth_date: date,
    sex: Sex,
    registered_district_id: int | None = None,
    registered_address: str | None = None,
) -> Person:
    """Register a person with their current PIN.

    Rules (domain.md P1): the PIN is well formed and agrees with the sex and birth date
    given; it is not, and never was, another person's (a PIN is for life: ``PIN_TAKEN``, issue
    12, finding 9).
    """
    require(
        can_register_person(principal), "Only officers and school administrators register people"
    )
    check_pin_matches(pin, sex=sex, birth_date=birth_date)
    if await _held_by_another(session, pin, None):
        raise DomainError(PeopleCode.PIN_TAKEN, "This PIN belongs to another person", field="pin")
    if (
        registered_district_id is not None
        and await session.get(District, registered_district_id) is None
    ):
        raise NotFound("The district", field="registeredDistrictId")
    person = Person(
        pin=pin,
        first_name=_clean_name(first_name, "firstName", required=True),
        last_name=_clean_name(last_name, "lastName", required=True),
        patronymic=_clean_name(patronymic, "patronymic", required=False),
        birth_date=birth_date,
        sex=sex,
        registered_district_id=registered_district_id,
        registered_address=(registered_address or "").strip()[:300] or None,
    )
    session.add(person)
    await session.flush()
    session.add(PersonPin(person_id=person.id, pin=pin, reason=PinChangeReason.ISSUED))
    await emit(
        session, topic="people.person_registered", aggregate_type="Person", aggregate_id=person.id
    )
    return person


async def reissue_pin(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: int,
    new_pin: str,
    reason: PinChangeReason,
) -> Person:
    """Give a person a new current PIN and keep the old one in their history.

    Rule (domain.md P1): a PIN can be re-issued; history is kept; the current PIN is unique; a
    PIN that is or was another person's is never given (``PIN_TAKEN``): a person may get back
    a PIN of their own history only.
    """
    require(can_register_person(principal), "Only officers and school administrators change PINs")
    person = await person_for_action(session, principal, person_id, field="personId", lock=True)
    facts = parse_pin(new_pin, field="newPin")
    if reason == PinChangeReason.REISSUED and (facts.sex, facts.birth_date) != (
        person.sex,
        person.birth_date,
    ):
        raise DomainError(
            PeopleCode.PIN_MISMATCH,
            "A re-issued PIN keeps the person's sex and birth date; use CORRECTED to fix them",
            field="newPin",
        )
    if new_pin == person.pin:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This is already the person's PIN", field="newPin"
        )
    if await _held_by_another(session, new_pin, person.id):
        raise DomainError(
            PeopleCode.PIN_TAKEN, "This PIN belongs to another person", field="newPin"
        )
    now = datetime.now(UTC)
    await session.execute(
        update(PersonPin)
        .where(PersonPin.person_id == person.id, PersonPin.valid_to.is_(None))
        .values(valid_to=now)
    )
    session.add(PersonPin(person_id=person.id, pin=new_pin, reason=reason, valid_from=now))
    person.pin = new_pin
    if reason == PinChangeReason.CORRECTED:
        person.sex, person.birth_date = facts.sex, facts.birth_date
    await emit(
        session,
        topic="people.pin_changed",
        aggregate_type="Person",
        aggregate_id=person.id,
        payload={"reason": reason.value},
    )
    return person

"""People: registration, PINs, guardianship and staff positions; the person lists."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, any_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    District,
    Enrollment,
    GuardianKind,
    Guardianship,
    Institution,
    Person,
    PersonPin,
    PinChangeReason,
    Sex,
    StaffPosition,
    StaffRole,
)
from resolvers.access import Principal, Role, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.rules import may_manage_institution
from resolvers.people.rules import person_readable, reads_everyone_enrolled_at
from resolvers.pin import check_pin_matches, parse_pin
from resolvers.relay import Ordering

PERSON_COLUMNS: tuple[Any, ...] = (
    Person.id,
    Person.gid,
    Person.pin,
    Person.last_name,
    Person.first_name,
    Person.patronymic,
    Person.sex,
    Person.birth_date,
    Person.registered_district_id,
    Person.registered_address,
    Person.created_at,
)

PERSON_ORDERINGS = {
    "LAST_NAME": Ordering(
        ((Person.last_name, False), (Person.first_name, False), (Person.id, False))
    ),
    "BIRTH_DATE": Ordering(((Person.birth_date, False), (Person.id, False))),
    "CREATED_AT": Ordering(((Person.created_at, False), (Person.id, False))),
    "ID": Ordering(((Person.id, False),)),
}

NAME_MAX = 100


@dataclass(frozen=True)
class PersonFilter:
    """Filters of the person list; every field narrows the list."""

    pin: str | None = None
    name: str | None = None
    sex: Sex | None = None
    born_after: date | None = None
    born_before: date | None = None
    institution_id: int | None = None
    region_id: int | None = None
    grade_level: int | None = None
    currently_enrolled: bool | None = None


def persons_query(principal: Principal, flt: PersonFilter) -> Select[Any]:
    """People the principal may read, narrowed by the filter."""
    # Where the filter keeps only people enrolled where the principal reads everyone, the row
    # rule holds for every row the filter keeps, and PostgreSQL skips its probes.
    everyone = reads_everyone_enrolled_at(
        principal, region_id=flt.region_id, institution_id=flt.institution_id
    )
    stmt: Select[Any] = select(*PERSON_COLUMNS).where(or_(everyone, person_readable(principal)))
    if flt.pin is not None:
        stmt = stmt.where(Person.pin == flt.pin)
    if flt.name:
        pattern = (
            "%"
            + flt.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            + "%"
        )
        stmt = stmt.where(func.lower(Person.last_name + " " + Person.first_name).like(pattern))
    if flt.sex is not None:
        stmt = stmt.where(Person.sex == flt.sex)
    if flt.born_after is not None:
        stmt = stmt.where(Person.birth_date >= flt.born_after)
    if flt.born_before is not None:
        stmt = stmt.where(Person.birth_date <= flt.born_before)
    enrollment_clauses: list[Any] = []
    if flt.institution_id is not None:
        enrollment_clauses.append(Enrollment.institution_id == flt.institution_id)
    if flt.region_id is not None:
        enrollment_clauses.append(
            Enrollment.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt.region_id)
            )
        )
    if flt.grade_level is not None:
        enrollment_clauses.append(Enrollment.grade_level == flt.grade_level)
    if enrollment_clauses or flt.currently_enrolled:
        current = bool(flt.currently_enrolled) or flt.grade_level is not None
        if current:
            enrollment_clauses.append(Enrollment.exit_date.is_(None))
        if current and (
            flt.institution_id is not None
            or (flt.region_id is not None and flt.grade_level is not None)
        ):
            # The current pupils of a school, or of a grade in a region, are few (hundreds to
            # tens of thousands): read their ids from ix_enrollment_open_institution_grade and
            # fetch just those people, instead of walking everyone in name order and probing
            # each one's enrollments.
            pupils = select(Enrollment.person_id).where(*enrollment_clauses)
            stmt = stmt.where(Person.id == any_(func.array(pupils.scalar_subquery())))
        else:
            stmt = stmt.where(
                exists().where(Enrollment.person_id == Person.id, *enrollment_clauses)
            )
    elif flt.currently_enrolled is False:
        stmt = stmt.where(
            ~exists().where(Enrollment.person_id == Person.id, Enrollment.exit_date.is_(None))
        )
    return stmt


# --- policies ------------------------------------------------------------------------------


def can_register_person(principal: Principal) -> bool:
    """May this principal register people? The ministry, officers and school administrators
    (who register the pupils they admit)."""
    return principal.role in (
        Role.MINISTRY,
        Role.REGION_OFFICER,
        Role.DISTRICT_OFFICER,
        Role.SCHOOL_ADMIN,
    )


async def require_person_access(
    session: AsyncSession, principal: Principal, person: Person, *, pin: str | None, field: str
) -> None:
    """May this principal act on this person? Either they may already read the person, or they
    show the person's current PIN (the officer holds the documents). Otherwise the person is
    reported as not found, so an id alone never reveals, nor grants access to, anyone."""
    if pin is not None and person.pin is not None and secrets.compare_digest(pin, person.pin):
        return
    if await can_read_person(session, principal, person.id):
        return
    raise NotFound("The person", field=field)


async def can_read_person(session: AsyncSession, principal: Principal, person_id: int) -> bool:
    """May this principal read this person (the row rule of :func:`person_readable`)?"""
    found = await session.scalar(
        select(Person.id).where(Person.id == person_id, person_readable(principal))
    )
    return found is not None


# --- workflows -----------------------------------------------------------------------------


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


async def _pin_owner(session: AsyncSession, pin: str) -> int | None:
    return await session.scalar(
        select(PersonPin.person_id).where(PersonPin.pin == pin, PersonPin.valid_to.is_(None))
    )


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

    Rules (domain.md, People): the PIN is well formed and agrees with the sex and birth date
    given; no other person holds it as their current PIN.
    """
    require(
        can_register_person(principal), "Only officers and school administrators register people"
    )
    check_pin_matches(pin, sex=sex, birth_date=birth_date)
    if await _pin_owner(session, pin) is not None:
        raise DomainError(ErrorCode.PIN_TAKEN, "This PIN belongs to another person", field="pin")
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


async def load_person_for_update(session: AsyncSession, person_id: int, *, field: str) -> Person:
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound("The person", field=field)
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

    Rule (domain.md, People): a PIN can be re-issued; history is kept; the current PIN is unique.
    """
    require(can_register_person(principal), "Only officers and school administrators change PINs")
    person = await load_person_for_update(session, person_id, field="personId")
    require(
        await can_read_person(session, principal, person.id), "This person is outside your scope"
    )
    facts = parse_pin(new_pin, field="newPin")
    if reason == PinChangeReason.REISSUED and (facts.sex, facts.birth_date) != (
        person.sex,
        person.birth_date,
    ):
        raise DomainError(
            ErrorCode.PIN_MISMATCH,
            "A re-issued PIN keeps the person's sex and birth date; use CORRECTED to fix them",
            field="newPin",
        )
    if new_pin == person.pin:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This is already the person's PIN", field="newPin"
        )
    owner = await _pin_owner(session, new_pin)
    if owner is not None:
        raise DomainError(ErrorCode.PIN_TAKEN, "This PIN belongs to another person", field="newPin")
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


async def link_guardian(
    session: AsyncSession,
    principal: Principal,
    *,
    guardian_id: int,
    child_id: int,
    kind: GuardianKind,
    valid_from: date | None,
    guardian_pin: str | None = None,
) -> Guardianship:
    """Record that ``guardian_id`` is a guardian of ``child_id``.

    Rules: nobody is their own guardian; one active link per pair; the caller may read the child
    and may read the guardian or shows the guardian's PIN (a link gives the guardian access to the
    child's records, so it is never made from an id alone).
    """
    require(
        can_register_person(principal), "Only officers and school administrators link guardians"
    )
    if guardian_id == child_id:
        raise DomainError(
            ErrorCode.SELF_GUARDIANSHIP, "A person cannot be their own guardian", field="guardianId"
        )
    guardian = await session.get(Person, guardian_id)
    if guardian is None:
        raise NotFound("The guardian", field="guardianId")
    child = await load_person_for_update(session, child_id, field="childId")
    require(await can_read_person(session, principal, child.id), "This child is outside your scope")
    await require_person_access(session, principal, guardian, pin=guardian_pin, field="guardianId")
    if guardian.birth_date >= child.birth_date:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A guardian is older than the child", field="guardianId"
        )
    active = await session.scalar(
        select(Guardianship.id).where(
            Guardianship.guardian_id == guardian_id,
            Guardianship.child_id == child_id,
            Guardianship.valid_to.is_(None),
        )
    )
    if active is not None:
        raise DomainError(
            ErrorCode.ALREADY_LINKED,
            "This guardian is already linked to this child",
            field="guardianId",
        )
    link = Guardianship(
        guardian_id=guardian_id,
        child_id=child_id,
        kind=kind,
        valid_from=valid_from or today(),
    )
    session.add(link)
    await session.flush()
    await emit(
        session,
        topic="people.guardian_linked",
        aggregate_type="Guardianship",
        aggregate_id=link.id,
        payload={"guardian_id": guardian_id, "child_id": child_id},
    )
    return link


async def appoint_staff(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: int,
    institution_id: int,
    role: StaffRole,
    title: str | None,
    subject: str | None,
    rate: float,
    start_date: date,
    pin: str | None = None,
) -> StaffPosition:
    """Appoint a person to a post at an institution the caller manages; the caller may read the
    person or shows their PIN (see :func:`require_person_access`)."""
    institution = await session.get(Institution, institution_id)
    if institution is None:
        raise NotFound("The institution", field="institutionId")
    require(
        may_manage_institution(principal, institution), "This institution is outside your scope"
    )
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("The person", field="personId")
    await require_person_access(session, principal, person, pin=pin, field="personId")
    if not 0 < rate <= 2:
        raise DomainError(ErrorCode.INVALID_INPUT, "A rate is above 0 and at most 2", field="rate")
    post = StaffPosition(
        person_id=person_id,
        institution_id=institution_id,
        role=role,
        title=(title or "").strip()[:200] or None,
        subject=(subject or "").strip()[:100] or None,
        rate=rate,
        start_date=start_date,
    )
    session.add(post)
    await session.flush()
    await emit(
        session,
        topic="people.staff_appointed",
        aggregate_type="StaffPosition",
        aggregate_id=post.id,
        payload={"institution_id": institution_id},
    )
    return post

"""The enrollment workflow (Ed-Fi's student-school association): enroll, transfer, withdraw.
Each step checks its guard, writes the enrollment and an outbox event.

Enrolling or transferring locks the person's row first (``resolvers/locks.py``), so every
workflow on one child runs after the other; opening a school enrollment runs the school-entry
steps higher domains registered (``school_entry``: the kindergarten queue's, K7) before the
enrollment is inserted."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import Enrollment, ExitReason, Institution, InstitutionKind, Person, Sector
from resolvers import driver
from resolvers import licensing as licensing_service
from resolvers import people as people_service
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.enrollments.ages import check_entry_age, clean_decision
from resolvers.enrollments.errors import EnrollmentCode
from resolvers.enrollments.rules import enrollment_readable
from resolvers.enrollments.school_entry import enter_school
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.rules import may_manage_institution
from resolvers.lookup import readable_or_not_found
from resolvers.new_rows import NEW_ENROLLMENT, insert_row
from resolvers.rows import locked_row, write_row

SECTOR_OF_KIND = {
    InstitutionKind.KINDERGARTEN: Sector.PRESCHOOL,
    InstitutionKind.SCHOOL: Sector.SCHOOL,
    InstitutionKind.COLLEGE: Sector.VOCATIONAL,
    InstitutionKind.UNIVERSITY: Sector.HIGHER,
    InstitutionKind.FOREIGN_UNIVERSITY: Sector.ABROAD,
}

# How far ahead an enrollment may be recorded (the next school year's intake).
MAX_DAYS_AHEAD = 366


def _check_placement(inst: Institution, *, grade_level: int | None, programme: str | None) -> None:
    if inst.kind == InstitutionKind.SCHOOL:
        if grade_level is None or not 1 <= grade_level <= 12:
            raise DomainError(
                EnrollmentCode.INVALID_GRADE,
                "A school enrollment has a grade from 1 to 12",
                field="gradeLevel",
            )
    elif inst.kind == InstitutionKind.KINDERGARTEN:
        if grade_level not in (None, 0):
            raise DomainError(
                EnrollmentCode.INVALID_GRADE, "Kindergartens have no grades", field="gradeLevel"
            )
    else:
        if grade_level is not None:
            raise DomainError(
                EnrollmentCode.INVALID_GRADE, "Only schools have grades", field="gradeLevel"
            )
        if not programme:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "Name the programme of study", field="programme"
            )


def _check_open(inst: Institution, on: date) -> None:
    if inst.closed_on is not None and inst.closed_on <= on:
        raise DomainError(
            EnrollmentCode.INSTITUTION_CLOSED,
            "The institution is closed on that date",
            field="institutionId",
        )
    if inst.opened_on is not None and inst.opened_on > on:
        raise DomainError(
            EnrollmentCode.INSTITUTION_CLOSED,
            "The institution is not open yet on that date",
            field="institutionId",
        )


def _check_entry_date(person: Person, on: date, field: str) -> None:
    if on < person.birth_date:
        raise DomainError(
            ErrorCode.INVALID_DATE, "The date is before the person's birth", field=field
        )
    if on > today() + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(ErrorCode.INVALID_DATE, "The date is more than a year ahead", field=field)


async def _check_start(
    session: AsyncSession,
    person: Person,
    inst: Institution,
    *,
    on: date,
    grade_level: int | None,
    programme: str | None,
    age_decision: str | None,
    date_field: str,
    institution_field: str,
    check_age: bool = True,
) -> None:
    """May ``person`` start at ``inst`` on ``on`` in this grade or programme? The date is after
    their birth and not over a year ahead, the institution is open then, the placement suits
    its kind, the child is of age for the grade or the kindergarten unless a commission decided
    otherwise (F4, K1; ``resolvers/enrollments/ages.py``), and an institution that needs a
    licence holds one in force covering the level (``LICENCE_REQUIRED``, issue 5)."""
    _check_entry_date(person, on, date_field)
    _check_open(inst, on)
    _check_placement(inst, grade_level=grade_level, programme=programme)
    if check_age:
        await check_entry_age(
            session,
            person,
            inst.kind,
            on=on,
            grade_level=grade_level,
            decision=age_decision,
            date_field=date_field,
        )
    await licensing_service.require_teaching_licence(
        session,
        institution_id=inst.id,
        on=on,
        level=licensing_service.levels_for_placement(inst.kind, grade_level) or None,
        field=institution_field,
        institution=inst,
    )


async def _open_enrollment_here(
    session: AsyncSession, person_id: int, institution_id: int, sector: Sector
) -> int | None:
    clauses = [Enrollment.person_id == person_id, Enrollment.exit_date.is_(None)]
    if sector != Sector.SCHOOL:
        clauses.append(Enrollment.institution_id == institution_id)
    else:
        clauses.append(Enrollment.sector == Sector.SCHOOL)
    return await session.scalar(select(Enrollment.id).where(*clauses).limit(1))


async def _check_not_enrolled_here(
    session: AsyncSession, person_id: int, institution_id: int, sector: Sector
) -> None:
    if await _open_enrollment_here(session, person_id, institution_id, sector) is not None:
        raise DomainError(
            EnrollmentCode.ALREADY_ENROLLED,
            "The pupil already has an open school enrollment"
            if sector == Sector.SCHOOL
            else "The person is already enrolled here",
            field="personId",
        )


async def _check_not_at_school(session: AsyncSession, person_id: int, on: date) -> None:
    """A kindergarten place from ``on`` is refused to a child at school then or later (K7;
    the exclusion constraint ``ex_enrollment_preschool_school_overlap`` holds it too)."""
    at_school = await session.scalar(
        select(Enrollment.id)
        .where(
            Enrollment.person_id == person_id,
            Enrollment.sector == Sector.SCHOOL,
            or_(Enrollment.exit_date.is_(None), Enrollment.exit_date > on),
        )
        .limit(1)
    )
    if at_school is not None:
        raise DomainError(
            EnrollmentCode.ALREADY_ENROLLED,
            "The child is at school over these dates: a child at school holds no "
            "kindergarten place",
            field="entryDate",
        )


async def enroll_student(
    session: AsyncSession,
    principal: Principal,
    *,
    person_id: int,
    institution_id: int,
    entry_date: date,
    grade_level: int | None,
    programme: str | None,
    class_group: str | None,
    pin: str | None = None,
    age_decision: str | None = None,
) -> Enrollment:
    """Open an enrollment of a person at an institution the caller manages.

    Rules: a pupil has at most one open school enrollment (also enforced by a partial unique
    index and an exclusion constraint against overlapping periods); school enrollments carry a
    grade 1-12; the institution is open on the entry date; the caller may read the person or
    shows their PIN (an id alone grants nothing); an institution that needs a licence holds one
    in force on the entry date covering the level (``LICENCE_REQUIRED``, issue 5). K7: a child
    entering school leaves the kindergarten and its queue that day (the school-entry steps),
    and a child at school is not enrolled in a kindergarten (``ALREADY_ENROLLED``). F4, K1: the
    child is of age for the grade or the kindergarten (``CHILD_TOO_YOUNG``, ``CHILD_TOO_OLD``)
    unless ``age_decision`` names a commission's decision, which the enrollment keeps.
    """
    decision = clean_decision(age_decision)
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The institution", field="institutionId")
    require(may_manage_institution(principal, inst), "This institution is outside your scope")
    # Lock the person so two enrollments of the same pupil are decided one after the other.
    person = await people_service.person_for_action(
        session, principal, person_id, pin=pin, field="personId", lock=True
    )
    await _check_start(
        session,
        person,
        inst,
        on=entry_date,
        grade_level=grade_level,
        programme=programme,
        age_decision=decision,
        date_field="entryDate",
        institution_field="institutionId",
    )
    sector = SECTOR_OF_KIND[inst.kind]
    await _check_not_enrolled_here(session, person.id, inst.id, sector)
    if sector == Sector.PRESCHOOL:
        await _check_not_at_school(session, person.id, entry_date)
    if sector == Sector.SCHOOL:
        await enter_school(session, principal.subject, [person.id], entry_date)
    enrollment = Enrollment(
        person_id=person.id,
        institution_id=inst.id,
        sector=sector,
        entry_date=entry_date,
        grade_level=grade_level,
        programme=(programme or "").strip()[:200] or None,
        class_group=(class_group or "").strip()[:20] or None,
        age_decision=decision,
    )
    session.add(enrollment)
    await session.flush()
    await emit(
        session,
        topic="enrollments.student_enrolled",
        aggregate_type="Enrollment",
        aggregate_id=enrollment.id,
        payload={
            "institution_id": inst.id,
            "sector": sector.value,
            "age_decision": decision is not None,
        },
    )
    return enrollment


async def _load_enrollment(session: AsyncSession, enrollment_id: int, field: str) -> Enrollment:
    enrollment = await locked_row(session, Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound("The enrollment", field=field)
    return enrollment


def _ensure_open(enrollment: Enrollment, field: str) -> None:
    if enrollment.exit_date is not None:
        raise DomainError(
            EnrollmentCode.NOT_ENROLLED, "This enrollment has already ended", field=field
        )


class Transferred(NamedTuple):
    """A transfer's rows: the new enrollment, the one it continues and the receiving
    institution (the payload's loaders are given them, issue 21)."""

    enrollment: Enrollment
    previous: Enrollment
    institution: Institution


async def _transferable(
    session: AsyncSession,
    principal: Principal,
    enrollment_id: int,
    to_institution_id: int,
    pin: str | None,
) -> tuple[Enrollment, Person, Institution | None]:
    """The open enrollment to close and its pupil, locked after the pupil's row
    (resolvers/locks.py), and the receiving institution (``None`` if there is none). A
    caller who does not manage its institution shows the pupil's PIN (the receiving school
    holds the pupil's documents); otherwise it is not found, so an id alone reveals nothing."""
    # The enrollment's pupil and both institutions in one read, before any lock; the PIN is
    # compared on the row read here (issue 21: statements per mutation). A statement made once,
    # sent through the driver, the rows' objects made from their columns (resolvers/driver.py).
    found = await driver.one_or_none(
        session, _TRANSFERABLE, {"enrollment_id": enrollment_id, "to_id": to_institution_id}
    )
    if found is None:
        raise NotFound("The enrollment", field="enrollmentId")
    person_id = found[0]
    person_at = 1 + len(_INSTITUTION.columns)
    receiving_at = person_at + len(_PERSON.columns)
    source: Institution = driver.object_of(session, _INSTITUTION, found[1:person_at])
    pupil: Person = driver.object_of(session, _PERSON, found[person_at:receiving_at])
    if not may_manage_institution(principal, source) and (
        pin is None or pupil.pin is None or not secrets.compare_digest(pin, pupil.pin)
    ):
        raise NotFound("The enrollment", field="enrollmentId")
    receiving: Institution | None = None
    if found[receiving_at + _INSTITUTION.key_at] is not None:
        receiving = driver.object_of(session, _INSTITUTION, found[receiving_at:])
    # The pupil's row locked (resolvers/locks.py, step 1), its object left as read above, as
    # ``session.get(Person, id, with_for_update=True)`` left it.
    await driver.execute(session, _LOCK_PERSON, {"person_id": person_id})
    old = await _load_enrollment(session, enrollment_id, "enrollmentId")
    _ensure_open(old, "enrollmentId")
    return old, pupil, receiving


_INSTITUTION = driver.entity(Institution)
_PERSON = driver.entity(Person)
_RECEIVING = aliased(Institution, name="receiving")
_TRANSFERABLE = driver.Made(
    select(
        Enrollment.person_id,
        *_INSTITUTION.columns,
        *_PERSON.columns,
        *(getattr(_RECEIVING, name) for name in _INSTITUTION.attributes),
    )
    .join(Institution, Institution.id == Enrollment.institution_id)
    .join(Person, Person.id == Enrollment.person_id)
    .outerjoin(_RECEIVING, _RECEIVING.id == bindparam("to_id", type_=Integer))
    .where(Enrollment.id == bindparam("enrollment_id", type_=Integer))
)
_LOCK_PERSON = driver.Made(
    select(Person.id).where(Person.id == bindparam("person_id", type_=Integer)).with_for_update()
)


def _receiving(principal: Principal, old: Enrollment, target: Institution | None) -> Institution:
    """The receiving institution: another one, at the same level of education, managed by the
    caller."""
    if target is None:
        raise NotFound("The receiving institution", field="toInstitutionId")
    require(
        may_manage_institution(principal, target), "The receiving institution is outside your scope"
    )
    if target.id == old.institution_id:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A transfer goes to another institution",
            field="toInstitutionId",
        )
    if SECTOR_OF_KIND[target.kind] != old.sector:
        raise DomainError(
            EnrollmentCode.WRONG_INSTITUTION_KIND,
            "A transfer stays within the same level of education",
            field="toInstitutionId",
        )
    return target


async def _continue_at(
    session: AsyncSession,
    actor: str,
    old: Enrollment,
    target: Institution,
    *,
    on: date,
    grade_level: int | None,
    programme: str | None,
    class_group: str | None,
    age_decision: str | None,
) -> Enrollment:
    """Close ``old`` as transferred on ``on`` and open its continuation at ``target``."""
    # Both rows written by statements made once, not by the unit of work (issue 21).
    await write_row(session, old, exit_date=on, exit_reason=ExitReason.TRANSFERRED)
    if old.sector == Sector.SCHOOL:
        await enter_school(session, actor, [old.person_id], on)
    new: Enrollment = await insert_row(
        session,
        NEW_ENROLLMENT,
        person_id=old.person_id,
        institution_id=target.id,
        sector=old.sector,
        entry_date=on,
        exit_date=None,
        exit_reason=None,
        grade_level=grade_level,
        programme=(programme or old.programme or "").strip()[:200] or None,
        class_group=(class_group or "").strip()[:20] or None,
        previous_enrollment_id=old.id,
        age_decision=age_decision,
    )
    await emit(
        session,
        topic="enrollments.student_transferred",
        aggregate_type="Enrollment",
        aggregate_id=new.id,
        payload={"from_enrollment_id": old.id, "to_institution_id": target.id},
    )
    return new


async def transfer_student(
    session: AsyncSession,
    principal: Principal,
    *,
    enrollment_id: int,
    to_institution_id: int,
    transfer_date: date,
    grade_level: int | None,
    programme: str | None,
    class_group: str | None,
    pin: str | None = None,
    age_decision: str | None = None,
) -> Transferred:
    """Close an enrollment and open the next one at another institution, in one transaction.

    Rules: the receiving institution is of the same sector and managed by the caller; the caller
    also manages the current institution or shows the pupil's PIN (the receiving school holds
    the pupil's documents); the transfer date falls within the old enrollment; the new one
    links back to the old; a receiving institution that needs a licence holds one in force on
    the transfer date covering the level (``LICENCE_REQUIRED``, issue 5). K7: a transfer into
    a school ends the pupil's kindergarten side too, as any school entry does. F4, K1: a new
    grade, and a kindergarten place, are checked against the age rules as enrolling is; a
    pupil moving in the same grade keeps the standing (and any commission's decision) they
    were admitted with; ``age_decision`` names a new decision.
    """
    decision = clean_decision(age_decision)
    old, person, receiving = await _transferable(
        session, principal, enrollment_id, to_institution_id, pin
    )
    target = _receiving(principal, old, receiving)
    if transfer_date < old.entry_date:
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "The transfer is before the current enrollment began",
            field="date",
        )
    grade = grade_level if grade_level is not None else old.grade_level
    # A pupil keeping the grade they were admitted to keeps that standing: only a new grade,
    # or a kindergarten place, is checked (F4, K1).
    keeps_grade = grade == old.grade_level and old.sector != Sector.PRESCHOOL
    if keeps_grade:
        decision = decision or old.age_decision
    await _check_start(
        session,
        person,
        target,
        on=transfer_date,
        grade_level=grade,
        programme=programme or old.programme,
        age_decision=decision,
        check_age=not keeps_grade,
        date_field="date",
        institution_field="toInstitutionId",
    )
    new = await _continue_at(
        session,
        principal.subject,
        old,
        target,
        on=transfer_date,
        grade_level=grade,
        programme=programme,
        class_group=class_group,
        age_decision=decision,
    )
    return Transferred(new, old, target)


async def withdraw_student(
    session: AsyncSession,
    principal: Principal,
    *,
    enrollment_id: int,
    exit_date: date,
    reason: ExitReason,
) -> Enrollment:
    """End an enrollment (withdrawal, graduation, ...) at an institution the caller manages;
    one the caller may not read is not found, as an unknown id is. K8: a kindergarten place
    paid by a voucher ends the voucher with it, in this transaction (the database's trigger
    on the exit date, migration 0034; so does a transfer's end of the old place)."""
    enrollment = await readable_or_not_found(
        session,
        Enrollment,
        enrollment_id,
        enrollment_readable(principal),
        what="The enrollment",
        field="enrollmentId",
    )
    inst = await session.get(Institution, enrollment.institution_id)
    assert inst is not None
    require(may_manage_institution(principal, inst), "This institution is outside your scope")
    _ensure_open(enrollment, "enrollmentId")
    if reason == ExitReason.TRANSFERRED:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Use transferStudent for transfers", field="reason"
        )
    if exit_date < enrollment.entry_date:
        raise DomainError(
            ErrorCode.INVALID_DATE, "The exit date is before the entry date", field="date"
        )
    if exit_date > today() + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            ErrorCode.INVALID_DATE, "The date is more than a year ahead", field="date"
        )
    enrollment.exit_date = exit_date
    enrollment.exit_reason = reason
    await emit(
        session,
        topic="enrollments.student_withdrawn",
        aggregate_type="Enrollment",
        aggregate_id=enrollment.id,
        payload={"reason": reason.value},
    )
    return enrollment

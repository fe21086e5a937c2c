"""Accreditation: agencies on the national register, and institutional or programme
accreditations going application -> decision to start -> contract -> self-assessment -> expert
visit -> council decision, each with a validity per decision (domain.md)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AccreditationStepRecord,
    Institution,
    InstitutionProgramme,
)
from models.licensing import ACCREDITATION_STEPS
from resolvers import clock
from resolvers.access import Principal, Role, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.licensing.dossier import programmes_of
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.licences import clean_text
from resolvers.licensing.rules import (
    accreditation_readable,
    agency_may_accredit,
    may_apply_for,
    may_license,
)
from resolvers.lookup import readable_or_not_found


def may_keep_register(principal: Principal) -> bool:
    """May this principal change the register of accreditation agencies? The ministry and
    national (unscoped) licensing officers, who record the council's recognitions."""
    return principal.is_ministry or (
        principal.role == Role.LICENSING_OFFICER and not principal.region_ids
    )


async def register_agency(
    session: AsyncSession,
    principal: Principal,
    *,
    agency_id: int | None,
    name: str,
    country_code: str,
    on_national_register: bool,
    on_european_register: bool,
    recognised_on: date | None,
    recognised_until: date | None,
) -> AccreditationAgency:
    """Add an agency to the register, or change its entry (e.g. the council withdraws its
    recognition). Whether it may accredit follows from the entry (:func:`agency_may_accredit`)."""
    require(may_keep_register(principal), "Only the ministry keeps the register of agencies")
    cleaned = clean_text(name, "name", required=True, limit=300)
    country = country_code.strip().upper()
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        raise DomainError(ErrorCode.INVALID_INPUT, "A two-letter country code", field="countryCode")
    if recognised_on and recognised_until and recognised_until < recognised_on:
        raise DomainError(
            ErrorCode.INVALID_DATE, "Recognition ends before it begins", field="recognisedUntil"
        )
    if agency_id is None:
        agency = AccreditationAgency()
        session.add(agency)
    else:
        found = await session.get(AccreditationAgency, agency_id, with_for_update=True)
        if found is None:
            raise NotFound("The agency", field="id")
        agency = found
    taken = await session.scalar(
        select(AccreditationAgency.id).where(AccreditationAgency.name == cleaned)
    )
    if taken is not None and taken != agency_id:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "An agency of this name is registered", field="name"
        )
    agency.name = cleaned or ""
    agency.country_code = country
    agency.on_national_register = on_national_register
    agency.on_european_register = on_european_register
    agency.recognised_on = recognised_on
    agency.recognised_until = recognised_until
    await session.flush()
    await emit(
        session,
        topic="licensing.agency_registered" if agency_id is None else "licensing.agency_updated",
        aggregate_type="AccreditationAgency",
        aggregate_id=agency.id,
        payload={"on_national_register": on_national_register},
    )
    return agency


async def programme_of(
    session: AsyncSession, *, institution_id: int, code: str, name: str | None
) -> InstitutionProgramme:
    """The institution's programme with this classifier code, created on first use."""
    (entry,) = await programmes_of(session, [code])
    await session.execute(
        pg_insert(InstitutionProgramme)
        .values(institution_id=institution_id, code=entry.code, name=name or entry.name)
        .on_conflict_do_nothing(constraint="uq_institution_programme")
    )
    programme = await session.scalar(
        select(InstitutionProgramme).where(
            InstitutionProgramme.institution_id == institution_id,
            InstitutionProgramme.code == entry.code,
        )
    )
    assert programme is not None
    return programme


async def _subject_programme(
    session: AsyncSession,
    inst: Institution,
    *,
    kind: AccreditationKind,
    code: str | None,
    name: str | None,
) -> int | None:
    """The programme a programme accreditation is of (recorded as the institution's programme
    on first use); none for an institutional one."""
    if kind != AccreditationKind.PROGRAMME:
        if code:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Institutional accreditation names no programme",
                field="programmeCode",
            )
        return None
    if not (code or "").strip():
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name the programme's code", field="programmeCode"
        )
    cleaned = clean_text(name, "programmeName", required=False, limit=300)
    assert code is not None
    programme = await programme_of(session, institution_id=inst.id, code=code, name=cleaned)
    return programme.id


async def _step(
    session: AsyncSession,
    acc: Accreditation,
    principal: Principal,
    *,
    on: date,
    note: str | None,
    outcome: AccreditationOutcome | None = None,
) -> None:
    await session.execute(
        insert(AccreditationStepRecord).values(
            accreditation_id=acc.id,
            step=acc.step,
            outcome=outcome,
            effective_on=on,
            actor=principal.subject,
            note=note,
        )
    )
    await emit(
        session,
        topic="licensing.accreditation_decided" if outcome else "licensing.accreditation_advanced",
        aggregate_type="Accreditation",
        aggregate_id=acc.id,
        payload={"step": acc.step.value, "outcome": acc.outcome.value, "kind": acc.kind.value},
    )


async def apply_for_accreditation(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    agency_id: int,
    kind: AccreditationKind,
    programme_code: str | None,
    programme_name: str | None,
) -> Accreditation:
    """Apply to an agency for institutional or programme accreditation.

    Rules: the agency is on the national register, and a foreign one also on the European
    register (``AGENCY_NOT_RECOGNISED``); a programme comes from the classifier
    (``UNKNOWN_PROGRAMME``) and is recorded as the institution's programme (institution + code);
    one accreditation in progress per subject (``ACCREDITATION_PENDING``, also an index).
    """
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The institution", field="institutionId")
    require(may_apply_for(principal, inst), "You may not apply for this institution")
    agency = await session.get(AccreditationAgency, agency_id)
    if agency is None:
        raise NotFound("The agency", field="agencyId")
    today = clock.today()
    if not agency_may_accredit(agency, today):
        raise DomainError(
            LicensingCode.AGENCY_NOT_RECOGNISED,
            "The agency is not on the national register (foreign agencies: also on the European "
            "register)",
            field="agencyId",
        )
    programme_id = await _subject_programme(
        session, inst, kind=kind, code=programme_code, name=programme_name
    )
    pending = await session.scalar(
        select(Accreditation.id).where(
            Accreditation.institution_id == inst.id,
            Accreditation.kind == kind,
            Accreditation.programme_id.is_(None)
            if programme_id is None
            else Accreditation.programme_id == programme_id,
            Accreditation.outcome == AccreditationOutcome.PENDING,
        )
    )
    if pending is not None:
        raise DomainError(
            LicensingCode.ACCREDITATION_PENDING,
            "An accreditation of this subject is already in progress",
            field="institutionId" if programme_id is None else "programmeCode",
        )
    acc = Accreditation(
        institution_id=inst.id,
        programme_id=programme_id,
        agency_id=agency.id,
        kind=kind,
        step=AccreditationStep.APPLICATION,
        outcome=AccreditationOutcome.PENDING,
        applicant_subject=principal.subject,
    )
    session.add(acc)
    await session.flush()
    await _step(session, acc, principal, on=today, note=None)
    return acc


async def advance_accreditation(
    session: AsyncSession,
    principal: Principal,
    *,
    accreditation_id: int,
    step: AccreditationStep,
    note: str | None,
    outcome: AccreditationOutcome | None,
    valid_from: date | None,
    valid_until: date | None,
) -> Accreditation:
    """Record the next step of an accreditation, in the order domain.md gives; no step may be
    skipped or repeated (``WRONG_ACCREDITATION_STEP``). Licensing officers in scope record
    every step; the institution records its own self-assessment. The council decision accredits
    (validity per decision, open-ended when ``valid_until`` is null) or denies; the agency must
    still be on the register then. A decided accreditation is closed (``CASE_CLOSED``)."""
    acc = await readable_or_not_found(
        session,
        Accreditation,
        accreditation_id,
        accreditation_readable(principal),
        what="The accreditation",
        field="accreditationId",
    )
    inst = await session.get(Institution, acc.institution_id)
    require(
        may_license(principal, inst)
        or (step == AccreditationStep.SELF_ASSESSMENT and may_apply_for(principal, inst)),
        "You may not record this step",
    )
    if acc.outcome != AccreditationOutcome.PENDING:
        raise DomainError(
            LicensingCode.CASE_CLOSED,
            f"The accreditation was decided ({acc.outcome.value}) on {acc.decided_on}",
            field="accreditationId",
        )
    expected = ACCREDITATION_STEPS[ACCREDITATION_STEPS.index(acc.step) + 1]
    if step != expected:
        raise DomainError(
            LicensingCode.WRONG_ACCREDITATION_STEP,
            f"After {acc.step.value} comes {expected.value}",
            field="step",
        )
    text = clean_text(note, "note", required=False)
    today = clock.today()
    if step != AccreditationStep.COUNCIL_DECISION:
        if outcome is not None or valid_from is not None or valid_until is not None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Only the council decision has an outcome and a validity",
                field="outcome",
            )
        acc.step = step
        await session.flush()
        await _step(session, acc, principal, on=today, note=text)
        return acc
    await _decide(session, acc, outcome, valid_from=valid_from, valid_until=valid_until, on=today)
    await session.flush()
    await _step(session, acc, principal, on=today, note=text, outcome=outcome)
    return acc


async def _decide(
    session: AsyncSession,
    acc: Accreditation,
    outcome: AccreditationOutcome | None,
    *,
    valid_from: date | None,
    valid_until: date | None,
    on: date,
) -> None:
    """Record the council's decision: it accredits (validity per decision, from ``on`` unless
    given) or denies, and the agency must still be on the register."""
    if outcome not in (AccreditationOutcome.ACCREDITED, AccreditationOutcome.DENIED):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The council accredits or denies", field="outcome"
        )
    agency = await session.get(AccreditationAgency, acc.agency_id)
    assert agency is not None
    if not agency_may_accredit(agency, on):
        raise DomainError(
            LicensingCode.AGENCY_NOT_RECOGNISED,
            "The agency is no longer on the register; its decision cannot be recorded",
            field="accreditationId",
        )
    acc.step = AccreditationStep.COUNCIL_DECISION
    acc.outcome = outcome
    acc.decided_on = on
    if outcome == AccreditationOutcome.ACCREDITED:
        start = valid_from or on
        if valid_until is not None and valid_until < start:
            raise DomainError(
                ErrorCode.INVALID_DATE, "The validity ends before it begins", field="validUntil"
            )
        acc.valid_from, acc.valid_until = start, valid_until
    elif valid_from is not None or valid_until is not None:
        raise DomainError(ErrorCode.INVALID_INPUT, "A denial has no validity", field="validUntil")


async def expire_accreditations(session: AsyncSession, principal: Principal, *, on: date) -> int:
    """Mark accreditations whose validity ended before ``on`` as EXPIRED (the jobs runner)."""
    expired = (
        await session.execute(
            update(Accreditation)
            .where(
                Accreditation.outcome == AccreditationOutcome.ACCREDITED,
                Accreditation.valid_until.is_not(None),
                Accreditation.valid_until < on,
            )
            .values(outcome=AccreditationOutcome.EXPIRED)
            .returning(Accreditation.id, Accreditation.step, Accreditation.kind)
        )
    ).all()
    if not expired:
        return 0
    await session.execute(
        insert(AccreditationStepRecord),
        [
            {
                "accreditation_id": row.id,
                "step": row.step,
                "outcome": AccreditationOutcome.EXPIRED,
                "effective_on": on,
                "actor": principal.subject,
                "note": "Validity ended",
            }
            for row in expired
        ],
    )
    for row in expired:
        await emit(
            session,
            topic="licensing.accreditation_expired",
            aggregate_type="Accreditation",
            aggregate_id=row.id,
            payload={"kind": row.kind.value},
        )
    return len(expired)

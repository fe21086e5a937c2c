"""Licences: issue (from an approved application), suspend, restore, revoke, re-issue, and the
expiry the jobs runner applies. Every transition writes a history row and an outbox event
(domain.md, "Licensing and accreditation"; issue 5, "Licences")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, func, insert, literal, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    ApplicationAction,
    AppliedAs,
    EducationLevel,
    Institution,
    Licence,
    LicenceAction,
    LicenceApplication,
    LicenceApplicationStatus,
    LicenceApplicationStep,
    LicenceEvent,
    LicenceStatus,
    LicensingPolicy,
)
from models.licensing import LICENCE_NUMBER_SEQUENCE
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import append, emit
from resolvers.licensing.dossier import (
    AddressFields,
    DocumentFields,
    check_submission,
    dossier_of,
    licensed_scope,
    store_dossier,
    validate_dossier,
)
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.rules import may_license, policy_in_force, require_policy

LIVE = (LicenceStatus.ACTIVE, LicenceStatus.SUSPENDED)


def clean_text(value: str | None, field: str, *, required: bool, limit: int = 4000) -> str | None:
    cleaned = " ".join((value or "").split())
    if required and not cleaned:
        raise DomainError(ErrorCode.INVALID_INPUT, "This is required", field=field)
    if len(cleaned) > limit:
        raise DomainError(ErrorCode.INVALID_INPUT, f"At most {limit} characters", field=field)
    return cleaned or None


async def _record(
    session: AsyncSession,
    licence: Licence,
    principal: Principal,
    action: LicenceAction,
    *,
    on: date,
    reason: str | None = None,
    legal_basis: str | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    # Nobody reads the history row back within the step: it rides on the audit row (issue 21).
    await append(
        session,
        insert(LicenceEvent).values(
            licence_id=licence.id,
            action=action,
            effective_on=on,
            actor=principal.subject,
            reason=reason,
            legal_basis=legal_basis,
        ),
    )
    await emit(
        session,
        topic=f"licensing.licence_{action.value}",
        aggregate_type="Licence",
        aggregate_id=licence.id,
        payload={"institution_id": licence.institution_id, **(payload or {})},
    )


def _licence_number(on: date) -> Any:
    """A new licence number, ``KG-LIC-<year>-<serial>`` (the serial zero-padded to 6 digits),
    drawn from the sequence once."""
    serial = select(func.nextval(text(f"'{LICENCE_NUMBER_SEQUENCE}'")).label("n")).subquery()
    digits = cast(serial.c.n, Text)
    padded = func.lpad(digits, func.greatest(6, func.length(digits)), "0")
    return select(literal(f"KG-LIC-{on.year}-") + padded).scalar_subquery()


async def issue_licence(
    session: AsyncSession,
    principal: Principal,
    application: LicenceApplication,
    *,
    valid_until: date | None,
    on: date,
    superseding: Licence | None = None,
) -> Issued:
    """Issue the licence an approved application becomes: a new number, the application's scope,
    validity per decision (open-ended when ``valid_until`` is null). A licence the institution
    already holds in force is superseded (status REISSUED) and linked from the new one;
    ``superseding``: that licence, when the caller holds it locked already (a re-issue: an
    institution holds one licence in force at most, ``uq_licence_live_institution``)."""
    if valid_until is not None and valid_until < on:
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "A licence is valid until a date after its issue",
            field="validUntil",
        )
    previous = superseding or await session.scalar(
        select(Licence)
        .where(Licence.institution_id == application.institution_id, Licence.status.in_(LIVE))
        .with_for_update()
    )
    if previous is not None:
        previous.status = LicenceStatus.REISSUED
        previous.ended_on = on
        await session.flush()
    licence, event = await _insert_licence(
        session,
        principal,
        {
            "institution_id": application.institution_id,
            "application_id": application.id,
            "replaces_id": previous.id if previous is not None else None,
            "status": LicenceStatus.ACTIVE,
            "levels": list(application.levels),
            "programme_codes": list(application.programme_codes),
            "issued_on": on,
            "valid_until": valid_until,
        },
    )
    if previous is not None:
        await _record(
            session,
            previous,
            principal,
            LicenceAction.REISSUED,
            on=on,
            reason=f"Replaced by licence {licence.number}",
            payload={"replaced_by_id": licence.id},
        )
    await emit(
        session,
        topic=f"licensing.licence_{LicenceAction.ISSUED.value}",
        aggregate_type="Licence",
        aggregate_id=licence.id,
        payload={
            "institution_id": licence.institution_id,
            "application_id": application.id,
            "replaces_id": licence.replaces_id,
        },
    )
    return Issued(licence, event)


class Issued(NamedTuple):
    """A licence just issued and its history's first row (the payload's loaders are given
    both: licences and their history are public, L3; issue 21)."""

    licence: Licence
    event: LicenceEvent


async def _insert_licence(
    session: AsyncSession, principal: Principal, values: dict[str, Any]
) -> tuple[Licence, LicenceEvent]:
    """Write a licence of these column ``values`` with a number drawn from the sequence, and
    its ``issued`` history row, in one statement: both come back whole (issue 21: statements
    per mutation)."""
    issued = (
        insert(Licence)
        .values(number=_licence_number(values["issued_on"]), **values)
        .returning(*Licence.__table__.c)
        .cte("issued")
    )
    history = (
        insert(LicenceEvent)
        .from_select(
            ["licence_id", "action", "effective_on", "actor"],
            select(
                issued.c.id,
                literal(LicenceAction.ISSUED, LicenceEvent.action.type),
                issued.c.issued_on,
                literal(principal.subject, LicenceEvent.actor.type),
            ),
        )
        .returning(*LicenceEvent.__table__.c)
        .cte("issued_history")
    )
    licence, event = aliased(Licence, issued), aliased(LicenceEvent, history)
    row = (
        await session.execute(select(licence, event).select_from(issued).join(history, true()))
    ).one()
    return row[0], row[1]


async def _locked_licence(
    session: AsyncSession, principal: Principal, licence_id: int, *, reissue_on: date | None = None
) -> Any:
    """The licence, locked, in the caller's licensing scope; its institution is read by the
    same statement (issue 21: statements per mutation). For a re-issue on ``reissue_on`` the
    statement also reads the licence's application (the dossier) and the licensing policy in
    force that day; the row then has ``.Licence``, ``.dossier`` and ``.policy``."""
    stmt = (
        select(Licence, Institution)
        .join(Institution, Institution.id == Licence.institution_id)
        .where(Licence.id == licence_id)
        .with_for_update(of=Licence)
        .execution_options(populate_existing=True)
    )
    if reissue_on is not None:
        in_force = policy_in_force(reissue_on).subquery("policy_in_force")
        dossier = aliased(LicenceApplication, name="dossier")
        policy = aliased(LicensingPolicy, in_force, name="policy")
        stmt = (
            stmt.add_columns(dossier, policy)
            .outerjoin(dossier, dossier.id == Licence.application_id)
            .outerjoin(in_force, true())
        )
    found = (await session.execute(stmt)).first()
    if found is None:
        raise NotFound("The licence", field="licenceId")
    require(
        may_license(principal, found.Institution),
        "This institution is outside your licensing scope",
    )
    return found if reissue_on is not None else found.Licence


def _wrong_state(licence: Licence, doing: str) -> DomainError:
    return DomainError(
        LicensingCode.WRONG_LICENCE_STATE,
        f"A {licence.status.value} licence cannot be {doing}",
        field="licenceId",
    )


async def suspend_licence(
    session: AsyncSession,
    principal: Principal,
    *,
    licence_id: int,
    reason: str,
    legal_basis: str | None,
) -> Licence:
    """Suspend a licence in force: new admissions stop at once (the guards read the status);
    learners already enrolled stay enrolled. Only an active licence can be suspended."""
    licence = await _locked_licence(session, principal, licence_id)
    why = clean_text(reason, "reason", required=True)
    basis = clean_text(legal_basis, "legalBasis", required=False, limit=400)
    if licence.status != LicenceStatus.ACTIVE:
        raise _wrong_state(licence, "suspended")
    licence.status = LicenceStatus.SUSPENDED
    await session.flush()
    await _record(
        session,
        licence,
        principal,
        LicenceAction.SUSPENDED,
        on=clock.today(),
        reason=why,
        legal_basis=basis,
    )
    return licence


async def restore_licence(
    session: AsyncSession, principal: Principal, *, licence_id: int, reason: str
) -> Licence:
    """Lift a suspension. Only a suspended licence still within its validity is restored."""
    licence = await _locked_licence(session, principal, licence_id)
    why = clean_text(reason, "reason", required=True)
    today = clock.today()
    if licence.status != LicenceStatus.SUSPENDED:
        raise _wrong_state(licence, "restored")
    if licence.valid_until is not None and licence.valid_until < today:
        raise DomainError(
            LicensingCode.WRONG_LICENCE_STATE,
            "The licence's validity has ended; it expires instead",
            field="licenceId",
        )
    licence.status = LicenceStatus.ACTIVE
    await session.flush()
    await _record(session, licence, principal, LicenceAction.RESTORED, on=today, reason=why)
    return licence


async def revoke_licence(
    session: AsyncSession,
    principal: Principal,
    *,
    licence_id: int,
    reason: str,
    legal_basis: str | None,
) -> Licence:
    """Revoke (cancel) a licence in force or suspended. Revocation has needed a court decision
    (domain.md): the legal basis, such as the decision's reference, is required."""
    licence = await _locked_licence(session, principal, licence_id)
    why = clean_text(reason, "reason", required=True)
    basis = clean_text(legal_basis, "legalBasis", required=False, limit=400)
    if basis is None:
        raise DomainError(
            LicensingCode.LEGAL_BASIS_REQUIRED,
            "Name the legal basis of the revocation (e.g. the court decision's reference)",
            field="legalBasis",
        )
    if licence.status not in LIVE:
        raise _wrong_state(licence, "revoked")
    today = clock.today()
    licence.status = LicenceStatus.REVOKED
    licence.ended_on = today
    await session.flush()
    await _record(
        session, licence, principal, LicenceAction.REVOKED, on=today, reason=why, legal_basis=basis
    )
    return licence


@dataclass(frozen=True)
class ReissueFields:
    """What changes on re-issue; ``None`` keeps the old licence's value."""

    reason: str
    levels: list[EducationLevel] | None = None
    programme_codes: list[str] | None = None
    addresses: list[AddressFields] | None = None
    documents: list[DocumentFields] | None = None
    valid_until: date | None = None
    keep_validity: bool = True


async def reissue_licence(
    session: AsyncSession, principal: Principal, *, licence_id: int, fields: ReissueFields
) -> Issued:
    """Re-issue an active licence with a changed scope (e.g. a new teaching address): the officer
    files a dossier copied from the old one with the changes, it passes the submission rules
    again, and a new licence with a new number replaces the old (status REISSUED)."""
    today = clock.today()
    locked = await _locked_licence(session, principal, licence_id, reissue_on=today)
    old: Licence = locked.Licence
    why = clean_text(fields.reason, "reason", required=True)
    if old.status != LicenceStatus.ACTIVE:
        raise _wrong_state(old, "re-issued")
    dossier: LicenceApplication | None = locked.dossier
    assert dossier is not None
    levels, programmes = await licensed_scope(
        session,
        [EducationLevel(v) for v in old.levels] if fields.levels is None else fields.levels,
        list(old.programme_codes) if fields.programme_codes is None else fields.programme_codes,
    )
    addresses, documents = await _changed_dossier(session, dossier.id, fields)
    await validate_dossier(session, addresses, documents)
    await check_submission(
        session,
        on=today,
        addresses=addresses,
        documents=documents,
        programmes=programmes,
        clinical_base=dossier.clinical_base,
        policy=require_policy(locked.policy),
    )
    application = LicenceApplication(
        institution_id=old.institution_id,
        applied_as=AppliedAs.INSTITUTION,
        applicant_subject=principal.subject,
        status=LicenceApplicationStatus.APPROVED,
        levels=[lv.value for lv in levels],
        programme_codes=[p.code for p in programmes],
        clinical_base=dossier.clinical_base,
        submitted_on=today,
        due_on=today,
        decided_on=today,
        decision_reasons=why,
        officer_filed=True,
    )
    await _file_approved(
        session,
        principal,
        application,
        addresses=addresses,
        documents=documents,
        note=f"Re-issue of licence {old.number}: {why}",
    )
    valid_until = old.valid_until if fields.keep_validity else fields.valid_until
    return await issue_licence(
        session, principal, application, valid_until=valid_until, on=today, superseding=old
    )


async def _changed_dossier(
    session: AsyncSession, dossier_id: int, fields: ReissueFields
) -> tuple[list[AddressFields], list[DocumentFields]]:
    """The addresses and documents of a re-issued licence: the old dossier's with the changes.
    New addresses replace the old ones with the documents given for them (documents of the
    dossier as a whole, not of one address, carry over); otherwise the old addresses and
    documents stay, and the documents given are added."""
    old_addresses, old_documents = await dossier_of(session, dossier_id)
    index_of = {a.id: i for i, a in enumerate(old_addresses)}
    kept_docs = [
        DocumentFields(
            kind=d.kind,
            file_name=d.file_name,
            media_type=d.media_type,
            size_bytes=d.size_bytes,
            sha256=d.sha256,
            storage_key=d.storage_key,
            address_index=index_of.get(d.address_id) if d.address_id is not None else None,
        )
        for d in old_documents
    ]
    if fields.addresses is not None:
        documents = list(fields.documents or [])
        if len(old_addresses) > 1:
            documents += [d for d in kept_docs if d.address_index is None]
        return fields.addresses, documents
    addresses = [
        AddressFields(
            address=a.address,
            floor_area=a.floor_area,
            planned_students=a.planned_students,
            tenure=a.tenure,
            tenure_from=a.tenure_from,
            tenure_until=a.tenure_until,
            district_id=a.district_id,
        )
        for a in old_addresses
    ]
    return addresses, kept_docs + list(fields.documents or [])


async def _file_approved(
    session: AsyncSession,
    principal: Principal,
    application: LicenceApplication,
    *,
    addresses: list[AddressFields],
    documents: list[DocumentFields],
    note: str,
) -> None:
    """Write an application an officer files already approved, with its dossier and the
    approval in its history."""
    session.add(application)
    await session.flush()
    await store_dossier(
        session,
        application_id=application.id,
        addresses=addresses,
        documents=documents,
        on=application.submitted_on,
    )
    await append(
        session,
        insert(LicenceApplicationStep).values(
            application_id=application.id,
            action=ApplicationAction.APPROVED,
            effective_on=application.submitted_on,
            actor=principal.subject,
            note=note,
        ),
    )


async def expire_licences(session: AsyncSession, principal: Principal, *, on: date) -> int:
    """Mark licences whose validity ended before ``on`` as EXPIRED (the jobs runner's daily
    step). The guards never wait for it: they compare ``valid_until`` themselves."""
    expired = (
        await session.execute(
            update(Licence)
            .where(
                Licence.status.in_(LIVE),
                Licence.valid_until.is_not(None),
                Licence.valid_until < on,
            )
            .values(status=LicenceStatus.EXPIRED, ended_on=Licence.valid_until)
            .returning(Licence.id, Licence.institution_id)
        )
    ).all()
    if not expired:
        return 0
    await session.execute(
        insert(LicenceEvent),
        [
            {
                "licence_id": row.id,
                "action": LicenceAction.EXPIRED,
                "effective_on": on,
                "actor": principal.subject,
                "reason": "Validity ended",
            }
            for row in expired
        ],
    )
    for row in expired:
        await emit(
            session,
            topic="licensing.licence_expired",
            aggregate_type="Licence",
            aggregate_id=row.id,
            payload={"institution_id": row.institution_id},
        )
    return len(expired)

"""Licence applications: submission with its checks, review by a licensing officer within the
review period (policy), documents requested (the clock pauses) and supplied (it runs again),
approval into a licence, refusal with reasons (issue 5, "Licences")."""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ApplicationAction,
    AppliedAs,
    EducationLevel,
    Institution,
    LicenceApplication,
    LicenceApplicationStatus,
    LicenceApplicationStep,
)
from resolvers import clock, driver
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import append, emit
from resolvers.licensing.dossier import (
    AddressFields,
    DocumentFields,
    attach_documents,
    check_submission,
    dossier_addresses,
    licensed_scope,
    store_dossier,
    validate_documents,
    validate_dossier,
)
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.licences import Issued, clean_text, issue_licence
from resolvers.licensing.rules import (
    application_readable,
    licence_required,
    may_apply_for,
    may_license,
)
from resolvers.new_rows import insert_of, insert_row

OPEN = (LicenceApplicationStatus.SUBMITTED, LicenceApplicationStatus.AWAITING_DOCUMENTS)


class Decision(enum.StrEnum):
    REQUEST_DOCUMENTS = "request_documents"
    APPROVE = "approve"
    REFUSE = "refuse"


async def _step(
    session: AsyncSession,
    application: LicenceApplication,
    principal: Principal,
    action: ApplicationAction,
    *,
    on: date,
    note: str | None = None,
) -> None:
    # Nobody reads the step back within the mutation: it rides on the audit row (issue 21).
    await append(
        session,
        insert(LicenceApplicationStep).values(
            application_id=application.id,
            action=action,
            effective_on=on,
            actor=principal.subject,
            note=note,
        ),
    )
    await emit(
        session,
        topic=f"licensing.application_{action.value}",
        aggregate_type="LicenceApplication",
        aggregate_id=application.id,
        payload={"institution_id": application.institution_id, "status": application.status.value},
    )


async def apply_for_licence(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    applied_as: AppliedAs,
    levels: list[EducationLevel],
    programme_codes: list[str],
    addresses: list[AddressFields],
    documents: list[DocumentFields],
    clinical_base: str | None,
) -> LicenceApplication:
    """File a licence application for an institution the caller administers.

    Rules (domain.md, "Licensing and accreditation"): state and municipal schools and
    kindergartens are exempt (``LICENCE_EXEMPT``); programmes come from the classifier
    (``UNKNOWN_PROGRAMME``); the dossier passes the submission rules of the year's policy (floor
    area per student, premises tenure, required documents, clinical base); one open application
    per institution (``APPLICATION_PENDING``, also a partial unique index). The review period
    (policy, 20 days) starts today.
    """
    inst = await driver.get_object(session, Institution, institution_id)
    if inst is None:
        raise NotFound("The institution", field="institutionId")
    require(may_apply_for(principal, inst), "You may not apply for this institution")
    if not licence_required(inst.kind, inst.ownership):
        raise DomainError(
            LicensingCode.LICENCE_EXEMPT,
            f"A {inst.ownership.value} {inst.kind.value} teaches without a licence: it is exempt",
            field="institutionId",
        )
    scope, programmes = await licensed_scope(session, levels, programme_codes)
    await validate_dossier(session, addresses, documents)
    base = clean_text(clinical_base, "clinicalBase", required=False, limit=400)
    today = clock.today()
    policy = await check_submission(
        session,
        on=today,
        addresses=addresses,
        documents=documents,
        programmes=programmes,
        clinical_base=base,
    )
    # One open application per institution: the partial unique index uq_licence_application_open
    # refuses a second one at the INSERT below, answered as APPLICATION_PENDING (registered in
    # resolvers/licensing/__init__.py); no read before it (issue 21: statements per mutation).
    # Inserted by a statement made once, every column read back (resolvers/new_rows.py).
    application: LicenceApplication = await insert_row(
        session,
        _NEW_APPLICATION,
        institution_id=inst.id,
        applied_as=applied_as,
        applicant_subject=principal.subject,
        status=LicenceApplicationStatus.SUBMITTED,
        levels=[lv.value for lv in scope],
        programme_codes=[p.code for p in programmes],
        clinical_base=base,
        submitted_on=today,
        due_on=today + timedelta(days=policy.review_days),
    )
    await store_dossier(
        session, application_id=application.id, addresses=addresses, documents=documents, on=today
    )
    await _step(session, application, principal, ApplicationAction.SUBMITTED, on=today)
    return application


# The columns the application's constructor set; the others take their server defaults.
_NEW_APPLICATION = insert_of(
    LicenceApplication,
    "institution_id",
    "applied_as",
    "applicant_subject",
    "status",
    "levels",
    "programme_codes",
    "clinical_base",
    "submitted_on",
    "due_on",
)


async def _locked_application(
    session: AsyncSession, principal: Principal, application_id: int
) -> tuple[LicenceApplication, Institution]:
    """The application the caller may read, locked, with its institution read by the same
    statement (NOT_FOUND when missing or not theirs to read; issue 21)."""
    found = (
        await session.execute(
            select(LicenceApplication, Institution)
            .join(Institution, Institution.id == LicenceApplication.institution_id)
            .where(LicenceApplication.id == application_id, application_readable(principal))
            .with_for_update(of=LicenceApplication)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("The application", field="applicationId")
    return found.LicenceApplication, found.Institution


def _closed(application: LicenceApplication) -> DomainError:
    return DomainError(
        LicensingCode.CASE_CLOSED,
        f"The application was {application.status.value} on {application.decided_on}",
        field="applicationId",
    )


async def supplement_licence_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    documents: list[DocumentFields],
    note: str | None,
) -> LicenceApplication:
    """Supply the documents an officer asked for: the review clock runs again, the deadline
    moved back by the days it stood still."""
    application, inst = await _locked_application(session, principal, application_id)
    require(
        may_apply_for(principal, inst)
        or (principal.person_id is not None and application.applicant_subject == principal.subject),
        "This application is not yours",
    )
    if application.status not in OPEN:
        raise _closed(application)
    if application.status != LicenceApplicationStatus.AWAITING_DOCUMENTS:
        raise DomainError(
            LicensingCode.WRONG_APPLICATION_STATE,
            "No documents were requested for this application",
            field="applicationId",
        )
    if not documents:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Attach the requested documents", field="documents"
        )
    addresses = await dossier_addresses(session, application.id)
    validate_documents(documents, len(addresses))
    message = clean_text(note, "note", required=False)
    today = clock.today()
    await attach_documents(
        session, application_id=application.id, addresses=addresses, documents=documents, on=today
    )
    assert application.paused_on is not None
    application.due_on += today - application.paused_on
    application.paused_on = None
    application.status = LicenceApplicationStatus.SUBMITTED
    await session.flush()
    await _step(
        session,
        application,
        principal,
        ApplicationAction.DOCUMENTS_SUPPLIED,
        on=today,
        note=message,
    )
    return application


async def review_licence_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    decision: Decision,
    reasons: str | None,
    requested_documents: str | None,
    valid_until: date | None,
) -> Reviewed:
    """A licensing officer's step on an application in their scope: request more documents (the
    review clock pauses), approve (the licence is issued; validity per decision, open-ended when
    ``valid_until`` is null) or refuse with reasons. A decided case is closed (``CASE_CLOSED``);
    approval waits for requested documents (``WRONG_APPLICATION_STATE``). The row lock makes two
    officers deciding at once act one after the other."""
    application, inst = await _locked_application(session, principal, application_id)
    require(may_license(principal, inst), "This institution is outside your licensing scope")
    if application.status not in OPEN:
        raise _closed(application)
    today = clock.today()
    issued = None
    if decision == Decision.REQUEST_DOCUMENTS:
        await _request_documents(session, principal, application, requested_documents, on=today)
    elif decision == Decision.APPROVE:
        issued = await _approve(
            session, principal, application, reasons, valid_until=valid_until, on=today
        )
    else:
        await _refuse(session, principal, application, reasons, on=today)
    return Reviewed(application, issued)


class Reviewed(NamedTuple):
    """A reviewed application, and the licence its approval issued (if it was approved)."""

    application: LicenceApplication
    issued: Issued | None


async def _request_documents(
    session: AsyncSession,
    principal: Principal,
    application: LicenceApplication,
    requested: str | None,
    *,
    on: date,
) -> None:
    """Ask for more documents: the review clock pauses until they come."""
    wanted = clean_text(requested, "requestedDocuments", required=True)
    if application.status != LicenceApplicationStatus.SUBMITTED:
        raise DomainError(
            LicensingCode.WRONG_APPLICATION_STATE,
            "Documents are already requested; wait for the applicant",
            field="decision",
        )
    application.status = LicenceApplicationStatus.AWAITING_DOCUMENTS
    application.paused_on = on
    application.requested_documents = wanted
    await session.flush()
    await _step(
        session, application, principal, ApplicationAction.DOCUMENTS_REQUESTED, on=on, note=wanted
    )


async def _approve(
    session: AsyncSession,
    principal: Principal,
    application: LicenceApplication,
    reasons: str | None,
    *,
    valid_until: date | None,
    on: date,
) -> Issued:
    """Approve, issuing the licence; not while requested documents are awaited."""
    why = clean_text(reasons, "reasons", required=False)
    if application.status != LicenceApplicationStatus.SUBMITTED:
        raise DomainError(
            LicensingCode.WRONG_APPLICATION_STATE,
            "The requested documents have not been supplied yet",
            field="decision",
        )
    application.status = LicenceApplicationStatus.APPROVED
    application.decided_on = on
    application.decision_reasons = why
    await session.flush()
    issued = await issue_licence(session, principal, application, valid_until=valid_until, on=on)
    await _step(session, application, principal, ApplicationAction.APPROVED, on=on, note=why)
    return issued


async def _refuse(
    session: AsyncSession,
    principal: Principal,
    application: LicenceApplication,
    reasons: str | None,
    *,
    on: date,
) -> None:
    """Refuse, with reasons."""
    why = clean_text(reasons, "reasons", required=True)
    application.status = LicenceApplicationStatus.REFUSED
    application.paused_on = None
    application.decided_on = on
    application.decision_reasons = why
    await session.flush()
    await _step(session, application, principal, ApplicationAction.REFUSED, on=on, note=why)

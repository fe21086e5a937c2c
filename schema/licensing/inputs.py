"""Licensing mutations' inputs, and what they become for the workflows (ids decoded, a bad
one the caller's error)."""

from __future__ import annotations

from datetime import date

import strawberry

from models import AppliedAs as AppliedAsEnum
from resolvers.errors import DomainError, ErrorCode
from resolvers.licensing.dossier import MAX_ADDRESSES, MAX_DOCUMENTS, AddressFields, DocumentFields
from schema.licensing.enums import (
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AppliedAs,
    DocumentKind,
    EducationLevel,
    LicenceDecision,
    PremisesTenure,
)
from schema.node import optional_pk, pk_of


@strawberry.input(description="An actual teaching address with its premises.")
class TeachingAddressInput:
    address: str = strawberry.field(description="The address where teaching happens.")
    district_id: strawberry.ID | None = strawberry.field(default=None, description="Its district.")
    floor_area: float | None = strawberry.field(default=None, description="Floor area, m2.")
    planned_students: int | None = strawberry.field(
        default=None, description="Students planned at this address."
    )
    tenure: PremisesTenure = strawberry.field(description="Title to the premises.")
    tenure_from: date = strawberry.field(description="Held since.")
    tenure_until: date | None = strawberry.field(
        default=None, description="Held until (null: owned or open-ended)."
    )


@strawberry.input(description="A document: metadata and content hash (the file may be stored).")
class LicenceDocumentInput:
    kind: DocumentKind = strawberry.field(description="What the document is.")
    file_name: str = strawberry.field(description="File name.")
    media_type: str = strawberry.field(description="Media type, e.g. application/pdf.")
    size_bytes: int = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hexadecimal.")
    storage_key: str | None = strawberry.field(
        default=None, description="Object-storage key, if the file is kept."
    )
    address_index: int | None = strawberry.field(
        default=None, description="Which address (0-based) the document is for, if one."
    )


def address_fields(items: list[TeachingAddressInput]) -> list[AddressFields]:
    if len(items) > MAX_ADDRESSES:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"At most {MAX_ADDRESSES} addresses", field="addresses"
        )
    return [
        AddressFields(
            address=a.address,
            district_id=optional_pk(a.district_id, "District", field=f"addresses.{i}.districtId"),
            floor_area=a.floor_area,
            planned_students=a.planned_students,
            tenure=a.tenure,
            tenure_from=a.tenure_from,
            tenure_until=a.tenure_until,
        )
        for i, a in enumerate(items)
    ]


def application_pk(global_id: strawberry.ID) -> int:
    return pk_of(global_id, "LicenceApplication", field="applicationId")


def licence_pk(global_id: strawberry.ID) -> int:
    return pk_of(global_id, "Licence", field="licenceId")


def document_fields(items: list[LicenceDocumentInput]) -> list[DocumentFields]:
    if len(items) > MAX_DOCUMENTS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"At most {MAX_DOCUMENTS} documents", field="documents"
        )
    return [
        DocumentFields(
            kind=d.kind,
            file_name=d.file_name,
            media_type=d.media_type,
            size_bytes=d.size_bytes,
            sha256=d.sha256,
            storage_key=d.storage_key,
            address_index=d.address_index,
        )
        for d in items
    ]


@strawberry.input(description="A licence application.")
class ApplyForLicenceInput:
    institution_id: strawberry.ID = strawberry.field(description="The institution applying.")
    applied_as: AppliedAs = strawberry.field(
        default=AppliedAsEnum.INSTITUTION, description="Filed by the institution or its founder."
    )
    levels: list[EducationLevel] = strawberry.field(description="Levels of education to teach.")
    programme_codes: list[str] = strawberry.field(
        default_factory=list, description="Programmes (classifier codes)."
    )
    addresses: list[TeachingAddressInput] = strawberry.field(
        description="Actual teaching addresses (1 to 50)."
    )
    documents: list[LicenceDocumentInput] = strawberry.field(
        default_factory=list, description="Attached documents."
    )
    clinical_base: str | None = strawberry.field(
        default=None, description="Clinical base (medical programmes)."
    )


@strawberry.input(description="Documents an officer asked for.")
class SupplementLicenceApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    documents: list[LicenceDocumentInput] = strawberry.field(description="The documents.")
    note: str | None = strawberry.field(default=None, description="A note to the officer.")


@strawberry.input(description="A licensing officer's step on an application.")
class ReviewLicenceApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    decision: LicenceDecision = strawberry.field(
        description="Request documents, approve or refuse."
    )
    reasons: str | None = strawberry.field(
        default=None, description="Reasons (required to refuse)."
    )
    requested_documents: str | None = strawberry.field(
        default=None, description="What is missing (required to request documents)."
    )
    valid_until: date | None = strawberry.field(
        default=None, description="Last valid day of the licence (approval; null: open-ended)."
    )


@strawberry.input(description="Suspend a licence.")
class SuspendLicenceInput:
    licence_id: strawberry.ID = strawberry.field(description="The licence.")
    reason: str = strawberry.field(description="Why.")
    legal_basis: str | None = strawberry.field(default=None, description="Legal basis, if any.")


@strawberry.input(description="Lift a licence's suspension.")
class RestoreLicenceInput:
    licence_id: strawberry.ID = strawberry.field(description="The licence.")
    reason: str = strawberry.field(description="Why.")


@strawberry.input(description="Revoke a licence.")
class RevokeLicenceInput:
    licence_id: strawberry.ID = strawberry.field(description="The licence.")
    reason: str = strawberry.field(description="Why.")
    legal_basis: str | None = strawberry.field(
        default=None, description="Legal basis (required), e.g. a court decision's reference."
    )


@strawberry.input(description="Re-issue a licence with a changed scope; unset fields carry over.")
class ReissueLicenceInput:
    licence_id: strawberry.ID = strawberry.field(description="The licence.")
    reason: str = strawberry.field(description="Why (e.g. a new teaching address).")
    levels: list[EducationLevel] | None = strawberry.field(default=None, description="Levels.")
    programme_codes: list[str] | None = strawberry.field(default=None, description="Programmes.")
    addresses: list[TeachingAddressInput] | None = strawberry.field(
        default=None, description="All teaching addresses of the new licence."
    )
    documents: list[LicenceDocumentInput] | None = strawberry.field(
        default=None, description="Documents for the new addresses (or added ones)."
    )
    valid_until: date | None = strawberry.field(
        default=None, description="New last valid day (unset: as before)."
    )
    open_ended: bool = strawberry.field(
        default=False, description="Make the new licence open-ended."
    )


@strawberry.input(description="An agency's entry on the register (new, or changed with `id`).")
class RegisterAccreditationAgencyInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Agency to change.")
    name: str = strawberry.field(description="Name.")
    country_code: str = strawberry.field(description="Country (ISO 3166-1 alpha-2).")
    on_national_register: bool = strawberry.field(description="Recognised by the national council.")
    on_european_register: bool = strawberry.field(default=False, description="On EQAR.")
    recognised_on: date | None = strawberry.field(default=None, description="Recognised since.")
    recognised_until: date | None = strawberry.field(default=None, description="Recognised until.")


@strawberry.input(description="Apply to an agency for accreditation.")
class ApplyForAccreditationInput:
    institution_id: strawberry.ID = strawberry.field(description="The institution.")
    agency_id: strawberry.ID = strawberry.field(description="The agency.")
    kind: AccreditationKind = strawberry.field(description="Institutional or programme.")
    programme_code: str | None = strawberry.field(
        default=None, description="The programme's classifier code (programme accreditation)."
    )
    programme_name: str | None = strawberry.field(
        default=None, description="The programme's name at this institution, if it differs."
    )


@strawberry.input(description="Record the next step of an accreditation.")
class AdvanceAccreditationInput:
    accreditation_id: strawberry.ID = strawberry.field(description="The accreditation.")
    step: AccreditationStep = strawberry.field(description="The step reached (the next one).")
    note: str | None = strawberry.field(default=None, description="A note.")
    outcome: AccreditationOutcome | None = strawberry.field(
        default=None, description="The council's decision: ACCREDITED or DENIED."
    )
    valid_from: date | None = strawberry.field(
        default=None, description="Valid from (default: the decision day)."
    )
    valid_until: date | None = strawberry.field(
        default=None, description="Valid until, per decision (null: open-ended)."
    )


@strawberry.input(description="The licensing figures of a year.")
class SetLicensingPolicyInput:
    year: int = strawberry.field(description="The year they apply from.")
    review_days: int = strawberry.field(description="Days an officer has to decide.")
    min_area_per_student: float = strawberry.field(description="Least floor area per student, m2.")
    min_premises_years: int = strawberry.field(description="Years premises must be held.")
    required_documents: list[DocumentKind] = strawberry.field(
        description="Documents every teaching address needs."
    )


@strawberry.input(description="A programme classifier entry (new or changed).")
class DefineProgrammeCodeInput:
    code: str = strawberry.field(description="Classifier code.")
    name: str = strawberry.field(description="Name.")
    level: EducationLevel = strawberry.field(description="Level of education.")
    medical: bool = strawberry.field(default=False, description="Needs a clinical base.")
    accreditation_required: bool = strawberry.field(
        default=False, description="Admission needs accreditation."
    )


@strawberry.input(description="Run the licensing jobs.")
class RunLicensingJobsInput:
    on: date | None = strawberry.field(default=None, description="The day to run for (today).")

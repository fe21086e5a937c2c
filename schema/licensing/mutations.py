"""Licensing mutations: one `input` each, a payload with the changed object and `userErrors`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry

from resolvers.context import Info
from resolvers.errors import DomainError, ErrorCode
from resolvers.licensing import accreditation as accreditation_service
from resolvers.licensing import applications as applications_service
from resolvers.licensing import licences as licences_service
from resolvers.licensing import policy as policy_service
from resolvers.licensing.dossier import MAX_ADDRESSES, MAX_DOCUMENTS, AddressFields, DocumentFields
from resolvers.mutations import perform
from schema.common import UserError, require_signed_in, user_errors
from schema.licensing.types import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    AccreditationStep,
    AppliedAs,
    AppliedAsEnum,
    DocumentKind,
    EducationLevel,
    Licence,
    LicenceApplication,
    LicenceDecision,
    LicensingJobReport,
    LicensingPolicy,
    PremisesTenure,
    ProgrammeCode,
)
from schema.node import optional_pk, pk_of

# --- inputs --------------------------------------------------------------------------------


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


def _addresses(items: list[TeachingAddressInput]) -> list[AddressFields]:
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


def _documents(items: list[LicenceDocumentInput]) -> list[DocumentFields]:
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


@strawberry.type(description="Result of a licence application mutation.")
class LicenceApplicationPayload:
    application: LicenceApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


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


@strawberry.type(description="Result of a licence mutation.")
class LicencePayload:
    licence: Licence | None = strawberry.field(description="The licence (the new one on re-issue).")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="An agency's entry on the register (new, or changed with `id`).")
class RegisterAccreditationAgencyInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Agency to change.")
    name: str = strawberry.field(description="Name.")
    country_code: str = strawberry.field(description="Country (ISO 3166-1 alpha-2).")
    on_national_register: bool = strawberry.field(description="Recognised by the national council.")
    on_european_register: bool = strawberry.field(default=False, description="On EQAR.")
    recognised_on: date | None = strawberry.field(default=None, description="Recognised since.")
    recognised_until: date | None = strawberry.field(default=None, description="Recognised until.")


@strawberry.type(description="Result of registerAccreditationAgency.")
class AccreditationAgencyPayload:
    agency: AccreditationAgency | None = strawberry.field(description="The agency.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


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


@strawberry.type(description="Result of an accreditation mutation.")
class AccreditationPayload:
    accreditation: Accreditation | None = strawberry.field(description="The accreditation.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="The licensing figures of a year.")
class SetLicensingPolicyInput:
    year: int = strawberry.field(description="The year they apply from.")
    review_days: int = strawberry.field(description="Days an officer has to decide.")
    min_area_per_student: float = strawberry.field(description="Least floor area per student, m2.")
    min_premises_years: int = strawberry.field(description="Years premises must be held.")
    required_documents: list[DocumentKind] = strawberry.field(
        description="Documents every teaching address needs."
    )


@strawberry.type(description="Result of setLicensingPolicy.")
class LicensingPolicyPayload:
    policy: LicensingPolicy | None = strawberry.field(description="The year's policy.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="A programme classifier entry (new or changed).")
class DefineProgrammeCodeInput:
    code: str = strawberry.field(description="Classifier code.")
    name: str = strawberry.field(description="Name.")
    level: EducationLevel = strawberry.field(description="Level of education.")
    medical: bool = strawberry.field(default=False, description="Needs a clinical base.")
    accreditation_required: bool = strawberry.field(
        default=False, description="Admission needs accreditation."
    )


@strawberry.type(description="Result of defineProgrammeCode.")
class ProgrammeCodePayload:
    programme_code: ProgrammeCode | None = strawberry.field(description="The entry.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Run the licensing jobs.")
class RunLicensingJobsInput:
    on: date | None = strawberry.field(default=None, description="The day to run for (today).")


@strawberry.type(description="Result of runLicensingJobs.")
class RunLicensingJobsPayload:
    report: LicensingJobReport | None = strawberry.field(description="What the jobs did.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _application(result: Any) -> LicenceApplicationPayload:
    return LicenceApplicationPayload(
        application=LicenceApplication.from_row(result.value) if result.value else None,
        user_errors=user_errors(result.problems),
    )


def _licence(result: Any) -> LicencePayload:
    return LicencePayload(
        licence=Licence.from_row(result.value) if result.value else None,
        user_errors=user_errors(result.problems),
    )


def _accreditation(result: Any) -> AccreditationPayload:
    return AccreditationPayload(
        accreditation=Accreditation.from_row(result.value) if result.value else None,
        user_errors=user_errors(result.problems),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply for a licence (the institution's administrator).")
    async def apply_for_licence(
        self, info: Info, input: ApplyForLicenceInput
    ) -> LicenceApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.apply_for_licence",
            lambda s: applications_service.apply_for_licence(
                s,
                ctx.principal,
                institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
                applied_as=input.applied_as,
                levels=list(input.levels),
                programme_codes=list(input.programme_codes),
                addresses=_addresses(input.addresses),
                documents=_documents(input.documents),
                clinical_base=input.clinical_base,
            ),
        )
        return _application(result)

    @strawberry.mutation(description="Supply the documents a licensing officer asked for.")
    async def supplement_licence_application(
        self, info: Info, input: SupplementLicenceApplicationInput
    ) -> LicenceApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.supplement_licence_application",
            lambda s: applications_service.supplement_licence_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "LicenceApplication", field="applicationId"
                ),
                documents=_documents(input.documents),
                note=input.note,
            ),
        )
        return _application(result)

    @strawberry.mutation(
        description="Request documents, approve (issuing the licence) or refuse (officers)."
    )
    async def review_licence_application(
        self, info: Info, input: ReviewLicenceApplicationInput
    ) -> LicenceApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.review_licence_application",
            lambda s: applications_service.review_licence_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "LicenceApplication", field="applicationId"
                ),
                decision=input.decision,
                reasons=input.reasons,
                requested_documents=input.requested_documents,
                valid_until=input.valid_until,
            ),
        )
        return _application(result)

    @strawberry.mutation(description="Suspend a licence: new admissions stop at once.")
    async def suspend_licence(self, info: Info, input: SuspendLicenceInput) -> LicencePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.suspend_licence",
            lambda s: licences_service.suspend_licence(
                s,
                ctx.principal,
                licence_id=pk_of(input.licence_id, "Licence", field="licenceId"),
                reason=input.reason,
                legal_basis=input.legal_basis,
            ),
        )
        return _licence(result)

    @strawberry.mutation(description="Lift a licence's suspension.")
    async def restore_licence(self, info: Info, input: RestoreLicenceInput) -> LicencePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.restore_licence",
            lambda s: licences_service.restore_licence(
                s,
                ctx.principal,
                licence_id=pk_of(input.licence_id, "Licence", field="licenceId"),
                reason=input.reason,
            ),
        )
        return _licence(result)

    @strawberry.mutation(description="Revoke a licence, naming the legal basis.")
    async def revoke_licence(self, info: Info, input: RevokeLicenceInput) -> LicencePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.revoke_licence",
            lambda s: licences_service.revoke_licence(
                s,
                ctx.principal,
                licence_id=pk_of(input.licence_id, "Licence", field="licenceId"),
                reason=input.reason,
                legal_basis=input.legal_basis,
            ),
        )
        return _licence(result)

    @strawberry.mutation(description="Re-issue a licence with a changed scope (a new number).")
    async def reissue_licence(self, info: Info, input: ReissueLicenceInput) -> LicencePayload:
        ctx = info.context
        require_signed_in(ctx)

        def fields() -> licences_service.ReissueFields:
            return licences_service.ReissueFields(
                reason=input.reason,
                levels=list(input.levels) if input.levels is not None else None,
                programme_codes=list(input.programme_codes)
                if input.programme_codes is not None
                else None,
                addresses=_addresses(input.addresses) if input.addresses is not None else None,
                documents=_documents(input.documents) if input.documents is not None else None,
                valid_until=input.valid_until,
                keep_validity=input.valid_until is None and not input.open_ended,
            )

        result = await perform(
            ctx,
            "licensing.reissue_licence",
            lambda s: licences_service.reissue_licence(
                s,
                ctx.principal,
                licence_id=pk_of(input.licence_id, "Licence", field="licenceId"),
                fields=fields(),
            ),
        )
        return _licence(result)

    @strawberry.mutation(description="Add an agency to the register or change its entry.")
    async def register_accreditation_agency(
        self, info: Info, input: RegisterAccreditationAgencyInput
    ) -> AccreditationAgencyPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.register_accreditation_agency",
            lambda s: accreditation_service.register_agency(
                s,
                ctx.principal,
                agency_id=optional_pk(input.id, "AccreditationAgency", field="id"),
                name=input.name,
                country_code=input.country_code,
                on_national_register=input.on_national_register,
                on_european_register=input.on_european_register,
                recognised_on=input.recognised_on,
                recognised_until=input.recognised_until,
            ),
        )
        return AccreditationAgencyPayload(
            agency=AccreditationAgency.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Apply to an agency for accreditation.")
    async def apply_for_accreditation(
        self, info: Info, input: ApplyForAccreditationInput
    ) -> AccreditationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.apply_for_accreditation",
            lambda s: accreditation_service.apply_for_accreditation(
                s,
                ctx.principal,
                institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
                agency_id=pk_of(input.agency_id, "AccreditationAgency", field="agencyId"),
                kind=input.kind,
                programme_code=input.programme_code,
                programme_name=input.programme_name,
            ),
        )
        return _accreditation(result)

    @strawberry.mutation(description="Record the next step of an accreditation.")
    async def advance_accreditation(
        self, info: Info, input: AdvanceAccreditationInput
    ) -> AccreditationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.advance_accreditation",
            lambda s: accreditation_service.advance_accreditation(
                s,
                ctx.principal,
                accreditation_id=pk_of(
                    input.accreditation_id, "Accreditation", field="accreditationId"
                ),
                step=input.step,
                note=input.note,
                outcome=input.outcome,
                valid_from=input.valid_from,
                valid_until=input.valid_until,
            ),
        )
        return _accreditation(result)

    @strawberry.mutation(description="Set a year's licensing figures (the ministry).")
    async def set_licensing_policy(
        self, info: Info, input: SetLicensingPolicyInput
    ) -> LicensingPolicyPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.set_licensing_policy",
            lambda s: policy_service.set_licensing_policy(
                s,
                ctx.principal,
                year=input.year,
                review_days=input.review_days,
                min_area_per_student=Decimal(str(input.min_area_per_student)),
                min_premises_years=input.min_premises_years,
                required_documents=list(input.required_documents),
            ),
        )
        return LicensingPolicyPayload(
            policy=LicensingPolicy.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Add or change a programme classifier entry (the ministry).")
    async def define_programme_code(
        self, info: Info, input: DefineProgrammeCodeInput
    ) -> ProgrammeCodePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.define_programme_code",
            lambda s: policy_service.define_programme_code(
                s,
                ctx.principal,
                code=input.code,
                name=input.name,
                level=input.level,
                medical=input.medical,
                accreditation_required=input.accreditation_required,
            ),
        )
        return ProgrammeCodePayload(
            programme_code=ProgrammeCode.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(
        description="Run the licensing jobs now: expire licences and accreditations (the ministry)."
    )
    async def run_licensing_jobs(
        self, info: Info, input: RunLicensingJobsInput | None = None
    ) -> RunLicensingJobsPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "licensing.run_licensing_jobs",
            lambda s: policy_service.run_licensing_jobs(
                s, ctx.principal, on=input.on if input else None
            ),
        )
        report = result.value
        return RunLicensingJobsPayload(
            report=LicensingJobReport(
                on=report.on,
                licences_expired=report.licences_expired,
                accreditations_expired=report.accreditations_expired,
            )
            if report
            else None,
            user_errors=user_errors(result.problems),
        )

"""Licensing mutations: one `input` each, a payload with the changed object and `userErrors`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.context import Context
from resolvers.licensing import accreditation as accreditation_service
from resolvers.licensing import applications as applications_service
from resolvers.licensing import licences as licences_service
from resolvers.licensing import policy as policy_service
from resolvers.licensing.loaders import EventsByLicenceLoader, LicenceByApplicationLoader
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.licensing.inputs import (
    AdvanceAccreditationInput,
    ApplyForAccreditationInput,
    ApplyForLicenceInput,
    DefineProgrammeCodeInput,
    RegisterAccreditationAgencyInput,
    ReissueLicenceInput,
    RestoreLicenceInput,
    ReviewLicenceApplicationInput,
    RevokeLicenceInput,
    RunLicensingJobsInput,
    SetLicensingPolicyInput,
    SupplementLicenceApplicationInput,
    SuspendLicenceInput,
    address_fields,
    application_pk,
    document_fields,
    licence_pk,
)
from schema.licensing.types import (
    Accreditation,
    AccreditationAgency,
    Licence,
    LicenceApplication,
    LicensingJobReport,
    LicensingPolicy,
    ProgrammeCode,
)
from schema.node import optional_pk, pk_of


@strawberry.type(description="Result of a licence application mutation.")
class LicenceApplicationPayload(Payload):
    application: LicenceApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of a licence mutation.")
class LicencePayload(Payload):
    licence: Licence | None = strawberry.field(description="The licence (the new one on re-issue).")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of registerAccreditationAgency.")
class AccreditationAgencyPayload(Payload):
    agency: AccreditationAgency | None = strawberry.field(description="The agency.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of an accreditation mutation.")
class AccreditationPayload(Payload):
    accreditation: Accreditation | None = strawberry.field(description="The accreditation.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of setLicensingPolicy.")
class LicensingPolicyPayload(Payload):
    policy: LicensingPolicy | None = strawberry.field(description="The year's policy.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of defineProgrammeCode.")
class ProgrammeCodePayload(Payload):
    programme_code: ProgrammeCode | None = strawberry.field(description="The entry.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of runLicensingJobs.")
class RunLicensingJobsPayload(Payload):
    report: LicensingJobReport | None = strawberry.field(description="What the jobs did.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _prime_issued(ctx: Context, issued: licences_service.Issued) -> None:
    """The payload reads the licence just issued and its history as the step wrote them:
    licences and their history are public (L3), so no rule is skipped (issue 21)."""
    licence = issued.licence
    LicenceByApplicationLoader(ctx).prime(licence.application_id, [licence])
    EventsByLicenceLoader(ctx).prime(licence.id, [issued.event])


@strawberry.type
class Mutation:
    @mutation(
        "licensing.apply_for_licence",
        LicenceApplicationPayload,
        description="Apply for a licence (the institution's administrator).",
    )
    async def apply_for_licence(
        session: AsyncSession, ctx: Context, input: ApplyForLicenceInput
    ) -> Any:
        return await applications_service.apply_for_licence(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            applied_as=input.applied_as,
            levels=list(input.levels),
            programme_codes=list(input.programme_codes),
            addresses=address_fields(input.addresses),
            documents=document_fields(input.documents),
            clinical_base=input.clinical_base,
        )

    @mutation(
        "licensing.supplement_licence_application",
        LicenceApplicationPayload,
        description="Supply the documents a licensing officer asked for.",
    )
    async def supplement_licence_application(
        session: AsyncSession, ctx: Context, input: SupplementLicenceApplicationInput
    ) -> Any:
        return await applications_service.supplement_licence_application(
            session,
            ctx.principal,
            application_id=application_pk(input.application_id),
            documents=document_fields(input.documents),
            note=input.note,
        )

    @mutation(
        "licensing.review_licence_application",
        LicenceApplicationPayload,
        description="Request documents, approve (issuing the licence) or refuse (officers).",
    )
    async def review_licence_application(
        session: AsyncSession, ctx: Context, input: ReviewLicenceApplicationInput
    ) -> Any:
        reviewed = await applications_service.review_licence_application(
            session,
            ctx.principal,
            application_id=application_pk(input.application_id),
            decision=input.decision,
            reasons=input.reasons,
            requested_documents=input.requested_documents,
            valid_until=input.valid_until,
        )
        if reviewed.issued is not None:
            _prime_issued(ctx, reviewed.issued)
        return reviewed.application

    @mutation(
        "licensing.suspend_licence",
        LicencePayload,
        description="Suspend a licence: new admissions stop at once.",
    )
    async def suspend_licence(
        session: AsyncSession, ctx: Context, input: SuspendLicenceInput
    ) -> Any:
        return await licences_service.suspend_licence(
            session,
            ctx.principal,
            licence_id=licence_pk(input.licence_id),
            reason=input.reason,
            legal_basis=input.legal_basis,
        )

    @mutation(
        "licensing.restore_licence", LicencePayload, description="Lift a licence's suspension."
    )
    async def restore_licence(
        session: AsyncSession, ctx: Context, input: RestoreLicenceInput
    ) -> Any:
        return await licences_service.restore_licence(
            session, ctx.principal, licence_id=licence_pk(input.licence_id), reason=input.reason
        )

    @mutation(
        "licensing.revoke_licence",
        LicencePayload,
        description="Revoke a licence, naming the legal basis.",
    )
    async def revoke_licence(session: AsyncSession, ctx: Context, input: RevokeLicenceInput) -> Any:
        return await licences_service.revoke_licence(
            session,
            ctx.principal,
            licence_id=licence_pk(input.licence_id),
            reason=input.reason,
            legal_basis=input.legal_basis,
        )

    @mutation(
        "licensing.reissue_licence",
        LicencePayload,
        description="Re-issue a licence with a changed scope (a new number).",
    )
    async def reissue_licence(
        session: AsyncSession, ctx: Context, input: ReissueLicenceInput
    ) -> Any:
        licence_id = licence_pk(input.licence_id)
        fields = licences_service.ReissueFields(
            reason=input.reason,
            levels=list(input.levels) if input.levels is not None else None,
            programme_codes=list(input.programme_codes)
            if input.programme_codes is not None
            else None,
            addresses=address_fields(input.addresses) if input.addresses is not None else None,
            documents=document_fields(input.documents) if input.documents is not None else None,
            valid_until=input.valid_until,
            keep_validity=input.valid_until is None and not input.open_ended,
        )
        issued = await licences_service.reissue_licence(
            session, ctx.principal, licence_id=licence_id, fields=fields
        )
        _prime_issued(ctx, issued)
        return issued.licence

    @mutation(
        "licensing.register_accreditation_agency",
        AccreditationAgencyPayload,
        description="Add an agency to the register or change its entry.",
    )
    async def register_accreditation_agency(
        session: AsyncSession, ctx: Context, input: RegisterAccreditationAgencyInput
    ) -> Any:
        return await accreditation_service.register_agency(
            session,
            ctx.principal,
            agency_id=optional_pk(input.id, "AccreditationAgency", field="id"),
            name=input.name,
            country_code=input.country_code,
            on_national_register=input.on_national_register,
            on_european_register=input.on_european_register,
            recognised_on=input.recognised_on,
            recognised_until=input.recognised_until,
        )

    @mutation(
        "licensing.apply_for_accreditation",
        AccreditationPayload,
        description="Apply to an agency for accreditation.",
    )
    async def apply_for_accreditation(
        session: AsyncSession, ctx: Context, input: ApplyForAccreditationInput
    ) -> Any:
        return await accreditation_service.apply_for_accreditation(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            agency_id=pk_of(input.agency_id, "AccreditationAgency", field="agencyId"),
            kind=input.kind,
            programme_code=input.programme_code,
            programme_name=input.programme_name,
        )

    @mutation(
        "licensing.advance_accreditation",
        AccreditationPayload,
        description="Record the next step of an accreditation.",
    )
    async def advance_accreditation(
        session: AsyncSession, ctx: Context, input: AdvanceAccreditationInput
    ) -> Any:
        return await accreditation_service.advance_accreditation(
            session,
            ctx.principal,
            accreditation_id=pk_of(
                input.accreditation_id, "Accreditation", field="accreditationId"
            ),
            step=input.step,
            note=input.note,
            outcome=input.outcome,
            valid_from=input.valid_from,
            valid_until=input.valid_until,
        )

    @mutation(
        "licensing.set_licensing_policy",
        LicensingPolicyPayload,
        description="Set a year's licensing figures (the ministry).",
    )
    async def set_licensing_policy(
        session: AsyncSession, ctx: Context, input: SetLicensingPolicyInput
    ) -> Any:
        return await policy_service.set_licensing_policy(
            session,
            ctx.principal,
            year=input.year,
            review_days=input.review_days,
            min_area_per_student=Decimal(str(input.min_area_per_student)),
            min_premises_years=input.min_premises_years,
            required_documents=list(input.required_documents),
        )

    @mutation(
        "licensing.define_programme_code",
        ProgrammeCodePayload,
        description="Add or change a programme classifier entry (the ministry).",
    )
    async def define_programme_code(
        session: AsyncSession, ctx: Context, input: DefineProgrammeCodeInput
    ) -> Any:
        return await policy_service.define_programme_code(
            session,
            ctx.principal,
            code=input.code,
            name=input.name,
            level=input.level,
            medical=input.medical,
            accreditation_required=input.accreditation_required,
        )

    @mutation(
        "licensing.run_licensing_jobs",
        RunLicensingJobsPayload,
        description="Run the licensing jobs now: expire licences and accreditations "
        "(the ministry).",
    )
    async def run_licensing_jobs(
        session: AsyncSession, ctx: Context, input: RunLicensingJobsInput | None = None
    ) -> Any:
        return await policy_service.run_licensing_jobs(
            session, ctx.principal, on=input.on if input else None
        )

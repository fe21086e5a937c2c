"""University admission: the root lists and the workflow mutations."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from resolvers.admission import applications as applications_service
from resolvers.admission import policy as policy_service
from resolvers.admission import queries as admission_queries
from resolvers.admission import ranking as ranking_service
from resolvers.admission import test_results as test_results_service
from resolvers.context import Info
from resolvers.errors import DomainError, RequestError
from resolvers.errors import ErrorCode as Code
from resolvers.mutations import perform
from schema.admission.types import (
    AdmissionApplication,
    AdmissionApplicationOrder,
    AdmissionOffer,
    AdmissionOrder,
    AdmissionPool,
    AdmissionRound,
    AdmissionSeason,
    AdmissionSeasonOrder,
    ApplicationStatus,
    DistrictPool,
    FieldThreshold,
    Funding,
    ImportProblem,
    Intake,
    NationalTestImportReport,
    NationalTestResult,
    NationalTestResultOrder,
    PlaceCategory,
    Programme,
    ProgrammeOrder,
    RankExplanation,
)
from schema.common import (
    After,
    Before,
    Connection,
    First,
    Last,
    UserError,
    bounds,
    list_connection,
    require_signed_in,
    user_errors,
)
from schema.node import pk_of, query_pk

# --- queries -------------------------------------------------------------------------------


@strawberry.input(description="Narrow a test result list; every field given must hold.")
class TestResultFilterInput:
    year: int | None = strawberry.field(default=None, description="Only this test year.")
    certificate_number: str | None = strawberry.field(
        default=None, description="Only this certificate."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this person."
    )


@strawberry.input(description="Narrow a season list.")
class AdmissionSeasonFilterInput:
    year: int | None = strawberry.field(default=None, description="Only this year.")
    intake: Intake | None = strawberry.field(default=None, description="Only this intake.")


@strawberry.input(description="Narrow a programme list; every field given must hold.")
class ProgrammeFilterInput:
    season_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this season."
    )
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this university."
    )
    field_of_study: str | None = strawberry.field(default=None, description="Only this field.")
    name: str | None = strawberry.field(default=None, description="Name contains this text.")


@strawberry.input(description="Narrow an application list; every field given must hold.")
class AdmissionApplicationFilterInput:
    season_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this season."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this applicant."
    )
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this programme."
    )
    statuses: list[ApplicationStatus] | None = strawberry.field(
        default=None, description="Only these statuses."
    )


def _application_filter(
    flt: AdmissionApplicationFilterInput | None,
) -> admission_queries.ApplicationFilter:
    if flt is None:
        return admission_queries.ApplicationFilter()
    return admission_queries.ApplicationFilter(
        season_id=query_pk(flt.season_id, "AdmissionSeason") if flt.season_id else None,
        person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
        programme_id=query_pk(flt.programme_id, "Programme") if flt.programme_id else None,
        statuses=tuple(flt.statuses or ()),
    )


@strawberry.type
class Query:
    @strawberry.field(description="National test certificates you may read.")
    async def test_results(
        self,
        info: Info,
        filter: TestResultFilterInput | None = None,
        order_by: NationalTestResultOrder = NationalTestResultOrder.ID,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[NationalTestResult]:
        require_signed_in(info.context, "Sign in to read test results")
        args = bounds(first, after, last, before)
        flt = filter or TestResultFilterInput()
        if flt.certificate_number is not None and len(flt.certificate_number) > 20:
            raise RequestError(Code.INVALID_INPUT, "`certificateNumber` is at most 20 characters")
        stmt = admission_queries.test_results_query(
            info.context.principal,
            admission_queries.TestResultFilter(
                year=flt.year,
                certificate_number=flt.certificate_number,
                person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
            ),
        )
        ordering = admission_queries.TEST_RESULT_ORDERINGS[order_by.value]
        return await list_connection(
            info.context, stmt, args, ordering, NationalTestResult.from_row
        )

    @strawberry.field(description="Admission seasons and their policy (public).")
    async def admission_seasons(
        self,
        info: Info,
        filter: AdmissionSeasonFilterInput | None = None,
        order_by: AdmissionSeasonOrder = AdmissionSeasonOrder.YEAR_DESC,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AdmissionSeason]:
        args = bounds(first, after, last, before)
        flt = filter or AdmissionSeasonFilterInput()
        stmt = admission_queries.seasons_query(
            admission_queries.SeasonFilter(year=flt.year, intake=flt.intake)
        )
        ordering = admission_queries.SEASON_ORDERINGS[order_by.value]
        return await list_connection(info.context, stmt, args, ordering, AdmissionSeason.from_row)

    @strawberry.field(description="University programmes offered in admission seasons (public).")
    async def programmes(
        self,
        info: Info,
        filter: ProgrammeFilterInput | None = None,
        order_by: ProgrammeOrder = ProgrammeOrder.NAME,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Programme]:
        args = bounds(first, after, last, before)
        flt = filter or ProgrammeFilterInput()
        if flt.name is not None and len(flt.name) > 100:
            raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
        stmt = admission_queries.programmes_query(
            admission_queries.ProgrammeFilter(
                season_id=query_pk(flt.season_id, "AdmissionSeason") if flt.season_id else None,
                institution_id=(
                    query_pk(flt.institution_id, "Institution") if flt.institution_id else None
                ),
                field_of_study=flt.field_of_study,
                name=flt.name,
            )
        )
        ordering = admission_queries.PROGRAMME_ORDERINGS[order_by.value]
        return await list_connection(info.context, stmt, args, ordering, Programme.from_row)

    @strawberry.field(
        description="Applications you may read: your own, your university's, or all (ministry)."
    )
    async def admission_applications(
        self,
        info: Info,
        filter: AdmissionApplicationFilterInput | None = None,
        order_by: AdmissionApplicationOrder = AdmissionApplicationOrder.PREFERENCE,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AdmissionApplication]:
        require_signed_in(info.context, "Sign in to read applications")
        args = bounds(first, after, last, before)
        stmt = admission_queries.applications_query(
            info.context.principal, _application_filter(filter)
        )
        ordering = admission_queries.APPLICATION_ORDERINGS[order_by.value]
        return await list_connection(
            info.context, stmt, args, ordering, AdmissionApplication.from_row
        )

    @strawberry.field(
        description="Why an application ranks where it does: score, pool, rank and cut-off "
        "(null if you may not read the application)."
    )
    async def rank_explanation(
        self, info: Info, application_id: strawberry.ID
    ) -> RankExplanation | None:
        require_signed_in(info.context, "Sign in to read applications")
        pk = query_pk(application_id, "AdmissionApplication")
        ctx = info.context
        result = await ctx.run(
            lambda s: ranking_service.rank_explanation(s, ctx.principal, application_id=pk)
        )
        return RankExplanation.from_result(result) if result else None


# --- mutations -----------------------------------------------------------------------------


@strawberry.input(description="Load a testing-centre CSV file of national test results.")
class ImportTestResultsInput:
    file: Upload = strawberry.field(
        description="The CSV file (UTF-8; columns in the README), at most 16 MB."
    )


@strawberry.type(description="Result of loading a test-results file.")
class ImportTestResultsPayload:
    report: NationalTestImportReport | None = strawberry.field(
        description="What was loaded and which lines were not (null if the file was refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the file was refused.")


@strawberry.input(description="Open an admission season with its policy figures.")
class CreateAdmissionSeasonInput:
    year: int = strawberry.field(description="Year of the national test it admits on.")
    intake: Intake = strawberry.field(description="Main or winter intake.")
    name: str = strawberry.field(description="Name of the campaign.")
    max_choices: int = strawberry.field(description="Programmes an applicant may choose.")
    main_score_max: int = strawberry.field(description="Top of the main test's scale.")
    subject_score_max: int = strawberry.field(description="Top of a subject test's scale.")
    state_language_score_max: int = strawberry.field(description="Top of the state-language scale.")
    main_threshold: int = strawberry.field(description="General main-test threshold.")
    subject_threshold: int = strawberry.field(description="General subject-test threshold.")
    state_language_threshold: int = strawberry.field(description="State-language pass mark.")
    studies_start: date = strawberry.field(description="First day of studies.")


@strawberry.input(description="Change an open season's policy; unset fields stay.")
class UpdateAdmissionSeasonInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    name: str | None = strawberry.field(default=None, description="Name of the campaign.")
    max_choices: int | None = strawberry.field(default=None, description="Choices allowed.")
    main_threshold: int | None = strawberry.field(default=None, description="Main threshold.")
    subject_threshold: int | None = strawberry.field(default=None, description="Subject threshold.")
    state_language_threshold: int | None = strawberry.field(
        default=None, description="State-language pass mark."
    )
    studies_start: date | None = strawberry.field(default=None, description="First day of studies.")


@strawberry.type(description="Result of a season mutation.")
class AdmissionSeasonPayload:
    season: AdmissionSeason | None = strawberry.field(description="The season.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Add the next round to a season.")
class CreateAdmissionRoundInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    registration_opens: date = strawberry.field(description="First day of registration.")
    registration_closes: date = strawberry.field(description="Last day of registration.")
    publication_on: date = strawberry.field(description="Publication of the recommended lists.")
    confirmation_opens: date = strawberry.field(description="First day to confirm.")
    confirmation_closes: date = strawberry.field(description="Last day to confirm.")


@strawberry.input(description="Move a round's dates; unset fields stay.")
class UpdateAdmissionRoundInput:
    round_id: strawberry.ID = strawberry.field(description="The round.")
    registration_opens: date | None = strawberry.field(
        default=None, description="Registration opens."
    )
    registration_closes: date | None = strawberry.field(
        default=None, description="Registration closes."
    )
    publication_on: date | None = strawberry.field(default=None, description="Publication date.")
    confirmation_opens: date | None = strawberry.field(
        default=None, description="Confirmation opens."
    )
    confirmation_closes: date | None = strawberry.field(
        default=None, description="Confirmation closes."
    )


@strawberry.type(description="Result of a round mutation.")
class AdmissionRoundPayload:
    round: AdmissionRound | None = strawberry.field(description="The round.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Set a field of study's thresholds for a season.")
class SetFieldThresholdInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    field_of_study: str = strawberry.field(description="Field code, e.g. health.")
    grant_main_min: int = strawberry.field(description="Main score for grant places.")
    contract_main_min: int = strawberry.field(description="Main score for contract places.")
    subject_min: int = strawberry.field(description="Score in each required subject.")


@strawberry.type(description="Result of setting a threshold.")
class FieldThresholdPayload:
    threshold: FieldThreshold | None = strawberry.field(description="The threshold.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Put a district's schools into a grant pool.")
class SetDistrictPoolInput:
    district_id: strawberry.ID = strawberry.field(description="The district.")
    pool: AdmissionPool = strawberry.field(description="The pool.")


@strawberry.type(description="Result of classifying a district.")
class DistrictPoolPayload:
    district_pool: DistrictPool | None = strawberry.field(description="The classification.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record that an applicant holds a quota in a season.")
class GrantAdmissionQuotaInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    person_id: strawberry.ID = strawberry.field(description="The applicant.")
    category: PlaceCategory = strawberry.field(description="ORPHAN, DISABILITY, ...")


@strawberry.type(description="Result of granting a quota.")
class GrantAdmissionQuotaPayload:
    category: PlaceCategory | None = strawberry.field(description="The quota held.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Places of one category.")
class PlacesInput:
    category: PlaceCategory = strawberry.field(description="Pool, quota or contract.")
    places: int = strawberry.field(description="How many places.")


@strawberry.input(description="Offer a programme in a season.")
class CreateProgrammeInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    institution_id: strawberry.ID = strawberry.field(description="The university.")
    code: str = strawberry.field(description="The university's code of the programme.")
    name: str = strawberry.field(description="Name of the programme.")
    field_of_study: str = strawberry.field(description="Field code (sets the thresholds).")
    required_subjects: list[str] = strawberry.field(
        default_factory=list, description="Subject tests required (codes)."
    )
    creative_test: bool = strawberry.field(default=False, description="Has a creative test.")
    places: list[PlacesInput] = strawberry.field(
        default_factory=list, description="Places per category."
    )
    programme_code: str | None = strawberry.field(
        default=None,
        description=(
            "Its code in the programme classifier (e.g. HE-MEDICINE): where the classifier "
            "requires accreditation, admission opens only while the programme is accredited."
        ),
    )


@strawberry.input(description="Change a programme's places.")
class SetProgrammePlacesInput:
    programme_id: strawberry.ID = strawberry.field(description="The programme.")
    places: list[PlacesInput] = strawberry.field(description="Places per category to set.")


@strawberry.type(description="Result of a programme mutation.")
class ProgrammePayload:
    programme: Programme | None = strawberry.field(description="The programme.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="One programme of an applicant's list.")
class ProgrammeChoiceInput:
    programme_id: strawberry.ID = strawberry.field(description="The programme.")
    funding: Funding = strawberry.field(description="Grant, contract or both.")


@strawberry.input(description="Submit an applicant's programmes in order of preference.")
class ApplyToProgrammesInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    person_id: strawberry.ID = strawberry.field(description="The applicant.")
    certificate_number: str = strawberry.field(description="The applicant's test certificate.")
    choices: list[ProgrammeChoiceInput] = strawberry.field(
        description="Programmes, first choice first (at most the season's limit)."
    )


@strawberry.type(description="Result of applying.")
class ApplyToProgrammesPayload:
    applications: list[AdmissionApplication] = strawberry.field(
        description="The applications, first choice first (empty if refused)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was written: every choice's reasons, field `choices.N...`."
    )


@strawberry.input(description="Publish a round's recommended lists.")
class PublishRoundInput:
    round_id: strawberry.ID = strawberry.field(description="The round.")


@strawberry.type(description="Result of publishing a round.")
class PublishRoundPayload:
    round: AdmissionRound | None = strawberry.field(description="The round.")
    recommended: int = strawberry.field(description="Places recommended.")
    expired: int = strawberry.field(description="Recommendations of the last round that expired.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Take a recommended place.")
class ConfirmPlaceInput:
    offer_id: strawberry.ID = strawberry.field(description="The recommended place.")


@strawberry.type(description="Result of confirming a place.")
class ConfirmPlacePayload:
    offer: AdmissionOffer | None = strawberry.field(description="The confirmed place.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record a creative test score.")
class RecordCreativeTestScoreInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    score: int = strawberry.field(description="The score.")


@strawberry.type(description="Result of an application mutation.")
class AdmissionApplicationPayload:
    application: AdmissionApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Close a season with its admission order.")
class IssueAdmissionOrderInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    number: str = strawberry.field(description="Number of the order.")


@strawberry.type(description="Result of the admission order.")
class AdmissionOrderPayload:
    order: AdmissionOrder | None = strawberry.field(description="The order.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _places(items: list[PlacesInput]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for item in items:
        if item.category in out:
            raise DomainError(Code.INVALID_INPUT, "A category appears twice", field="places")
        out[item.category] = item.places
    return out


def _report(value: Any) -> NationalTestImportReport | None:
    if value is None:
        return None
    return NationalTestImportReport(
        sha256=value.sha256,
        already_imported=value.already_imported,
        rows_total=value.rows_total,
        rows_loaded=value.rows_loaded,
        rows_unchanged=value.rows_unchanged,
        rows_rejected=value.rows_rejected,
        problems=[
            ImportProblem(line=p.line, code=p.code.value, message=p.message) for p in value.problems
        ],
    )


async def _read_upload(upload: Any) -> tuple[bytes, str | None]:
    limit = test_results_service.MAX_IMPORT_BYTES
    reader = getattr(upload, "read", None)
    if reader is None:
        raise DomainError(Code.INVALID_FILE, "Send the file as a multipart upload", field="file")
    data = await reader(limit + 1)
    if len(data) > limit:
        raise DomainError(Code.FILE_TOO_LARGE, f"The file is over {limit} bytes", field="file")
    return data, getattr(upload, "filename", None)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Load a national test results file (ministry).")
    async def import_test_results(
        self, info: Info, input: ImportTestResultsInput
    ) -> ImportTestResultsPayload:
        ctx = info.context
        require_signed_in(ctx)

        async def run(s: Any) -> Any:
            data, filename = await _read_upload(input.file)
            return await test_results_service.import_test_results(
                s, ctx.principal, data=data, filename=filename
            )

        result = await perform(ctx, "admission.import_test_results", run)
        return ImportTestResultsPayload(
            report=_report(result.value), user_errors=user_errors(result.problems)
        )

    @strawberry.mutation(description="Open an admission season with its policy (ministry).")
    async def create_admission_season(
        self, info: Info, input: CreateAdmissionSeasonInput
    ) -> AdmissionSeasonPayload:
        ctx = info.context
        require_signed_in(ctx)
        policy = {k: getattr(input, k) for k in policy_service.SEASON_POLICY_FIELDS}
        result = await perform(
            ctx,
            "admission.create_season",
            lambda s: policy_service.create_season(
                s, ctx.principal, year=input.year, intake=input.intake, policy=policy
            ),
        )
        return AdmissionSeasonPayload(
            season=AdmissionSeason.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Change an open season's policy (ministry).")
    async def update_admission_season(
        self, info: Info, input: UpdateAdmissionSeasonInput
    ) -> AdmissionSeasonPayload:
        ctx = info.context
        require_signed_in(ctx)
        changes = {
            k: getattr(input, k)
            for k in (
                "name",
                "max_choices",
                "main_threshold",
                "subject_threshold",
                "state_language_threshold",
                "studies_start",
            )
        }
        result = await perform(
            ctx,
            "admission.update_season",
            lambda s: policy_service.update_season(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                changes=changes,
            ),
        )
        return AdmissionSeasonPayload(
            season=AdmissionSeason.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Add the next round to a season (ministry).")
    async def create_admission_round(
        self, info: Info, input: CreateAdmissionRoundInput
    ) -> AdmissionRoundPayload:
        ctx = info.context
        require_signed_in(ctx)
        dates = {
            "registration_opens": input.registration_opens,
            "registration_closes": input.registration_closes,
            "publication_on": input.publication_on,
            "confirmation_opens": input.confirmation_opens,
            "confirmation_closes": input.confirmation_closes,
        }
        result = await perform(
            ctx,
            "admission.create_round",
            lambda s: policy_service.create_round(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                dates=dates,
            ),
        )
        return AdmissionRoundPayload(
            round=AdmissionRound.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Move a round's dates (ministry).")
    async def update_admission_round(
        self, info: Info, input: UpdateAdmissionRoundInput
    ) -> AdmissionRoundPayload:
        ctx = info.context
        require_signed_in(ctx)
        dates = {
            "registration_opens": input.registration_opens,
            "registration_closes": input.registration_closes,
            "publication_on": input.publication_on,
            "confirmation_opens": input.confirmation_opens,
            "confirmation_closes": input.confirmation_closes,
        }
        result = await perform(
            ctx,
            "admission.update_round",
            lambda s: policy_service.update_round(
                s,
                ctx.principal,
                round_id=pk_of(input.round_id, "AdmissionRound", field="roundId"),
                dates=dates,
            ),
        )
        return AdmissionRoundPayload(
            round=AdmissionRound.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Set a field of study's thresholds in a season (ministry).")
    async def set_field_threshold(
        self, info: Info, input: SetFieldThresholdInput
    ) -> FieldThresholdPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.set_field_threshold",
            lambda s: policy_service.set_field_threshold(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                field_of_study=input.field_of_study,
                grant_main_min=input.grant_main_min,
                contract_main_min=input.contract_main_min,
                subject_min=input.subject_min,
            ),
        )
        return FieldThresholdPayload(
            threshold=FieldThreshold.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Put a district's schools into a grant pool (ministry).")
    async def set_district_pool(
        self, info: Info, input: SetDistrictPoolInput
    ) -> DistrictPoolPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.set_district_pool",
            lambda s: policy_service.set_district_pool(
                s,
                ctx.principal,
                district_id=pk_of(input.district_id, "District", field="districtId"),
                pool=input.pool,
            ),
        )
        value = result.value
        return DistrictPoolPayload(
            district_pool=DistrictPool(district_pk=value.district_id, pool=value.pool)
            if value
            else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Record that an applicant holds a quota (ministry).")
    async def grant_admission_quota(
        self, info: Info, input: GrantAdmissionQuotaInput
    ) -> GrantAdmissionQuotaPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.grant_quota",
            lambda s: policy_service.grant_quota(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                person_id=pk_of(input.person_id, "Person", field="personId"),
                category=input.category,
            ),
        )
        return GrantAdmissionQuotaPayload(
            category=result.value.category if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Offer a programme (the university's admission officers).")
    async def create_programme(self, info: Info, input: CreateProgrammeInput) -> ProgrammePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.create_programme",
            lambda s: policy_service.create_programme(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
                code=input.code,
                name=input.name,
                field_of_study=input.field_of_study,
                required_subjects=input.required_subjects,
                creative_test=input.creative_test,
                places=_places(input.places),
                programme_code=input.programme_code,
            ),
        )
        return ProgrammePayload(
            programme=Programme.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Change a programme's places.")
    async def set_programme_places(
        self, info: Info, input: SetProgrammePlacesInput
    ) -> ProgrammePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.set_programme_places",
            lambda s: policy_service.set_programme_places(
                s,
                ctx.principal,
                programme_id=pk_of(input.programme_id, "Programme", field="programmeId"),
                places=_places(input.places),
            ),
        )
        return ProgrammePayload(
            programme=Programme.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(
        description="Apply to programmes in order of preference (the applicant or a guardian)."
    )
    async def apply_to_programmes(
        self, info: Info, input: ApplyToProgrammesInput
    ) -> ApplyToProgrammesPayload:
        ctx = info.context
        require_signed_in(ctx)

        def choices() -> list[applications_service.Choice]:
            if len(input.choices) > 20:
                raise DomainError(Code.TOO_MANY_CHOICES, "At most 20 choices", field="choices")
            return [
                applications_service.Choice(
                    programme_id=pk_of(
                        c.programme_id, "Programme", field=f"choices.{i}.programmeId"
                    ),
                    funding=c.funding,
                )
                for i, c in enumerate(input.choices)
            ]

        result = await perform(
            ctx,
            "admission.apply_to_programmes",
            lambda s: applications_service.apply_to_programmes(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                person_id=pk_of(input.person_id, "Person", field="personId"),
                certificate_number=input.certificate_number[:40],
                choices=choices(),
            ),
        )
        return ApplyToProgrammesPayload(
            applications=[AdmissionApplication.from_row(a) for a in result.value or []],
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Rank and publish a round's recommended lists (ministry).")
    async def publish_round(self, info: Info, input: PublishRoundInput) -> PublishRoundPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.publish_round",
            lambda s: ranking_service.publish_round(
                s, ctx.principal, round_id=pk_of(input.round_id, "AdmissionRound", field="roundId")
            ),
        )
        outcome = result.value
        return PublishRoundPayload(
            round=AdmissionRound.from_row(outcome.round) if outcome else None,
            recommended=outcome.recommended if outcome else 0,
            expired=outcome.expired if outcome else 0,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Take a recommended place (the applicant or a guardian).")
    async def confirm_place(self, info: Info, input: ConfirmPlaceInput) -> ConfirmPlacePayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.confirm_place",
            lambda s: applications_service.confirm_place(
                s, ctx.principal, offer_id=pk_of(input.offer_id, "AdmissionOffer", field="offerId")
            ),
        )
        return ConfirmPlacePayload(
            offer=AdmissionOffer.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Record a creative test score (the university).")
    async def record_creative_test_score(
        self, info: Info, input: RecordCreativeTestScoreInput
    ) -> AdmissionApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.record_creative_score",
            lambda s: applications_service.record_creative_score(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "AdmissionApplication", field="applicationId"
                ),
                score=input.score,
            ),
        )
        return AdmissionApplicationPayload(
            application=AdmissionApplication.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Close a season: enroll every confirmed applicant (ministry).")
    async def issue_admission_order(
        self, info: Info, input: IssueAdmissionOrderInput
    ) -> AdmissionOrderPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "admission.issue_order",
            lambda s: ranking_service.issue_admission_order(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
                number=input.number,
            ),
        )
        order = result.value
        return AdmissionOrderPayload(
            order=AdmissionOrder(
                number=order.number, issued_on=order.issued_on, enrollments=order.enrollments
            )
            if order
            else None,
            user_errors=user_errors(result.problems),
        )

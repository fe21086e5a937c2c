"""University admission's mutations: the ministry's policy, the universities' programmes,
the applicants' choices and confirmations, the rounds and the admission order."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.file_uploads import Upload

from resolvers import admission as admission_service
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.loaders import ProgrammeByIdLoader
from resolvers.context import Context
from resolvers.errors import DomainError
from resolvers.errors import ErrorCode as Code
from resolvers.mutations import MutationResult
from schema.admission.pools import PoolMutation
from schema.admission.types import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOrder,
    AdmissionRound,
    AdmissionSeason,
    FieldThreshold,
    Funding,
    Intake,
    NationalTestImportReport,
    PlaceCategory,
    Programme,
)
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation, personal
from schema.node import pk_of

MAX_CHOICES_INPUT = 20


@strawberry.input(description="Load a testing-centre CSV file of national test results.")
class ImportTestResultsInput:
    file: Upload = strawberry.field(
        description="The CSV file (UTF-8; columns in docs/domains/admission.md), at most 16 MB."
    )


@strawberry.type(description="Result of loading a test-results file.")
class ImportTestResultsPayload(Payload):
    report: NationalTestImportReport | None = strawberry.field(
        description="What was loaded and which lines were not (null if the file was refused)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the file was refused.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> ImportTestResultsPayload:
        report = result.value
        return cls(
            report=NationalTestImportReport.from_report(report) if report else None,
            user_errors=user_errors(result.problems),
        )


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
class AdmissionSeasonPayload(Payload):
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
class AdmissionRoundPayload(Payload):
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
class FieldThresholdPayload(Payload):
    threshold: FieldThreshold | None = strawberry.field(description="The threshold.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record that an applicant holds a quota in a season.")
class GrantAdmissionQuotaInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    person_id: strawberry.ID = strawberry.field(description="The applicant.")
    category: PlaceCategory = strawberry.field(description="ORPHAN, DISABILITY, ...")


@strawberry.type(description="Result of granting a quota.")
class GrantAdmissionQuotaPayload(Payload):
    category: PlaceCategory | None = strawberry.field(description="The quota held.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> GrantAdmissionQuotaPayload:
        holder = result.value
        return cls(
            category=holder.category if holder else None,
            user_errors=user_errors(result.problems),
        )


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
class ProgrammePayload(Payload):
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
    certificate_number: str = personal(description="The applicant's test certificate.")
    choices: list[ProgrammeChoiceInput] = strawberry.field(
        description="Programmes, first choice first (at most the season's limit)."
    )


@strawberry.type(description="Result of applying.")
class ApplyToProgrammesPayload(Payload):
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
class PublishRoundPayload(Payload):
    round: AdmissionRound | None = strawberry.field(description="The round.")
    recommended: int = strawberry.field(description="Places recommended.")
    expired: int = strawberry.field(description="Recommendations of the last round that expired.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> PublishRoundPayload:
        outcome = result.value
        return cls(
            round=AdmissionRound.from_row(outcome.round) if outcome else None,
            recommended=outcome.recommended if outcome else 0,
            expired=outcome.expired if outcome else 0,
            user_errors=user_errors(result.problems),
        )


@strawberry.input(description="Take a recommended place.")
class ConfirmPlaceInput:
    offer_id: strawberry.ID = strawberry.field(description="The recommended place.")


@strawberry.type(description="Result of confirming a place.")
class ConfirmPlacePayload(Payload):
    offer: AdmissionOffer | None = strawberry.field(description="The confirmed place.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record a creative test score.")
class RecordCreativeTestScoreInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    score: int = strawberry.field(description="The score.")


@strawberry.type(description="Result of an application mutation.")
class AdmissionApplicationPayload(Payload):
    application: AdmissionApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Close a season with its admission order.")
class IssueAdmissionOrderInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    number: str = strawberry.field(description="Number of the order.")


@strawberry.type(description="Result of the admission order.")
class AdmissionOrderPayload(Payload):
    order: AdmissionOrder | None = strawberry.field(description="The order.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _places(items: list[PlacesInput]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for item in items:
        if item.category in out:
            raise DomainError(Code.INVALID_INPUT, "A category appears twice", field="places")
        out[item.category] = item.places
    return out


def _round_dates(
    input: CreateAdmissionRoundInput | UpdateAdmissionRoundInput,
) -> dict[str, Any]:
    return {
        "registration_opens": input.registration_opens,
        "registration_closes": input.registration_closes,
        "publication_on": input.publication_on,
        "confirmation_opens": input.confirmation_opens,
        "confirmation_closes": input.confirmation_closes,
    }


def _choices(input: ApplyToProgrammesInput) -> list[admission_service.Choice]:
    if len(input.choices) > MAX_CHOICES_INPUT:
        raise DomainError(
            AdmissionCode.TOO_MANY_CHOICES, f"At most {MAX_CHOICES_INPUT} choices", field="choices"
        )
    return [
        admission_service.Choice(
            programme_id=pk_of(c.programme_id, "Programme", field=f"choices.{i}.programmeId"),
            funding=c.funding,
        )
        for i, c in enumerate(input.choices)
    ]


async def _read_upload(upload: Any) -> tuple[bytes, str | None]:
    """The uploaded file's bytes (refused past the import's size limit) and its name."""
    limit = admission_service.MAX_IMPORT_BYTES
    reader = getattr(upload, "read", None)
    if reader is None:
        raise DomainError(Code.INVALID_FILE, "Send the file as a multipart upload", field="file")
    seek = getattr(upload, "seek", None)
    if seek is not None:
        await seek(0)  # a step that lost a race runs again and reads the file again
    data = await reader(limit + 1)
    if len(data) > limit:
        raise DomainError(Code.FILE_TOO_LARGE, f"The file is over {limit} bytes", field="file")
    return data, getattr(upload, "filename", None)


SEASON_CHANGES = (
    "name",
    "max_choices",
    "main_threshold",
    "subject_threshold",
    "state_language_threshold",
    "studies_start",
)


@strawberry.type
class Mutation(PoolMutation):
    @mutation(
        "admission.import_test_results",
        ImportTestResultsPayload,
        description="Load a national test results file (ministry).",
    )
    async def import_test_results(
        session: AsyncSession, ctx: Context, input: ImportTestResultsInput
    ) -> Any:
        data, filename = await _read_upload(input.file)
        return await admission_service.import_test_results(
            session, ctx.principal, data=data, filename=filename
        )

    @mutation(
        "admission.create_season",
        AdmissionSeasonPayload,
        description="Open an admission season with its policy (ministry).",
    )
    async def create_admission_season(
        session: AsyncSession, ctx: Context, input: CreateAdmissionSeasonInput
    ) -> Any:
        policy = {k: getattr(input, k) for k in admission_service.SEASON_POLICY_FIELDS}
        return await admission_service.create_season(
            session, ctx.principal, year=input.year, intake=input.intake, policy=policy
        )

    @mutation(
        "admission.update_season",
        AdmissionSeasonPayload,
        description="Change an open season's policy (ministry).",
    )
    async def update_admission_season(
        session: AsyncSession, ctx: Context, input: UpdateAdmissionSeasonInput
    ) -> Any:
        return await admission_service.update_season(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            changes={k: getattr(input, k) for k in SEASON_CHANGES},
        )

    @mutation(
        "admission.create_round",
        AdmissionRoundPayload,
        description="Add the next round to a season (ministry).",
    )
    async def create_admission_round(
        session: AsyncSession, ctx: Context, input: CreateAdmissionRoundInput
    ) -> Any:
        return await admission_service.create_round(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            dates=_round_dates(input),
        )

    @mutation(
        "admission.update_round",
        AdmissionRoundPayload,
        description="Move a round's dates (ministry).",
    )
    async def update_admission_round(
        session: AsyncSession, ctx: Context, input: UpdateAdmissionRoundInput
    ) -> Any:
        return await admission_service.update_round(
            session,
            ctx.principal,
            round_id=pk_of(input.round_id, "AdmissionRound", field="roundId"),
            dates=_round_dates(input),
        )

    @mutation(
        "admission.set_field_threshold",
        FieldThresholdPayload,
        description="Set a field of study's thresholds in a season (ministry).",
    )
    async def set_field_threshold(
        session: AsyncSession, ctx: Context, input: SetFieldThresholdInput
    ) -> Any:
        return await admission_service.set_field_threshold(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            field_of_study=input.field_of_study,
            grant_main_min=input.grant_main_min,
            contract_main_min=input.contract_main_min,
            subject_min=input.subject_min,
        )

    @mutation(
        "admission.grant_quota",
        GrantAdmissionQuotaPayload,
        description="Record that an applicant holds a quota (ministry).",
    )
    async def grant_admission_quota(
        session: AsyncSession, ctx: Context, input: GrantAdmissionQuotaInput
    ) -> Any:
        return await admission_service.grant_quota(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            person_id=pk_of(input.person_id, "Person", field="personId"),
            category=input.category,
        )

    @mutation(
        "admission.create_programme",
        ProgrammePayload,
        description="Offer a programme (the university's admission officers).",
    )
    async def create_programme(
        session: AsyncSession, ctx: Context, input: CreateProgrammeInput
    ) -> Any:
        return await admission_service.create_programme(
            session,
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
        )

    @mutation(
        "admission.set_programme_places",
        ProgrammePayload,
        description="Change a programme's places.",
    )
    async def set_programme_places(
        session: AsyncSession, ctx: Context, input: SetProgrammePlacesInput
    ) -> Any:
        return await admission_service.set_programme_places(
            session,
            ctx.principal,
            programme_id=pk_of(input.programme_id, "Programme", field="programmeId"),
            places=_places(input.places),
        )

    @mutation(
        "admission.apply_to_programmes",
        ApplyToProgrammesPayload,
        description="Apply to programmes in order of preference (the applicant or a guardian).",
    )
    async def apply_to_programmes(
        session: AsyncSession, ctx: Context, input: ApplyToProgrammesInput
    ) -> Any:
        applied = await admission_service.apply_to_programmes(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            person_id=pk_of(input.person_id, "Person", field="personId"),
            certificate_number=input.certificate_number[:40],
            choices=_choices(input),
        )
        # The answer's programmes are the ones the step read (programmes have no row rule).
        programmes = ProgrammeByIdLoader(ctx)
        for programme in applied.programmes:
            programmes.prime(programme.id, programme)
        return applied.applications

    @mutation(
        "admission.publish_round",
        PublishRoundPayload,
        description="Rank and publish a round's recommended lists (ministry).",
    )
    async def publish_round(session: AsyncSession, ctx: Context, input: PublishRoundInput) -> Any:
        return await admission_service.publish_round(
            session,
            ctx.principal,
            round_id=pk_of(input.round_id, "AdmissionRound", field="roundId"),
        )

    @mutation(
        "admission.confirm_place",
        ConfirmPlacePayload,
        description="Take a recommended place (the applicant or a guardian).",
    )
    async def confirm_place(session: AsyncSession, ctx: Context, input: ConfirmPlaceInput) -> Any:
        confirmed = await admission_service.confirm_place(
            session,
            ctx.principal,
            offer_id=pk_of(input.offer_id, "AdmissionOffer", field="offerId"),
        )
        # The answer's programme is the one the step read (programmes have no row rule).
        ProgrammeByIdLoader(ctx).prime(confirmed.programme.id, confirmed.programme)
        return confirmed.offer

    @mutation(
        "admission.record_creative_score",
        AdmissionApplicationPayload,
        description="Record a creative test score (the university).",
    )
    async def record_creative_test_score(
        session: AsyncSession, ctx: Context, input: RecordCreativeTestScoreInput
    ) -> Any:
        return await admission_service.record_creative_score(
            session,
            ctx.principal,
            application_id=pk_of(
                input.application_id, "AdmissionApplication", field="applicationId"
            ),
            score=input.score,
        )

    @mutation(
        "admission.issue_order",
        AdmissionOrderPayload,
        description="Close a season: enroll every confirmed applicant (ministry).",
    )
    async def issue_admission_order(
        session: AsyncSession, ctx: Context, input: IssueAdmissionOrderInput
    ) -> Any:
        return await admission_service.issue_admission_order(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "AdmissionSeason", field="seasonId"),
            number=input.number,
        )

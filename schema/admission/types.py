"""University admission in the graph: seasons, rounds, programmes and their places, national
test results, applications, recommended places and rank explanations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import AdmissionOfferStatus as OfferStatusEnum
from models import AdmissionPool as AdmissionPoolEnum
from models import ApplicationStatus as ApplicationStatusEnum
from models import Funding as FundingEnum
from models import Intake as IntakeEnum
from models import PlaceCategory as PlaceCategoryEnum
from models import RoundStatus as RoundStatusEnum
from models import SeasonStatus as SeasonStatusEnum
from resolvers import admission as admission_service
from resolvers.admission.loaders import (
    AdmissionApplicantByIdLoader,
    AdmissionApplicationByIdLoader,
    AdmissionOfferByIdLoader,
    AdmissionOffersByApplicationLoader,
    AdmissionRoundByIdLoader,
    AdmissionRoundsBySeasonLoader,
    AdmissionSeasonByIdLoader,
    FieldThresholdsBySeasonLoader,
    NationalTestResultByIdLoader,
    PlacesByProgrammeLoader,
    ProgrammeByIdLoader,
)
from resolvers.context import Info
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.fields import personal
from schema.node import fetched_by

if TYPE_CHECKING:
    from schema.geography import District
    from schema.institutions import Institution
    from schema.people import Person

InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]
PersonT = Annotated["Person", strawberry.lazy("schema.people")]
DistrictT = Annotated["District", strawberry.lazy("schema.geography")]

strawberry.enum(IntakeEnum, name="Intake", description="Main intake, or winter (contract only).")
Intake: TypeAlias = IntakeEnum
strawberry.enum(SeasonStatusEnum, name="AdmissionSeasonStatus", description="Open or closed.")
SeasonStatus: TypeAlias = SeasonStatusEnum
strawberry.enum(
    AdmissionPoolEnum, name="AdmissionPool", description="Pool of grant places a school is in."
)
AdmissionPool: TypeAlias = AdmissionPoolEnum
strawberry.enum(
    PlaceCategoryEnum,
    name="PlaceCategory",
    description="A grant place of a pool or quota, or a contract place.",
)
PlaceCategory: TypeAlias = PlaceCategoryEnum
strawberry.enum(FundingEnum, name="Funding", description="Grant, contract or both.")
Funding: TypeAlias = FundingEnum
strawberry.enum(RoundStatusEnum, name="AdmissionRoundStatus", description="Planned or published.")
RoundStatus: TypeAlias = RoundStatusEnum
strawberry.enum(
    ApplicationStatusEnum,
    name="AdmissionApplicationStatus",
    description="Where an application to a programme stands.",
)
ApplicationStatus: TypeAlias = ApplicationStatusEnum
strawberry.enum(
    OfferStatusEnum, name="AdmissionOfferStatus", description="What became of a recommended place."
)
AdmissionOfferStatus: TypeAlias = OfferStatusEnum


@strawberry.type(description="A field of study's own minimum scores in a season.")
class FieldThreshold:
    field_of_study: str = strawberry.field(description="Field code, e.g. teacher_education.")
    grant_main_min: int = strawberry.field(description="Main score needed for grant places.")
    contract_main_min: int = strawberry.field(description="Main score needed for contract places.")
    subject_min: int = strawberry.field(description="Score needed in each required subject.")

    @classmethod
    def from_row(cls, row: Any) -> FieldThreshold:
        return cls(
            field_of_study=row.field_of_study,
            grant_main_min=row.grant_main_min,
            contract_main_min=row.contract_main_min,
            subject_min=row.subject_min,
        )


@fetched_by(AdmissionRoundByIdLoader)
@strawberry.type(description="A round: registration, publication of lists, confirmation.")
class AdmissionRound(Node):
    pk: strawberry.Private[int]
    season_pk: strawberry.Private[int]
    number: int = strawberry.field(description="1 for the first round of the season.")
    registration_opens: date = strawberry.field(description="First day of registration.")
    registration_closes: date = strawberry.field(description="Last day of registration.")
    publication_on: date = strawberry.field(description="When the recommended lists publish.")
    confirmation_opens: date = strawberry.field(description="First day to confirm a place.")
    confirmation_closes: date = strawberry.field(description="Last day to confirm a place.")
    status: RoundStatus = strawberry.field(description="Planned or published.")
    published_at: datetime | None = strawberry.field(description="When it was published.")

    @classmethod
    def from_row(cls, row: Any) -> AdmissionRound:
        return cls(
            id=strawberry.ID(encode_id("AdmissionRound", row.id)),
            pk=row.id,
            season_pk=row.season_id,
            number=row.number,
            registration_opens=row.registration_opens,
            registration_closes=row.registration_closes,
            publication_on=row.publication_on,
            confirmation_opens=row.confirmation_opens,
            confirmation_closes=row.confirmation_closes,
            status=row.status,
            published_at=row.published_at,
        )

    @strawberry.field(description="The season.")
    async def season(self, info: Info) -> AdmissionSeason:
        row = await AdmissionSeasonByIdLoader(info.context).load(self.season_pk)
        return AdmissionSeason.from_row(row)


@fetched_by(AdmissionSeasonByIdLoader)
@strawberry.type(description="An admission campaign and its policy: scales, thresholds, limits.")
class AdmissionSeason(Node):
    pk: strawberry.Private[int]
    year: int = strawberry.field(description="Year of the national test it admits on.")
    intake: Intake = strawberry.field(description="Main or winter intake.")
    name: str = strawberry.field(description="Name of the campaign.")
    status: SeasonStatus = strawberry.field(description="Open, or closed by the admission order.")
    max_choices: int = strawberry.field(description="How many programmes an applicant may choose.")
    main_score_max: int = strawberry.field(description="Top of the main test's scale.")
    subject_score_max: int = strawberry.field(description="Top of a subject test's scale.")
    state_language_score_max: int = strawberry.field(description="Top of the state-language scale.")
    main_threshold: int = strawberry.field(description="General main-test threshold.")
    subject_threshold: int = strawberry.field(description="General subject-test threshold.")
    state_language_threshold: int = strawberry.field(description="State-language pass mark.")
    studies_start: date = strawberry.field(description="First day of studies (enrollment date).")

    @classmethod
    def from_row(cls, row: Any) -> AdmissionSeason:
        return cls(
            id=strawberry.ID(encode_id("AdmissionSeason", row.id)),
            pk=row.id,
            year=row.year,
            intake=row.intake,
            name=row.name,
            status=row.status,
            max_choices=row.max_choices,
            main_score_max=row.main_score_max,
            subject_score_max=row.subject_score_max,
            state_language_score_max=row.state_language_score_max,
            main_threshold=row.main_threshold,
            subject_threshold=row.subject_threshold,
            state_language_threshold=row.state_language_threshold,
            studies_start=row.studies_start,
        )

    @strawberry.field(description="The season's rounds, in order.")
    async def rounds(self, info: Info) -> list[AdmissionRound]:
        rows = await AdmissionRoundsBySeasonLoader(info.context).load(self.pk)
        return [AdmissionRound.from_row(r) for r in rows]

    @strawberry.field(description="Thresholds of fields of study that differ from the general.")
    async def field_thresholds(self, info: Info) -> list[FieldThreshold]:
        rows = await FieldThresholdsBySeasonLoader(info.context).load(self.pk)
        return [FieldThreshold.from_row(r) for r in rows]


@strawberry.type(description="Places of one category in a programme.")
class ProgrammePlaces:
    category: PlaceCategory = strawberry.field(description="Pool, quota or contract.")
    places: int = strawberry.field(description="Places of this category.")
    filled: int = strawberry.field(description="Places taken by confirmations.")


@fetched_by(ProgrammeByIdLoader)
@strawberry.type(description="A university programme offered in an admission season.")
class Programme(Node):
    pk: strawberry.Private[int]
    season_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    code: str = strawberry.field(description="The university's code of the programme.")
    name: str = strawberry.field(description="Name of the programme.")
    field_of_study: str = strawberry.field(description="Field code, which sets the thresholds.")
    required_subjects: list[str] = strawberry.field(description="Subject tests it requires.")
    creative_test: bool = strawberry.field(description="True if a creative test adds to the score.")
    programme_code: str | None = strawberry.field(
        description="Its code in the programme classifier, which says whether admission needs "
        "accreditation; null when not linked."
    )

    @classmethod
    def from_row(cls, row: Any) -> Programme:
        return cls(
            id=strawberry.ID(encode_id("Programme", row.id)),
            pk=row.id,
            season_pk=row.season_id,
            institution_pk=row.institution_id,
            code=row.code,
            name=row.name,
            field_of_study=row.field_of_study,
            required_subjects=list(row.required_subjects),
            creative_test=row.creative_test,
            programme_code=row.programme_code,
        )

    @strawberry.field(description="The university.")
    async def institution(self, info: Info) -> InstitutionT:
        from schema.institutions import Institution

        return Institution.from_row(
            await InstitutionByIdLoader(info.context).load(self.institution_pk)
        )

    @strawberry.field(description="The season.")
    async def season(self, info: Info) -> AdmissionSeason:
        return AdmissionSeason.from_row(
            await AdmissionSeasonByIdLoader(info.context).load(self.season_pk)
        )

    @strawberry.field(description="Places per category (grant pools, quotas, contract).")
    async def places(self, info: Info) -> list[ProgrammePlaces]:
        rows = await PlacesByProgrammeLoader(info.context).load(self.pk)
        return [
            ProgrammePlaces(category=r.category, places=r.places, filled=r.filled) for r in rows
        ]


@strawberry.type(description="A score in one subject test.")
class SubjectScore:
    subject: str = strawberry.field(description="Subject code, e.g. math.")
    score: int = strawberry.field(description="The score.")


@fetched_by(NationalTestResultByIdLoader)
@strawberry.type(description="A national test certificate: main, subject and state-language tests.")
class NationalTestResult(Node):
    pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    certificate_number: str = personal(description="The certificate's number.")
    year: int = strawberry.field(description="Year of the test.")
    main_score: int = strawberry.field(description="Main test score.")
    state_language_score: int = strawberry.field(description="State-language test score.")
    subject_scores: list[SubjectScore] = strawberry.field(description="Subject test scores.")

    @classmethod
    def from_row(cls, row: Any) -> NationalTestResult:
        return cls(
            id=strawberry.ID(encode_id("NationalTestResult", row.id)),
            pk=row.id,
            person_pk=row.person_id,
            certificate_number=row.certificate_number,
            year=row.year,
            main_score=row.main_score,
            state_language_score=row.state_language_score,
            subject_scores=[
                SubjectScore(subject=k, score=v) for k, v in sorted(row.subject_scores.items())
            ],
        )

    @strawberry.field(description="The person tested (null if you may not read them).")
    async def person(self, info: Info) -> PersonT | None:
        from schema.people import Person

        row = await AdmissionApplicantByIdLoader(info.context).load(self.person_pk)
        return Person.from_row(row) if row else None


@fetched_by(AdmissionOfferByIdLoader)
@strawberry.type(description="A place recommended to an applicant in a round.")
class AdmissionOffer(Node):
    pk: strawberry.Private[int]
    round_pk: strawberry.Private[int]
    application_pk: strawberry.Private[int]
    programme_pk: strawberry.Private[int]
    category: PlaceCategory = strawberry.field(description="Pool, quota or contract place.")
    rank: int = strawberry.field(description="Rank in the category's list when published.")
    total_score: int = strawberry.field(description="Ranking score when published.")
    status: AdmissionOfferStatus = strawberry.field(
        description="Recommended, confirmed, expired, ..."
    )
    decided_at: datetime | None = strawberry.field(description="When it was confirmed or ended.")

    @classmethod
    def from_row(cls, row: Any) -> AdmissionOffer:
        return cls(
            id=strawberry.ID(encode_id("AdmissionOffer", row.id)),
            pk=row.id,
            round_pk=row.round_id,
            application_pk=row.application_id,
            programme_pk=row.programme_id,
            category=row.category,
            rank=row.rank,
            total_score=row.total_score,
            status=row.status,
            decided_at=row.decided_at,
        )

    @strawberry.field(description="The round that recommended it.")
    async def round(self, info: Info) -> AdmissionRound:
        return AdmissionRound.from_row(
            await AdmissionRoundByIdLoader(info.context).load(self.round_pk)
        )

    @strawberry.field(description="The programme.")
    async def programme(self, info: Info) -> Programme:
        return Programme.from_row(await ProgrammeByIdLoader(info.context).load(self.programme_pk))

    @strawberry.field(description="The application it answers.")
    async def application(self, info: Info) -> AdmissionApplication | None:
        row = await AdmissionApplicationByIdLoader(info.context).load(self.application_pk)
        return AdmissionApplication.from_row(row) if row else None


@strawberry.type(description="Where an application stands in one category of its programme.")
class RankEntry:
    category: PlaceCategory = strawberry.field(description="Pool, quota or contract.")
    total_score: int = strawberry.field(description="Ranking score: main + subjects (+ creative).")
    rank: int = strawberry.field(description="Rank among those competing, by the tie-break order.")
    competing: int = strawberry.field(description="How many compete in this category.")
    places: int = strawberry.field(description="Places of this category in the programme.")
    round_number: int | None = strawberry.field(description="Last published round, if any.")
    vacancies: int | None = strawberry.field(description="Vacancies that round had.")
    recommended: int | None = strawberry.field(description="How many that round recommended.")
    cut_off_score: int | None = strawberry.field(
        description="Score of the last recommended applicant (null if not all places filled)."
    )
    offer_status: AdmissionOfferStatus | None = strawberry.field(
        description="What became of this category's latest recommendation, if any."
    )
    explanation: str = strawberry.field(description="The same, in a sentence.")


@strawberry.type(description="Why an application ranks where it does.")
class RankExplanation:
    application_pk: strawberry.Private[int]
    main_score: int = strawberry.field(description="Main test score.")
    subject_score: int = strawberry.field(description="Sum of the required subject tests.")
    creative_score: int | None = strawberry.field(description="Creative test, if any.")
    total_score: int = strawberry.field(description="Ranking score.")
    pool: PlaceCategory | None = strawberry.field(
        description="The grant pool or quota the applicant competes in (null: contract only)."
    )
    tie_breakers: list[str] = strawberry.field(
        description="The order applied after the score, most significant first."
    )
    entries: list[RankEntry] = strawberry.field(description="One entry per category competed in.")

    @classmethod
    def from_result(cls, result: admission_service.RankExplanation) -> RankExplanation:
        app = result.application
        return cls(
            application_pk=app.id,
            main_score=app.main_score,
            subject_score=app.subject_score,
            creative_score=app.creative_score,
            total_score=app.total_score,
            pool=app.grant_category,
            tie_breakers=list(TIE_BREAKERS),
            entries=[
                RankEntry(
                    category=e.category,
                    total_score=e.total_score,
                    rank=e.rank,
                    competing=e.competing,
                    places=e.places,
                    round_number=e.round_number,
                    vacancies=e.vacancies,
                    recommended=e.recommended,
                    cut_off_score=e.cutoff_score,
                    offer_status=e.offer_status,
                    explanation=e.explanation,
                )
                for e in result.entries
            ],
        )

    @strawberry.field(description="The application explained.")
    async def application(self, info: Info) -> AdmissionApplication | None:
        row = await AdmissionApplicationByIdLoader(info.context).load(self.application_pk)
        return AdmissionApplication.from_row(row) if row else None


TIE_BREAKERS = (
    "higher main test score",
    "higher required-subject score",
    "higher state-language score",
    "earlier application",
)


@fetched_by(AdmissionApplicationByIdLoader)
@strawberry.type(description="One choice of an applicant: a programme at a preference.")
class AdmissionApplication(Node):
    pk: strawberry.Private[int]
    season_pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    programme_pk: strawberry.Private[int]
    test_result_pk: strawberry.Private[int]
    enrollment_pk: strawberry.Private[int | None]
    preference: int = strawberry.field(description="1 for the first choice.")
    funding: Funding = strawberry.field(description="Grant, contract or both.")
    grant_category: PlaceCategory | None = strawberry.field(
        description="Pool or quota of the grant competition (null: contract only)."
    )
    status: ApplicationStatus = strawberry.field(description="Where the application stands.")
    main_score: int = strawberry.field(description="Main test score.")
    subject_score: int = strawberry.field(description="Sum of the required subject tests.")
    creative_score: int | None = strawberry.field(description="Creative test score, if any.")
    total_score: int = strawberry.field(description="Ranking score.")
    round_number: int = strawberry.field(description="The round it was submitted in.")
    created_at: datetime = strawberry.field(description="When it was submitted.")

    @classmethod
    def from_row(cls, row: Any) -> AdmissionApplication:
        return cls(
            id=strawberry.ID(encode_id("AdmissionApplication", row.id)),
            pk=row.id,
            season_pk=row.season_id,
            person_pk=row.person_id,
            programme_pk=row.programme_id,
            test_result_pk=row.test_result_id,
            enrollment_pk=row.enrollment_id,
            preference=row.preference,
            funding=row.funding,
            grant_category=row.grant_category,
            status=row.status,
            main_score=row.main_score,
            subject_score=row.subject_score,
            creative_score=row.creative_score,
            total_score=row.total_score,
            round_number=row.round_number,
            created_at=row.created_at,
        )

    @strawberry.field(description="The applicant (null if you may not read them).")
    async def applicant(self, info: Info) -> PersonT | None:
        from schema.people import Person

        row = await AdmissionApplicantByIdLoader(info.context).load(self.person_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The programme.")
    async def programme(self, info: Info) -> Programme:
        return Programme.from_row(await ProgrammeByIdLoader(info.context).load(self.programme_pk))

    @strawberry.field(description="The season.")
    async def season(self, info: Info) -> AdmissionSeason:
        return AdmissionSeason.from_row(
            await AdmissionSeasonByIdLoader(info.context).load(self.season_pk)
        )

    @strawberry.field(description="The certificate it was submitted with.")
    async def test_result(self, info: Info) -> NationalTestResult | None:
        row = await NationalTestResultByIdLoader(info.context).load(self.test_result_pk)
        return NationalTestResult.from_row(row) if row else None

    @strawberry.field(description="Places recommended for it, the latest round first.")
    async def offers(self, info: Info) -> list[AdmissionOffer]:
        rows = await AdmissionOffersByApplicationLoader(info.context).load(self.pk)
        return [AdmissionOffer.from_row(r) for r in rows]


@strawberry.type(description="A line of a test-results file that was not loaded.")
class ImportProblem:
    line: int = strawberry.field(description="Line number in the file (the header is line 1).")
    code: str = strawberry.field(description="A stable code (an ErrorCode value).")
    message: str = strawberry.field(description="Why the line was not loaded.")


@strawberry.type(description="What loading a test-results file did.")
class NationalTestImportReport:
    sha256: str = strawberry.field(description="SHA-256 of the file.")
    already_imported: bool = strawberry.field(
        description="True if this file was loaded before; nothing changed."
    )
    rows_total: int = strawberry.field(description="Data lines in the file.")
    rows_loaded: int = strawberry.field(description="New certificates stored.")
    rows_unchanged: int = strawberry.field(description="Certificates already stored as given.")
    rows_rejected: int = strawberry.field(description="Lines not loaded.")
    problems: list[ImportProblem] = strawberry.field(description="Why (first 1,000 lines).")

    @classmethod
    def from_report(cls, report: admission_service.ImportReport) -> NationalTestImportReport:
        return cls(
            sha256=report.sha256,
            already_imported=report.already_imported,
            rows_total=report.rows_total,
            rows_loaded=report.rows_loaded,
            rows_unchanged=report.rows_unchanged,
            rows_rejected=report.rows_rejected,
            problems=[
                ImportProblem(line=p.line, code=p.code.value, message=p.message)
                for p in report.problems
            ],
        )


@strawberry.type(description="The order that closed a season.")
class AdmissionOrder:
    number: str = strawberry.field(description="Order number.")
    issued_on: date = strawberry.field(description="Date of the order.")
    enrollments: int = strawberry.field(description="Students enrolled by it.")

    @classmethod
    def from_row(cls, row: Any) -> AdmissionOrder:
        return cls(number=row.number, issued_on=row.issued_on, enrollments=row.enrollments)


@strawberry.type(description="The grant pool of a district's schools.")
class DistrictPool:
    district_pk: strawberry.Private[int]
    pool: AdmissionPool = strawberry.field(description="The pool.")

    @classmethod
    def from_row(cls, row: Any) -> DistrictPool:
        return cls(district_pk=row.district_id, pool=row.pool)

    @strawberry.field(description="The district.")
    async def district(self, info: Info) -> DistrictT:
        from schema.geography import District

        return District.from_row(await DistrictByIdLoader(info.context).load(self.district_pk))


@strawberry.enum(description="Orders of season lists.")
class AdmissionSeasonOrder(enum.Enum):
    YEAR_DESC = "YEAR_DESC"
    ID = "ID"


@strawberry.enum(description="Orders of programme lists.")
class ProgrammeOrder(enum.Enum):
    NAME = "NAME"
    ID = "ID"


@strawberry.enum(description="Orders of application lists.")
class AdmissionApplicationOrder(enum.Enum):
    PREFERENCE = "PREFERENCE"
    SCORE_DESC = "SCORE_DESC"
    ID = "ID"


@strawberry.enum(description="Orders of test result lists.")
class NationalTestResultOrder(enum.Enum):
    CERTIFICATE = "CERTIFICATE"
    ID = "ID"

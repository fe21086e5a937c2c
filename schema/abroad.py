"""Admission to foreign universities in the graph: programmes by country and the applications
moving through their stages to nomination."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import ForeignApplicationStatus as ForeignApplicationStatusEnum
from models import ForeignStage as ForeignStageEnum
from models import StageDecision as StageDecisionEnum
from models import StudyLevel as StudyLevelEnum
from resolvers import abroad as abroad_service
from resolvers.abroad.loaders import (
    FieldRulesByForeignProgrammeLoader,
    ForeignApplicationByIdLoader,
    ForeignProgrammeByIdLoader,
    StageResultsByForeignApplicationLoader,
)
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.mutations import perform
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    UserError,
    bounds,
    list_connection,
    require_signed_in,
    user_errors,
)
from schema.node import node_type, optional_pk, pk_of, query_pk

if TYPE_CHECKING:
    from schema.institutions import Institution
    from schema.people import Person

InstitutionT = Annotated["Institution", strawberry.lazy("schema.institutions")]
PersonT = Annotated["Person", strawberry.lazy("schema.people")]

strawberry.enum(StudyLevelEnum, name="StudyLevel", description="Bachelor, master or PhD.")
StudyLevel: TypeAlias = StudyLevelEnum
strawberry.enum(ForeignStageEnum, name="ForeignStage", description="A selection stage.")
ForeignStage: TypeAlias = ForeignStageEnum
strawberry.enum(
    ForeignApplicationStatusEnum,
    name="ForeignApplicationStatus",
    description="In progress, nominated or rejected.",
)
ForeignApplicationStatus: TypeAlias = ForeignApplicationStatusEnum
strawberry.enum(StageDecisionEnum, name="StageDecision", description="Passed or failed.")
StageDecision: TypeAlias = StageDecisionEnum


@strawberry.type(description="The minimum school average a programme asks in a field.")
class ForeignFieldRule:
    field_of_study: str = strawberry.field(description="Field code.")
    min_average: Decimal = strawberry.field(description="Minimum school average (5-point).")


@strawberry.type(description="A programme of study abroad under a government quota.")
class ForeignProgramme(Node):
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int | None]
    year: int = strawberry.field(description="Year of the selection.")
    country_code: str = strawberry.field(description="ISO 3166-1 country.")
    name: str = strawberry.field(description="Name of the programme.")
    level: StudyLevel = strawberry.field(description="Level of study.")
    quota: int = strawberry.field(description="Places in the quota.")
    nominated: int = strawberry.field(description="Applicants nominated so far.")
    opens_on: date = strawberry.field(description="Applications open.")
    closes_on: date = strawberry.field(description="Applications close.")
    min_age: int | None = strawberry.field(description="Youngest age admitted.")
    max_age: int | None = strawberry.field(description="Oldest age admitted.")
    age_on: date = strawberry.field(description="The date ages are counted at.")
    stages: list[ForeignStage] = strawberry.field(description="Selection stages, in order.")

    @classmethod
    def from_row(cls, row: Any) -> ForeignProgramme:
        return cls(
            id=strawberry.ID(encode_id("ForeignProgramme", row.id)),
            pk=row.id,
            institution_pk=row.institution_id,
            year=row.year,
            country_code=row.country_code,
            name=row.name,
            level=row.level,
            quota=row.quota,
            nominated=row.nominated,
            opens_on=row.opens_on,
            closes_on=row.closes_on,
            min_age=row.min_age,
            max_age=row.max_age,
            age_on=row.age_on,
            stages=[ForeignStageEnum(s) for s in row.stages],
        )

    @strawberry.field(description="The foreign university, if one is named.")
    async def institution(self, info: Info) -> InstitutionT | None:
        from schema.institutions import Institution

        if self.institution_pk is None:
            return None
        return Institution.from_row(
            await InstitutionByIdLoader(info.context).load(self.institution_pk)
        )

    @strawberry.field(description="Fields admitted and their minimum school average.")
    async def field_rules(self, info: Info) -> list[ForeignFieldRule]:
        rows = await FieldRulesByForeignProgrammeLoader(info.context).load(self.pk)
        return [
            ForeignFieldRule(field_of_study=r.field_of_study, min_average=r.min_average)
            for r in rows
        ]


@node_type("ForeignProgramme")
async def fetch_foreign_programme(ctx: Context, pk: int) -> ForeignProgramme | None:
    row = await ForeignProgrammeByIdLoader(ctx).load(pk)
    return ForeignProgramme.from_row(row) if row else None


@strawberry.type(description="What a stage decided about an application.")
class ForeignStageResult:
    stage: ForeignStage = strawberry.field(description="The stage.")
    score: Decimal | None = strawberry.field(description="Score, if the stage scores.")
    decision: StageDecision = strawberry.field(description="Passed or failed.")
    reason: str | None = strawberry.field(description="Why (always given on failure).")
    decided_at: datetime = strawberry.field(description="When.")


@strawberry.type(description="An applicant's way through a foreign programme's stages.")
class ForeignApplication(Node):
    pk: strawberry.Private[int]
    programme_pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    field_of_study: str = strawberry.field(description="Field of study applied for.")
    school_average: Decimal = strawberry.field(description="School average (5-point).")
    stage: ForeignStage = strawberry.field(description="Current (or last) stage.")
    status: ForeignApplicationStatus = strawberry.field(description="Where it stands.")
    created_at: datetime = strawberry.field(description="When it was submitted.")

    @classmethod
    def from_row(cls, row: Any) -> ForeignApplication:
        return cls(
            id=strawberry.ID(encode_id("ForeignApplication", row.id)),
            pk=row.id,
            programme_pk=row.programme_id,
            person_pk=row.person_id,
            field_of_study=row.field_of_study,
            school_average=row.school_average,
            stage=row.stage,
            status=row.status,
            created_at=row.created_at,
        )

    @strawberry.field(description="The programme.")
    async def programme(self, info: Info) -> ForeignProgramme:
        return ForeignProgramme.from_row(
            await ForeignProgrammeByIdLoader(info.context).load(self.programme_pk)
        )

    @strawberry.field(description="The applicant (null if you may not read them).")
    async def applicant(self, info: Info) -> PersonT | None:
        from schema.people import Person

        row = await PersonByIdLoader(info.context).load(self.person_pk)
        return Person.from_row(row) if row else None

    @strawberry.field(description="Every stage decided so far, in order.")
    async def stage_results(self, info: Info) -> list[ForeignStageResult]:
        rows = await StageResultsByForeignApplicationLoader(info.context).load(self.pk)
        return [
            ForeignStageResult(
                stage=r.stage,
                score=r.score,
                decision=r.decision,
                reason=r.reason,
                decided_at=r.decided_at,
            )
            for r in rows
        ]


@node_type("ForeignApplication")
async def fetch_foreign_application(ctx: Context, pk: int) -> ForeignApplication | None:
    row = await ForeignApplicationByIdLoader(ctx).load(pk)
    return ForeignApplication.from_row(row) if row else None


@strawberry.input(description="Narrow a foreign programme list; every field given must hold.")
class ForeignProgrammeFilterInput:
    country_code: str | None = strawberry.field(default=None, description="Only this country.")
    year: int | None = strawberry.field(default=None, description="Only this year.")
    level: StudyLevel | None = strawberry.field(default=None, description="Only this level.")
    open_on: date | None = strawberry.field(
        default=None, description="Only those accepting applications on this date."
    )


@strawberry.enum(description="Orders of foreign programme lists.")
class ForeignProgrammeOrder(enum.Enum):
    COUNTRY = "COUNTRY"
    ID = "ID"


@strawberry.input(description="Narrow a foreign application list.")
class ForeignApplicationFilterInput:
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this programme."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this applicant."
    )
    status: ForeignApplicationStatus | None = strawberry.field(
        default=None, description="Only this status."
    )


@strawberry.type
class Query:
    @strawberry.field(description="Programmes of study abroad (public).")
    async def foreign_programmes(
        self,
        info: Info,
        filter: ForeignProgrammeFilterInput | None = None,
        order_by: ForeignProgrammeOrder = ForeignProgrammeOrder.COUNTRY,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ForeignProgramme]:
        args = bounds(first, after, last, before)
        flt = filter or ForeignProgrammeFilterInput()
        if flt.country_code is not None and len(flt.country_code) != 2:
            raise RequestError(Code.INVALID_INPUT, "`countryCode` has two letters")
        stmt = abroad_service.programmes_query(
            abroad_service.ForeignProgrammeFilter(
                country_code=flt.country_code, year=flt.year, level=flt.level, open_on=flt.open_on
            )
        )
        ordering = abroad_service.PROGRAMME_ORDERINGS[order_by.value]
        return await list_connection(info.context, stmt, args, ordering, ForeignProgramme.from_row)

    @strawberry.field(description="Foreign applications you may read (your own, or all: ministry).")
    async def foreign_applications(
        self,
        info: Info,
        filter: ForeignApplicationFilterInput | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ForeignApplication]:
        require_signed_in(info.context, "Sign in to read applications")
        args = bounds(first, after, last, before)
        flt = filter or ForeignApplicationFilterInput()
        stmt = abroad_service.applications_query(
            info.context.principal,
            abroad_service.ForeignApplicationFilter(
                programme_id=query_pk(flt.programme_id, "ForeignProgramme")
                if flt.programme_id
                else None,
                person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
                status=flt.status,
            ),
        )
        ordering = abroad_service.APPLICATION_ORDERINGS["ID"]
        return await list_connection(
            info.context, stmt, args, ordering, ForeignApplication.from_row
        )


@strawberry.input(description="A field admitted and its minimum school average.")
class ForeignFieldRuleInput:
    field_of_study: str = strawberry.field(description="Field code.")
    min_average: Decimal = strawberry.field(description="Minimum school average (0-5).")


@strawberry.input(description="Announce a programme of study abroad.")
class CreateForeignProgrammeInput:
    year: int = strawberry.field(description="Year of the selection.")
    country_code: str = strawberry.field(description="ISO 3166-1 country (not KG).")
    name: str = strawberry.field(description="Name of the programme.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="The foreign university, if one."
    )
    level: StudyLevel = strawberry.field(description="Level of study.")
    quota: int = strawberry.field(description="Places in the quota.")
    opens_on: date = strawberry.field(description="Applications open.")
    closes_on: date = strawberry.field(description="Applications close.")
    min_age: int | None = strawberry.field(default=None, description="Youngest age admitted.")
    max_age: int | None = strawberry.field(default=None, description="Oldest age admitted.")
    age_on: date = strawberry.field(description="The date ages are counted at.")
    stages: list[ForeignStage] = strawberry.field(description="Stages in order, ending NOMINATION.")
    field_rules: list[ForeignFieldRuleInput] = strawberry.field(
        description="Fields admitted, with their minimum school average."
    )


@strawberry.type(description="Result of announcing a foreign programme.")
class ForeignProgrammePayload:
    programme: ForeignProgramme | None = strawberry.field(description="The programme.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Apply to a foreign programme.")
class ApplyToForeignProgrammeInput:
    programme_id: strawberry.ID = strawberry.field(description="The programme.")
    person_id: strawberry.ID = strawberry.field(description="The applicant.")
    field_of_study: str = strawberry.field(description="Field applied for.")
    school_average: Decimal = strawberry.field(description="School average (0-5).")


@strawberry.input(description="Record a stage's decision on an application.")
class AdvanceForeignApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    stage: ForeignStage = strawberry.field(description="The stage decided (the current one).")
    decision: StageDecision = strawberry.field(description="Passed or failed.")
    score: Decimal | None = strawberry.field(
        default=None, description="Score, if the stage scores."
    )
    reason: str | None = strawberry.field(default=None, description="Why (required on failure).")


@strawberry.type(description="Result of a foreign application mutation.")
class ForeignApplicationPayload:
    application: ForeignApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _application_payload(value: Any, problems: Any) -> ForeignApplicationPayload:
    return ForeignApplicationPayload(
        application=ForeignApplication.from_row(value) if value else None,
        user_errors=user_errors(problems),
    )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Announce a programme of study abroad (ministry).")
    async def create_foreign_programme(
        self, info: Info, input: CreateForeignProgrammeInput
    ) -> ForeignProgrammePayload:
        ctx = info.context
        require_signed_in(ctx)

        def values() -> dict[str, Any]:
            return {
                "year": input.year,
                "country_code": input.country_code,
                "name": input.name,
                "institution_id": optional_pk(
                    input.institution_id, "Institution", field="institutionId"
                ),
                "level": input.level,
                "quota": input.quota,
                "opens_on": input.opens_on,
                "closes_on": input.closes_on,
                "min_age": input.min_age,
                "max_age": input.max_age,
                "age_on": input.age_on,
                "stages": list(input.stages),
            }

        result = await perform(
            ctx,
            "abroad.create_programme",
            lambda s: abroad_service.create_foreign_programme(
                s,
                ctx.principal,
                values=values(),
                field_rules={r.field_of_study: r.min_average for r in input.field_rules},
            ),
        )
        return ForeignProgrammePayload(
            programme=ForeignProgramme.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(
        description="Apply to a foreign programme (the applicant or a guardian of a minor)."
    )
    async def apply_to_foreign_programme(
        self, info: Info, input: ApplyToForeignProgrammeInput
    ) -> ForeignApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "abroad.apply",
            lambda s: abroad_service.apply_to_foreign_programme(
                s,
                ctx.principal,
                programme_id=pk_of(input.programme_id, "ForeignProgramme", field="programmeId"),
                person_id=pk_of(input.person_id, "Person", field="personId"),
                field_of_study=input.field_of_study,
                school_average=input.school_average,
            ),
        )
        return _application_payload(result.value, result.problems)

    @strawberry.mutation(description="Record a stage's decision; nominate at the end (ministry).")
    async def advance_foreign_application(
        self, info: Info, input: AdvanceForeignApplicationInput
    ) -> ForeignApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "abroad.advance",
            lambda s: abroad_service.advance_foreign_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "ForeignApplication", field="applicationId"
                ),
                stage=input.stage,
                decision=input.decision,
                score=input.score,
                reason=input.reason,
            ),
        )
        return _application_payload(result.value, result.problems)

"""Study abroad's types: foreign programmes with their field rules, and applications with
the stages they passed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import ForeignApplicationStatus as ForeignApplicationStatusEnum
from models import ForeignStage as ForeignStageEnum
from models import StageDecision as StageDecisionEnum
from models import StudyLevel as StudyLevelEnum
from resolvers.abroad.loaders import (
    FieldRulesByForeignProgrammeLoader,
    ForeignApplicationByIdLoader,
    ForeignProgrammeByIdLoader,
    StageResultsByForeignApplicationLoader,
)
from resolvers.context import Info
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import encode_id
from schema.common import (
    Node,
)
from schema.node import fetched_by

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


@fetched_by(ForeignProgrammeByIdLoader)
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


@strawberry.type(description="What a stage decided about an application.")
class ForeignStageResult:
    stage: ForeignStage = strawberry.field(description="The stage.")
    score: Decimal | None = strawberry.field(description="Score, if the stage scores.")
    decision: StageDecision = strawberry.field(description="Passed or failed.")
    reason: str | None = strawberry.field(description="Why (always given on failure).")
    decided_at: datetime = strawberry.field(description="When.")


@fetched_by(ForeignApplicationByIdLoader)
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

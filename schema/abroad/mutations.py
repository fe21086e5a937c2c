"""Study abroad's mutations: the ministry announces programmes and decides stages; applicants
(or guardians of minors) apply."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import abroad as abroad_service
from resolvers.context import Context
from schema.abroad.types import (
    ForeignApplication,
    ForeignProgramme,
    ForeignStage,
    StageDecision,
    StudyLevel,
)
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.node import optional_pk, pk_of


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
class ForeignProgrammePayload(Payload):
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
class ForeignApplicationPayload(Payload):
    application: ForeignApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _programme_values(input: CreateForeignProgrammeInput) -> dict[str, Any]:
    return {
        "year": input.year,
        "country_code": input.country_code,
        "name": input.name,
        "institution_id": optional_pk(input.institution_id, "Institution", field="institutionId"),
        "level": input.level,
        "quota": input.quota,
        "opens_on": input.opens_on,
        "closes_on": input.closes_on,
        "min_age": input.min_age,
        "max_age": input.max_age,
        "age_on": input.age_on,
        "stages": list(input.stages),
    }


@strawberry.type
class Mutation:
    @mutation(
        "abroad.create_programme",
        ForeignProgrammePayload,
        description="Announce a programme of study abroad (ministry).",
    )
    async def create_foreign_programme(
        session: AsyncSession, ctx: Context, input: CreateForeignProgrammeInput
    ) -> Any:
        return await abroad_service.create_foreign_programme(
            session,
            ctx.principal,
            values=_programme_values(input),
            field_rules={r.field_of_study: r.min_average for r in input.field_rules},
        )

    @mutation(
        "abroad.apply",
        ForeignApplicationPayload,
        description="Apply to a foreign programme (the applicant or a guardian of a minor).",
    )
    async def apply_to_foreign_programme(
        session: AsyncSession, ctx: Context, input: ApplyToForeignProgrammeInput
    ) -> Any:
        return await abroad_service.apply_to_foreign_programme(
            session,
            ctx.principal,
            programme_id=pk_of(input.programme_id, "ForeignProgramme", field="programmeId"),
            person_id=pk_of(input.person_id, "Person", field="personId"),
            field_of_study=input.field_of_study,
            school_average=input.school_average,
        )

    @mutation(
        "abroad.advance",
        ForeignApplicationPayload,
        description="Record a stage's decision; nominate at the end (ministry).",
    )
    async def advance_foreign_application(
        session: AsyncSession, ctx: Context, input: AdvanceForeignApplicationInput
    ) -> Any:
        return await abroad_service.advance_foreign_application(
            session,
            ctx.principal,
            application_id=pk_of(input.application_id, "ForeignApplication", field="applicationId"),
            stage=input.stage,
            decision=input.decision,
            score=input.score,
            reason=input.reason,
        )

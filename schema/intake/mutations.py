"""The ministry's mutations on intake policy: a season's figures, a new season, the holiday
calendar."""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import intake as intake_service
from resolvers.context import Context
from schema.common import UserError
from schema.fields import Payload, mutation
from schema.intake.types import DeclineRule, IntakeKind, IntakeSeason, PublicHoliday
from schema.node import pk_of


@strawberry.input(description="A kindergarten age group.")
class AgeGroupInput:
    code: str = strawberry.field(description="Code, e.g. 3-4.")
    min_months: int = strawberry.field(description="Youngest age in months on 1 September.")
    max_months: int = strawberry.field(description="Age (months) from which a child is older.")
    group_size: int = strawberry.field(description="Most children one group holds.")


@strawberry.input(description="A benefit category.")
class BenefitCategoryInput:
    code: str = strawberry.field(description="Stable code.")
    name: str = strawberry.field(description="Name for people.")
    rank: int = strawberry.field(default=1, description="First-grade priority, 1 first.")


@strawberry.input(description="Changes to a season's policy; fields left out stay as they are.")
class UpdateIntakePolicyInput:
    season_id: strawberry.ID = strawberry.field(description="The season.")
    name: str | None = strawberry.field(default=None, description="Name.")
    starts_on: date | None = strawberry.field(default=None, description="First day.")
    ends_on: date | None = strawberry.field(default=None, description="Last day.")
    weekend_days: list[int] | None = strawberry.field(
        default=None, description="ISO weekdays that are not working days."
    )
    min_age_months: int | None = strawberry.field(default=None, description="Youngest age.")
    max_age_months: int | None = strawberry.field(default=None, description="Age limit.")
    max_preferences: int | None = strawberry.field(default=None, description="Most preferences.")
    offer_deadline_working_days: int | None = strawberry.field(
        default=None, description="Working days to accept an offer."
    )
    decline_rule: DeclineRule | None = strawberry.field(default=None, description="Decline rule.")
    stage1_starts: date | None = strawberry.field(default=None, description="Stage 1 opens.")
    stage1_ends: date | None = strawberry.field(default=None, description="Stage 1 closes.")
    stage2_starts: date | None = strawberry.field(default=None, description="Stage 2 opens.")
    stage2_ends: date | None = strawberry.field(default=None, description="Stage 2 closes.")
    class_size_max: int | None = strawberry.field(default=None, description="Class size limit.")
    grades_per_school: int | None = strawberry.field(
        default=None, description="Grades sharing a school's capacity."
    )
    grade1_birth_year_offset: int | None = strawberry.field(
        default=None, description="Grade 1 takes children born in year - this (grade 2: +1)."
    )
    preschool_programme_grade2: bool | None = strawberry.field(
        default=None, description="Pre-school programme lets a grade-1-age child enter grade 2."
    )
    sibling_priority: bool | None = strawberry.field(default=None, description="Sibling priority.")
    age_groups: list[AgeGroupInput] | None = strawberry.field(
        default=None, description="Replaces the season's age groups."
    )
    benefit_categories: list[BenefitCategoryInput] | None = strawberry.field(
        default=None, description="Replaces the season's benefit categories."
    )


@strawberry.type(description="Result of a season mutation.")
class IntakeSeasonPayload(Payload):
    season: IntakeSeason | None = strawberry.field(description="The season.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Open the season of a year, copying the latest season's policy.")
class OpenIntakeSeasonInput:
    kind: IntakeKind = strawberry.field(description="Which intake.")
    year: int = strawberry.field(description="The intake's year.")


@strawberry.input(description="A day the ministry decrees: a day off, or a working day.")
class PublicHolidayInput:
    date: dt.date = strawberry.field(description="The day.")
    name: str = strawberry.field(description="The holiday, or why the day is worked.")
    working: bool = strawberry.field(
        default=False,
        description="True: a working day (a weekend day worked in exchange, or a statutory "
        "holiday the decree moved elsewhere).",
    )


@strawberry.input(
    description="Replace a year's decreed days; statutory holidays are computed and need no row."
)
class SetPublicHolidaysInput:
    year: int = strawberry.field(description="Calendar year.")
    holidays: list[PublicHolidayInput] = strawberry.field(
        description="All of the year's decreed days."
    )


@strawberry.type(description="Result of setPublicHolidays.")
class SetPublicHolidaysPayload(Payload):
    holidays: list[PublicHoliday] = strawberry.field(description="The year's days off now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _changes(input: UpdateIntakePolicyInput) -> intake_service.PolicyChanges:
    return intake_service.PolicyChanges(
        name=input.name,
        starts_on=input.starts_on,
        ends_on=input.ends_on,
        weekend_days=input.weekend_days,
        min_age_months=input.min_age_months,
        max_age_months=input.max_age_months,
        max_preferences=input.max_preferences,
        offer_deadline_working_days=input.offer_deadline_working_days,
        decline_rule=input.decline_rule,
        stage1_starts=input.stage1_starts,
        stage1_ends=input.stage1_ends,
        stage2_starts=input.stage2_starts,
        stage2_ends=input.stage2_ends,
        class_size_max=input.class_size_max,
        grades_per_school=input.grades_per_school,
        grade1_birth_year_offset=input.grade1_birth_year_offset,
        preschool_programme_grade2=input.preschool_programme_grade2,
        sibling_priority=input.sibling_priority,
        age_groups=None
        if input.age_groups is None
        else [
            intake_service.AgeGroupRule(g.code, g.min_months, g.max_months, g.group_size)
            for g in input.age_groups
        ],
        benefit_categories=None
        if input.benefit_categories is None
        else [intake_service.BenefitRule(b.code, b.name, b.rank) for b in input.benefit_categories],
    )


@strawberry.type
class Mutation:
    @mutation(
        "intake.update_policy",
        IntakeSeasonPayload,
        description="Change a season's policy (ministry).",
    )
    async def update_intake_policy(
        session: AsyncSession, ctx: Context, input: UpdateIntakePolicyInput
    ) -> Any:
        return await intake_service.update_intake_policy(
            session,
            ctx.principal,
            season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
            changes=_changes(input),
        )

    @mutation(
        "intake.open_season",
        IntakeSeasonPayload,
        description="Open a new season with the latest season's policy (ministry).",
    )
    async def open_intake_season(
        session: AsyncSession, ctx: Context, input: OpenIntakeSeasonInput
    ) -> Any:
        return await intake_service.open_intake_season(
            session, ctx.principal, kind=input.kind, year=input.year
        )

    @mutation(
        "intake.set_public_holidays",
        SetPublicHolidaysPayload,
        description="Replace a year's decreed days off and working days (ministry).",
    )
    async def set_public_holidays(
        session: AsyncSession, ctx: Context, input: SetPublicHolidaysInput
    ) -> Any:
        return await intake_service.set_public_holidays(
            session,
            ctx.principal,
            year=input.year,
            days=[(h.date, h.name, h.working) for h in input.holidays],
        )

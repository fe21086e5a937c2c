"""Intake seasons and their policy (kindergarten queue, first-grade enrollment), the holiday
calendar, and the ministry's mutations that edit them."""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Any, TypeAlias

import strawberry
from sqlalchemy import select

from models import BenefitStatus as BenefitStatusEnum
from models import DeclineRule as DeclineRuleEnum
from models import IntakeKind as IntakeKindEnum
from models import IntakeSeason as IntakeSeasonModel
from models import PublicHoliday as PublicHolidayModel
from resolvers import intake as intake_service
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.intake.loaders import (
    AgeGroupsBySeasonLoader,
    BenefitCategoriesBySeasonLoader,
    BenefitCategoryByIdLoader,
    IntakeSeasonByIdLoader,
)
from resolvers.mutations import perform
from resolvers.relay import encode_id
from schema.common import Node, UserError, require_signed_in, user_errors
from schema.node import node_type, pk_of

strawberry.enum(IntakeKindEnum, name="IntakeKind", description="Which intake a season belongs to.")
IntakeKind: TypeAlias = IntakeKindEnum
strawberry.enum(
    DeclineRuleEnum,
    name="DeclineRule",
    description="What a declined or expired kindergarten offer does to the application.",
)
DeclineRule: TypeAlias = DeclineRuleEnum
strawberry.enum(
    BenefitStatusEnum, name="BenefitStatus", description="Where a claimed benefit's proof stands."
)
BenefitStatus: TypeAlias = BenefitStatusEnum


@strawberry.type(description="A kindergarten age group of a season: ages on 1 September.")
class AgeGroup:
    code: str = strawberry.field(description="The group's code, e.g. 3-4.")
    min_months: int = strawberry.field(description="Youngest age in the group, in months.")
    max_months: int = strawberry.field(description="Age (months) from which a child is older.")
    group_size: int = strawberry.field(description="Most children one group holds.")


@strawberry.type(description="A benefit category of a season.")
class BenefitCategory:
    pk: strawberry.Private[int]
    code: str = strawberry.field(description="Stable code, e.g. military.")
    name: str = strawberry.field(description="Name for people.")
    rank: int = strawberry.field(description="First-grade priority among categories, 1 first.")

    @classmethod
    def from_row(cls, row: Any) -> BenefitCategory:
        return cls(pk=row.id, code=row.code, name=row.name, rank=row.rank)


@strawberry.type(description="A public holiday: not a working day for deadlines.")
class PublicHoliday:
    date: dt.date = strawberry.field(description="The day.")
    name: str = strawberry.field(description="The holiday.")


@strawberry.type(
    description="One intake (a kindergarten year or a first-grade enrollment) and "
    "its policy: every figure here is set by the ministry per season."
)
class IntakeSeason(Node):
    pk: strawberry.Private[int]
    kind: IntakeKind = strawberry.field(description="Kindergarten or first grade.")
    year: int = strawberry.field(description="Year of the intake (groups and grades as of 1 Sep).")
    name: str = strawberry.field(description="Name of the season.")
    starts_on: date = strawberry.field(description="First day of the season.")
    ends_on: date = strawberry.field(description="Last day of the season.")
    school_year_starts: date = strawberry.field(description="First day of the school year.")
    weekend_days: list[int] = strawberry.field(
        description="ISO weekdays (1 = Monday) that are not working days."
    )
    min_age_months: int = strawberry.field(description="Youngest age (months) to register.")
    max_age_months: int = strawberry.field(description="Age (months) from which registration ends.")
    max_preferences: int = strawberry.field(description="Most kindergartens one application names.")
    offer_deadline_working_days: int = strawberry.field(
        description="Working days a family has to accept an offer and bring documents."
    )
    decline_rule: DeclineRule = strawberry.field(
        description="What a declined or expired offer does to the application."
    )
    stage1_starts: date | None = strawberry.field(description="Stage 1 (catchment) opens.")
    stage1_ends: date | None = strawberry.field(description="Stage 1 closes.")
    stage2_starts: date | None = strawberry.field(description="Stage 2 (actual residence) opens.")
    stage2_ends: date | None = strawberry.field(
        description="Stage 2 closes; directors enroll after."
    )
    class_size_max: int = strawberry.field(description="Most pupils one class holds.")
    grades_per_school: int = strawberry.field(
        description="Grades a school's design capacity is shared among (default quotas)."
    )
    grade1_birth_year: int = strawberry.field(description="Children born this year enter grade 1.")
    grade2_birth_year: int = strawberry.field(description="Children born this year enter grade 2.")
    preschool_programme_grade2: bool = strawberry.field(
        description="A grade-1-age child who finished the pre-school programme may enter grade 2."
    )
    sibling_priority: bool = strawberry.field(
        description="A sibling at the school gives priority after the catchment."
    )

    @classmethod
    def from_row(cls, row: Any) -> IntakeSeason:
        return cls(
            id=strawberry.ID(encode_id("IntakeSeason", row.id)),
            pk=row.id,
            kind=row.kind,
            year=row.year,
            name=row.name,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            school_year_starts=row.school_year_starts,
            weekend_days=list(row.weekend_days),
            min_age_months=row.min_age_months,
            max_age_months=row.max_age_months,
            max_preferences=row.max_preferences,
            offer_deadline_working_days=row.offer_deadline_working_days,
            decline_rule=row.decline_rule,
            stage1_starts=row.stage1_starts,
            stage1_ends=row.stage1_ends,
            stage2_starts=row.stage2_starts,
            stage2_ends=row.stage2_ends,
            class_size_max=row.class_size_max,
            grades_per_school=row.grades_per_school,
            grade1_birth_year=row.year - row.grade1_birth_year_offset,
            grade2_birth_year=row.year - row.grade2_birth_year_offset,
            preschool_programme_grade2=row.preschool_programme_grade2,
            sibling_priority=row.sibling_priority,
        )

    @strawberry.field(description="Kindergarten age groups, youngest first.")
    async def age_groups(self, info: Info) -> list[AgeGroup]:
        rows = await AgeGroupsBySeasonLoader(info.context).load(self.pk)
        return [
            AgeGroup(
                code=r.code,
                min_months=r.min_months,
                max_months=r.max_months,
                group_size=r.group_size,
            )
            for r in rows
        ]

    @strawberry.field(description="Benefit categories, by priority rank.")
    async def benefit_categories(self, info: Info) -> list[BenefitCategory]:
        rows = await BenefitCategoriesBySeasonLoader(info.context).load(self.pk)
        return [BenefitCategory.from_row(r) for r in rows]


@node_type("IntakeSeason")
async def fetch_intake_season(ctx: Context, pk: int) -> IntakeSeason | None:
    row = await IntakeSeasonByIdLoader(ctx).load(pk)
    return IntakeSeason.from_row(row) if row else None


async def season_of(info: Info, pk: int) -> IntakeSeason:
    return IntakeSeason.from_row(await IntakeSeasonByIdLoader(info.context).load(pk))


async def benefit_of(info: Info, pk: int | None) -> BenefitCategory | None:
    if pk is None:
        return None
    row = await BenefitCategoryByIdLoader(info.context).load(pk)
    return BenefitCategory.from_row(row) if row else None


MAX_SEASONS = 100


@strawberry.type
class Query:
    @strawberry.field(description="Intake seasons (public), newest first.")
    async def intake_seasons(
        self,
        info: Info,
        kind: Annotated[
            IntakeKind | None, strawberry.argument(description="Only seasons of this intake.")
        ] = None,
    ) -> list[IntakeSeason]:
        stmt = select(*IntakeSeasonModel.__table__.c).order_by(
            IntakeSeasonModel.year.desc(), IntakeSeasonModel.kind
        )
        if kind is not None:
            stmt = stmt.where(IntakeSeasonModel.kind == kind)
        rows = await info.context.run(lambda s: s.execute(stmt.limit(MAX_SEASONS)))
        return [IntakeSeason.from_row(r) for r in rows]

    @strawberry.field(description="Public holidays of a year (public).")
    async def public_holidays(
        self, info: Info, year: Annotated[int, strawberry.argument(description="Calendar year.")]
    ) -> list[PublicHoliday]:
        if not 2000 <= year <= 2100:
            raise RequestError(Code.INVALID_INPUT, "The year is out of range")
        stmt = (
            select(PublicHolidayModel.day, PublicHolidayModel.name)
            .where(PublicHolidayModel.day.between(date(year, 1, 1), date(year, 12, 31)))
            .order_by(PublicHolidayModel.day)
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [PublicHoliday(date=r.day, name=r.name) for r in rows]


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
class IntakeSeasonPayload:
    season: IntakeSeason | None = strawberry.field(description="The season.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Open the season of a year, copying the latest season's policy.")
class OpenIntakeSeasonInput:
    kind: IntakeKind = strawberry.field(description="Which intake.")
    year: int = strawberry.field(description="The intake's year.")


@strawberry.input(description="A public holiday.")
class PublicHolidayInput:
    date: dt.date = strawberry.field(description="The day.")
    name: str = strawberry.field(description="The holiday.")


@strawberry.input(description="Replace a year's public holidays.")
class SetPublicHolidaysInput:
    year: int = strawberry.field(description="Calendar year.")
    holidays: list[PublicHolidayInput] = strawberry.field(description="All of the year's days.")


@strawberry.type(description="Result of setPublicHolidays.")
class SetPublicHolidaysPayload:
    holidays: list[PublicHoliday] = strawberry.field(description="The year's holidays.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _season_payload(value: Any, problems: Any) -> IntakeSeasonPayload:
    return IntakeSeasonPayload(
        season=IntakeSeason.from_row(value) if value else None, user_errors=user_errors(problems)
    )


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
    @strawberry.mutation(description="Change a season's policy (ministry).")
    async def update_intake_policy(
        self, info: Info, input: UpdateIntakePolicyInput
    ) -> IntakeSeasonPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "intake.update_policy",
            lambda s: intake_service.update_intake_policy(
                s,
                ctx.principal,
                season_id=pk_of(input.season_id, "IntakeSeason", field="seasonId"),
                changes=_changes(input),
            ),
        )
        return _season_payload(result.value, result.problems)

    @strawberry.mutation(
        description="Open a new season with the latest season's policy (ministry)."
    )
    async def open_intake_season(
        self, info: Info, input: OpenIntakeSeasonInput
    ) -> IntakeSeasonPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "intake.open_season",
            lambda s: intake_service.open_intake_season(
                s, ctx.principal, kind=input.kind, year=input.year
            ),
        )
        return _season_payload(result.value, result.problems)

    @strawberry.mutation(description="Replace a year's public holidays (ministry).")
    async def set_public_holidays(
        self, info: Info, input: SetPublicHolidaysInput
    ) -> SetPublicHolidaysPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "intake.set_public_holidays",
            lambda s: intake_service.set_public_holidays(
                s,
                ctx.principal,
                year=input.year,
                days=[(h.date, h.name) for h in input.holidays],
            ),
        )
        return SetPublicHolidaysPayload(
            holidays=[PublicHoliday(date=h.day, name=h.name) for h in result.value or []],
            user_errors=user_errors(result.problems),
        )

"""Intake seasons and their policy (kindergarten queue, first-grade enrollment) in the graph:
the season node, its age groups and benefit categories, and the holiday calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date
from typing import Any, TypeAlias

import strawberry

from models import BenefitStatus as BenefitStatusEnum
from models import DeclineRule as DeclineRuleEnum
from models import IntakeKind as IntakeKindEnum
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.intake.loaders import (
    AgeGroupsBySeasonLoader,
    BenefitCategoriesBySeasonLoader,
    BenefitCategoryByIdLoader,
    IntakeSeasonByIdLoader,
)
from resolvers.loaders import KeyedLoader
from resolvers.relay import encode_id
from schema.common import Node
from schema.enrollments import Enrollment
from schema.node import fetched_by
from schema.people import Person

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

    @classmethod
    def from_row(cls, row: Any) -> PublicHoliday:
        return cls(date=row.day, name=row.name)


@fetched_by(IntakeSeasonByIdLoader)
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


async def season_of(info: Info, pk: int) -> IntakeSeason:
    return IntakeSeason.from_row(await IntakeSeasonByIdLoader(info.context).load(pk))


async def benefit_of(info: Info, pk: int | None) -> BenefitCategory | None:
    if pk is None:
        return None
    row = await BenefitCategoryByIdLoader(info.context).load(pk)
    return BenefitCategory.from_row(row) if row else None


async def applicant_of(
    info: Info, pk: int, loader: Callable[[Context], KeyedLoader[Any, Any]]
) -> Person | None:
    """The child or guardian of an application, read through the workflow's applicant loader
    (null if the caller may not read them)."""
    row = await loader(info.context).load(pk)
    return Person.from_row(row) if row else None


async def enrollment_of(info: Info, pk: int | None) -> Enrollment | None:
    """The enrollment an application led to, if any."""
    if pk is None:
        return None
    row = await EnrollmentByIdLoader(info.context).load(pk)
    return Enrollment.from_row(row) if row else None

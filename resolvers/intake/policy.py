"""The ministry's edits of intake policy: a season's figures, age groups and benefit
categories, opening next year's season, and the holiday calendar.

domain.md: "Dates and thresholds change every year: they are policy rows per admission season,
not literals." Every figure the two intake workflows use is edited here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BenefitCategory,
    DeclineRule,
    IntakeKind,
    IntakeSeason,
    KindergartenAgeGroup,
    PublicHoliday,
)
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.intake.calendar import CalendarDay, holidays_of_year
from resolvers.intake.errors import IntakeCode
from resolvers.intake.seasons import CODE_MAX, age_groups


@dataclass
class AgeGroupRule:
    code: str
    min_months: int
    max_months: int
    group_size: int


@dataclass
class BenefitRule:
    code: str
    name: str
    rank: int = 1


@dataclass
class PolicyChanges:
    """Fields of a season's policy to change; ``None`` leaves a field as it is. Lists, when
    given, replace the season's age groups or benefit categories as a whole."""

    name: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    weekend_days: list[int] | None = None
    min_age_months: int | None = None
    max_age_months: int | None = None
    max_preferences: int | None = None
    offer_deadline_working_days: int | None = None
    decline_rule: DeclineRule | None = None
    stage1_starts: date | None = None
    stage1_ends: date | None = None
    stage2_starts: date | None = None
    stage2_ends: date | None = None
    class_size_max: int | None = None
    grades_per_school: int | None = None
    grade1_birth_year_offset: int | None = None
    preschool_programme_grade2: bool | None = None
    sibling_priority: bool | None = None
    age_groups: list[AgeGroupRule] | None = None
    benefit_categories: list[BenefitRule] | None = None


SCALAR_POLICY = (
    "name",
    "starts_on",
    "ends_on",
    "min_age_months",
    "max_age_months",
    "max_preferences",
    "offer_deadline_working_days",
    "decline_rule",
    "stage1_starts",
    "stage1_ends",
    "stage2_starts",
    "stage2_ends",
    "class_size_max",
    "grades_per_school",
    "preschool_programme_grade2",
    "sibling_priority",
)


def _check_policy(season: IntakeSeason, changes: PolicyChanges) -> None:
    if changes.weekend_days is not None and (
        len(set(changes.weekend_days)) != len(changes.weekend_days)
        or not all(1 <= d <= 7 for d in changes.weekend_days)
        or len(changes.weekend_days) > 3
    ):
        raise DomainError(
            IntakeCode.INVALID_POLICY,
            "Weekend days are up to 3 distinct ISO weekdays (1 = Monday)",
            field="weekendDays",
        )
    if changes.name is not None and not 1 <= len(changes.name.strip()) <= 120:
        raise DomainError(IntakeCode.INVALID_POLICY, "A name is 1 to 120 characters", field="name")
    if changes.age_groups is not None:
        if season.kind != IntakeKind.KINDERGARTEN:
            raise DomainError(
                IntakeCode.INVALID_POLICY,
                "Only kindergarten seasons have age groups",
                field="ageGroups",
            )
        codes = [g.code.strip() for g in changes.age_groups]
        if not codes or len(set(codes)) != len(codes) or len(codes) > 10:
            raise DomainError(
                IntakeCode.INVALID_POLICY,
                "Give 1 to 10 age groups with distinct codes",
                field="ageGroups",
            )
        for g in changes.age_groups:
            if not (1 <= len(g.code.strip()) <= 16 and 0 <= g.min_months < g.max_months <= 120):
                raise DomainError(
                    IntakeCode.INVALID_POLICY,
                    "An age group has a code of 1-16 characters and 0 <= from < to <= 120 months",
                    field="ageGroups",
                )
    if changes.benefit_categories is not None:
        codes = [b.code.strip().lower() for b in changes.benefit_categories]
        if len(set(codes)) != len(codes) or len(codes) > 30:
            raise DomainError(
                IntakeCode.INVALID_POLICY,
                "Give at most 30 benefit categories with distinct codes",
                field="benefitCategories",
            )
        for b in changes.benefit_categories:
            if not (1 <= len(b.code.strip()) <= CODE_MAX and 1 <= len(b.name.strip()) <= 200):
                raise DomainError(
                    IntakeCode.INVALID_POLICY,
                    "A benefit category has a code (1-40) and a name (1-200 characters)",
                    field="benefitCategories",
                )


async def update_intake_policy(
    session: AsyncSession, principal: Principal, *, season_id: int, changes: PolicyChanges
) -> IntakeSeason:
    """Change a season's policy rows (ministry only).

    Rule (domain.md, preamble and the issue): every *configurable* figure is a row per season,
    editable by the ministry; the table's CHECK constraints refuse inconsistent values.
    """
    require(principal.is_ministry, "Only the ministry sets intake policy")
    season = await session.get(IntakeSeason, season_id, with_for_update=True)
    if season is None:
        raise NotFound("The season", field="seasonId")
    _check_policy(season, changes)
    for name in SCALAR_POLICY:
        value = getattr(changes, name)
        if value is not None:
            setattr(season, name, value.strip() if isinstance(value, str) else value)
    if changes.weekend_days is not None:
        season.weekend_days = sorted(changes.weekend_days)
    if changes.grade1_birth_year_offset is not None:
        season.grade1_birth_year_offset = changes.grade1_birth_year_offset
        season.grade2_birth_year_offset = changes.grade1_birth_year_offset + 1
    await session.flush()
    if changes.age_groups is not None:
        await session.execute(
            delete(KindergartenAgeGroup).where(KindergartenAgeGroup.season_id == season.id)
        )
        session.add_all(
            KindergartenAgeGroup(
                season_id=season.id,
                code=g.code.strip(),
                min_months=g.min_months,
                max_months=g.max_months,
                group_size=g.group_size,
            )
            for g in changes.age_groups
        )
        await session.flush()
    if changes.benefit_categories is not None:
        await _replace_benefits(session, season.id, changes.benefit_categories)
    await emit(
        session,
        topic="preschool.intake_policy_updated"
        if season.kind == IntakeKind.KINDERGARTEN
        else "enrollment.intake_policy_updated",
        aggregate_type="IntakeSeason",
        aggregate_id=season.id,
        payload={"kind": season.kind.value, "year": season.year},
    )
    return season


async def _replace_benefits(
    session: AsyncSession, season_id: int, rules: list[BenefitRule]
) -> None:
    """Replace a season's categories, keeping the rows (and applications' links) of codes that
    stay; a code still used by an application cannot be dropped (foreign key)."""
    existing = {
        b.code: b
        for b in await session.scalars(
            select(BenefitCategory).where(BenefitCategory.season_id == season_id)
        )
    }
    wanted = {r.code.strip().lower(): r for r in rules}
    for code, old in existing.items():
        if code not in wanted:
            await session.delete(old)
    for code, rule in wanted.items():
        row = existing.get(code)
        if row is None:
            session.add(
                BenefitCategory(
                    season_id=season_id, code=code, name=rule.name.strip(), rank=rule.rank
                )
            )
        else:
            row.name, row.rank = rule.name.strip(), rule.rank
    await session.flush()


async def open_intake_season(
    session: AsyncSession, principal: Principal, *, kind: IntakeKind, year: int
) -> IntakeSeason:
    """Open next year's season, copying the policy of the latest season of the same kind and
    moving its dates by the difference in years (ministry only)."""
    require(principal.is_ministry, "Only the ministry opens intake seasons")
    if not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "The year is out of range", field="year")
    exists_already = await session.scalar(
        select(IntakeSeason.id).where(IntakeSeason.kind == kind, IntakeSeason.year == year)
    )
    if exists_already is not None:
        raise DomainError(IntakeCode.SEASON_EXISTS, "This season exists already", field="year")
    template = await session.scalar(
        select(IntakeSeason).where(IntakeSeason.kind == kind).order_by(IntakeSeason.year.desc())
    )
    if template is None:
        raise NotFound("A season to copy the policy from", field="kind")
    shift = year - template.year

    def moved(d: date | None) -> date | None:
        if d is None:
            return None
        try:
            return d.replace(year=d.year + shift)
        except ValueError:  # 29 February
            return d.replace(year=d.year + shift, day=28)

    season = IntakeSeason(kind=kind, year=year)
    for column in IntakeSeason.__table__.c:
        if column.key in ("id", "kind", "year", "created_at", "updated_at"):
            continue
        value = getattr(template, column.key)
        setattr(season, column.key, moved(value) if isinstance(value, date) else value)
    season.name = template.name.replace(str(template.year), str(year)).replace(
        str(template.year + 1), str(year + 1)
    )
    session.add(season)
    await session.flush()
    for g in await age_groups(session, template.id):
        session.add(
            KindergartenAgeGroup(
                season_id=season.id,
                code=g.code,
                min_months=g.min_months,
                max_months=g.max_months,
                group_size=g.group_size,
            )
        )
    for b in await session.scalars(
        select(BenefitCategory).where(BenefitCategory.season_id == template.id)
    ):
        session.add(BenefitCategory(season_id=season.id, code=b.code, name=b.name, rank=b.rank))
    await session.flush()
    await emit(
        session,
        topic="preschool.season_opened"
        if kind == IntakeKind.KINDERGARTEN
        else "enrollment.season_opened",
        aggregate_type="IntakeSeason",
        aggregate_id=season.id,
        payload={"kind": kind.value, "year": year},
    )
    return season


async def set_public_holidays(
    session: AsyncSession,
    principal: Principal,
    *,
    year: int,
    days: list[tuple[date, str, bool]],
) -> list[CalendarDay]:
    """Replace one year's decreed days (ministry only): days off and working days that
    override the statutory calendar working-day deadlines are counted on."""
    require(principal.is_ministry, "Only the ministry keeps the holiday calendar")
    if not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "The year is out of range", field="year")
    if len(days) > 40 or len({d for d, _, _ in days}) != len(days):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Give at most 40 distinct days", field="holidays"
        )
    for day, name, _ in days:
        if day.year != year:
            raise DomainError(
                ErrorCode.INVALID_DATE, f"{day.isoformat()} is not in {year}", field="holidays"
            )
        if not 1 <= len(name.strip()) <= 200:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "A holiday's name is 1-200 characters", field="holidays"
            )
    await session.execute(
        delete(PublicHoliday).where(
            PublicHoliday.day >= date(year, 1, 1), PublicHoliday.day <= date(year, 12, 31)
        )
    )
    rows = [PublicHoliday(day=d, name=n.strip(), working=w) for d, n, w in sorted(days)]
    session.add_all(rows)
    await session.flush()
    await emit(
        session,
        topic="preschool.holidays_updated",
        aggregate_type="PublicHolidayYear",
        aggregate_id=year,
        payload={"days": len(rows)},
    )
    return await holidays_of_year(session, year)

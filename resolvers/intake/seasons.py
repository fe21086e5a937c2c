"""The season a workflow runs in, its age groups and benefit categories, ages in months
(working-day deadlines: ``calendar``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BenefitCategory, IntakeKind, IntakeSeason, KindergartenAgeGroup
from resolvers.errors import DomainError
from resolvers.intake.errors import IntakeCode

CODE_MAX = 40


async def current_season(
    session: AsyncSession,
    kind: IntakeKind,
    on: date,
    *,
    opens: Any = IntakeSeason.starts_on,
    field: str | None = None,
) -> IntakeSeason:
    """The season of ``kind`` running on ``on`` (the latest one if seasons overlap). A season
    runs from its ``opens`` date (its first day; first-grade applications: stage 1) to its
    last day."""
    season = await session.scalar(
        select(IntakeSeason)
        .where(IntakeSeason.kind == kind, opens <= on, IntakeSeason.ends_on >= on)
        .order_by(IntakeSeason.year.desc())
        .limit(1)
    )
    if season is None:
        raise DomainError(
            IntakeCode.SEASON_CLOSED,
            f"No {kind.value.replace('_', '-')} season is open today",
            field=field,
        )
    return season


async def age_groups(session: AsyncSession, season_id: int) -> list[KindergartenAgeGroup]:
    """The season's age groups, youngest first."""
    rows = await session.scalars(
        select(KindergartenAgeGroup)
        .where(KindergartenAgeGroup.season_id == season_id)
        .order_by(KindergartenAgeGroup.min_months)
    )
    return list(rows)


async def benefit_category(
    session: AsyncSession, season_id: int, code: str | None, *, field: str
) -> BenefitCategory | None:
    """The season's benefit category with this code; an unknown code is the caller's error."""
    if code is None or not code.strip():
        return None
    found = await session.scalar(
        select(BenefitCategory).where(
            BenefitCategory.season_id == season_id, BenefitCategory.code == code.strip().lower()
        )
    )
    if found is None:
        raise DomainError(
            IntakeCode.UNKNOWN_BENEFIT_CATEGORY,
            f"{code.strip()[:CODE_MAX]!r} is not a benefit category of this season",
            field=field,
        )
    return found


def months_between(born: date, on: date) -> int:
    """Whole months of age on ``on``."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    return months - 1 if on.day < born.day else months

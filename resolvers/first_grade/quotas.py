"""Schools' places per entry grade and season (domain.md F5): set by a school or an officer,
or made from the school's design capacity when allocation finds none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    FirstGradeApplication,
    FirstGradeQuota,
    Institution,
    InstitutionKind,
    IntakeSeason,
)
from resolvers.access import Principal
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import emit
from resolvers.first_grade.eligibility import first_grade_season
from resolvers.first_grade.errors import FirstGradeCode
from resolvers.first_grade.rules import PENDING
from resolvers.intake import managed_intake_institution

FGA = FirstGradeApplication
# Free places of a (school, entry grade).
FreePlaces = dict[tuple[int, int], int]


async def set_quota(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    school_id: int,
    grade_level: int,
    classes: int,
    places: int,
) -> FirstGradeQuota:
    """Set a school's places in an entry grade (domain.md: quotas from design capacity; a
    class holds at most 36 pupils, season policy). Places already admitted stay admitted: the
    quota cannot drop below them (CHECK constraint)."""
    school = await managed_intake_institution(session, principal, school_id, InstitutionKind.SCHOOL)
    season = await first_grade_season(session, season_id)
    if grade_level not in (1, 2):
        raise DomainError(
            FirstGradeCode.INVALID_GRADE, "Entry grades are 1 and 2", field="gradeLevel"
        )
    if classes < 0 or places < 0 or classes > 30:
        raise DomainError(ErrorCode.INVALID_INPUT, "Classes are 0 to 30", field="classes")
    if places > classes * season.class_size_max:
        raise DomainError(
            FirstGradeCode.CLASS_SIZE_EXCEEDED,
            f"{classes} class(es) hold at most {classes * season.class_size_max} pupils",
            field="places",
        )
    stmt = (
        pg_insert(FirstGradeQuota)
        .values(
            season_id=season.id,
            school_id=school.id,
            grade_level=grade_level,
            classes=classes,
            places=places,
        )
        .on_conflict_do_update(
            constraint="uq_first_grade_quota_grade",
            set_={"classes": classes, "places": places},
        )
        .returning(FirstGradeQuota.id)
    )
    quota_id = (await session.execute(stmt)).scalar_one()
    quota = await session.get(FirstGradeQuota, quota_id, populate_existing=True)
    assert quota is not None
    await emit(
        session,
        topic="enrollment.first_grade_quota_set",
        aggregate_type="FirstGradeQuota",
        aggregate_id=quota.id,
        payload={"school_id": school.id, "grade_level": grade_level, "places": places},
    )
    return quota


async def add_default_quotas(
    session: AsyncSession, season: IntakeSeason, schools: Select[Any]
) -> None:
    """Give the schools applied to that have no quota one from their design capacity: the
    capacity shared among the season's grades, in classes of at most the season's class
    size."""
    places = func.coalesce(Institution.design_capacity, 0) / season.grades_per_school
    classes = func.ceil(places / float(season.class_size_max))
    needed = (
        select(
            literal(season.id),
            FGA.school_id,
            FGA.grade_level,
            classes,
            func.least(places, classes * season.class_size_max),
        )
        .join(Institution, Institution.id == FGA.school_id)
        .where(FGA.season_id == season.id, FGA.status.in_(PENDING), FGA.school_id.in_(schools))
        .distinct()
        # Rows are inserted in one order by every allocation, so two inserting the same
        # schools' quotas wait for each other in that order (resolvers/locks.py).
        .order_by(FGA.school_id, FGA.grade_level)
    )
    await session.execute(
        pg_insert(FirstGradeQuota)
        .from_select(["season_id", "school_id", "grade_level", "classes", "places"], needed)
        .on_conflict_do_nothing(constraint="uq_first_grade_quota_grade")
    )


async def free_places_for_update(
    session: AsyncSession, season_id: int, schools: Select[Any]
) -> FreePlaces:
    """The schools' free places per entry grade, their quota rows locked ``FOR UPDATE`` so
    that concurrent allocations never overfill a school."""
    return {
        (row.school_id, row.grade_level): row.places - row.admitted
        for row in await session.execute(
            select(
                FirstGradeQuota.school_id,
                FirstGradeQuota.grade_level,
                FirstGradeQuota.places,
                FirstGradeQuota.admitted,
            )
            .where(FirstGradeQuota.season_id == season_id, FirstGradeQuota.school_id.in_(schools))
            .order_by(FirstGradeQuota.id)
            .with_for_update()
        )
    }

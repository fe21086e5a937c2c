"""Admission to first grade: the one path every admission takes, opening the school
enrollment and ending what the child leaves behind (a kindergarten place, a queue entry)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    EducationLevel,
    Enrollment,
    FirstGradeApplication,
    FirstGradeQuota,
    FirstGradeStatus,
    IntakeSeason,
    Sector,
)
from resolvers import licensing as licensing_service
from resolvers import preschool as preschool_service
from resolvers.access import Principal
from resolvers.first_grade.eligibility import licence_days
from resolvers.first_grade.events import HISTORY, emit_for
from resolvers.first_grade.rules import PENDING
from resolvers.intake import any_of

FGA = FirstGradeApplication


async def _require_licences(
    session: AsyncSession, application_ids: Sequence[int], season: IntakeSeason
) -> None:
    """Every school admitting holds the licence it needs today and on the first school day."""
    school_ids = list(
        await session.scalars(
            select(FGA.school_id).where(any_of(FGA.id, application_ids)).distinct()
        )
    )
    for day in licence_days(season):
        await licensing_service.require_teaching_licences(
            session,
            institution_ids=school_ids,
            on=day,
            level=EducationLevel.PRIMARY,
            field="schoolId",
        )


async def _open_school_enrollments(
    session: AsyncSession, season_id: int, application_ids: Sequence[int], start: date
) -> None:
    """Open each child's school enrollment in the entry grade, link it to the application, now
    admitted, and count the admissions against their schools' quotas (CHECK ``admitted <=
    places``): one statement, the enrollments' INSERT and the quotas' UPDATE its CTEs (issue
    21: statements per mutation)."""
    opened = (
        insert(Enrollment)
        .from_select(
            ["person_id", "institution_id", "grade_level", "sector", "entry_date"],
            select(
                FGA.child_id,
                FGA.school_id,
                FGA.grade_level,
                literal(Sector.SCHOOL.value),
                literal(start),
            ).where(any_of(FGA.id, application_ids), FGA.status.in_(PENDING)),
        )
        .returning(Enrollment.id, Enrollment.person_id, Enrollment.institution_id)
        .cte("opened")
    )
    await session.execute(
        update(FGA)
        .where(
            any_of(FGA.id, application_ids),
            opened.c.person_id == FGA.child_id,
            opened.c.institution_id == FGA.school_id,
        )
        .values(status=FirstGradeStatus.ADMITTED, enrollment_id=opened.c.id, updated_at=func.now())
        .add_cte(_count_against_quotas(season_id, application_ids))
        .execution_options(synchronize_session=False)
    )


def _count_against_quotas(season_id: int, application_ids: Sequence[int]) -> Any:
    """The UPDATE adding the admissions to their schools' quotas, as a CTE."""
    counts = (
        select(FGA.school_id, FGA.grade_level, FGA.language, func.count().label("n"))
        .where(any_of(FGA.id, application_ids))
        .group_by(FGA.school_id, FGA.grade_level, FGA.language)
        .subquery()
    )
    return (
        update(FirstGradeQuota)
        .where(
            FirstGradeQuota.season_id == season_id,
            FirstGradeQuota.school_id == counts.c.school_id,
            FirstGradeQuota.grade_level == counts.c.grade_level,
            FirstGradeQuota.language == counts.c.language,
        )
        .values(admitted=FirstGradeQuota.admitted + counts.c.n)
        .returning(FirstGradeQuota.id)
        .cte("counted")
    )


async def admit_to_first_grade(
    session: AsyncSession,
    principal: Principal,
    *,
    season: IntakeSeason,
    application_ids: Sequence[int],
    children: Sequence[int] | None = None,
    licences_held: bool = False,
) -> None:
    """Admit applications: the one path every first-grade admission takes.

    In one transaction (issue 3, "one person, one record, across systems"; domain.md K7): the
    children leave the kindergarten side first (``preschool_service.leave_for_school``: the
    kindergarten enrollment ends on the school year's start date, queue applications and live
    offers are cancelled, the seats go back to free places), then each child's school
    enrollment opens on that date in the entry grade and counts against the school's quota
    (CHECK ``admitted <= places``). Every school admitting holds the licence it needs, in force
    today and on the first school day, covering primary education (``LICENCE_REQUIRED``,
    issue 5).

    The caller holds the children's person rows, the schools' quota rows and the applications
    (steps 1-3 of ``resolvers/locks.py``): allocation takes them in that order. ``children``:
    the applications' children when the caller has them; ``licences_held``: the caller has
    read, ``FOR SHARE``, the licence each admitting school needs on these days and still holds
    it (allocation does so as it picks the schools), so it is not read again.
    """
    if not application_ids:
        return
    start = season.school_year_starts
    if not licences_held:
        await _require_licences(session, application_ids, season)
    if children is None:
        children = list(
            await session.scalars(select(FGA.child_id).where(any_of(FGA.id, application_ids)))
        )
    await preschool_service.leave_for_school(session, principal.subject, children, start)
    await _open_school_enrollments(session, season.id, application_ids, start)
    await HISTORY.record(session, principal.subject, application_ids, FirstGradeStatus.ADMITTED)
    await emit_for(session, "enrollment.first_grade_admitted", application_ids)

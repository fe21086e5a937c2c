"""First-grade enrollment's lists: applications narrowed by who may read them, and schools'
quotas (public)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from models import FirstGradeApplication, FirstGradeQuota, FirstGradeStatus
from resolvers.access import Principal
from resolvers.first_grade.rules import application_readable
from resolvers.relay import Ordering

FGA = FirstGradeApplication
APPLICATION_COLUMNS = tuple(FGA.__table__.c)
QUOTA_COLUMNS = tuple(FirstGradeQuota.__table__.c)

APPLICATION_ORDERINGS = {
    "APPLIED_AT": Ordering(((FGA.applied_at, False), (FGA.id, False))),
    "CATCHMENT_FIRST": Ordering(((FGA.catchment, True), (FGA.applied_at, False), (FGA.id, False))),
    "ID": Ordering(((FGA.id, False),)),
}


@dataclass(frozen=True)
class ApplicationFilter:
    season_id: int | None = None
    school_id: int | None = None
    status: FirstGradeStatus | None = None
    grade_level: int | None = None
    child_id: int | None = None


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    """Applications the principal may read, narrowed by the filter."""
    stmt = select(*APPLICATION_COLUMNS).where(application_readable(principal))
    if flt.season_id is not None:
        stmt = stmt.where(FGA.season_id == flt.season_id)
    if flt.school_id is not None:
        stmt = stmt.where(FGA.school_id == flt.school_id)
    if flt.status is not None:
        stmt = stmt.where(FGA.status == flt.status)
    if flt.grade_level is not None:
        stmt = stmt.where(FGA.grade_level == flt.grade_level)
    if flt.child_id is not None:
        stmt = stmt.where(FGA.child_id == flt.child_id)
    return stmt


def quotas_query(season_id: int, school_id: int) -> Select[Any]:
    """A school's entry-grade quotas of a season, grade 1 first (public figures)."""
    return (
        select(*QUOTA_COLUMNS)
        .where(FirstGradeQuota.season_id == season_id, FirstGradeQuota.school_id == school_id)
        .order_by(FirstGradeQuota.grade_level, FirstGradeQuota.language)
    )

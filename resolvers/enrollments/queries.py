"""Enrollment lists: who the caller may read, narrowed by a filter, and their orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from models import Enrollment, Institution, Sector
from resolvers.access import Principal
from resolvers.enrollments.rules import enrollment_readable
from resolvers.relay import Ordering

ENROLLMENT_COLUMNS = tuple(Enrollment.__table__.c)

ENROLLMENT_ORDERINGS = {
    "ENTRY_DATE": Ordering(((Enrollment.entry_date, False), (Enrollment.id, False))),
    "ENTRY_DATE_DESC": Ordering(((Enrollment.entry_date, True), (Enrollment.id, True))),
    "ID": Ordering(((Enrollment.id, False),)),
}


@dataclass(frozen=True)
class EnrollmentFilter:
    current: bool | None = None
    sector: Sector | None = None
    grade_level: int | None = None
    class_group: str | None = None
    institution_id: int | None = None
    region_id: int | None = None


def enrollment_filter_clauses(flt: EnrollmentFilter) -> list[Any]:
    clauses: list[Any] = []
    if flt.current is True:
        clauses.append(Enrollment.exit_date.is_(None))
    elif flt.current is False:
        clauses.append(Enrollment.exit_date.is_not(None))
    if flt.sector is not None:
        clauses.append(Enrollment.sector == flt.sector)
    if flt.grade_level is not None:
        clauses.append(Enrollment.grade_level == flt.grade_level)
    if flt.class_group is not None:
        clauses.append(Enrollment.class_group == flt.class_group)
    if flt.institution_id is not None:
        clauses.append(Enrollment.institution_id == flt.institution_id)
    if flt.region_id is not None:
        clauses.append(
            Enrollment.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt.region_id)
            )
        )
    return clauses


def enrollments_query(principal: Principal, flt: EnrollmentFilter) -> Select[Any]:
    return select(*ENROLLMENT_COLUMNS).where(
        enrollment_readable(principal), *enrollment_filter_clauses(flt)
    )

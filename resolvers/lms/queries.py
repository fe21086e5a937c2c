"""The LMS's root lists: academic years (public) and classes (those the caller may read)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from models import AcademicYear, ClassGroup
from resolvers.access import Principal
from resolvers.lms.rules import class_readable
from resolvers.relay import Ordering

ACADEMIC_YEAR_ORDER = Ordering(((AcademicYear.starts_on, True), (AcademicYear.id, True)))
CLASS_ORDER = Ordering(
    (
        (ClassGroup.institution_id, False),
        (ClassGroup.grade, False),
        (ClassGroup.letter, False),
        (ClassGroup.id, False),
    )
)


def academic_years_query() -> Select[Any]:
    return select(*AcademicYear.__table__.c)


@dataclass(frozen=True)
class ClassFilter:
    school_id: int | None = None
    academic_year_id: int | None = None
    grade: int | None = None


def class_groups_query(principal: Principal, flt: ClassFilter) -> Select[Any]:
    stmt = select(*ClassGroup.__table__.c).where(class_readable(principal))
    if flt.school_id is not None:
        stmt = stmt.where(ClassGroup.institution_id == flt.school_id)
    if flt.academic_year_id is not None:
        stmt = stmt.where(ClassGroup.academic_year_id == flt.academic_year_id)
    if flt.grade is not None:
        stmt = stmt.where(ClassGroup.grade == flt.grade)
    return stmt

"""Enrollment lists' arguments (filter, order) and pages: apart from the Enrollment type, so
the types that list enrollments (a person's, an institution's) import them without importing
the Enrollment type, which refers back to them (the graph's own cycle, named not imported)."""

from __future__ import annotations

import enum
from typing import TypeAlias

import strawberry

from models import ExitReason as ExitReasonEnum
from models import Sector as SectorEnum
from resolvers import enrollments as enrollments_service
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.loaders import PagesByParent
from schema.fields import ChildPages
from schema.node import node_class, query_pk

strawberry.enum(SectorEnum, name="Sector", description="Level of education of an enrollment.")
Sector: TypeAlias = SectorEnum
strawberry.enum(ExitReasonEnum, name="ExitReason", description="Why an enrollment ended.")
ExitReason: TypeAlias = ExitReasonEnum


@strawberry.input(description="Narrow an enrollment list; every field given must hold.")
class EnrollmentFilterInput:
    current: bool | None = strawberry.field(
        default=None, description="Only open (true) or only ended (false) enrollments."
    )
    sector: Sector | None = strawberry.field(default=None, description="Only this level.")
    grade_level: int | None = strawberry.field(default=None, description="Only this grade.")
    class_group: str | None = strawberry.field(default=None, description="Only this class.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only at this institution (root list)."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only at institutions of this region (root list)."
    )


@strawberry.enum(description="Orders of enrollment lists.")
class EnrollmentOrder(enum.Enum):
    ENTRY_DATE = "ENTRY_DATE"
    ENTRY_DATE_DESC = "ENTRY_DATE_DESC"
    ID = "ID"


def enrollment_filter(flt: EnrollmentFilterInput | None) -> enrollments_service.EnrollmentFilter:
    if flt is None:
        return enrollments_service.EnrollmentFilter()
    if flt.class_group is not None and len(flt.class_group) > 20:
        raise RequestError(Code.INVALID_INPUT, "`classGroup` is at most 20 characters")
    return enrollments_service.EnrollmentFilter(
        current=flt.current,
        sector=flt.sector,
        grade_level=flt.grade_level,
        class_group=flt.class_group,
        institution_id=query_pk(flt.institution_id, "Institution") if flt.institution_id else None,
        region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
    )


def enrollment_pages(
    loader: PagesByParent,
    parent_id: int,
    filter: EnrollmentFilterInput | None,
    order_by: EnrollmentOrder | None,
    *,
    default: EnrollmentOrder,
) -> ChildPages:
    """A parent's enrollments (a person's, an institution's), a page per parent."""
    ordering = enrollments_service.ENROLLMENT_ORDERINGS[(order_by or default).name]
    return ChildPages(
        loader, parent_id, enrollment_filter(filter), ordering, node_class("Enrollment").from_row
    )

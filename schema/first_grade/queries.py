"""First-grade enrollment's root fields: the applications a caller may read, and schools'
quotas (public)."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from resolvers import first_grade as first_grade_service
from resolvers.context import Context, Info
from schema.common import Connection
from schema.fields import Listing, connection
from schema.first_grade.types import (
    FirstGradeApplication,
    FirstGradeApplicationStatus,
    FirstGradeQuota,
)
from schema.node import query_pk
from schema.permissions import signed_in


@strawberry.input(description="Narrow the application list; every field given must hold.")
class FirstGradeApplicationFilter:
    season_id: strawberry.ID | None = strawberry.field(default=None, description="This season.")
    school_id: strawberry.ID | None = strawberry.field(default=None, description="This school.")
    status: FirstGradeApplicationStatus | None = strawberry.field(
        default=None, description="This status."
    )
    grade_level: int | None = strawberry.field(default=None, description="This entry grade.")
    child_id: strawberry.ID | None = strawberry.field(default=None, description="This child.")


@strawberry.enum(description="Orders of the first-grade application list.")
class FirstGradeApplicationOrder(enum.Enum):
    APPLIED_AT = "APPLIED_AT"
    CATCHMENT_FIRST = "CATCHMENT_FIRST"
    ID = "ID"


def _filter(flt: FirstGradeApplicationFilter | None) -> first_grade_service.ApplicationFilter:
    if flt is None:
        return first_grade_service.ApplicationFilter()
    return first_grade_service.ApplicationFilter(
        season_id=query_pk(flt.season_id, "IntakeSeason") if flt.season_id else None,
        school_id=query_pk(flt.school_id, "Institution") if flt.school_id else None,
        status=flt.status,
        grade_level=flt.grade_level,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


@strawberry.type
class Query:
    @connection(
        Connection[FirstGradeApplication],
        description="First-grade applications you may read: a guardian their children's, a "
        "school admin their school's, officers their district's or region's, the ministry all.",
        permission_classes=[signed_in("Sign in to read applications")],
    )
    def first_grade_applications(
        self,
        ctx: Context,
        filter: FirstGradeApplicationFilter | None = None,
        order_by: FirstGradeApplicationOrder = FirstGradeApplicationOrder.APPLIED_AT,
    ) -> Listing:
        stmt = first_grade_service.applications_query(ctx.principal, _filter(filter))
        ordering = first_grade_service.APPLICATION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, FirstGradeApplication.from_row)

    @strawberry.field(description="A school's entry-grade quotas for a season (public).")
    async def first_grade_quotas(
        self,
        info: Info,
        season_id: Annotated[strawberry.ID, strawberry.argument(description="The season.")],
        school_id: Annotated[strawberry.ID, strawberry.argument(description="The school.")],
    ) -> list[FirstGradeQuota]:
        stmt = first_grade_service.quotas_query(
            query_pk(season_id, "IntakeSeason"), query_pk(school_id, "Institution")
        )
        rows = await info.context.run(lambda s: s.execute(stmt))
        return [FirstGradeQuota.from_row(r) for r in rows]

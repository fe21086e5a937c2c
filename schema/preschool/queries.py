"""The kindergarten queue's root fields: the applications a caller may read, and a
kindergarten's free places (public)."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry

from resolvers import preschool as preschool_service
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.common import Connection
from schema.fields import Listing, connection
from schema.node import query_pk
from schema.permissions import signed_in
from schema.preschool.types import (
    KindergartenApplication,
    KindergartenApplicationStatus,
    KindergartenPlaces,
)


@strawberry.input(description="Narrow the application list; every field given must hold.")
class KindergartenApplicationFilter:
    status: KindergartenApplicationStatus | None = strawberry.field(
        default=None, description="Only in this status."
    )
    kindergarten_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only those naming this kindergarten."
    )
    age_group: str | None = strawberry.field(default=None, description="Only this age group.")
    intake_year: int | None = strawberry.field(default=None, description="Only this intake.")
    child_id: strawberry.ID | None = strawberry.field(default=None, description="Only this child.")


@strawberry.enum(description="Orders of the kindergarten application list.")
class KindergartenApplicationOrder(enum.Enum):
    QUEUE = "QUEUE"
    REGISTERED_AT = "REGISTERED_AT"
    ID = "ID"


def _filter(flt: KindergartenApplicationFilter | None) -> preschool_service.ApplicationFilter:
    if flt is None:
        return preschool_service.ApplicationFilter()
    if flt.age_group is not None and len(flt.age_group) > 16:
        raise RequestError(Code.INVALID_INPUT, "`ageGroup` is at most 16 characters")
    return preschool_service.ApplicationFilter(
        status=flt.status,
        kindergarten_id=query_pk(flt.kindergarten_id, "Institution")
        if flt.kindergarten_id
        else None,
        age_group=flt.age_group,
        intake_year=flt.intake_year,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


@strawberry.type
class Query:
    @connection(
        Connection[KindergartenApplication],
        description="Kindergarten applications you may read: a guardian their children's, an "
        "officer those naming their kindergartens, the ministry all.",
        permission_classes=[signed_in("Sign in to read applications")],
    )
    def kindergarten_applications(
        self,
        ctx: Context,
        filter: KindergartenApplicationFilter | None = None,
        order_by: KindergartenApplicationOrder = KindergartenApplicationOrder.QUEUE,
    ) -> Listing:
        stmt = preschool_service.applications_query(ctx.principal, _filter(filter))
        ordering = preschool_service.APPLICATION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, KindergartenApplication.from_row)

    @strawberry.field(description="A kindergarten's free places this season, per age group.")
    async def kindergarten_places(
        self,
        info: Info,
        kindergarten_id: Annotated[
            strawberry.ID, strawberry.argument(description="The kindergarten.")
        ],
    ) -> list[KindergartenPlaces]:
        pk = query_pk(kindergarten_id, "Institution")
        rows = await info.context.run(lambda s: preschool_service.kindergarten_places(s, pk))
        return [KindergartenPlaces.from_row(r) for r in rows]

"""Study abroad's root lists: the public programmes and the applications you may read."""

from __future__ import annotations

import enum
from datetime import date

import strawberry

from resolvers import abroad as abroad_service
from resolvers.context import Context
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.abroad.types import (
    ForeignApplication,
    ForeignApplicationStatus,
    ForeignProgramme,
    StudyLevel,
)
from schema.common import Connection
from schema.fields import Listing, connection
from schema.node import query_pk
from schema.permissions import signed_in


@strawberry.input(description="Narrow a foreign programme list; every field given must hold.")
class ForeignProgrammeFilterInput:
    country_code: str | None = strawberry.field(default=None, description="Only this country.")
    year: int | None = strawberry.field(default=None, description="Only this year.")
    level: StudyLevel | None = strawberry.field(default=None, description="Only this level.")
    open_on: date | None = strawberry.field(
        default=None, description="Only those accepting applications on this date."
    )


@strawberry.enum(description="Orders of foreign programme lists.")
class ForeignProgrammeOrder(enum.Enum):
    COUNTRY = "COUNTRY"
    ID = "ID"


@strawberry.input(description="Narrow a foreign application list.")
class ForeignApplicationFilterInput:
    programme_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this programme."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this applicant."
    )
    status: ForeignApplicationStatus | None = strawberry.field(
        default=None, description="Only this status."
    )


def _programme_filter(
    flt: ForeignProgrammeFilterInput | None,
) -> abroad_service.ForeignProgrammeFilter:
    flt = flt or ForeignProgrammeFilterInput()
    if flt.country_code is not None and len(flt.country_code) != 2:
        raise RequestError(Code.INVALID_INPUT, "`countryCode` has two letters")
    return abroad_service.ForeignProgrammeFilter(
        country_code=flt.country_code, year=flt.year, level=flt.level, open_on=flt.open_on
    )


def _application_filter(
    flt: ForeignApplicationFilterInput | None,
) -> abroad_service.ForeignApplicationFilter:
    flt = flt or ForeignApplicationFilterInput()
    return abroad_service.ForeignApplicationFilter(
        programme_id=query_pk(flt.programme_id, "ForeignProgramme") if flt.programme_id else None,
        person_id=query_pk(flt.person_id, "Person") if flt.person_id else None,
        status=flt.status,
    )


@strawberry.type
class Query:
    @connection(Connection[ForeignProgramme], description="Programmes of study abroad (public).")
    def foreign_programmes(
        self,
        ctx: Context,
        filter: ForeignProgrammeFilterInput | None = None,
        order_by: ForeignProgrammeOrder = ForeignProgrammeOrder.COUNTRY,
    ) -> Listing:
        stmt = abroad_service.programmes_query(_programme_filter(filter))
        ordering = abroad_service.PROGRAMME_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, ForeignProgramme.from_row)

    @connection(
        Connection[ForeignApplication],
        description="Foreign applications you may read (your own, or all: ministry).",
        permission_classes=[signed_in("Sign in to read applications")],
    )
    def foreign_applications(
        self, ctx: Context, filter: ForeignApplicationFilterInput | None = None
    ) -> Listing:
        stmt = abroad_service.applications_query(ctx.principal, _application_filter(filter))
        return Listing(
            stmt, abroad_service.APPLICATION_ORDERINGS["ID"], ForeignApplication.from_row
        )

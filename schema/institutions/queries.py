"""The institution registry's list (public)."""

from __future__ import annotations

import enum

import strawberry

from resolvers import institutions as institutions_service
from resolvers.context import Context
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.common import Connection
from schema.fields import Listing, connection
from schema.institutions.types import Institution, InstitutionKind, Language, Ownership
from schema.node import query_pk


@strawberry.input(description="Narrow the institution list; every field given must hold.")
class InstitutionFilter:
    region_id: strawberry.ID | None = strawberry.field(default=None, description="In this region.")
    district_id: strawberry.ID | None = strawberry.field(
        default=None, description="In this district."
    )
    kinds: list[InstitutionKind] | None = strawberry.field(
        default=None, description="Of one of these kinds."
    )
    ownership: Ownership | None = strawberry.field(default=None, description="Of this ownership.")
    language: Language | None = strawberry.field(
        default=None, description="Teaching in this language."
    )
    name: str | None = strawberry.field(
        default=None, description="Part of the name, case-insensitive (max 100 chars)."
    )
    legal_id: str | None = strawberry.field(default=None, description="This legal identifier.")
    include_closed: bool = strawberry.field(default=False, description="Include closed ones.")


@strawberry.enum(description="Orders of the institution list.")
class InstitutionOrder(enum.Enum):
    NAME = "NAME"
    ID = "ID"


def institution_filter(flt: InstitutionFilter | None) -> institutions_service.InstitutionFilter:
    if flt is None:
        return institutions_service.InstitutionFilter()
    if flt.name is not None and len(flt.name) > 100:
        raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
    if flt.kinds is not None and len(flt.kinds) > 10:
        raise RequestError(Code.INVALID_INPUT, "`kinds` has at most 10 items")
    return institutions_service.InstitutionFilter(
        region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
        district_id=query_pk(flt.district_id, "District") if flt.district_id else None,
        kinds=tuple(flt.kinds or ()),
        ownership=flt.ownership,
        language=flt.language,
        name=flt.name,
        legal_id=flt.legal_id,
        open_only=not flt.include_closed,
    )


@strawberry.type
class Query:
    @connection(Connection[Institution], description="The institution registry (public).")
    def institutions(
        self,
        ctx: Context,
        filter: InstitutionFilter | None = None,
        order_by: InstitutionOrder = InstitutionOrder.NAME,
    ) -> Listing:
        stmt = institutions_service.institutions_query(institution_filter(filter))
        ordering = institutions_service.INSTITUTION_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Institution.from_row)

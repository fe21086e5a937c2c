"""The person list: who you may read, narrowed by filters (personal ones need a key that
grants personal data)."""

from __future__ import annotations

import enum
from datetime import date

import strawberry

from resolvers import people as people_service
from resolvers.context import Context
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from schema.common import Connection
from schema.fields import Listing, connection
from schema.node import query_pk
from schema.people.types import Person, Sex
from schema.permissions import signed_in


@strawberry.input(description="Narrow the person list; every field given must hold.")
class PersonFilter:
    pin: str | None = strawberry.field(default=None, description="Exactly this current PIN.")
    name: str | None = strawberry.field(
        default=None, description="Part of 'last first' name, case-insensitive (max 100 chars)."
    )
    sex: Sex | None = strawberry.field(default=None, description="Only this sex.")
    born_after: date | None = strawberry.field(default=None, description="Born on or after.")
    born_before: date | None = strawberry.field(default=None, description="Born on or before.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Ever enrolled at this institution."
    )
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Enrolled at an institution of this region."
    )
    grade_level: int | None = strawberry.field(
        default=None, description="Currently enrolled in this grade."
    )
    currently_enrolled: bool | None = strawberry.field(
        default=None, description="Has (true) or has no (false) open enrollment."
    )


@strawberry.enum(description="Orders of the person list.")
class PersonOrder(enum.Enum):
    LAST_NAME = "LAST_NAME"
    BIRTH_DATE = "BIRTH_DATE"
    CREATED_AT = "CREATED_AT"
    ID = "ID"


def person_filter(flt: PersonFilter | None) -> people_service.PersonFilter:
    if flt is None:
        return people_service.PersonFilter()
    if flt.name is not None and len(flt.name) > 100:
        raise RequestError(Code.INVALID_INPUT, "`name` is at most 100 characters")
    if flt.pin is not None and len(flt.pin) > 14:
        raise RequestError(Code.INVALID_INPUT, "`pin` is 14 digits")
    return people_service.PersonFilter(
        pin=flt.pin,
        name=flt.name,
        sex=flt.sex,
        born_after=flt.born_after,
        born_before=flt.born_before,
        institution_id=query_pk(flt.institution_id, "Institution") if flt.institution_id else None,
        region_id=query_pk(flt.region_id, "Region") if flt.region_id else None,
        grade_level=flt.grade_level,
        currently_enrolled=flt.currently_enrolled,
    )


@strawberry.type
class Query:
    @connection(
        Connection[Person],
        description="People you may read (never anonymous callers).",
        permission_classes=[signed_in("Sign in to read people")],
    )
    def persons(
        self,
        ctx: Context,
        filter: PersonFilter | None = None,
        order_by: PersonOrder = PersonOrder.LAST_NAME,
    ) -> Listing:
        stmt = people_service.persons_query(ctx.principal, person_filter(filter))
        ordering = people_service.PERSON_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, Person.from_row)

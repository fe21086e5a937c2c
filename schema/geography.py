"""Regions and districts."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

import strawberry
from sqlalchemy import select

from models import District as DistrictModel
from models import DistrictKind as DistrictKindEnum
from models import Region as RegionModel
from models import RegionKind as RegionKindEnum
from resolvers.context import Context, Info
from resolvers.geography.loaders import (
    DistrictByIdLoader,
    DistrictsByRegionLoader,
    RegionByIdLoader,
)
from resolvers.relay import Ordering, encode_id
from schema.common import After, Before, Connection, First, Last, Node, bounds, list_connection
from schema.node import node_type, query_pk

strawberry.enum(
    RegionKindEnum, name="RegionKind", description="Oblast or city of republican significance."
)
RegionKind: TypeAlias = RegionKindEnum
strawberry.enum(DistrictKindEnum, name="DistrictKind", description="Kind of a unit below a region.")
DistrictKind: TypeAlias = DistrictKindEnum

REGION_ORDER = Ordering(((RegionModel.id, False),))
DISTRICT_ORDER = Ordering(((DistrictModel.name_en, False), (DistrictModel.id, False)))


@strawberry.type(description="An oblast or a city of republican significance.")
class Region(Node):
    pk: strawberry.Private[int]
    code: str = strawberry.field(description="ISO 3166-2 code, e.g. KG-C.")
    kind: RegionKind = strawberry.field(description="Oblast or city.")
    name_ky: str = strawberry.field(description="Name in Kyrgyz.")
    name_ru: str = strawberry.field(description="Name in Russian.")
    name_en: str = strawberry.field(description="Name in English.")
    valid_from: date = strawberry.field(description="First day the unit existed.")
    valid_to: date | None = strawberry.field(description="Day the unit ceased to exist, if it did.")

    @classmethod
    def from_row(cls, row: Any) -> Region:
        return cls(
            id=strawberry.ID(encode_id("Region", row.id)),
            pk=row.id,
            code=row.code,
            kind=row.kind,
            name_ky=row.name_ky,
            name_ru=row.name_ru,
            name_en=row.name_en,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )

    @strawberry.field(description="Current districts, cities and ayil aimaks of the region.")
    async def districts(self, info: Info) -> list[District]:
        rows = await DistrictsByRegionLoader(info.context).load(self.pk)
        return [District.from_row(r) for r in rows]


@strawberry.type(description="A rayon, city, city district or ayil aimak.")
class District(Node):
    pk: strawberry.Private[int]
    region_pk: strawberry.Private[int]
    code: str = strawberry.field(description="Stable code of the unit.")
    kind: DistrictKind = strawberry.field(description="Kind of unit.")
    name_ky: str = strawberry.field(description="Name in Kyrgyz.")
    name_ru: str = strawberry.field(description="Name in Russian.")
    name_en: str = strawberry.field(description="Name in English.")
    valid_from: date = strawberry.field(description="First day the unit existed.")
    valid_to: date | None = strawberry.field(description="Day the unit ceased to exist, if it did.")

    @classmethod
    def from_row(cls, row: Any) -> District:
        return cls(
            id=strawberry.ID(encode_id("District", row.id)),
            pk=row.id,
            region_pk=row.region_id,
            code=row.code,
            kind=row.kind,
            name_ky=row.name_ky,
            name_ru=row.name_ru,
            name_en=row.name_en,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )

    @strawberry.field(description="The region the unit lies in.")
    async def region(self, info: Info) -> Region:
        return Region.from_row(await RegionByIdLoader(info.context).load(self.region_pk))


@node_type("Region")
async def fetch_region(ctx: Context, pk: int) -> Region | None:
    row = await RegionByIdLoader(ctx).load(pk)
    return Region.from_row(row) if row else None


@node_type("District")
async def fetch_district(ctx: Context, pk: int) -> District | None:
    row = await DistrictByIdLoader(ctx).load(pk)
    return District.from_row(row) if row else None


@strawberry.input(description="Narrow the district list.")
class DistrictFilter:
    region_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this region."
    )
    kind: DistrictKind | None = strawberry.field(default=None, description="Only this kind.")
    include_former: bool = strawberry.field(
        default=False, description="Include units that no longer exist."
    )


@strawberry.type
class Query:
    @strawberry.field(description="Regions of the country (public).")
    async def regions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Region]:
        args = bounds(first, after, last, before)
        stmt = select(*RegionModel.__table__.c)
        return await list_connection(info.context, stmt, args, REGION_ORDER, Region.from_row)

    @strawberry.field(description="Districts, cities and ayil aimaks (public).")
    async def districts(
        self,
        info: Info,
        filter: DistrictFilter | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[District]:
        args = bounds(first, after, last, before)
        flt = filter or DistrictFilter()
        stmt = select(*DistrictModel.__table__.c)
        if flt.region_id is not None:
            stmt = stmt.where(DistrictModel.region_id == query_pk(flt.region_id, "Region"))
        if flt.kind is not None:
            stmt = stmt.where(DistrictModel.kind == flt.kind)
        if not flt.include_former:
            stmt = stmt.where(DistrictModel.valid_to.is_(None))
        return await list_connection(info.context, stmt, args, DISTRICT_ORDER, District.from_row)

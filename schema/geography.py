"""Regions and districts (public)."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeAlias

import strawberry

from models import DistrictKind as DistrictKindEnum
from models import RegionKind as RegionKindEnum
from resolvers import geography as geography_service
from resolvers.context import Context, Info
from resolvers.geography import REGION_ORDER
from resolvers.geography.loaders import (
    DistrictByIdLoader,
    DistrictsByRegionLoader,
    RegionByIdLoader,
)
from resolvers.relay import encode_id
from schema.common import Connection, Node
from schema.fields import Listing, connection
from schema.node import fetched_by, query_pk

strawberry.enum(
    RegionKindEnum, name="RegionKind", description="Oblast or city of republican significance."
)
RegionKind: TypeAlias = RegionKindEnum
strawberry.enum(DistrictKindEnum, name="DistrictKind", description="Kind of a unit below a region.")
DistrictKind: TypeAlias = DistrictKindEnum


@fetched_by(RegionByIdLoader)
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

    @strawberry.field(
        description="Current rayons, cities and city districts of the region (the units "
        "directly under it; ayil aimaks lie inside their rayons: `districts(filter: {kind: "
        "AYIL_AIMAK})`)."
    )
    async def districts(self, info: Info) -> list[District]:
        rows = await DistrictsByRegionLoader(info.context).load(self.pk)
        return [District.from_row(r) for r in rows]


@fetched_by(DistrictByIdLoader)
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
    @connection(Connection[Region], description="Regions of the country (public).")
    def regions(self, ctx: Context) -> Listing:
        return Listing(geography_service.regions_query(), REGION_ORDER, Region.from_row)

    @connection(Connection[District], description="Districts, cities and ayil aimaks (public).")
    def districts(self, ctx: Context, filter: DistrictFilter | None = None) -> Listing:
        flt = filter or DistrictFilter()
        stmt = geography_service.districts_query(
            region_id=query_pk(flt.region_id, "Region") if flt.region_id is not None else None,
            kind=flt.kind,
            include_former=flt.include_former,
        )
        return Listing(stmt, geography_service.DISTRICT_ORDER, District.from_row)

"""The geography domain's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement

from models import District, Region
from resolvers.loaders import ById, ByParent


class RegionByIdLoader(ById):
    columns = tuple(Region.__table__.c)
    key = Region.id


class DistrictByIdLoader(ById):
    columns = tuple(District.__table__.c)
    key = District.id


class DistrictsByRegionLoader(ByParent):
    """A region's units in force today directly under it: rayons, cities, city districts (an
    ayil aimak lies inside its rayon: the ``districts`` list, filtered by kind, gives them)."""

    columns = tuple(District.__table__.c)
    parent = District.region_id
    order_by = (District.name_en, District.id)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (District.valid_to.is_(None), District.parent_id.is_(None))

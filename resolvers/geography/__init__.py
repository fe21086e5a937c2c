"""Geography: regions, districts (rayons and cities) and their validity over time (G1-G2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from models import District, DistrictKind, Region
from resolvers.relay import Ordering

REGION_ORDER = Ordering(((Region.id, False),))
DISTRICT_ORDER = Ordering(((District.name_en, False), (District.id, False)))


def regions_query() -> Select[Any]:
    """Every region (public)."""
    return select(*Region.__table__.c)


def districts_query(
    *, region_id: int | None, kind: DistrictKind | None, include_former: bool
) -> Select[Any]:
    """Districts (public), of one region or kind; units that ceased to exist only if asked."""
    stmt: Select[Any] = select(*District.__table__.c)
    if region_id is not None:
        stmt = stmt.where(District.region_id == region_id)
    if kind is not None:
        stmt = stmt.where(District.kind == kind)
    if not include_former:
        stmt = stmt.where(District.valid_to.is_(None))
    return stmt

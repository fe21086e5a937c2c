"""Catchment areas: the micro-districts a school serves (domain.md, G3)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import CatchmentArea, Institution, InstitutionKind
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.errors import InstitutionCode
from resolvers.institutions.registry import check_district
from resolvers.institutions.rules import may_manage_institution


async def add_catchment_area(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    district_id: int,
    name: str,
    streets: list[str],
) -> CatchmentArea:
    """Give a school a catchment area (domain.md: schools serve micro-districts)."""
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The institution", field="institutionId")
    require(may_manage_institution(principal, inst), "This institution is outside your scope")
    if inst.kind != InstitutionKind.SCHOOL:
        raise DomainError(
            InstitutionCode.WRONG_INSTITUTION_KIND,
            "Only schools have catchment areas",
            field="institutionId",
        )
    await check_district(session, district_id, inst.region_id, label="school")
    cleaned = [" ".join(s.split())[:200] for s in streets if s.strip()]
    if not name.strip() or len(cleaned) > 500:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A named area with at most 500 streets", field="streets"
        )
    area = CatchmentArea(
        institution_id=inst.id,
        district_id=district_id,
        name=" ".join(name.split())[:200],
        streets=cleaned,
    )
    session.add(area)
    await session.flush()
    await emit(
        session,
        topic="institutions.catchment_added",
        aggregate_type="Institution",
        aggregate_id=inst.id,
        payload={"catchment_area_id": area.id},
    )
    return area

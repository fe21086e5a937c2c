"""The institution registry's records: create and update, with the rules every record keeps
(domestic ones lie in a region, and the district in that region; the legal identifier is 14
digits and unique)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import District, Institution, InstitutionKind, Language, Ownership, Region
from resolvers.access import Principal, Role, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.institutions.errors import InstitutionCode
from resolvers.institutions.rules import can_create_institution, may_manage_institution

# P2: a legal entity's identifier is 14 digits (no published checksum).
LEGAL_ID = re.compile(r"^[0-9]{14}$")


@dataclass
class InstitutionFields:
    """Editable fields of an institution; ``None`` means "leave as is" on update."""

    name: str | None = None
    name_ru: str | None = None
    kind: InstitutionKind | None = None
    ownership: Ownership | None = None
    legal_id: str | None = None
    country_code: str | None = None
    region_id: int | None = None
    district_id: int | None = None
    address: str | None = None
    languages: list[Language] | None = None
    design_capacity: int | None = None
    opened_on: date | None = None
    closed_on: date | None = None


async def _check_place(session: AsyncSession, f: InstitutionFields, inst: Institution) -> None:
    if inst.kind == InstitutionKind.FOREIGN_UNIVERSITY:
        if not inst.country_code or len(inst.country_code) != 2 or inst.country_code == "KG":
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A foreign university needs its two-letter country code",
                field="countryCode",
            )
        if inst.region_id is not None or inst.district_id is not None:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A foreign university lies in no Kyrgyz region or district",
                field="regionId" if inst.region_id is not None else "districtId",
            )
        return
    if inst.country_code != "KG":
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Only foreign universities are outside Kyrgyzstan",
            field="countryCode",
        )
    if inst.region_id is None or await session.get(Region, inst.region_id) is None:
        raise NotFound("The region", field="regionId")
    if inst.district_id is not None:
        await check_district(session, inst.district_id, inst.region_id, label="institution")


async def check_district(
    session: AsyncSession, district_id: int, region_id: int | None, *, label: str
) -> None:
    """The district exists and lies in the region of the institution (``label`` names it in
    the message: "institution", "school")."""
    district = await session.get(District, district_id)
    if district is None:
        raise NotFound("The district", field="districtId")
    if district.region_id != region_id:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"The district is not in the {label}'s region",
            field="districtId",
        )


def _apply(inst: Institution, f: InstitutionFields) -> None:
    if f.name is not None:
        name = " ".join(f.name.split())
        if not name or len(name) > 300:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "A name is 1 to 300 characters", field="name"
            )
        inst.name = name
    if f.name_ru is not None:
        inst.name_ru = " ".join(f.name_ru.split())[:300] or None
    if f.kind is not None:
        inst.kind = f.kind
    if f.ownership is not None:
        inst.ownership = f.ownership
    if f.legal_id is not None:
        if not LEGAL_ID.match(f.legal_id):
            raise DomainError(
                InstitutionCode.INVALID_LEGAL_ID,
                "A legal-entity identifier is 14 digits",
                field="legalId",
            )
        inst.legal_id = f.legal_id
    if f.country_code is not None:
        inst.country_code = f.country_code.upper()
    if f.region_id is not None:
        inst.region_id = f.region_id
    if f.district_id is not None:
        inst.district_id = f.district_id
    if f.address is not None:
        inst.address = " ".join(f.address.split())[:400] or None
    if f.languages is not None:
        inst.languages = sorted({lang.value for lang in f.languages})
    if f.design_capacity is not None:
        if f.design_capacity < 0 or f.design_capacity > 20_000:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Design capacity is between 0 and 20,000",
                field="designCapacity",
            )
        inst.design_capacity = f.design_capacity
    if f.opened_on is not None:
        inst.opened_on = f.opened_on
    if f.closed_on is not None:
        inst.closed_on = f.closed_on
    if inst.opened_on and inst.closed_on and inst.closed_on < inst.opened_on:
        raise DomainError(
            ErrorCode.INVALID_DATE, "An institution closes after it opens", field="closedOn"
        )


async def _legal_id_free(session: AsyncSession, legal_id: str | None, own_id: int | None) -> None:
    if legal_id is None:
        return
    other = await session.scalar(select(Institution.id).where(Institution.legal_id == legal_id))
    if other is not None and other != own_id:
        raise DomainError(
            InstitutionCode.LEGAL_ID_TAKEN,
            "Another institution has this legal identifier",
            field="legalId",
        )


async def create_institution(
    session: AsyncSession, principal: Principal, fields: InstitutionFields
) -> Institution:
    """Add an institution to the registry.

    Rules: domestic institutions lie in a region (and the district lies in that region); only
    foreign universities are abroad; the legal-entity identifier is 14 digits and unique.
    """
    require(
        can_create_institution(
            principal, region_id=fields.region_id, district_id=fields.district_id
        ),
        "You may not add institutions here",
    )
    if fields.kind is None or fields.ownership is None or not fields.name:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name, kind and ownership are required", field="name"
        )
    inst = Institution(country_code="KG", languages=[])
    _apply(inst, fields)
    await _check_place(session, fields, inst)
    await _legal_id_free(session, inst.legal_id, None)
    session.add(inst)
    await session.flush()
    await emit(
        session,
        topic="institutions.institution_created",
        aggregate_type="Institution",
        aggregate_id=inst.id,
        payload={"kind": inst.kind.value},
    )
    return inst


async def update_institution(
    session: AsyncSession, principal: Principal, institution_id: int, fields: InstitutionFields
) -> Institution:
    """Change an institution's registry record (same rules as creation)."""
    inst = await session.get(Institution, institution_id, with_for_update=True)
    if inst is None:
        raise NotFound("The institution", field="id")
    require(may_manage_institution(principal, inst), "This institution is outside your scope")
    if principal.role not in (Role.MINISTRY, Role.REGION_OFFICER, Role.DISTRICT_OFFICER) and (
        fields.kind is not None or fields.region_id is not None or fields.legal_id is not None
    ):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "Only officers change an institution's kind, region or legal identifier",
        )
    _apply(inst, fields)
    await _check_place(session, fields, inst)
    require(may_manage_institution(principal, inst), "The change would move it outside your scope")
    await _legal_id_free(session, inst.legal_id, inst.id)
    await emit(
        session,
        topic="institutions.institution_updated",
        aggregate_type="Institution",
        aggregate_id=inst.id,
    )
    return inst

"""Which institutions a principal's role reaches: the scope every domain's row rules and
policies build on, and who may add and manage institutions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from models import Institution, InstitutionKind
from resolvers.access import Principal, Role, among, require
from resolvers.errors import DomainError, NotFound
from resolvers.institutions.errors import InstitutionCode


def institution_in_scope(principal: Principal, inst: Any = Institution) -> ColumnElement[bool]:
    """Institutions whose people this principal may read as an officer or staff member."""
    if principal.is_ministry:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.role == Role.REGION_OFFICER:
        clauses.append(among(inst.region_id, principal.region_ids))
    if principal.role == Role.DISTRICT_OFFICER:
        clauses.append(among(inst.district_id, principal.district_ids))
    if principal.role in (Role.SCHOOL_ADMIN, Role.TEACHER, Role.LIBRARIAN):
        clauses.append(among(inst.id, principal.institution_ids))
    if principal.role == Role.PARTNER:
        # A key without regions covers the country; the fields it reads are scoped instead.
        if not principal.region_ids:
            return true()
        clauses.append(among(inst.region_id, principal.region_ids))
    return or_(*clauses) if clauses else false()


def may_manage_institution(principal: Principal, institution: Any) -> bool:
    """May this principal change this institution's records (enroll, edit)?"""
    if principal.is_ministry:
        return True
    if principal.role == Role.REGION_OFFICER:
        return institution.region_id in principal.region_ids
    if principal.role == Role.DISTRICT_OFFICER:
        return institution.district_id in principal.district_ids
    if principal.role == Role.SCHOOL_ADMIN:
        return institution.id in principal.institution_ids
    return False


def can_create_institution(
    principal: Principal, *, region_id: int | None, district_id: int | None
) -> bool:
    """May this principal add an institution here? The ministry anywhere; a region officer in
    their region; a district officer in their district."""
    if principal.is_ministry:
        return True
    if principal.role == Role.REGION_OFFICER:
        return region_id in principal.region_ids
    if principal.role == Role.DISTRICT_OFFICER:
        return district_id in principal.district_ids
    return False


async def managed_institution(
    session: AsyncSession,
    principal: Principal,
    institution_id: int,
    *,
    kind: InstitutionKind,
    label: str,
    field: str,
) -> Institution:
    """The institution ``institution_id``, which must be of ``kind`` and managed by the caller
    (NOT_FOUND, WRONG_INSTITUTION_KIND or FORBIDDEN otherwise). ``label`` names it in messages
    ("school", "kindergarten")."""
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound(f"The {label}", field=field)
    if inst.kind != kind:
        raise DomainError(
            InstitutionCode.WRONG_INSTITUTION_KIND, f"This is not a {label}", field=field
        )
    require(may_manage_institution(principal, inst), f"This {label} is outside your scope")
    return inst

"""Which institutions a principal's role reaches: the scope every domain's row rules and
policies build on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from models import Institution
from resolvers.access import Principal, Role


def institution_in_scope(principal: Principal, inst: Any = Institution) -> ColumnElement[bool]:
    """Institutions whose people this principal may read as an officer or staff member."""
    if principal.is_ministry:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.role == Role.REGION_OFFICER:
        clauses.append(inst.region_id.in_(principal.region_ids))
    if principal.role == Role.DISTRICT_OFFICER:
        clauses.append(inst.district_id.in_(principal.district_ids))
    if principal.role in (Role.SCHOOL_ADMIN, Role.TEACHER):
        clauses.append(inst.id.in_(principal.institution_ids))
    if principal.role == Role.PARTNER:
        # A key without regions covers the country; the fields it reads are scoped instead.
        if not principal.region_ids:
            return true()
        clauses.append(inst.region_id.in_(principal.region_ids))
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

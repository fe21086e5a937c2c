"""The public institution registry's list, narrowed by a filter, and its orders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, any_, func, literal, select

from models import Institution, InstitutionKind, Language, Ownership
from resolvers.relay import Ordering

INSTITUTION_COLUMNS = tuple(Institution.__table__.c)

INSTITUTION_ORDERINGS = {
    "NAME": Ordering(((Institution.name, False), (Institution.id, False))),
    "ID": Ordering(((Institution.id, False),)),
}


@dataclass(frozen=True)
class InstitutionFilter:
    region_id: int | None = None
    district_id: int | None = None
    kinds: tuple[InstitutionKind, ...] = ()
    ownership: Ownership | None = None
    language: Language | None = None
    name: str | None = None
    legal_id: str | None = None
    open_only: bool = True


def institutions_query(flt: InstitutionFilter) -> Select[Any]:
    """The public institution registry, narrowed by the filter."""
    stmt: Select[Any] = select(*INSTITUTION_COLUMNS)
    if flt.region_id is not None:
        stmt = stmt.where(Institution.region_id == flt.region_id)
    if flt.district_id is not None:
        stmt = stmt.where(Institution.district_id == flt.district_id)
    if flt.kinds:
        stmt = stmt.where(Institution.kind.in_(flt.kinds))
    if flt.ownership is not None:
        stmt = stmt.where(Institution.ownership == flt.ownership)
    if flt.language is not None:
        stmt = stmt.where(literal(flt.language.value) == any_(Institution.languages))
    if flt.name:
        escaped = flt.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(Institution.name).like(f"%{escaped}%"))
    if flt.legal_id is not None:
        stmt = stmt.where(Institution.legal_id == flt.legal_id)
    if flt.open_only:
        stmt = stmt.where(
            (Institution.closed_on.is_(None)) | (Institution.closed_on > func.current_date())
        )
    return stmt

"""The study-abroad lists: foreign programmes (public) and applications (narrowed by who may
read them), and the columns the loaders read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from models import ForeignApplication, ForeignApplicationStatus, ForeignProgramme, StudyLevel
from resolvers.abroad.rules import foreign_application_readable
from resolvers.access import Principal
from resolvers.relay import Ordering

PROGRAMME_COLUMNS = tuple(ForeignProgramme.__table__.c)
APPLICATION_COLUMNS = tuple(ForeignApplication.__table__.c)
PROGRAMME_ORDERINGS = {
    "COUNTRY": Ordering(
        (
            (ForeignProgramme.country_code, False),
            (ForeignProgramme.name, False),
            (ForeignProgramme.id, False),
        )
    ),
    "ID": Ordering(((ForeignProgramme.id, False),)),
}
APPLICATION_ORDERINGS = {"ID": Ordering(((ForeignApplication.id, False),))}


@dataclass(frozen=True)
class ForeignProgrammeFilter:
    country_code: str | None = None
    year: int | None = None
    level: StudyLevel | None = None
    open_on: date | None = None


def programmes_query(flt: ForeignProgrammeFilter) -> Select[Any]:
    """Foreign programmes are public."""
    stmt = select(*PROGRAMME_COLUMNS)
    if flt.country_code is not None:
        stmt = stmt.where(ForeignProgramme.country_code == flt.country_code.upper())
    if flt.year is not None:
        stmt = stmt.where(ForeignProgramme.year == flt.year)
    if flt.level is not None:
        stmt = stmt.where(ForeignProgramme.level == flt.level)
    if flt.open_on is not None:
        stmt = stmt.where(
            ForeignProgramme.opens_on <= flt.open_on, ForeignProgramme.closes_on >= flt.open_on
        )
    return stmt


@dataclass(frozen=True)
class ForeignApplicationFilter:
    programme_id: int | None = None
    person_id: int | None = None
    status: ForeignApplicationStatus | None = None


def applications_query(principal: Principal, flt: ForeignApplicationFilter) -> Select[Any]:
    stmt = select(*APPLICATION_COLUMNS).where(foreign_application_readable(principal))
    if flt.programme_id is not None:
        stmt = stmt.where(ForeignApplication.programme_id == flt.programme_id)
    if flt.person_id is not None:
        stmt = stmt.where(ForeignApplication.person_id == flt.person_id)
    if flt.status is not None:
        stmt = stmt.where(ForeignApplication.status == flt.status)
    return stmt

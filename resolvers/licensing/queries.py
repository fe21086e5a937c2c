"""The licensing lists: applications (officers in scope, applicants their own), the public
registers of licences, agencies and accreditations, and licence verification by number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationKind,
    AccreditationOutcome,
    EducationLevel,
    Institution,
    Licence,
    LicenceApplication,
    LicenceApplicationStatus,
    LicenceStatus,
    LicensingPolicy,
    ProgrammeCode,
)
from resolvers.access import Principal
from resolvers.licensing.rules import (
    accreditation_readable,
    accreditation_valid_on,
    agency_accredits_on,
    application_readable,
    licence_valid_on,
)
from resolvers.relay import Ordering

APPLICATION_COLUMNS = tuple(LicenceApplication.__table__.c)
LICENCE_COLUMNS = tuple(Licence.__table__.c)
AGENCY_COLUMNS = tuple(AccreditationAgency.__table__.c)
ACCREDITATION_COLUMNS = tuple(Accreditation.__table__.c)

APPLICATION_ORDERINGS = {
    "DUE_ON": Ordering(((LicenceApplication.due_on, False), (LicenceApplication.id, False))),
    "SUBMITTED_ON_DESC": Ordering(
        ((LicenceApplication.submitted_on, True), (LicenceApplication.id, True))
    ),
    "ID": Ordering(((LicenceApplication.id, False),)),
}
LICENCE_ORDERINGS = {
    "NUMBER": Ordering(((Licence.number, False), (Licence.id, False))),
    "ISSUED_ON_DESC": Ordering(((Licence.issued_on, True), (Licence.id, True))),
    "ID": Ordering(((Licence.id, False),)),
}
AGENCY_ORDERINGS = {
    "NAME": Ordering(((AccreditationAgency.name, False), (AccreditationAgency.id, False)))
}
ACCREDITATION_ORDERINGS = {
    "ID": Ordering(((Accreditation.id, False),)),
    "ID_DESC": Ordering(((Accreditation.id, True),)),
}
PROGRAMME_CODE_ORDERINGS = {"CODE": Ordering(((ProgrammeCode.code, False),))}


@dataclass(frozen=True)
class ApplicationFilter:
    statuses: tuple[LicenceApplicationStatus, ...] = ()
    institution_id: int | None = None
    region_id: int | None = None
    overdue_on: date | None = None


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    """Applications the principal may read. ``overdue_on``: those under review (clock running)
    whose deadline passed before that day."""
    stmt = select(*APPLICATION_COLUMNS).where(application_readable(principal))
    if flt.statuses:
        stmt = stmt.where(LicenceApplication.status.in_(flt.statuses))
    if flt.institution_id is not None:
        stmt = stmt.where(LicenceApplication.institution_id == flt.institution_id)
    if flt.region_id is not None:
        stmt = stmt.where(
            LicenceApplication.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt.region_id)
            )
        )
    if flt.overdue_on is not None:
        stmt = stmt.where(
            LicenceApplication.status == LicenceApplicationStatus.SUBMITTED,
            LicenceApplication.due_on < flt.overdue_on,
        )
    return stmt


@dataclass(frozen=True)
class LicenceFilter:
    statuses: tuple[LicenceStatus, ...] = ()
    institution_id: int | None = None
    region_id: int | None = None
    valid_on: date | None = None
    level: EducationLevel | None = None


def licences_query(flt: LicenceFilter) -> Select[Any]:
    """The public register of licences (public facts only live on the licence row)."""
    stmt = select(*LICENCE_COLUMNS)
    if flt.statuses:
        stmt = stmt.where(Licence.status.in_(flt.statuses))
    if flt.institution_id is not None:
        stmt = stmt.where(Licence.institution_id == flt.institution_id)
    if flt.region_id is not None:
        stmt = stmt.where(
            Licence.institution_id.in_(
                select(Institution.id).where(Institution.region_id == flt.region_id)
            )
        )
    if flt.valid_on is not None:
        stmt = stmt.where(licence_valid_on(flt.valid_on))
    if flt.level is not None:
        stmt = stmt.where(Licence.levels.contains([flt.level.value]))
    return stmt


def number_of(number: str) -> str:
    """A licence number as the register holds it: blanks folded, upper case."""
    return " ".join(number.split()).upper()


def licence_by_number_query(number: str) -> Select[Any]:
    return select(*LICENCE_COLUMNS).where(Licence.number == number_of(number))


def agencies_query(*, may_accredit_on: date | None, country_code: str | None) -> Select[Any]:
    stmt = select(*AGENCY_COLUMNS)
    if country_code:
        stmt = stmt.where(AccreditationAgency.country_code == country_code.upper())
    if may_accredit_on is not None:
        stmt = stmt.where(agency_accredits_on(may_accredit_on))
    return stmt


@dataclass(frozen=True)
class AccreditationFilter:
    institution_id: int | None = None
    agency_id: int | None = None
    kind: AccreditationKind | None = None
    outcomes: tuple[AccreditationOutcome, ...] = ()
    valid_on: date | None = None


def accreditations_query(principal: Principal, flt: AccreditationFilter) -> Select[Any]:
    stmt = select(*ACCREDITATION_COLUMNS).where(accreditation_readable(principal))
    if flt.institution_id is not None:
        stmt = stmt.where(Accreditation.institution_id == flt.institution_id)
    if flt.agency_id is not None:
        stmt = stmt.where(Accreditation.agency_id == flt.agency_id)
    if flt.kind is not None:
        stmt = stmt.where(Accreditation.kind == flt.kind)
    if flt.outcomes:
        stmt = stmt.where(Accreditation.outcome.in_(flt.outcomes))
    if flt.valid_on is not None:
        stmt = stmt.where(accreditation_valid_on(flt.valid_on))
    return stmt


def policies_query() -> Select[Any]:
    return select(*LicensingPolicy.__table__.c).order_by(LicensingPolicy.year.desc())


def programme_codes_query(level: EducationLevel | None) -> Select[Any]:
    stmt = select(*ProgrammeCode.__table__.c)
    if level is not None:
        stmt = stmt.where(ProgrammeCode.level == level)
    return stmt

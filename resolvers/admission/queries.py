"""The admission lists: test results, seasons, programmes and applications, each narrowed by
who may read it (``rules``), and the columns the loaders read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    Intake,
    NationalTestResult,
)
from resolvers.access import Principal
from resolvers.admission.rules import admission_application_readable, test_result_readable
from resolvers.relay import Ordering

SEASON_COLUMNS = tuple(AdmissionSeason.__table__.c)
ROUND_COLUMNS = tuple(AdmissionRound.__table__.c)
PROGRAMME_COLUMNS = tuple(AdmissionProgramme.__table__.c)
APPLICATION_COLUMNS = tuple(AdmissionApplication.__table__.c)
OFFER_COLUMNS = tuple(AdmissionOffer.__table__.c)
TEST_RESULT_COLUMNS = tuple(NationalTestResult.__table__.c)

SEASON_ORDERINGS = {
    "YEAR_DESC": Ordering(((AdmissionSeason.year, True), (AdmissionSeason.id, True))),
    "ID": Ordering(((AdmissionSeason.id, False),)),
}
PROGRAMME_ORDERINGS = {
    "NAME": Ordering(((AdmissionProgramme.name, False), (AdmissionProgramme.id, False))),
    "ID": Ordering(((AdmissionProgramme.id, False),)),
}
APPLICATION_ORDERINGS = {
    "PREFERENCE": Ordering(
        (
            (AdmissionApplication.person_id, False),
            (AdmissionApplication.preference, False),
            (AdmissionApplication.id, False),
        )
    ),
    "SCORE_DESC": Ordering(
        ((AdmissionApplication.total_score, True), (AdmissionApplication.id, False))
    ),
    "ID": Ordering(((AdmissionApplication.id, False),)),
}
TEST_RESULT_ORDERINGS = {
    "CERTIFICATE": Ordering(
        ((NationalTestResult.certificate_number, False),),
        personal=frozenset({"NationalTestResult.certificateNumber"}),
    ),
    "ID": Ordering(((NationalTestResult.id, False),)),
}


@dataclass(frozen=True)
class TestResultFilter:
    year: int | None = None
    certificate_number: str | None = None
    person_id: int | None = None


def test_results_query(principal: Principal, flt: TestResultFilter) -> Select[Any]:
    stmt = select(*TEST_RESULT_COLUMNS).where(test_result_readable(principal))
    if flt.year is not None:
        stmt = stmt.where(NationalTestResult.year == flt.year)
    if flt.certificate_number is not None:
        stmt = stmt.where(
            NationalTestResult.certificate_number == flt.certificate_number.strip().upper()
        )
    if flt.person_id is not None:
        stmt = stmt.where(NationalTestResult.person_id == flt.person_id)
    return stmt


@dataclass(frozen=True)
class SeasonFilter:
    year: int | None = None
    intake: Intake | None = None


def seasons_query(flt: SeasonFilter) -> Select[Any]:
    """Seasons and their policy are public."""
    stmt = select(*SEASON_COLUMNS)
    if flt.year is not None:
        stmt = stmt.where(AdmissionSeason.year == flt.year)
    if flt.intake is not None:
        stmt = stmt.where(AdmissionSeason.intake == flt.intake)
    return stmt


@dataclass(frozen=True)
class ProgrammeFilter:
    season_id: int | None = None
    institution_id: int | None = None
    field_of_study: str | None = None
    name: str | None = None


def programmes_query(flt: ProgrammeFilter) -> Select[Any]:
    """Programmes and their places are public."""
    stmt = select(*PROGRAMME_COLUMNS)
    if flt.season_id is not None:
        stmt = stmt.where(AdmissionProgramme.season_id == flt.season_id)
    if flt.institution_id is not None:
        stmt = stmt.where(AdmissionProgramme.institution_id == flt.institution_id)
    if flt.field_of_study is not None:
        stmt = stmt.where(AdmissionProgramme.field_of_study == flt.field_of_study)
    if flt.name:
        escaped = flt.name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(AdmissionProgramme.name).like(f"%{escaped}%"))
    return stmt


@dataclass(frozen=True)
class ApplicationFilter:
    season_id: int | None = None
    person_id: int | None = None
    programme_id: int | None = None
    statuses: tuple[ApplicationStatus, ...] = ()


def application_filter_clauses(flt: ApplicationFilter) -> list[Any]:
    clauses: list[Any] = []
    if flt.season_id is not None:
        clauses.append(AdmissionApplication.season_id == flt.season_id)
    if flt.person_id is not None:
        clauses.append(AdmissionApplication.person_id == flt.person_id)
    if flt.programme_id is not None:
        clauses.append(AdmissionApplication.programme_id == flt.programme_id)
    if flt.statuses:
        clauses.append(AdmissionApplication.status.in_(flt.statuses))
    return clauses


def applications_query(principal: Principal, flt: ApplicationFilter) -> Select[Any]:
    return select(*APPLICATION_COLUMNS).where(
        admission_application_readable(principal), *application_filter_clauses(flt)
    )

"""The ministry's levers: the licensing policy of each year, the programme classifier, and the
jobs runner's licensing step (expiry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import DocumentKind, EducationLevel, LicensingPolicy, ProgrammeCode
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import emit
from resolvers.licensing.accreditation import expire_accreditations
from resolvers.licensing.licences import clean_text, expire_licences


async def set_licensing_policy(
    session: AsyncSession,
    principal: Principal,
    *,
    year: int,
    review_days: int,
    min_area_per_student: Decimal,
    min_premises_years: int,
    required_documents: list[DocumentKind],
) -> LicensingPolicy:
    """Set the licensing figures of a year (domain.md: review 20 days, 3 m2 per student,
    premises held 2+ years, fire and sanitary opinions; the ministry may change them)."""
    require(principal.is_ministry, "Only the ministry sets licensing policy")
    if not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "A year from 2000 to 2100", field="year")
    if not 1 <= review_days <= 365:
        raise DomainError(ErrorCode.INVALID_INPUT, "1 to 365 days", field="reviewDays")
    if not Decimal("0") < min_area_per_student <= Decimal("100"):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Above 0 and at most 100 m2", field="minAreaPerStudent"
        )
    if not 0 <= min_premises_years <= 50:
        raise DomainError(ErrorCode.INVALID_INPUT, "0 to 50 years", field="minPremisesYears")
    values = {
        "review_days": review_days,
        "min_area_per_student": min_area_per_student.quantize(Decimal("0.01")),
        "min_premises_years": min_premises_years,
        "required_documents": sorted({d.value for d in required_documents}),
    }
    policy = await session.scalar(
        pg_insert(LicensingPolicy)
        .values(year=year, **values)
        .on_conflict_do_update(index_elements=[LicensingPolicy.year], set_=values)
        .returning(LicensingPolicy)
        .execution_options(populate_existing=True)
    )
    assert policy is not None
    await emit(
        session,
        topic="licensing.policy_set",
        aggregate_type="LicensingPolicy",
        aggregate_id=policy.id,
        payload={"year": year},
    )
    return policy


async def define_programme_code(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    name: str,
    level: EducationLevel,
    medical: bool,
    accreditation_required: bool,
) -> ProgrammeCode:
    """Add a programme to the classifier, or change its entry (the ministry keeps it)."""
    require(principal.is_ministry, "Only the ministry keeps the programme classifier")
    cleaned = code.strip().upper()
    if not cleaned or len(cleaned) > 20 or not all(c.isalnum() or c in "-." for c in cleaned):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A code of 1 to 20 letters, digits, '-' or '.'", field="code"
        )
    title = clean_text(name, "name", required=True, limit=300)
    values = {
        "name": title,
        "level": level,
        "medical": medical,
        "accreditation_required": accreditation_required,
    }
    entry = await session.scalar(
        pg_insert(ProgrammeCode)
        .values(code=cleaned, **values)
        .on_conflict_do_update(index_elements=[ProgrammeCode.code], set_=values)
        .returning(ProgrammeCode)
        .execution_options(populate_existing=True)
    )
    assert entry is not None
    return entry


@dataclass(frozen=True)
class JobReport:
    """What a run of the licensing jobs did."""

    on: date
    licences_expired: int
    accreditations_expired: int


async def run_licensing_jobs(
    session: AsyncSession, principal: Principal, *, on: date | None = None
) -> JobReport:
    """The jobs runner's licensing step: expire licences and accreditations whose validity
    ended. Idempotent: a second run the same day changes nothing."""
    require(principal.is_ministry, "Only the ministry runs the jobs")
    day = on or clock.today()
    licences = await expire_licences(session, principal, on=day)
    accreditations = await expire_accreditations(session, principal, on=day)
    return JobReport(on=day, licences_expired=licences, accreditations_expired=accreditations)

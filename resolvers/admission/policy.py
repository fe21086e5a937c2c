"""Admission policy rows the ministry and universities maintain: seasons with their scales,
thresholds and choice limit, rounds with their dates, thresholds per field of study, the pool of
each district and quota holders (domain.md, "University admission"; every figure is a row per
season, never a constant). Programmes and their places are in ``programmes``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionPool,
    AdmissionRound,
    AdmissionSeason,
    District,
    DistrictPool,
    FieldThreshold,
    Institution,
    InstitutionKind,
    Intake,
    Person,
    PlaceCategory,
    QuotaHolder,
    RoundStatus,
    SchoolPool,
    SeasonStatus,
)
from models.admission import QUOTA_CATEGORIES
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_season_year_intake",
    AdmissionCode.SEASON_EXISTS,
    "A season of this year and intake exists",
    "year",
)
register_constraint(
    "ck_admission_season_thresholds",
    ErrorCode.INVALID_INPUT,
    "Thresholds lie between 0 and the test's maximum score",
    "mainThreshold",
)
register_constraint(
    "ck_admission_round_dates",
    ErrorCode.INVALID_DATE,
    "Round dates run: registration opens, closes, publication, confirmation opens, closes",
    "registrationOpens",
)
SEASON_POLICY_FIELDS = (
    "name",
    "max_choices",
    "main_score_max",
    "subject_score_max",
    "state_language_score_max",
    "main_threshold",
    "subject_threshold",
    "state_language_threshold",
    "studies_start",
)
CODE_MAX = 40


def _require_ministry(principal: Principal) -> None:
    require(principal.is_ministry, "Only the ministry sets admission policy")


def normalise_code(value: str, field: str) -> str:
    """Subject and field-of-study codes: lower-case ``[a-z0-9_]``, at most 40 characters."""
    code = value.strip().lower()
    if not code or len(code) > CODE_MAX or not all(c.isalnum() or c == "_" for c in code):
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"{value!r} is not a code like 'math' or 'health'", field=field
        )
    return code


async def load_season(
    session: AsyncSession, season_id: int, *, field: str = "seasonId", lock: bool = False
) -> AdmissionSeason:
    season = await session.get(AdmissionSeason, season_id, with_for_update=lock)
    if season is None:
        raise NotFound("The admission season", field=field)
    return season


def require_open(season: AdmissionSeason, field: str = "seasonId") -> None:
    if season.status != SeasonStatus.OPEN:
        raise DomainError(
            AdmissionCode.SEASON_CLOSED, "The admission season is closed", field=field
        )


async def create_season(
    session: AsyncSession,
    principal: Principal,
    *,
    year: int,
    intake: Intake,
    policy: dict[str, Any],
) -> AdmissionSeason:
    """Open an admission season with its policy figures (ministry only)."""
    _require_ministry(principal)
    if not 2000 <= year <= 2100:
        raise DomainError(ErrorCode.INVALID_INPUT, "The year is out of range", field="year")
    season = AdmissionSeason(year=year, intake=intake, **policy)
    session.add(season)
    await session.flush()
    await emit(
        session,
        topic="admission.season_opened",
        aggregate_type="AdmissionSeason",
        aggregate_id=season.id,
        payload={"year": year, "intake": intake.value},
    )
    return season


async def update_season(
    session: AsyncSession, principal: Principal, *, season_id: int, changes: dict[str, Any]
) -> AdmissionSeason:
    """Change an open season's policy figures (ministry only)."""
    _require_ministry(principal)
    season = await load_season(session, season_id, lock=True)
    require_open(season)
    for key, value in changes.items():
        if key in SEASON_POLICY_FIELDS and value is not None:
            setattr(season, key, value)
    await session.flush()
    await emit(
        session,
        topic="admission.season_policy_changed",
        aggregate_type="AdmissionSeason",
        aggregate_id=season.id,
        payload={"fields": sorted(k for k, v in changes.items() if v is not None)},
    )
    return season


async def create_round(
    session: AsyncSession, principal: Principal, *, season_id: int, dates: dict[str, date]
) -> AdmissionRound:
    """Add the next round to a season with its windows (ministry only); rounds are numbered in
    order and each one's registration opens after the previous round's publication."""
    _require_ministry(principal)
    season = await load_season(session, season_id, lock=True)
    require_open(season)
    last = (
        await session.execute(
            select(AdmissionRound)
            .where(AdmissionRound.season_id == season.id)
            .order_by(AdmissionRound.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if last is not None and dates["registration_opens"] <= last.publication_on:
        raise DomainError(
            ErrorCode.INVALID_DATE,
            "A round's registration opens after the previous round's publication",
            field="registrationOpens",
        )
    rnd = AdmissionRound(season_id=season.id, number=(last.number + 1 if last else 1), **dates)
    session.add(rnd)
    await session.flush()
    await emit(
        session,
        topic="admission.round_planned",
        aggregate_type="AdmissionRound",
        aggregate_id=rnd.id,
        payload={"season_id": season.id, "number": rnd.number},
    )
    return rnd


async def update_round(
    session: AsyncSession, principal: Principal, *, round_id: int, dates: dict[str, date | None]
) -> AdmissionRound:
    """Move a planned round's dates (ministry only); a published round keeps its dates."""
    _require_ministry(principal)
    rnd = await session.get(AdmissionRound, round_id, with_for_update=True)
    if rnd is None:
        raise NotFound("The round", field="roundId")
    # Only the confirmation deadline of a published round may still move.
    moved = {k for k, v in dates.items() if v is not None}
    if rnd.status != RoundStatus.PLANNED and moved - {"confirmation_closes"}:
        raise DomainError(
            AdmissionCode.ROUND_ALREADY_PUBLISHED,
            "A published round keeps its dates (its confirmation deadline may move)",
            field="roundId",
        )
    for key, value in dates.items():
        if value is not None:
            setattr(rnd, key, value)
    await session.flush()
    await emit(
        session,
        topic="admission.round_rescheduled",
        aggregate_type="AdmissionRound",
        aggregate_id=rnd.id,
        payload={"season_id": rnd.season_id},
    )
    return rnd


async def set_field_threshold(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    field_of_study: str,
    grant_main_min: int,
    contract_main_min: int,
    subject_min: int,
) -> FieldThreshold:
    """Set a field of study's minimum scores for a season (ministry only)."""
    _require_ministry(principal)
    season = await load_season(session, season_id)
    require_open(season)
    code = normalise_code(field_of_study, "fieldOfStudy")
    for value, name, top in (
        (grant_main_min, "grantMainMin", season.main_score_max),
        (contract_main_min, "contractMainMin", season.main_score_max),
        (subject_min, "subjectMin", season.subject_score_max),
    ):
        if not 0 <= value <= top:
            raise DomainError(
                AdmissionCode.SCORE_OUT_OF_RANGE, f"{name} lies between 0 and {top}", field=name
            )
    stmt = (
        pg_insert(FieldThreshold)
        .values(
            season_id=season.id,
            field_of_study=code,
            grant_main_min=grant_main_min,
            contract_main_min=contract_main_min,
            subject_min=subject_min,
        )
        .on_conflict_do_update(
            constraint="uq_admission_field_threshold",
            set_={
                "grant_main_min": grant_main_min,
                "contract_main_min": contract_main_min,
                "subject_min": subject_min,
            },
        )
        .returning(FieldThreshold.id)
    )
    threshold_id = (await session.execute(stmt)).scalar_one()
    await emit(
        session,
        topic="admission.threshold_set",
        aggregate_type="AdmissionSeason",
        aggregate_id=season.id,
        payload={"field_of_study": code},
    )
    row = await session.get(FieldThreshold, threshold_id, populate_existing=True)
    assert row is not None
    return row


async def set_school_pool(
    session: AsyncSession, principal: Principal, *, school_id: int, pool: AdmissionPool | None
) -> Institution:
    """Put one school into a grant pool over its district's, or (``None``) back to its
    district's (ministry only; issue 14.8)."""
    _require_ministry(principal)
    school = await session.get(Institution, school_id)
    if school is None or school.kind != InstitutionKind.SCHOOL:
        raise NotFound("The school", field="schoolId")
    if pool is None:
        await session.execute(delete(SchoolPool).where(SchoolPool.school_id == school_id))
    else:
        await session.execute(
            pg_insert(SchoolPool)
            .values(school_id=school_id, pool=pool)
            .on_conflict_do_update(
                index_elements=[SchoolPool.school_id], set_={"pool": pool, "updated_at": func.now()}
            )
        )
    await emit(
        session,
        topic="admission.school_pool_set",
        aggregate_type="Institution",
        aggregate_id=school_id,
        payload={"pool": None if pool is None else pool.value},
    )
    return school


async def set_district_pool(
    session: AsyncSession, principal: Principal, *, district_id: int, pool: AdmissionPool
) -> DistrictPool:
    """Classify a district's schools into a grant pool (ministry only)."""
    _require_ministry(principal)
    if await session.get(District, district_id) is None:
        raise NotFound("The district", field="districtId")
    await session.execute(
        pg_insert(DistrictPool)
        .values(district_id=district_id, pool=pool)
        .on_conflict_do_update(
            index_elements=[DistrictPool.district_id], set_={"pool": pool, "updated_at": func.now()}
        )
    )
    await emit(
        session,
        topic="admission.district_pool_set",
        aggregate_type="District",
        aggregate_id=district_id,
        payload={"pool": pool.value},
    )
    row = await session.get(DistrictPool, district_id, populate_existing=True)
    assert row is not None
    return row


async def grant_quota(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    person_id: int,
    category: PlaceCategory,
) -> QuotaHolder:
    """Record that an applicant holds a quota (orphan, disability, ethnic Kyrgyz from abroad)
    in a season, on the documents the ministry checked (ministry only)."""
    _require_ministry(principal)
    if category not in QUOTA_CATEGORIES:
        raise DomainError(ErrorCode.INVALID_INPUT, "This category is not a quota", field="category")
    season = await load_season(session, season_id)
    require_open(season)
    if await session.get(Person, person_id) is None:
        raise NotFound("The person", field="personId")
    existing = await session.scalar(
        select(QuotaHolder).where(
            QuotaHolder.season_id == season.id,
            QuotaHolder.person_id == person_id,
            QuotaHolder.category == category,
        )
    )
    if existing is not None:
        return existing
    holder = QuotaHolder(season_id=season.id, person_id=person_id, category=category)
    session.add(holder)
    await session.flush()
    await emit(
        session,
        topic="admission.quota_granted",
        aggregate_type="QuotaHolder",
        aggregate_id=holder.id,
        payload={"season_id": season.id, "category": category.value},
    )
    return holder


async def round_open_for_registration(
    session: AsyncSession, season_id: int, on: date
) -> AdmissionRound | None:
    """The planned round whose registration window holds ``on``, if any."""
    return (
        await session.execute(
            select(AdmissionRound).where(
                AdmissionRound.season_id == season_id,
                AdmissionRound.status == RoundStatus.PLANNED,
                AdmissionRound.registration_opens <= on,
                AdmissionRound.registration_closes >= on,
            )
        )
    ).scalar_one_or_none()

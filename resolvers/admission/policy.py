"""Admission policy rows the ministry and universities maintain: seasons with their scales,
thresholds and choice limit, rounds with their dates, thresholds per field of study, the pool of
each district, quota holders, and programmes with their places (domain.md, "University
admission"; every figure is a row per season, never a constant)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionPool,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    District,
    DistrictPool,
    EducationLevel,
    FieldThreshold,
    Institution,
    InstitutionKind,
    Intake,
    PlaceCategory,
    ProgrammeCode,
    ProgrammePlaces,
    QuotaHolder,
    RoundStatus,
    SeasonStatus,
)
from models.admission import QUOTA_CATEGORIES
from resolvers.access import Principal, require
from resolvers.admission.rules import may_manage_admissions
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_season_year_intake",
    ErrorCode.SEASON_EXISTS,
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
register_constraint(
    "uq_admission_programme_code",
    ErrorCode.INVALID_INPUT,
    "The university already offers a programme with this code this season",
    "code",
)
register_constraint(
    "ck_admission_programme_places_filled",
    ErrorCode.PLACES_FULL,
    "All places of this category are taken",
    "places",
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
        raise DomainError(ErrorCode.SEASON_CLOSED, "The admission season is closed", field=field)


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
            ErrorCode.ROUND_ALREADY_PUBLISHED,
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
                ErrorCode.SCORE_OUT_OF_RANGE, f"{name} lies between 0 and {top}", field=name
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
    from models import Person

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


def _check_places(season: AdmissionSeason, places: dict[PlaceCategory, int]) -> None:
    for category, count in places.items():
        if count < 0:
            raise DomainError(ErrorCode.INVALID_INPUT, "Places are not negative", field="places")
        if season.intake == Intake.WINTER and category != PlaceCategory.CONTRACT and count > 0:
            raise DomainError(
                ErrorCode.CONTRACT_ONLY,
                "The winter intake has contract places only",
                field="places",
            )


async def create_programme(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    institution_id: int,
    code: str,
    name: str,
    field_of_study: str,
    required_subjects: list[str],
    creative_test: bool,
    places: dict[PlaceCategory, int],
    programme_code: str | None = None,
) -> AdmissionProgramme:
    """Offer a university programme in a season with its places per category (the
    university's admission officers or the ministry).

    ``programme_code`` links it to the programme classifier (a higher-education entry;
    ``UNKNOWN_PROGRAMME`` otherwise): where the classifier requires accreditation, the
    programme takes applications and is ranked only while the university holds a programme
    accreditation for that code in force (issue 5). A programme may be prepared before its
    accreditation is decided; admission itself is what the accreditation opens.
    """
    season = await load_season(session, season_id)
    require_open(season)
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The university", field="institutionId")
    require(may_manage_admissions(principal, inst.id), "This university is outside your scope")
    if inst.kind != InstitutionKind.UNIVERSITY:
        raise DomainError(
            ErrorCode.WRONG_INSTITUTION_KIND,
            "Programmes belong to universities",
            field="institutionId",
        )
    code = code.strip()
    name = name.strip()
    if not code or len(code) > 20:
        raise DomainError(ErrorCode.INVALID_INPUT, "A code of 1-20 characters", field="code")
    if not name or len(name) > 300:
        raise DomainError(ErrorCode.INVALID_INPUT, "A name of 1-300 characters", field="name")
    subjects = [normalise_code(s, "requiredSubjects") for s in required_subjects]
    if len(subjects) > 4 or len(set(subjects)) != len(subjects):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "At most four different subjects", field="requiredSubjects"
        )
    _check_places(season, places)
    classified: str | None = None
    if programme_code is not None:
        entry = await session.get(ProgrammeCode, programme_code.strip().upper())
        if entry is None or entry.level not in (
            EducationLevel.HIGHER,
            EducationLevel.POSTGRADUATE,
        ):
            raise DomainError(
                ErrorCode.UNKNOWN_PROGRAMME,
                f"No higher-education programme has the code {programme_code[:20]!r}",
                field="programmeCode",
            )
        classified = entry.code
    programme = AdmissionProgramme(
        season_id=season.id,
        institution_id=inst.id,
        code=code,
        name=name,
        field_of_study=normalise_code(field_of_study, "fieldOfStudy"),
        required_subjects=subjects,
        creative_test=creative_test,
        programme_code=classified,
    )
    session.add(programme)
    await session.flush()
    for category, count in places.items():
        session.add(ProgrammePlaces(programme_id=programme.id, category=category, places=count))
    await session.flush()
    await emit(
        session,
        topic="admission.programme_offered",
        aggregate_type="AdmissionProgramme",
        aggregate_id=programme.id,
        payload={
            "season_id": season.id,
            "institution_id": inst.id,
            "programme_code": classified,
        },
    )
    return programme


async def set_programme_places(
    session: AsyncSession,
    principal: Principal,
    *,
    programme_id: int,
    places: dict[PlaceCategory, int],
) -> AdmissionProgramme:
    """Change a programme's places; never below the places already confirmed (the database
    refuses it)."""
    programme = await session.get(AdmissionProgramme, programme_id)
    if programme is None:
        raise NotFound("The programme", field="programmeId")
    require(
        may_manage_admissions(principal, programme.institution_id),
        "This university is outside your scope",
    )
    season = await load_season(session, programme.season_id)
    require_open(season)
    _check_places(season, places)
    for category, count in places.items():
        await session.execute(
            pg_insert(ProgrammePlaces)
            .values(programme_id=programme.id, category=category, places=count)
            .on_conflict_do_update(
                constraint="uq_admission_programme_places", set_={"places": count}
            )
        )
    await emit(
        session,
        topic="admission.places_changed",
        aggregate_type="AdmissionProgramme",
        aggregate_id=programme.id,
        payload={"categories": sorted(c.value for c in places)},
    )
    return programme


async def threshold_for(
    session: AsyncSession, season: AdmissionSeason, field_of_study: str
) -> tuple[int, int, int]:
    """(grant main minimum, contract main minimum, subject minimum) for a field of study: its
    own row, else the season's general thresholds."""
    row = await session.scalar(
        select(FieldThreshold).where(
            FieldThreshold.season_id == season.id, FieldThreshold.field_of_study == field_of_study
        )
    )
    if row is None:
        return season.main_threshold, season.main_threshold, season.subject_threshold
    return row.grant_main_min, row.contract_main_min, row.subject_min


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

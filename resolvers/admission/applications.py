"""Applying to university programmes (domain.md, "University admission"): up to the season's
number of choices in order of preference, each for grant, contract or both places, checked for
eligibility (``eligibility``) when submitted; and the creative test score a university records
on an application."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionPool,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    District,
    DistrictPool,
    DocumentRecognition,
    Enrollment,
    FieldThreshold,
    Funding,
    Institution,
    NationalTestResult,
    Person,
    PlaceCategory,
    ProgrammePlaces,
    QuotaHolder,
    RoundStatus,
    SchoolPool,
    Sector,
)
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.admission.eligibility import (
    ApplicantFacts,
    Eligibility,
    Thresholds,
    admission_closed,
    check_programme_eligibility,
)
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import load_season, require_open
from resolvers.admission.rules import (
    admission_application_readable,
    may_act_for_applicant,
    may_manage_admissions,
)
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.events import emit
from resolvers.lookup import readable_or_not_found
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_application_programme",
    AdmissionCode.DUPLICATE_CHOICE,
    "The applicant already applied to this programme",
    "choices",
)
register_constraint(
    "uq_admission_application_preference",
    AdmissionCode.DUPLICATE_CHOICE,
    "Two applications hold the same preference",
    "choices",
)


@dataclass(frozen=True)
class Choice:
    """One programme in the applicant's list, in order of preference."""

    programme_id: int
    funding: Funding


Decided = tuple[Choice, AdmissionProgramme, Eligibility]


@dataclass(frozen=True)
class Applied:
    """The applications written, first choice first, and the programmes they are for (as the
    step read them)."""

    applications: list[AdmissionApplication]
    programmes: list[AdmissionProgramme]


@dataclass(frozen=True)
class _Applicant:
    """What the applicant's lock statement read with the lock."""

    person: Person
    season: AdmissionSeason | None
    round: AdmissionRound | None
    certificate: NationalTestResult | None
    quotas: frozenset[PlaceCategory]
    pool: AdmissionPool | None
    recognition: DocumentRecognition | None


async def apply_to_programmes(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    person_id: int,
    certificate_number: str,
    choices: Sequence[Choice],
) -> Applied:
    """Submit an applicant's list of programmes in order of preference.

    Rules (domain.md, "University admission"): during an open round's registration window;
    at most the season's number of choices, each programme once; every choice eligible (see
    :func:`check_programme_eligibility`, which includes the university's licence and the
    programme's accreditation today: issue 5) or nothing is written. A new list replaces the
    applicant's active one; an applicant who holds a confirmed place cannot apply again.
    """
    require(
        await may_act_for_applicant(session, principal, person_id),
        "Only the applicant, or the guardian of a minor applicant, may apply",
    )
    # One submission per applicant at a time: the person's lock.
    applicant = await _lock_applicant(session, season_id, person_id, certificate_number)
    season = applicant.season
    if season is None:
        raise NotFound("The admission season", field="seasonId")
    require_open(season)
    if applicant.round is None:
        raise DomainError(
            AdmissionCode.WINDOW_CLOSED,
            "No round of this season is open for registration",
            field="seasonId",
        )
    rnd = applicant.round
    _check_choice_list(season, choices)
    cert = _certificate(season, applicant.certificate, person_id)
    await _require_no_place(session, season, person_id)
    facts = ApplicantFacts(
        person_id=person_id,
        certificate=cert,
        quotas=applicant.quotas,
        pool=applicant.pool,
        recognition=applicant.recognition,
    )
    decided = await _eligible_choices(session, season, facts, choices)
    applications = await _replace_applications(session, season, rnd, person_id, cert, decided)
    await emit(
        session,
        topic="admission.choices_submitted",
        aggregate_type="Person",
        aggregate_id=person_id,
        payload={
            "season_id": season.id,
            "round": rnd.number,
            "application_ids": [a.id for a in applications],
        },
    )
    return Applied(applications, list({p.id: p for _, p, _ in decided}.values()))


async def _lock_applicant(
    session: AsyncSession, season_id: int, person_id: int, certificate_number: str
) -> _Applicant:
    """The applicant's person row locked, and in the same statement what the submission
    decides on that no submission changes: the season, the round open for registration today,
    the certificate with this number, the quotas, the pool of the applicant's school and the
    decision on a foreign document (seven statements before). Read as the lock's statement
    began, which is what a read just before the lock gave; what the lock protects (the
    applicant's own applications) is read after it."""
    today = clock.today()
    open_round = (
        select(AdmissionRound.id)
        .where(
            AdmissionRound.season_id == season_id,
            AdmissionRound.status == RoundStatus.PLANNED,
            AdmissionRound.registration_opens <= today,
            AdmissionRound.registration_closes >= today,
        )
        .scalar_subquery()
    )
    quotas = (
        select(func.array_agg(QuotaHolder.category))
        .where(QuotaHolder.season_id == season_id, QuotaHolder.person_id == Person.id)
        .scalar_subquery()
    )
    found = (
        await session.execute(
            select(
                Person,
                AdmissionSeason,
                AdmissionRound,
                NationalTestResult,
                DocumentRecognition,
                quotas.label("quotas"),
                _pool_of(Person.id).label("pool"),
            )
            .select_from(Person)
            .outerjoin(AdmissionSeason, AdmissionSeason.id == season_id)
            .outerjoin(AdmissionRound, AdmissionRound.id == open_round)
            .outerjoin(
                NationalTestResult,
                NationalTestResult.certificate_number == certificate_number.strip().upper(),
            )
            .outerjoin(
                DocumentRecognition,
                (DocumentRecognition.season_id == season_id)
                & (DocumentRecognition.person_id == Person.id),
            )
            .where(Person.id == person_id)
            .with_for_update(of=Person)
        )
    ).first()
    if found is None:
        raise NotFound("The applicant", field="personId")
    person, season, rnd, cert, recognition, held, pool = found
    return _Applicant(
        person=person,
        season=season,
        round=rnd,
        certificate=cert,
        quotas=frozenset(PlaceCategory(q) for q in held or ()),
        pool=AdmissionPool(pool) if pool is not None else None,
        recognition=recognition,
    )


def _check_choice_list(season: AdmissionSeason, choices: Sequence[Choice]) -> None:
    if not choices:
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose at least one programme", field="choices")
    if len(choices) > season.max_choices:
        raise DomainError(
            AdmissionCode.TOO_MANY_CHOICES,
            f"At most {season.max_choices} choices this season",
            field="choices",
        )
    ids = [c.programme_id for c in choices]
    if len(set(ids)) != len(ids):
        raise DomainError(
            AdmissionCode.DUPLICATE_CHOICE, "A programme appears twice", field="choices"
        )


def _certificate(
    season: AdmissionSeason, cert: NationalTestResult | None, person_id: int
) -> NationalTestResult:
    # A certificate of someone else is "unknown" to this applicant: numbers are not probed.
    if cert is None or cert.person_id != person_id:
        raise DomainError(
            AdmissionCode.UNKNOWN_CERTIFICATE,
            "No national test certificate of the applicant has this number",
            field="certificateNumber",
        )
    if cert.year != season.year:
        raise DomainError(
            AdmissionCode.NOT_ELIGIBLE,
            f"The certificate is of {cert.year}; this season admits on {season.year} results",
            field="certificateNumber",
        )
    return cert


async def _require_no_place(session: AsyncSession, season: AdmissionSeason, person_id: int) -> None:
    placed = await session.scalar(
        select(AdmissionApplication.id).where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == person_id,
            AdmissionApplication.status.in_(
                [ApplicationStatus.CONFIRMED, ApplicationStatus.ENROLLED]
            ),
        )
    )
    if placed is not None:
        raise DomainError(
            AdmissionCode.ALREADY_PLACED,
            "The applicant has confirmed a place this season",
            field="personId",
        )


async def _eligible_choices(
    session: AsyncSession,
    season: AdmissionSeason,
    applicant: ApplicantFacts,
    choices: Sequence[Choice],
) -> list[Decided]:
    """Every choice with its programme and verdict; refused (every choice's problems at once)
    unless all are eligible."""
    programmes, places, thresholds = await _programme_facts(
        session, season, [c.programme_id for c in choices]
    )
    closed = await admission_closed(
        session, [p for p in programmes.values() if p.season_id == season.id], clock.today()
    )
    problems: list[Problem] = []
    decided: list[Decided] = []
    for i, choice in enumerate(choices):
        field = f"choices.{i}.programmeId"
        programme = programmes.get(choice.programme_id)
        if programme is None or programme.season_id != season.id:
            problems.append(
                Problem(ErrorCode.NOT_FOUND, "The programme was not found this season", field)
            )
            continue
        verdict = await check_programme_eligibility(
            session,
            season=season,
            programme=programme,
            places=places[programme.id],
            thresholds=thresholds[programme.field_of_study],
            applicant=applicant,
            funding=choice.funding,
            field=field,
            standing=closed.get(programme.id),
        )
        problems.extend(verdict.problems)
        decided.append((choice, programme, verdict))
    if problems:
        first, *more = problems
        raise DomainError(first.code, first.message, field=first.field, more=more)
    return decided


async def _programme_facts(
    session: AsyncSession, season: AdmissionSeason, programme_ids: Sequence[int]
) -> tuple[
    dict[int, AdmissionProgramme], dict[int, dict[PlaceCategory, int]], dict[str, Thresholds]
]:
    """The chosen programmes, their places per category, and the thresholds of their fields
    (a field's own row, else the season's general thresholds): one statement (three before)."""
    places = (
        select(func.jsonb_object_agg(ProgrammePlaces.category, ProgrammePlaces.places))
        .where(ProgrammePlaces.programme_id == AdmissionProgramme.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            AdmissionProgramme,
            places.label("places"),
            FieldThreshold.grant_main_min,
            FieldThreshold.contract_main_min,
            FieldThreshold.subject_min,
        )
        .outerjoin(
            FieldThreshold,
            (FieldThreshold.season_id == season.id)
            & (FieldThreshold.field_of_study == AdmissionProgramme.field_of_study),
        )
        .where(AdmissionProgramme.id.in_(programme_ids))
    )
    programmes: dict[int, AdmissionProgramme] = {}
    by_programme: dict[int, dict[PlaceCategory, int]] = {}
    thresholds: dict[str, Thresholds] = {}
    general = Thresholds(season.main_threshold, season.main_threshold, season.subject_threshold)
    for row in rows:
        programme = row[0]
        programmes[programme.id] = programme
        by_programme[programme.id] = {
            PlaceCategory(category): n for category, n in (row.places or {}).items()
        }
        own = row.grant_main_min is not None
        thresholds[programme.field_of_study] = (
            Thresholds(row.grant_main_min, row.contract_main_min, row.subject_min)
            if own
            else general
        )
    return programmes, by_programme, thresholds


def _pool_of(person_id: Any) -> Any:
    """The grant pool of the school the applicant last attended (a column for a statement)."""
    parent_pool = DistrictPool.__table__.alias("parent_pool")
    return (
        select(func.coalesce(SchoolPool.pool, DistrictPool.pool, parent_pool.c.pool))
        .select_from(Enrollment)
        .join(Institution, Institution.id == Enrollment.institution_id)
        .outerjoin(SchoolPool, SchoolPool.school_id == Institution.id)
        .outerjoin(District, District.id == Institution.district_id)
        .outerjoin(DistrictPool, DistrictPool.district_id == Institution.district_id)
        .outerjoin(parent_pool, parent_pool.c.district_id == District.parent_id)
        .where(Enrollment.person_id == person_id, Enrollment.sector == Sector.SCHOOL)
        .order_by(Enrollment.entry_date.desc(), Enrollment.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def pool_of_applicant(session: AsyncSession, person_id: int) -> AdmissionPool | None:
    """The grant pool of the school the applicant last attended: the school's own
    classification (issue 14.8), else its district's, else its parent district's; None without
    a school record."""
    pool = await session.scalar(select(_pool_of(person_id)))
    return AdmissionPool(pool) if pool is not None else None


async def _replace_applications(
    session: AsyncSession,
    season: AdmissionSeason,
    rnd: AdmissionRound,
    person_id: int,
    cert: NationalTestResult,
    decided: list[Decided],
) -> list[AdmissionApplication]:
    """Withdraw the applicant's active list and store the new one, first choice first."""
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == person_id,
            AdmissionApplication.status == ApplicationStatus.ACTIVE,
        )
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    rows = []
    for preference, (choice, programme, verdict) in enumerate(decided, start=1):
        subject_score = sum(cert.subject_scores.get(s, 0) for s in programme.required_subjects)
        rows.append(
            {
                "season_id": season.id,
                "person_id": person_id,
                "programme_id": programme.id,
                "test_result_id": cert.id,
                "preference": preference,
                "funding": choice.funding,
                "grant_category": verdict.grant_category,
                "main_score": cert.main_score,
                "subject_score": subject_score,
                "state_language_score": cert.state_language_score,
                "round_number": rnd.number,
            }
        )
    # The rows come back whole (total score, status, times) with the INSERT, in the order
    # given: they were read again one by one before. NULLs are sent as values so that every
    # row goes in one INSERT whichever grant categories are empty.
    written = await session.scalars(
        insert(AdmissionApplication)
        .returning(AdmissionApplication, sort_by_parameter_order=True)
        .execution_options(render_nulls=True),
        rows,
    )
    return list(written)


async def record_creative_score(
    session: AsyncSession, principal: Principal, *, application_id: int, score: int
) -> AdmissionApplication:
    """Record an applicant's creative test score for a programme that has one (the
    university's admission officers); it adds to the ranking score."""
    application = await readable_or_not_found(
        session,
        AdmissionApplication,
        application_id,
        admission_application_readable(principal),
        what="The application",
        field="applicationId",
    )
    programme = await session.get(AdmissionProgramme, application.programme_id)
    assert programme is not None
    require(
        may_manage_admissions(principal, programme.institution_id),
        "This university is outside your scope",
    )
    if not programme.creative_test:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "This programme has no creative test", field="applicationId"
        )
    season = await load_season(session, application.season_id)
    require_open(season)
    if not 0 <= score <= season.subject_score_max:
        raise DomainError(
            AdmissionCode.SCORE_OUT_OF_RANGE,
            f"The creative score lies between 0 and {season.subject_score_max}",
            field="score",
        )
    if application.status != ApplicationStatus.ACTIVE:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The application is no longer competing", field="applicationId"
        )
    application.creative_score = score
    await session.flush()
    await session.refresh(application)
    await emit(
        session,
        topic="admission.creative_score_recorded",
        aggregate_type="AdmissionApplication",
        aggregate_id=application.id,
        payload={"programme_id": programme.id},
    )
    return application

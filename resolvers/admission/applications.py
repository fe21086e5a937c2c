"""Applying to university programmes (domain.md, "University admission"): up to the season's
number of choices in order of preference, each for grant, contract or both places, checked for
eligibility (``eligibility``) when submitted; and the creative test score a university records
on an application."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
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
    Enrollment,
    FieldThreshold,
    Funding,
    Institution,
    NationalTestResult,
    Person,
    PlaceCategory,
    ProgrammePlaces,
    QuotaHolder,
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
from resolvers.admission.policy import load_season, require_open, round_open_for_registration
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


async def apply_to_programmes(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    person_id: int,
    certificate_number: str,
    choices: Sequence[Choice],
) -> list[AdmissionApplication]:
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
    # One submission per applicant at a time.
    person = await session.get(Person, person_id, with_for_update=True)
    if person is None:
        raise NotFound("The applicant", field="personId")
    season = await load_season(session, season_id)
    require_open(season)
    rnd = await _registration_round(session, season)
    _check_choice_list(season, choices)
    cert = await _certificate(session, season, person.id, certificate_number)
    await _require_no_place(session, season, person.id)
    decided = await _eligible_choices(session, season, person.id, cert, choices)
    applications = await _replace_applications(session, season, rnd, person.id, cert, decided)
    await emit(
        session,
        topic="admission.choices_submitted",
        aggregate_type="Person",
        aggregate_id=person.id,
        payload={
            "season_id": season.id,
            "round": rnd.number,
            "application_ids": [a.id for a in applications],
        },
    )
    return applications


async def _registration_round(session: AsyncSession, season: AdmissionSeason) -> AdmissionRound:
    rnd = await round_open_for_registration(session, season.id, clock.today())
    if rnd is None:
        raise DomainError(
            AdmissionCode.WINDOW_CLOSED,
            "No round of this season is open for registration",
            field="seasonId",
        )
    return rnd


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


async def _certificate(
    session: AsyncSession, season: AdmissionSeason, person_id: int, number: str
) -> NationalTestResult:
    cert = await session.scalar(
        select(NationalTestResult).where(
            NationalTestResult.certificate_number == number.strip().upper()
        )
    )
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
    person_id: int,
    cert: NationalTestResult,
    choices: Sequence[Choice],
) -> list[Decided]:
    """Every choice with its programme and verdict; refused (every choice's problems at once)
    unless all are eligible."""
    programmes, places, thresholds = await _programme_facts(
        session, season, [c.programme_id for c in choices]
    )
    applicant = ApplicantFacts(
        person_id=person_id,
        certificate=cert,
        quotas=await _quotas(session, season, person_id),
        pool=await pool_of_applicant(session, person_id),
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
    (a field's own row, else the season's general thresholds)."""
    programmes = {
        p.id: p
        for p in (
            await session.execute(
                select(AdmissionProgramme).where(AdmissionProgramme.id.in_(programme_ids))
            )
        ).scalars()
    }
    places: dict[int, dict[PlaceCategory, int]] = {pid: {} for pid in programmes}
    for row in await session.execute(
        select(
            ProgrammePlaces.programme_id, ProgrammePlaces.category, ProgrammePlaces.places
        ).where(ProgrammePlaces.programme_id.in_(programme_ids))
    ):
        places[row.programme_id][PlaceCategory(row.category)] = row.places
    fields = {p.field_of_study for p in programmes.values()}
    thresholds = {
        f: Thresholds(season.main_threshold, season.main_threshold, season.subject_threshold)
        for f in fields
    }
    for t in (
        await session.execute(
            select(FieldThreshold).where(
                FieldThreshold.season_id == season.id, FieldThreshold.field_of_study.in_(fields)
            )
        )
    ).scalars():
        thresholds[t.field_of_study] = Thresholds(
            t.grant_main_min, t.contract_main_min, t.subject_min
        )
    return programmes, places, thresholds


async def _quotas(
    session: AsyncSession, season: AdmissionSeason, person_id: int
) -> frozenset[PlaceCategory]:
    """The quotas the applicant holds in the season."""
    return frozenset(
        PlaceCategory(q)
        for q in (
            await session.execute(
                select(QuotaHolder.category).where(
                    QuotaHolder.season_id == season.id, QuotaHolder.person_id == person_id
                )
            )
        ).scalars()
    )


async def pool_of_applicant(session: AsyncSession, person_id: int) -> AdmissionPool | None:
    """The grant pool of the school the applicant last attended: its district's
    classification, else its parent district's; None without a school record."""
    parent_pool = DistrictPool.__table__.alias("parent_pool")
    row = (
        await session.execute(
            select(func.coalesce(DistrictPool.pool, parent_pool.c.pool))
            .select_from(Enrollment)
            .join(Institution, Institution.id == Enrollment.institution_id)
            .outerjoin(District, District.id == Institution.district_id)
            .outerjoin(DistrictPool, DistrictPool.district_id == Institution.district_id)
            .outerjoin(parent_pool, parent_pool.c.district_id == District.parent_id)
            .where(Enrollment.person_id == person_id, Enrollment.sector == Sector.SCHOOL)
            .order_by(Enrollment.entry_date.desc(), Enrollment.id.desc())
            .limit(1)
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return AdmissionPool(row[0])


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
    applications = []
    for preference, (choice, programme, verdict) in enumerate(decided, start=1):
        subject_score = sum(cert.subject_scores.get(s, 0) for s in programme.required_subjects)
        application = AdmissionApplication(
            season_id=season.id,
            person_id=person_id,
            programme_id=programme.id,
            test_result_id=cert.id,
            preference=preference,
            funding=choice.funding,
            grant_category=verdict.grant_category,
            main_score=cert.main_score,
            subject_score=subject_score,
            state_language_score=cert.state_language_score,
            round_number=rnd.number,
        )
        session.add(application)
        applications.append(application)
    await session.flush()
    for application in applications:
        await session.refresh(application)
    return applications


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

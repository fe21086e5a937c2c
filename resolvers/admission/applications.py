"""Applying to university programmes and taking a recommended place (domain.md, "University
admission"): up to the season's number of choices in order of preference, each for grant,
contract or both places, checked for eligibility when submitted; confirming a recommended
place in the round's window takes it and withdraws the applicant's lower preferences."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionPool,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    District,
    DistrictPool,
    EducationLevel,
    Enrollment,
    FieldThreshold,
    Funding,
    Guardianship,
    Institution,
    Intake,
    NationalTestResult,
    Person,
    PlaceCategory,
    ProgrammePlaces,
    QuotaHolder,
    Sector,
)
from models.admission import QUOTA_CATEGORIES
from resolvers import clock
from resolvers import licensing as licensing_service
from resolvers.access import Principal, Role, require
from resolvers.admission.policy import load_season, require_open, round_open_for_registration
from resolvers.admission.rules import may_manage_admissions
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.events import emit
from resolvers.mutations import register_constraint

ADULT_AGE = 18

register_constraint(
    "uq_admission_offer_confirmed",
    ErrorCode.ALREADY_CONFIRMED,
    "The applicant has already confirmed a place this season",
    "offerId",
)
register_constraint(
    "uq_admission_application_programme",
    ErrorCode.DUPLICATE_CHOICE,
    "The applicant already applied to this programme",
    "choices",
)
register_constraint(
    "uq_admission_application_preference",
    ErrorCode.DUPLICATE_CHOICE,
    "Two applications hold the same preference",
    "choices",
)


@dataclass(frozen=True)
class Choice:
    """One programme in the applicant's list, in order of preference."""

    programme_id: int
    funding: Funding


@dataclass(frozen=True)
class ApplicantFacts:
    """What eligibility is decided on: the certificate, the pool of the applicant's school and
    the quotas they hold in the season."""

    person_id: int
    certificate: NationalTestResult
    pool: AdmissionPool | None
    quotas: frozenset[PlaceCategory]


@dataclass(frozen=True)
class Thresholds:
    grant_main_min: int
    contract_main_min: int
    subject_min: int


@dataclass
class Eligibility:
    """The answer to "may this applicant compete for this programme?": the problems (empty when
    eligible) and the grant category they would compete in."""

    problems: list[Problem]
    grant_category: PlaceCategory | None


@dataclass(frozen=True)
class Standing:
    """Whether a programme may take applicants today (issue 5): its university holds a licence
    in force covering higher education, and the programme the accreditation its classifier
    entry requires. A standing is the refusal of a programme that may not: code and why."""

    code: ErrorCode
    message: str


async def admission_closed(
    session: AsyncSession, programmes: Iterable[AdmissionProgramme | Any], on: date
) -> dict[int, Standing]:
    """The programmes among these that cannot open admission on ``on``, with why: the
    university needs a licence and holds none in force covering higher education
    (``LICENCE_REQUIRED``), or the programme's classifier entry requires accreditation and the
    university holds no programme accreditation for it in force (``ACCREDITATION_REQUIRED``).
    Set-based (a few statements whatever the number); licences and accreditations are read
    ``FOR SHARE`` so that a suspension racing an admission waits for it."""
    rows = list(programmes)
    unlicensed = await licensing_service.unlicensed_among(
        session, {p.institution_id for p in rows}, on=on, level=EducationLevel.HIGHER
    )
    unaccredited = await licensing_service.unaccredited_among(
        session,
        {(p.institution_id, p.programme_code) for p in rows if p.programme_code is not None},
        on=on,
    )
    closed: dict[int, Standing] = {}
    for p in rows:
        if p.institution_id in unlicensed:
            closed[p.id] = Standing(
                ErrorCode.LICENCE_REQUIRED,
                f"The university of {p.code} holds no licence in force on {on.isoformat()} "
                "covering higher education",
            )
        elif (p.institution_id, p.programme_code) in unaccredited:
            closed[p.id] = Standing(
                ErrorCode.ACCREDITATION_REQUIRED,
                f"{p.code} ({p.programme_code}) holds no accreditation in force on "
                f"{on.isoformat()}",
            )
    return closed


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def may_act_for_applicant(
    session: AsyncSession, principal: Principal, person_id: int
) -> bool:
    """May this caller apply or confirm for this applicant? The applicant themself (role
    pupil), or a guardian of an applicant who is still a minor."""
    if principal.person_id is None:
        return False
    if principal.role == Role.PUPIL:
        return principal.person_id == person_id
    if principal.role != Role.GUARDIAN:
        return False
    birth = await session.scalar(
        select(Person.birth_date)
        .join(Guardianship, Guardianship.child_id == Person.id)
        .where(
            Person.id == person_id,
            Guardianship.guardian_id == principal.person_id,
            Guardianship.valid_to.is_(None),
        )
    )
    return birth is not None and _age_on(birth, clock.today()) < ADULT_AGE


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


async def check_programme_eligibility(
    session: AsyncSession,
    *,
    season: AdmissionSeason,
    programme: AdmissionProgramme,
    places: dict[PlaceCategory, int],
    thresholds: Thresholds,
    applicant: ApplicantFacts,
    funding: Funding,
    field: str,
    standing: Standing | None = None,
) -> Eligibility:
    """May this applicant compete for this programme's places with this funding?

    Rules (domain.md, "University admission"): the state-language test passed; the winter
    intake has contract places only; every required subject test taken and at or above the
    subject threshold; the main score at or above the field's grant or contract threshold for
    each funding asked; grant places in the applicant's quota (if the programme has any) or
    else their school's pool. Every failed rule is one problem, so the answer says why.
    ``standing`` (from :func:`admission_closed`) refuses a programme that cannot open
    admission: an unlicensed university or a programme without the accreditation it needs
    (issue 5).
    """
    problems: list[Problem] = []
    if standing is not None:
        problems.append(Problem(standing.code, standing.message, field))
    cert = applicant.certificate
    wants_grant = funding in (Funding.GRANT, Funding.BOTH)
    wants_contract = funding in (Funding.CONTRACT, Funding.BOTH)
    if cert.state_language_score < season.state_language_threshold:
        problems.append(
            Problem(
                ErrorCode.STATE_LANGUAGE_NOT_PASSED,
                f"The state-language test needs {season.state_language_threshold}, "
                f"the certificate has {cert.state_language_score}",
                field,
            )
        )
    if wants_grant and season.intake == Intake.WINTER:
        problems.append(
            Problem(ErrorCode.CONTRACT_ONLY, "The winter intake has contract places only", field)
        )
    for subject in programme.required_subjects:
        score = cert.subject_scores.get(subject)
        if score is None:
            problems.append(
                Problem(
                    ErrorCode.MISSING_SUBJECT_TEST,
                    f"{programme.code} requires the {subject} subject test",
                    field,
                )
            )
        elif score < thresholds.subject_min:
            problems.append(
                Problem(
                    ErrorCode.BELOW_THRESHOLD,
                    f"The {subject} score {score} is below the threshold {thresholds.subject_min}",
                    field,
                )
            )
    if wants_grant and cert.main_score < thresholds.grant_main_min:
        problems.append(
            Problem(
                ErrorCode.BELOW_THRESHOLD,
                f"The main score {cert.main_score} is below the grant threshold "
                f"{thresholds.grant_main_min} of {programme.field_of_study}",
                field,
            )
        )
    if wants_contract and cert.main_score < thresholds.contract_main_min:
        problems.append(
            Problem(
                ErrorCode.BELOW_THRESHOLD,
                f"The main score {cert.main_score} is below the contract threshold "
                f"{thresholds.contract_main_min} of {programme.field_of_study}",
                field,
            )
        )
    if wants_contract and places.get(PlaceCategory.CONTRACT, 0) <= 0:
        problems.append(
            Problem(ErrorCode.NOT_ELIGIBLE, f"{programme.code} has no contract places", field)
        )
    grant_category: PlaceCategory | None = None
    if wants_grant:
        quota = next(
            (q for q in QUOTA_CATEGORIES if q in applicant.quotas and places.get(q, 0) > 0), None
        )
        if quota is not None:
            grant_category = quota
        elif applicant.pool is None:
            problems.append(
                Problem(
                    ErrorCode.NOT_ELIGIBLE,
                    "No school record places the applicant in a pool of grant places",
                    field,
                )
            )
        else:
            grant_category = PlaceCategory(applicant.pool.value)
            if places.get(grant_category, 0) <= 0:
                problems.append(
                    Problem(
                        ErrorCode.NOT_ELIGIBLE,
                        f"{programme.code} has no grant places for the {grant_category.value} pool",
                        field,
                    )
                )
    return Eligibility(problems=problems, grant_category=grant_category)


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
            ErrorCode.UNKNOWN_CERTIFICATE,
            "No national test certificate of the applicant has this number",
            field="certificateNumber",
        )
    if cert.year != season.year:
        raise DomainError(
            ErrorCode.NOT_ELIGIBLE,
            f"The certificate is of {cert.year}; this season admits on {season.year} results",
            field="certificateNumber",
        )
    return cert


async def _programme_facts(
    session: AsyncSession, season: AdmissionSeason, programme_ids: Sequence[int]
) -> tuple[
    dict[int, AdmissionProgramme], dict[int, dict[PlaceCategory, int]], dict[str, Thresholds]
]:
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
    rnd = await round_open_for_registration(session, season.id, clock.today())
    if rnd is None:
        raise DomainError(
            ErrorCode.WINDOW_CLOSED,
            "No round of this season is open for registration",
            field="seasonId",
        )
    if not choices:
        raise DomainError(ErrorCode.INVALID_INPUT, "Choose at least one programme", field="choices")
    if len(choices) > season.max_choices:
        raise DomainError(
            ErrorCode.TOO_MANY_CHOICES,
            f"At most {season.max_choices} choices this season",
            field="choices",
        )
    ids = [c.programme_id for c in choices]
    if len(set(ids)) != len(ids):
        raise DomainError(ErrorCode.DUPLICATE_CHOICE, "A programme appears twice", field="choices")
    cert = await _certificate(session, season, person.id, certificate_number)
    placed = await session.scalar(
        select(AdmissionApplication.id).where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == person.id,
            AdmissionApplication.status.in_(
                [ApplicationStatus.CONFIRMED, ApplicationStatus.ENROLLED]
            ),
        )
    )
    if placed is not None:
        raise DomainError(
            ErrorCode.ALREADY_PLACED,
            "The applicant has confirmed a place this season",
            field="personId",
        )
    programmes, places, thresholds = await _programme_facts(session, season, ids)
    quotas = frozenset(
        PlaceCategory(q)
        for q in (
            await session.execute(
                select(QuotaHolder.category).where(
                    QuotaHolder.season_id == season.id, QuotaHolder.person_id == person.id
                )
            )
        ).scalars()
    )
    applicant = ApplicantFacts(
        person_id=person.id,
        certificate=cert,
        pool=await pool_of_applicant(session, person.id),
        quotas=quotas,
    )
    closed = await admission_closed(
        session, [p for p in programmes.values() if p.season_id == season.id], clock.today()
    )
    problems: list[Problem] = []
    decided: list[tuple[Choice, AdmissionProgramme, Eligibility]] = []
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
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == person.id,
            AdmissionApplication.status == ApplicationStatus.ACTIVE,
        )
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    applications = []
    for preference, (choice, programme, verdict) in enumerate(decided, start=1):
        subject_score = sum(cert.subject_scores.get(s, 0) for s in programme.required_subjects)
        application = AdmissionApplication(
            season_id=season.id,
            person_id=person.id,
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


async def confirm_place(
    session: AsyncSession, principal: Principal, *, offer_id: int
) -> AdmissionOffer:
    """Take a recommended place (domain.md, "University admission").

    Rules: only the applicant or the guardian of a minor; within the round's confirmation
    window; an offer is confirmed once. The place is counted in the programme's places (the
    database refuses more confirmations than places); the applicant's lower preferences are
    withdrawn, and a place confirmed earlier for a lower preference is released for the next
    round.
    """
    offer = await session.get(AdmissionOffer, offer_id, with_for_update=True)
    if offer is None:
        raise NotFound("The recommended place", field="offerId")
    require(
        await may_act_for_applicant(session, principal, offer.person_id),
        "Only the applicant, or the guardian of a minor applicant, may confirm",
    )
    if offer.status == AdmissionOfferStatus.CONFIRMED:
        raise DomainError(
            ErrorCode.ALREADY_CONFIRMED, "This place is already confirmed", field="offerId"
        )
    if offer.status != AdmissionOfferStatus.RECOMMENDED:
        raise DomainError(
            ErrorCode.OFFER_NOT_OPEN, f"This place is {offer.status.value}", field="offerId"
        )
    season = await load_season(session, offer.season_id)
    require_open(season, "offerId")
    rnd = await session.get(AdmissionRound, offer.round_id)
    assert rnd is not None
    today = clock.today()
    if not rnd.confirmation_opens <= today <= rnd.confirmation_closes:
        raise DomainError(
            ErrorCode.WINDOW_CLOSED,
            f"Confirmation runs from {rnd.confirmation_opens} to {rnd.confirmation_closes}",
            field="offerId",
        )
    application = await session.get(
        AdmissionApplication, offer.application_id, with_for_update=True
    )
    assert application is not None
    earlier = (
        await session.execute(
            select(AdmissionOffer)
            .where(
                AdmissionOffer.season_id == season.id,
                AdmissionOffer.person_id == offer.person_id,
                AdmissionOffer.status == AdmissionOfferStatus.CONFIRMED,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if earlier is not None:
        await _release(session, earlier)
    await session.execute(
        update(ProgrammePlaces)
        .where(
            ProgrammePlaces.programme_id == offer.programme_id,
            ProgrammePlaces.category == offer.category,
        )
        .values(filled=ProgrammePlaces.filled + 1)
    )
    offer.status = AdmissionOfferStatus.CONFIRMED
    offer.decided_at = func.now()
    application.status = ApplicationStatus.CONFIRMED
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == offer.person_id,
            AdmissionApplication.preference > application.preference,
            AdmissionApplication.status == ApplicationStatus.ACTIVE,
        )
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    await session.flush()
    await session.refresh(offer)
    await emit(
        session,
        topic="admission.place_confirmed",
        aggregate_type="AdmissionOffer",
        aggregate_id=offer.id,
        payload={
            "application_id": application.id,
            "programme_id": offer.programme_id,
            "category": offer.category.value,
        },
    )
    return offer


async def _release(session: AsyncSession, offer: AdmissionOffer) -> None:
    """Give up a confirmed place for a higher preference: it becomes a vacancy."""
    offer.status = AdmissionOfferStatus.RELEASED
    offer.decided_at = func.now()
    await session.execute(
        update(ProgrammePlaces)
        .where(
            ProgrammePlaces.programme_id == offer.programme_id,
            ProgrammePlaces.category == offer.category,
        )
        .values(filled=ProgrammePlaces.filled - 1)
    )
    await session.execute(
        update(AdmissionApplication)
        .where(AdmissionApplication.id == offer.application_id)
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    await emit(
        session,
        topic="admission.place_released",
        aggregate_type="AdmissionOffer",
        aggregate_id=offer.id,
        payload={"programme_id": offer.programme_id, "category": offer.category.value},
    )


async def record_creative_score(
    session: AsyncSession, principal: Principal, *, application_id: int, score: int
) -> AdmissionApplication:
    """Record an applicant's creative test score for a programme that has one (the
    university's admission officers); it adds to the ranking score."""
    application = await session.get(AdmissionApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field="applicationId")
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
            ErrorCode.SCORE_OUT_OF_RANGE,
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

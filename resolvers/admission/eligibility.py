"""Whether an applicant may compete for a programme's places (domain.md, "University
admission", U2-U5), and whether a programme may take applicants at all (issue 5: licence and
accreditation)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionPool,
    AdmissionProgramme,
    AdmissionSeason,
    DocumentRecognition,
    EducationLevel,
    Funding,
    Intake,
    NationalTestResult,
    PlaceCategory,
    RecognitionRoute,
    RecognitionStatus,
)
from models.admission import QUOTA_CATEGORIES
from resolvers import licensing as licensing_service
from resolvers.admission.errors import AdmissionCode
from resolvers.errors import AnyCode, Problem


@dataclass(frozen=True)
class ApplicantFacts:
    """What eligibility is decided on: the certificate, the pool of the applicant's school and
    the quotas they hold in the season."""

    person_id: int
    certificate: NationalTestResult
    pool: AdmissionPool | None
    quotas: frozenset[PlaceCategory]
    # The decision on a foreign education document (U6), if the applicant has one.
    recognition: DocumentRecognition | None = None


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

    code: AnyCode
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
                AdmissionCode.LICENCE_REQUIRED,
                f"The university of {p.code} holds no licence in force on {on.isoformat()} "
                "covering higher education",
            )
        elif (p.institution_id, p.programme_code) in unaccredited:
            closed[p.id] = Standing(
                AdmissionCode.ACCREDITATION_REQUIRED,
                f"{p.code} ({p.programme_code}) holds no accreditation in force on "
                f"{on.isoformat()}",
            )
    return closed


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
    (issue 5). U6: a refused foreign document is a problem; a recognised test exemption
    waives the state-language test (``resolvers/admission/recognition.py``).
    """
    cert = applicant.certificate
    wants_grant = funding in (Funding.GRANT, Funding.BOTH)
    wants_contract = funding in (Funding.CONTRACT, Funding.BOTH)
    problems: list[Problem] = []
    if standing is not None:
        problems.append(Problem(standing.code, standing.message, field))
    problems += _foreign_documents(season, applicant, cert, field)
    if wants_grant and season.intake == Intake.WINTER:
        problems.append(
            Problem(
                AdmissionCode.CONTRACT_ONLY, "The winter intake has contract places only", field
            )
        )
    problems += _subject_tests(programme, cert, thresholds, field)
    problems += _main_score(programme, cert, thresholds, wants_grant, wants_contract, field)
    if wants_contract and places.get(PlaceCategory.CONTRACT, 0) <= 0:
        problems.append(
            Problem(AdmissionCode.NOT_ELIGIBLE, f"{programme.code} has no contract places", field)
        )
    grant_category: PlaceCategory | None = None
    if wants_grant:
        grant_category, refused = _grant_category(programme, places, applicant, field)
        problems += refused
    return Eligibility(problems=problems, grant_category=grant_category)


def _foreign_documents(
    season: AdmissionSeason, applicant: ApplicantFacts, cert: NationalTestResult, field: str
) -> list[Problem]:
    """U6: a refused foreign document makes the applicant ineligible; a recognised test
    exemption waives the state-language test; otherwise that test is required as of all."""
    recognition = applicant.recognition
    if recognition is not None and recognition.status == RecognitionStatus.REFUSED:
        return [
            Problem(
                AdmissionCode.DOCUMENTS_NOT_RECOGNISED,
                "The applicant's foreign education document was not recognised "
                f"({recognition.reference})",
                field,
            )
        ]
    if recognition is not None and recognition.route == RecognitionRoute.TEST_EXEMPTION:
        return []
    return _state_language(season, cert, field)


def _state_language(season: AdmissionSeason, cert: NationalTestResult, field: str) -> list[Problem]:
    if cert.state_language_score >= season.state_language_threshold:
        return []
    return [
        Problem(
            AdmissionCode.STATE_LANGUAGE_NOT_PASSED,
            f"The state-language test needs {season.state_language_threshold}, "
            f"the certificate has {cert.state_language_score}",
            field,
        )
    ]


def _subject_tests(
    programme: AdmissionProgramme, cert: NationalTestResult, thresholds: Thresholds, field: str
) -> list[Problem]:
    problems = []
    for subject in programme.required_subjects:
        score = cert.subject_scores.get(subject)
        if score is None:
            problems.append(
                Problem(
                    AdmissionCode.MISSING_SUBJECT_TEST,
                    f"{programme.code} requires the {subject} subject test",
                    field,
                )
            )
        elif score < thresholds.subject_min:
            problems.append(
                Problem(
                    AdmissionCode.BELOW_THRESHOLD,
                    f"The {subject} score {score} is below the threshold {thresholds.subject_min}",
                    field,
                )
            )
    return problems


def _main_score(
    programme: AdmissionProgramme,
    cert: NationalTestResult,
    thresholds: Thresholds,
    wants_grant: bool,
    wants_contract: bool,
    field: str,
) -> list[Problem]:
    asked = (
        ("grant", thresholds.grant_main_min, wants_grant),
        ("contract", thresholds.contract_main_min, wants_contract),
    )
    return [
        Problem(
            AdmissionCode.BELOW_THRESHOLD,
            f"The main score {cert.main_score} is below the {funding} threshold "
            f"{minimum} of {programme.field_of_study}",
            field,
        )
        for funding, minimum, wanted in asked
        if wanted and cert.main_score < minimum
    ]


def _grant_category(
    programme: AdmissionProgramme,
    places: dict[PlaceCategory, int],
    applicant: ApplicantFacts,
    field: str,
) -> tuple[PlaceCategory | None, list[Problem]]:
    """The quota the applicant holds (where the programme has places for it), else their
    school's pool; with why the grant competition is refused, if it is."""
    quota = next(
        (q for q in QUOTA_CATEGORIES if q in applicant.quotas and places.get(q, 0) > 0), None
    )
    if quota is not None:
        return quota, []
    if applicant.pool is None:
        return None, [
            Problem(
                AdmissionCode.NOT_ELIGIBLE,
                "No school record places the applicant in a pool of grant places",
                field,
            )
        ]
    category = PlaceCategory(applicant.pool.value)
    if places.get(category, 0) > 0:
        return category, []
    return category, [
        Problem(
            AdmissionCode.NOT_ELIGIBLE,
            f"{programme.code} has no grant places for the {category.value} pool",
            field,
        )
    ]

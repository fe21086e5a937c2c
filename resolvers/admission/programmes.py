"""University programmes offered in a season and their places per category (the university's
admission officers or the ministry; domain.md, "University admission", U3-U5)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionProgramme,
    AdmissionSeason,
    EducationLevel,
    Institution,
    InstitutionKind,
    Intake,
    PlaceCategory,
    ProgrammeCode,
    ProgrammePlaces,
)
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import load_season, normalise_code, require_open
from resolvers.admission.rules import may_manage_admissions
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_programme_code",
    ErrorCode.INVALID_INPUT,
    "The university already offers a programme with this code this season",
    "code",
)
register_constraint(
    "ck_admission_programme_places_filled",
    AdmissionCode.PLACES_FULL,
    "All places of this category are taken",
    "places",
)

MAX_REQUIRED_SUBJECTS = 4


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
    inst = await _managed_university(session, principal, institution_id)
    code, name = _code_and_name(code, name)
    subjects = _required_subjects(required_subjects)
    _check_places(season, places)
    classified = await _classified(session, programme_code)
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


async def _managed_university(
    session: AsyncSession, principal: Principal, institution_id: int
) -> Institution:
    """The university, if the caller runs its admission."""
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The university", field="institutionId")
    require(may_manage_admissions(principal, inst.id), "This university is outside your scope")
    if inst.kind != InstitutionKind.UNIVERSITY:
        raise DomainError(
            AdmissionCode.WRONG_INSTITUTION_KIND,
            "Programmes belong to universities",
            field="institutionId",
        )
    return inst


def _code_and_name(code: str, name: str) -> tuple[str, str]:
    code = code.strip()
    name = name.strip()
    if not code or len(code) > 20:
        raise DomainError(ErrorCode.INVALID_INPUT, "A code of 1-20 characters", field="code")
    if not name or len(name) > 300:
        raise DomainError(ErrorCode.INVALID_INPUT, "A name of 1-300 characters", field="name")
    return code, name


def _required_subjects(required_subjects: list[str]) -> list[str]:
    subjects = [normalise_code(s, "requiredSubjects") for s in required_subjects]
    if len(subjects) > MAX_REQUIRED_SUBJECTS or len(set(subjects)) != len(subjects):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "At most four different subjects", field="requiredSubjects"
        )
    return subjects


async def _classified(session: AsyncSession, programme_code: str | None) -> str | None:
    """The classifier's code of a higher-education programme, or None when not linked."""
    if programme_code is None:
        return None
    entry = await session.get(ProgrammeCode, programme_code.strip().upper())
    if entry is None or entry.level not in (EducationLevel.HIGHER, EducationLevel.POSTGRADUATE):
        raise DomainError(
            AdmissionCode.UNKNOWN_PROGRAMME,
            f"No higher-education programme has the code {programme_code[:20]!r}",
            field="programmeCode",
        )
    return entry.code


def _check_places(season: AdmissionSeason, places: dict[PlaceCategory, int]) -> None:
    for category, count in places.items():
        if count < 0:
            raise DomainError(ErrorCode.INVALID_INPUT, "Places are not negative", field="places")
        if season.intake == Intake.WINTER and category != PlaceCategory.CONTRACT and count > 0:
            raise DomainError(
                AdmissionCode.CONTRACT_ONLY,
                "The winter intake has contract places only",
                field="places",
            )


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

"""Arranging an admission campaign: a season with two rounds, a university with programmes,
and applicants with a school record (their pool) and a national test certificate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Person
from tests.factories import (
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    make_admission_round,
    make_admission_season,
    make_enrollment,
    make_institution,
    make_licence,
    make_person,
    make_programme,
    make_test_result,
)

REGISTRATION = date(2026, 6, 25)
PUBLICATION = date(2026, 7, 8)
AFTER_ROUND_1 = date(2026, 7, 13)
REGISTRATION_2 = date(2026, 7, 14)
PUBLICATION_2 = date(2026, 7, 18)
AFTER_SEASON = date(2026, 7, 25)


@dataclass
class Campaign:
    season: Any
    round1: Any
    round2: Any
    university: Any
    other_university: Any
    bishkek_school: Any
    rural_school: Any
    programmes: dict[str, Any] = field(default_factory=dict)


async def arrange_campaign(session: AsyncSession, *, licensed: bool = True) -> Campaign:
    """The campaign; both universities hold a licence for higher education (state universities
    need one too: only state and municipal schools and kindergartens are exempt) unless
    ``licensed`` is False."""
    season = await make_admission_season(session)
    round1 = await make_admission_round(session, season=season)
    round2 = await make_admission_round(
        session,
        season=season,
        number=2,
        registration_opens=REGISTRATION_2,
        registration_closes=date(2026, 7, 16),
        publication_on=PUBLICATION_2,
        confirmation_opens=PUBLICATION_2,
        confirmation_closes=date(2026, 7, 20),
    )
    university = await make_institution(session, kind=InstitutionKind.UNIVERSITY, name="КНУ")
    other = await make_institution(session, kind=InstitutionKind.UNIVERSITY, name="КРСУ")
    bishkek_school = await make_institution(session, name="№5 Бишкек", district_id=BISHKEK_LENIN)
    rural_school = await make_institution(
        session, name="Сокулук орто мектеби", region_id=CHUY, district_id=CHUY_SOKULUK
    )
    if licensed:
        for uni in (university, other):
            await make_licence(session, institution=uni, levels=["higher"])
    campaign = Campaign(season, round1, round2, university, other, bishkek_school, rural_school)
    campaign.programmes["informatics"] = await make_programme(
        session,
        season=season,
        university=university,
        code="INF",
        places={"bishkek": 1, "rural": 1, "contract": 1},
    )
    campaign.programmes["medicine"] = await make_programme(
        session,
        season=season,
        university=university,
        code="MED",
        name="Лечебное дело",
        field_of_study="health",
        required_subjects=["chemistry", "biology"],
        places={"bishkek": 1, "rural": 1, "contract": 2},
    )
    campaign.programmes["economics"] = await make_programme(
        session,
        season=season,
        university=other,
        code="ECO",
        name="Экономика",
        field_of_study="economics",
        places={"bishkek": 2, "rural": 2, "contract": 2},
    )
    return campaign


async def make_applicant(
    session: AsyncSession,
    campaign: Campaign,
    *,
    main: int = 150,
    subjects: dict[str, int] | None = None,
    state_language: int = 90,
    rural: bool = False,
    birth_date: date = date(2008, 3, 14),
    name: str = "Айбек",
) -> tuple[Person, Any]:
    person = await make_person(session, first_name=name, birth_date=birth_date)
    school = campaign.rural_school if rural else campaign.bishkek_school
    await make_enrollment(
        session,
        person=person,
        institution=school,
        grade_level=11,
        entry_date=date(2015, 9, 1),
    )
    certificate = await make_test_result(
        session,
        person=person,
        main_score=main,
        subject_scores=subjects if subjects is not None else {"math": 90},
        state_language_score=state_language,
    )
    return person, certificate

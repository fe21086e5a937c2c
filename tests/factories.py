"""One factory per model: rows arranged directly in the database, with valid defaults."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    CatchmentArea,
    Enrollment,
    GuardianKind,
    Guardianship,
    Institution,
    InstitutionKind,
    Ownership,
    Person,
    PersonPin,
    PinChangeReason,
    Sector,
    Sex,
    StaffPosition,
    StaffRole,
)
from resolvers.enrollments import SECTOR_OF_KIND
from resolvers.pin import make_pin
from resolvers.relay import encode_id

_serial = itertools.count(1)
BISHKEK = 8  # region id of Bishkek city (migration data)
BISHKEK_LENIN = 50  # Lenin district of Bishkek (migration data)
CHUY = 7
CHUY_SOKULUK = 45


def gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


async def make_person(
    session: AsyncSession,
    *,
    sex: Sex = Sex.FEMALE,
    birth_date: date = date(2016, 5, 17),
    first_name: str = "Айгерим",
    last_name: str = "Асанова",
    patronymic: str | None = "Бакытовна",
    pin: str | None = None,
    **kwargs: Any,
) -> Person:
    pin = pin or make_pin(sex=sex, birth_date=birth_date, serial=next(_serial))
    person = Person(
        pin=pin,
        sex=sex,
        birth_date=birth_date,
        first_name=first_name,
        last_name=last_name,
        patronymic=patronymic,
        **kwargs,
    )
    session.add(person)
    await session.flush()
    session.add(PersonPin(person_id=person.id, pin=pin, reason=PinChangeReason.ISSUED))
    await session.flush()
    return person


async def make_institution(
    session: AsyncSession,
    *,
    kind: InstitutionKind = InstitutionKind.SCHOOL,
    name: str | None = None,
    region_id: int | None = BISHKEK,
    district_id: int | None = BISHKEK_LENIN,
    ownership: Ownership = Ownership.STATE,
    **kwargs: Any,
) -> Institution:
    n = next(_serial)
    inst = Institution(
        kind=kind,
        ownership=ownership,
        name=name or f"№{n} {kind.value}",
        region_id=region_id,
        district_id=district_id,
        languages=kwargs.pop("languages", ["ky", "ru"]),
        design_capacity=kwargs.pop("design_capacity", 900),
        country_code=kwargs.pop("country_code", "KG"),
        **kwargs,
    )
    session.add(inst)
    await session.flush()
    return inst


async def make_enrollment(
    session: AsyncSession,
    *,
    person: Person,
    institution: Institution,
    entry_date: date = date(2025, 9, 1),
    grade_level: int | None = None,
    exit_date: date | None = None,
    class_group: str | None = None,
    **kwargs: Any,
) -> Enrollment:
    sector: Sector = SECTOR_OF_KIND[institution.kind]
    if grade_level is None and sector == Sector.SCHOOL:
        grade_level = 3
    enrollment = Enrollment(
        person_id=person.id,
        institution_id=institution.id,
        sector=sector,
        entry_date=entry_date,
        exit_date=exit_date,
        grade_level=grade_level,
        class_group=class_group,
        exit_reason=kwargs.pop("exit_reason", None) or (None if exit_date is None else "withdrawn"),
        programme=kwargs.pop("programme", None if sector != Sector.HIGHER else "Информатика"),
        **kwargs,
    )
    session.add(enrollment)
    await session.flush()
    return enrollment


async def make_guardianship(
    session: AsyncSession,
    *,
    guardian: Person,
    child: Person,
    kind: GuardianKind = GuardianKind.MOTHER,
) -> Guardianship:
    link = Guardianship(guardian_id=guardian.id, child_id=child.id, kind=kind)
    session.add(link)
    await session.flush()
    return link


async def make_staff_position(
    session: AsyncSession,
    *,
    person: Person,
    institution: Institution,
    role: StaffRole = StaffRole.TEACHER,
    start_date: date = date(2020, 9, 1),
) -> StaffPosition:
    post = StaffPosition(
        person_id=person.id,
        institution_id=institution.id,
        role=role,
        start_date=start_date,
        rate=1.0,
    )
    session.add(post)
    await session.flush()
    return post


async def make_catchment_area(
    session: AsyncSession,
    *,
    institution: Institution,
    district_id: int = BISHKEK_LENIN,
    name: str = "мкр. Джал",
    streets: list[str] | None = None,
) -> CatchmentArea:
    area = CatchmentArea(
        institution_id=institution.id,
        district_id=district_id,
        name=name,
        streets=streets or ["ул. Ахунбаева", "ул. Токомбаева"],
    )
    session.add(area)
    await session.flush()
    return area


async def make_family(
    session: AsyncSession,
    *,
    children: int = 1,
    child_birth: date = date(2016, 5, 17),
) -> tuple[Person, list[Person]]:
    """A mother and her children."""
    mother = await make_person(
        session,
        birth_date=date(1988, 3, 2),
        first_name="Гульнара",
        last_name="Сыдыкова",
        patronymic="Асановна",
    )
    kids = []
    for i in range(children):
        kid = await make_person(
            session,
            birth_date=child_birth.replace(year=child_birth.year - i),
            first_name=["Айбек", "Нурлан", "Эмир", "Тимур"][i % 4],
            last_name="Сыдыков",
            patronymic="Маратович",
            sex=Sex.MALE,
        )
        await make_guardianship(session, guardian=mother, child=kid)
        kids.append(kid)
    return mother, kids


# --- university admission and study abroad ---------------------------------------------------


async def make_admission_season(
    session: AsyncSession,
    *,
    year: int = 2026,
    intake: str = "main",
    max_choices: int = 5,
    **policy: Any,
) -> Any:
    from models import AdmissionSeason

    values: dict[str, Any] = {
        "name": f"ЖРТ {year} ({intake})",
        "main_score_max": 245,
        "subject_score_max": 150,
        "state_language_score_max": 150,
        "main_threshold": 110,
        "subject_threshold": 60,
        "state_language_threshold": 50,
        "studies_start": date(year, 9, 1),
        **policy,
    }
    season = AdmissionSeason(year=year, intake=intake, max_choices=max_choices, **values)
    session.add(season)
    await session.flush()
    return season


async def make_admission_round(
    session: AsyncSession,
    *,
    season: Any,
    number: int = 1,
    registration_opens: date = date(2026, 6, 20),
    registration_closes: date = date(2026, 7, 5),
    publication_on: date = date(2026, 7, 8),
    confirmation_opens: date = date(2026, 7, 8),
    confirmation_closes: date = date(2026, 7, 12),
) -> Any:
    from models import AdmissionRound

    rnd = AdmissionRound(
        season_id=season.id,
        number=number,
        registration_opens=registration_opens,
        registration_closes=registration_closes,
        publication_on=publication_on,
        confirmation_opens=confirmation_opens,
        confirmation_closes=confirmation_closes,
    )
    session.add(rnd)
    await session.flush()
    return rnd


async def make_programme(
    session: AsyncSession,
    *,
    season: Any,
    university: Institution,
    code: str | None = None,
    name: str = "Прикладная информатика",
    field_of_study: str = "engineering",
    required_subjects: list[str] | None = None,
    places: dict[str, int] | None = None,
    creative_test: bool = False,
) -> Any:
    from models import AdmissionProgramme, PlaceCategory, ProgrammePlaces

    programme = AdmissionProgramme(
        season_id=season.id,
        institution_id=university.id,
        code=code or f"P{next(_serial)}",
        name=name,
        field_of_study=field_of_study,
        required_subjects=required_subjects if required_subjects is not None else ["math"],
        creative_test=creative_test,
    )
    session.add(programme)
    await session.flush()
    for category, count in (places or {"bishkek": 2, "rural": 2, "contract": 3}).items():
        session.add(
            ProgrammePlaces(
                programme_id=programme.id, category=PlaceCategory(category), places=count
            )
        )
    await session.flush()
    return programme


async def make_test_result(
    session: AsyncSession,
    *,
    person: Person,
    year: int = 2026,
    main_score: int = 150,
    subject_scores: dict[str, int] | None = None,
    state_language_score: int = 90,
    certificate_number: str | None = None,
) -> Any:
    from models import NationalTestResult

    result = NationalTestResult(
        certificate_number=certificate_number or f"ORT{year}{next(_serial):06d}",
        person_id=person.id,
        year=year,
        main_score=main_score,
        state_language_score=state_language_score,
        subject_scores=subject_scores if subject_scores is not None else {"math": 90},
    )
    session.add(result)
    await session.flush()
    return result


async def make_foreign_programme(
    session: AsyncSession,
    *,
    country_code: str = "CN",
    quota: int = 2,
    opens_on: date = date(2026, 3, 1),
    closes_on: date = date(2026, 4, 30),
    min_age: int | None = 18,
    max_age: int | None = 25,
    age_on: date = date(2026, 9, 1),
    stages: list[str] | None = None,
    field_rules: dict[str, str] | None = None,
) -> Any:
    from decimal import Decimal

    from models import ForeignFieldRule, ForeignProgramme

    programme = ForeignProgramme(
        year=opens_on.year,
        country_code=country_code,
        name="Правительственная стипендия, бакалавриат",
        level="bachelor",
        quota=quota,
        opens_on=opens_on,
        closes_on=closes_on,
        min_age=min_age,
        max_age=max_age,
        age_on=age_on,
        stages=stages or ["document_check", "interview", "nomination"],
    )
    session.add(programme)
    await session.flush()
    for field_of_study, minimum in (field_rules or {"engineering": "4.00"}).items():
        session.add(
            ForeignFieldRule(
                programme_id=programme.id,
                field_of_study=field_of_study,
                min_average=Decimal(minimum),
            )
        )
    await session.flush()
    return programme

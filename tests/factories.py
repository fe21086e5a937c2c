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


# --- licensing ----------------------------------------------------------------------------

SHA = "a" * 64


async def make_programme_code(
    session: AsyncSession,
    *,
    code: str | None = None,
    name: str = "Программа",
    level: str = "higher",
    medical: bool = False,
    accreditation_required: bool = True,
) -> Any:
    from models import ProgrammeCode

    entry = ProgrammeCode(
        code=code or f"T-{next(_serial)}",
        name=name,
        level=level,
        medical=medical,
        accreditation_required=accreditation_required,
    )
    session.add(entry)
    await session.flush()
    return entry


async def make_institution_programme(
    session: AsyncSession,
    *,
    institution: Institution,
    code: str = "HE-ECONOMICS",
    name: str = "Экономика",
) -> Any:
    from models import InstitutionProgramme

    programme = InstitutionProgramme(institution_id=institution.id, code=code, name=name)
    session.add(programme)
    await session.flush()
    return programme


async def make_licence_application(
    session: AsyncSession,
    *,
    institution: Institution,
    status: str = "submitted",
    levels: list[str] | None = None,
    submitted_on: date = date(2026, 3, 2),
    due_on: date | None = None,
    applicant_subject: str = "school_admin:test",
    **kwargs: Any,
) -> Any:
    from datetime import timedelta

    from models import LicenceApplication

    application = LicenceApplication(
        institution_id=institution.id,
        applied_as=kwargs.pop("applied_as", "institution"),
        applicant_subject=applicant_subject,
        status=status,
        levels=levels or ["primary", "basic", "secondary"],
        submitted_on=submitted_on,
        due_on=due_on or submitted_on + timedelta(days=20),
        decided_on=kwargs.pop(
            "decided_on", submitted_on if status in ("approved", "refused") else None
        ),
        **kwargs,
    )
    session.add(application)
    await session.flush()
    await make_licence_address(session, application=application)
    return application


async def make_licence_address(
    session: AsyncSession,
    *,
    application: Any,
    address: str = "г. Бишкек, ул. Киевская, 100",
    floor_area: float = 1200,
    planned_students: int = 300,
) -> Any:
    from models import LicenceAddress

    row = LicenceAddress(
        application_id=application.id,
        address=address,
        floor_area=floor_area,
        planned_students=planned_students,
        tenure="owned",
        tenure_from=date(2015, 1, 1),
    )
    session.add(row)
    await session.flush()
    return row


async def make_licence_document(
    session: AsyncSession, *, application: Any, kind: str = "fire_safety_opinion"
) -> Any:
    from models import LicenceDocument

    doc = LicenceDocument(
        application_id=application.id,
        kind=kind,
        file_name=f"{kind}.pdf",
        media_type="application/pdf",
        size_bytes=1024,
        sha256=SHA,
        attached_on=application.submitted_on,
    )
    session.add(doc)
    await session.flush()
    return doc


async def make_licence(
    session: AsyncSession,
    *,
    institution: Institution,
    status: str = "active",
    levels: list[str] | None = None,
    issued_on: date = date(2025, 6, 1),
    valid_until: date | None = None,
    number: str | None = None,
    programme_codes: list[str] | None = None,
) -> Any:
    """A licence with the approved application (dossier) it was issued from."""
    from models import Licence

    levels = levels or ["primary", "basic", "secondary"]
    application = await make_licence_application(
        session, institution=institution, status="approved", levels=levels, submitted_on=issued_on
    )
    licence = Licence(
        number=number or f"KG-LIC-T-{next(_serial):06d}",
        institution_id=institution.id,
        application_id=application.id,
        status=status,
        levels=levels,
        programme_codes=programme_codes or [],
        issued_on=issued_on,
        valid_until=valid_until,
    )
    session.add(licence)
    await session.flush()
    return licence


async def make_accreditation_agency(
    session: AsyncSession,
    *,
    name: str | None = None,
    country_code: str = "KG",
    on_national_register: bool = True,
    on_european_register: bool = False,
) -> Any:
    from models import AccreditationAgency

    agency = AccreditationAgency(
        name=name or f"Агентство аккредитации №{next(_serial)}",
        country_code=country_code,
        on_national_register=on_national_register,
        on_european_register=on_european_register,
    )
    session.add(agency)
    await session.flush()
    return agency


async def make_accreditation(
    session: AsyncSession,
    *,
    institution: Institution,
    agency: Any,
    programme: Any | None = None,
    outcome: str = "accredited",
    valid_from: date = date(2025, 1, 1),
    valid_until: date | None = None,
) -> Any:
    from models import Accreditation

    decided = outcome != "pending"
    acc = Accreditation(
        institution_id=institution.id,
        programme_id=programme.id if programme is not None else None,
        agency_id=agency.id,
        kind="programme" if programme is not None else "institutional",
        step="council_decision" if decided else "application",
        outcome=outcome,
        applicant_subject="school_admin:test",
        decided_on=valid_from if decided else None,
        valid_from=valid_from if outcome == "accredited" else None,
        valid_until=valid_until if outcome == "accredited" else None,
    )
    session.add(acc)
    await session.flush()
    return acc

"""One factory per model: rows arranged directly in the database, with valid defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ApiKey,
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
    class_groups: list[str] | None = None,
) -> StaffPosition:
    post = StaffPosition(
        person_id=person.id,
        institution_id=institution.id,
        role=role,
        start_date=start_date,
        rate=1.0,
        class_groups=class_groups or [],
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


async def make_api_key(
    session: AsyncSession,
    *,
    pepper: bytes,
    allowed_fields: list[str],
    personal_data: bool = False,
    region_ids: list[int] | None = None,
    points_per_hour: int = 5000,
    expires_at: datetime | None = None,
    revoked: bool = False,
) -> tuple[ApiKey, str]:
    """A partner's key and the whole key string (``bk_<prefix>_<secret>``)."""
    from resolvers.access.keys import hash_secret

    n = next(_serial)
    prefix, secret = f"t{n:07d}", f"secret-of-test-key-{n:08d}"
    now = datetime.now(UTC)
    key = ApiKey(
        prefix=prefix,
        secret_hash=hash_secret(pepper, secret),
        name=f"Partner {n}",
        created_by="tester",
        created_at=now - timedelta(days=30),
        expires_at=expires_at or now + timedelta(days=30),
        revoked_at=now if revoked else None,
        allowed_fields=allowed_fields,
        personal_data=personal_data,
        region_ids=region_ids or [],
        points_per_hour=points_per_hour,
    )
    session.add(key)
    await session.flush()
    return key, f"bk_{prefix}_{secret}"

"""Arranging a small census: schools with pupils of given grade and sex, and teachers."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import Institution, Population, Sex
from tests.factories import make_enrollment, make_person, make_staff_position

CENSUS = date(2026, 9, 15)


async def add_pupils(
    session: AsyncSession,
    school: Institution,
    *,
    n: int,
    grade: int,
    sex: Sex = Sex.FEMALE,
    class_group: str | None = None,
    entry_date: date = date(2026, 9, 1),
    exit_date: date | None = None,
) -> None:
    """``n`` pupils of one grade and sex, born the year grade 1 takes them (domain.md F4)."""
    for _ in range(n):
        person = await make_person(session, sex=sex, birth_date=date(2026 - 6 - grade + 1, 3, 1))
        await make_enrollment(
            session,
            person=person,
            institution=school,
            grade_level=grade,
            entry_date=entry_date,
            exit_date=exit_date,
            class_group=class_group or f"{grade}A",
        )


async def add_teachers(session: AsyncSession, school: Institution, *, n: int) -> None:
    for _ in range(n):
        person = await make_person(session, birth_date=date(1985, 1, 1))
        await make_staff_position(session, person=person, institution=school)


async def add_population(
    session: AsyncSession, *, district_id: int, year: int, by_age: dict[int, int]
) -> None:
    for age, count in by_age.items():
        session.add(Population(year=year, district_id=district_id, age=age, count=count))
    await session.flush()

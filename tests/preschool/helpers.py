"""Shared arrangements of the kindergarten-queue scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    GuardianKind,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    OutboxEvent,
    Person,
    Sex,
)
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_guardianship,
    make_institution,
    make_intake_season,
    make_person,
)


def born_for_group(season: IntakeSeason, years: int) -> date:
    """A birth date giving ``years``..``years+1`` on 1 September of the season's year."""
    return date(season.year - years, 3, 1)


@dataclass
class Queue:
    """A kindergarten season, three kindergartens and a school in Bishkek, and a family."""

    season: IntakeSeason
    kindergartens: list[Institution]
    school: Institution
    mother: Person
    children: list[Person] = field(default_factory=list)

    def kg(self, i: int = 0) -> str:
        return gid("Institution", self.kindergartens[i].id)


async def arrange_queue(session: AsyncSession, *, kindergartens: int = 3) -> Queue:
    season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
    kgs = [
        await make_institution(session, kind=InstitutionKind.KINDERGARTEN, name=f"Бала бакча №{i}")
        for i in range(1, kindergartens + 1)
    ]
    school = await make_institution(session, kind=InstitutionKind.SCHOOL)
    mother = await make_person(session, birth_date=date(1990, 1, 2), first_name="Гульнара")
    queue = Queue(season=season, kindergartens=kgs, school=school, mother=mother)
    return queue


async def add_child(
    session: AsyncSession, queue: Queue, *, born: date, guardian: Person | None = None
) -> Person:
    child = await make_person(session, birth_date=born, sex=Sex.MALE, first_name="Айбек")
    await make_guardianship(
        session, guardian=guardian or queue.mother, child=child, kind=GuardianKind.MOTHER
    )
    queue.children.append(child)
    return child


def guardian_token(hub: Hub, person: Person) -> str:
    return hub.token(Role.GUARDIAN, person_id=person.id)


def officer_token(hub: Hub, kindergarten: Institution) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{kindergarten.id}"])


async def count_rows(engine: AsyncEngine) -> dict[str, int]:
    """Rows of the queue's tables and the outbox: bad input must leave these unchanged."""
    async with engine.connect() as conn:
        result = {}
        for model in (
            KindergartenApplication,
            KindergartenOffer,
            KindergartenApplicationEvent,
            OutboxEvent,
        ):
            result[model.__tablename__] = (
                await conn.execute(select(func.count()).select_from(model))
            ).scalar_one()
        return result


def errors_of(body: dict[str, Any], field: str) -> list[str]:
    assert "errors" not in body, body["errors"]
    return [e["code"] for e in body["data"][field]["userErrors"]]

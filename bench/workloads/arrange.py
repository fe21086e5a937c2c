"""Writing preparers' state in bulk: fresh PINs and new people, one statement per table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import asyncpg

from bench.workloads import Bench
from models.people import Sex
from resolvers.people.pin import make_pin

FIRST_NAMES = {
    Sex.FEMALE: ("Айпери", "Нурай", "Бегимай", "Адинай", "Аруужан", "Мээрим", "Алина", "Сезим"),
    Sex.MALE: ("Бакыт", "Нурсултан", "Эмир", "Алинур", "Адилет", "Бекжан", "Тимур", "Элдияр"),
}


@asynccontextmanager
async def connect(bench: Bench) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(bench.db_url)
    try:
        yield conn
    finally:
        await conn.close()


async def free_pins(
    conn: asyncpg.Connection, people: Sequence[tuple[date, Sex]], *, serial_from: int
) -> list[str]:
    """A PIN no one holds (or held) for each (birth date, sex): serials from ``serial_from``
    upwards per birth date and sex, above the dataset's (which stay under 60,000)."""
    serial: dict[tuple[date, Sex], int] = {}
    pins: list[str] = []
    for born, sex in people:
        key = (born, sex)
        serial[key] = serial.get(key, serial_from - 1) + 1
        pins.append(make_pin(sex=sex, birth_date=born, serial=serial[key]))
    while True:
        taken = {
            r["pin"]
            for r in await conn.fetch(
                "SELECT pin FROM person_pin WHERE pin = ANY($1::text[])"
                " UNION SELECT pin FROM person WHERE pin = ANY($1::text[])",
                pins,
            )
        }
        if not taken:
            return pins
        for i, pin in enumerate(pins):
            if pin in taken:
                born, sex = people[i]
                serial[(born, sex)] += 1
                pins[i] = make_pin(sex=sex, birth_date=born, serial=serial[(born, sex)])


@dataclass(frozen=True)
class NewPerson:
    last_name: str
    first_name: str
    patronymic: str | None
    sex: Sex
    birth_date: date
    district_id: int | None
    address: str | None


async def insert_people(
    conn: asyncpg.Connection, people: Sequence[NewPerson], *, serial_from: int
) -> list[tuple[int, str]]:
    """Register ``people`` (each with an issued PIN), in order; their (id, PIN)."""
    if not people:
        return []
    pins = await free_pins(conn, [(p.birth_date, p.sex) for p in people], serial_from=serial_from)
    rows = await conn.fetch(
        "INSERT INTO person (pin, last_name, first_name, patronymic, sex, birth_date,"
        " registered_district_id, registered_address)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::date[], $7::int[], $8::text[]) RETURNING id, pin",
        pins,
        [p.last_name for p in people],
        [p.first_name for p in people],
        [p.patronymic for p in people],
        [p.sex.value for p in people],
        [p.birth_date for p in people],
        [p.district_id for p in people],
        [p.address for p in people],
    )
    await conn.execute(
        "INSERT INTO person_pin (person_id, pin, reason, valid_from)"
        " SELECT id, pin, 'issued', now() FROM person WHERE id = ANY($1::int[])",
        [r["id"] for r in rows],
    )
    by_pin = {r["pin"]: r["id"] for r in rows}
    return [(by_pin[pin], pin) for pin in pins]

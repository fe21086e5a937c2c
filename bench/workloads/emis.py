"""EMIS registry: registering people, institutions, enrollments and guardianship."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from bench.workloads import Bench, Call, Workload
from models.people import Sex
from resolvers.access import Role
from resolvers.pin import make_pin


async def _free_pins(bench: Bench, n: int) -> list[tuple[str, date, Sex]]:
    """``n`` well-formed PINs no one holds: children born in 2021-2022, serials from 90000."""
    wanted: list[tuple[str, date, Sex]] = []
    for k in range(n * 2):
        born = date(2021, 1, 1) + timedelta(days=k % 700)
        sex = Sex.FEMALE if k % 2 else Sex.MALE
        wanted.append((make_pin(sex=sex, birth_date=born, serial=90_000 + k // 700), born, sex))
    conn = await asyncpg.connect(bench.db_url)
    try:
        taken = {
            r["pin"]
            for r in await conn.fetch(
                "SELECT pin FROM person_pin WHERE pin = ANY($1::text[])", [w[0] for w in wanted]
            )
        }
    finally:
        await conn.close()
    return [w for w in wanted if w[0] not in taken][:n]


async def register_person(bench: Bench, n: int) -> list[Call]:
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "pin": pin,
                    "firstName": "Айпери" if sex == Sex.FEMALE else "Бакыт",
                    "lastName": "Токтогулова" if sex == Sex.FEMALE else "Токтогулов",
                    "birthDate": born.isoformat(),
                    "sex": sex.name,
                }
            },
            token,
        )
        for pin, born, sex in await _free_pins(bench, n)
    ]


WORKLOADS = [Workload("emis/RegisterPerson", register_person)]

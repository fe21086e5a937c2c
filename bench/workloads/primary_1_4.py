"""Grades 1-4 (portals/primary-1-4): the same lessons as Sanarip Sabak, its list and search narrowed
to the grade band. Preparers write published lessons of grade 2 (content_state)."""

from __future__ import annotations

from bench.workloads import Bench, Call, Workload
from bench.workloads import content_state as state
from bench.workloads.arrange import connect
from resolvers.access import Role

GRADE = 2


async def _reader(bench: Bench) -> str:
    async with connect(bench) as conn:
        await state.lessons(conn, 24, grade=GRADE)
        (pupil,) = await state.pupils(conn, 1, grade=GRADE)
    return bench.token(Role.PUPIL, person_id=pupil)


async def lessons(bench: Bench, n: int) -> list[Call]:
    variables = {"grade": GRADE, "subject": "mathematics", "language": "KY"}
    return [Call(variables, await _reader(bench))]


async def lesson_search(bench: Bench, n: int) -> list[Call]:
    return [Call({"query": "bolchok"}, await _reader(bench))]


WORKLOADS = [
    Workload("primary-1-4/Lessons", lessons),
    Workload("primary-1-4/LessonSearch", lesson_search),
]

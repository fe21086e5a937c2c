"""The benchmark's workloads (bench/workloads) are valid: every call a preparer makes is
answered without an error or a user error, so what `python -m bench.api` measures is the
operation succeeding, not failing fast."""

from __future__ import annotations

import importlib

import httpx
import pytest

from bench.api import PORTALS, _problem
from bench.workloads import MODULES, Bench, Workload
from resolvers import demo
from resolvers.access import KeyRing
from resolvers.settings import Settings
from tests.conftest import Hub

CALLS = 3


def _has_value(data: object) -> bool:
    if isinstance(data, dict):
        return any(_has_value(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_value(v) for v in data)
    return data is not None


@pytest.mark.parametrize("module", MODULES)
async def test_every_call_of_a_workload_succeeds(
    module: str, db_url: str, settings: Settings, hub: Hub
) -> None:
    await demo.load(db_url, scale=0.002, seed=7, progress=False)
    bench = Bench(db_url, settings, KeyRing.load(settings))
    workloads: list[Workload] = importlib.import_module(module).WORKLOADS
    assert workloads
    query_text = {w.operation: (PORTALS / f"{w.operation}.graphql").read_text() for w in workloads}
    for workload in workloads:
        calls = await workload.prepare(bench, CALLS)
        assert 1 <= len(calls) <= CALLS, workload.operation
        for call in calls:
            body, content_type = call.body(query_text[workload.operation])
            response = await hub.client.post(
                "/graphql",
                content=body,
                headers={"Authorization": f"Bearer {call.token}", "Content-Type": content_type},
            )
            assert response.status_code == httpx.codes.OK, (workload.operation, response.text)
            answer = response.json()
            assert answer.get("data"), (workload.operation, answer)
            assert _problem(answer) == "", (workload.operation, call.variables, answer)
            # A page the caller reads has something on it (not an empty list of nothing).
            assert _has_value(answer["data"]), (workload.operation, answer)


def test_every_portal_operation_is_measured() -> None:
    """`python -m bench.api` runs every operation in portals/: a query whose variables the
    dataset gives, or a workload."""
    from bench.api import _portal_operations, derivable, is_mutation
    from bench.workloads import all_workloads

    workloads = [w.operation for w in all_workloads()]
    assert len(workloads) == len(set(workloads)), "an operation has two workloads"
    portal = dict(_portal_operations())
    assert set(workloads) <= portal.keys(), set(workloads) - portal.keys()
    missing = [
        name
        for name, text in portal.items()
        if name not in workloads and (is_mutation(text) or not derivable(text))
    ]
    assert missing == []


async def test_the_lms_workloads_school_holds_more_classes_than_letters(db_url: str) -> None:
    """`bench.api` prepares 2,000 calls: 67 classes of one school, more than the alphabet's 20
    letters. They stay 6th-grade classes learning mathematics (the 7th grade learns algebra and
    geometry instead, and a teacher can only teach a subject of the class's curriculum)."""
    import asyncpg

    from bench.workloads.lms import LETTERS, _school
    from models import database

    conn = await asyncpg.connect(database.plain_url(db_url))
    try:
        school = await _school(conn, classes=len(LETTERS) + 2, pupils=1)
        rows = await conn.fetch(
            "SELECT c.grade, c.letter, t.subject_id FROM class_group c"
            " JOIN teaching_assignment t ON t.class_group_id = c.id"
            " WHERE c.institution_id = $1 ORDER BY c.id",
            school.id,
        )
    finally:
        await conn.close()
    assert len(rows) == len(LETTERS) + 2
    assert {r["grade"] for r in rows} == {6}
    assert {r["subject_id"] for r in rows} == {school.math}
    assert [r["letter"] for r in rows[-3:]] == [LETTERS[-1], LETTERS[0] + "1", LETTERS[1] + "1"]

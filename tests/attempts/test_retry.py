"""A mutation that loses a race (issue 12.3): a deadlock rolls its attempt back to its savepoint
(releasing its locks) and runs it again, a few times at most, before the retryable CONFLICT.

The deadlocks are real: two transactions lock two rows in opposite orders. PostgreSQL aborts the
transaction whose deadlock check runs first, so the test's own transactions wait with a long
``deadlock_timeout`` and the hub's, with the default second, is the one aborted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from models import AuditEntry, Enrollment, Institution, Outcome, Person, database
from resolvers.access import Principal, Role
from resolvers.context import Context
from resolvers.errors import ErrorCode
from resolvers.mutations import perform
from resolvers.relay import CursorKeys
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub
from tests.enrollments.helpers import ENROLL_STUDENT
from tests.factories import gid, make_institution, make_person
from tests.people.helpers import count_rows

SEPTEMBER = date(2026, 9, 1)


@dataclass
class Pupil:
    person: Person
    school: Institution


@pytest.fixture
async def pupil(session: AsyncSession) -> Pupil:
    person = await make_person(session, birth_date=date(2018, 3, 3))
    school = await make_institution(session, name="Мектеп №1")
    await session.commit()
    return Pupil(person, school)


@pytest.fixture
async def patient(engine: AsyncEngine) -> AsyncIterator[list[AsyncConnection]]:
    """Two connections of the test whose deadlock check waits ten seconds: in a deadlock with
    the hub, the hub's transaction is the one aborted."""
    connections = [await engine.connect() for _ in range(2)]
    try:
        for conn in connections:
            try:
                await conn.execute(text("SET deadlock_timeout = '10s'"))
            except DBAPIError:
                pytest.skip("the test's database role may not set deadlock_timeout")
            await conn.commit()
        yield connections
    finally:
        for conn in connections:
            await conn.close()


async def blocked(engine: AsyncEngine, sql: str, pid: int, task: asyncio.Task[Any]) -> None:
    """Wait until ``sql`` (a condition on ``pid``) holds in pg_stat_activity."""
    async with engine.connect() as conn:
        for _ in range(300):
            found = await conn.scalar(text(sql), {"pid": pid})
            await conn.rollback()
            if found:
                return
            assert not task.done(), task.result()
            await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {sql}")


BLOCKED_BY = "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
WAITING = "SELECT cardinality(pg_blocking_pids(:pid)) > 0"


async def deadlock_the_enrollment(
    engine: AsyncEngine, patient: list[AsyncConnection], pupil: Pupil, enrollment: asyncio.Task[Any]
) -> AsyncConnection:
    """Make the hub's enrollment deadlock once with a test transaction; return that transaction,
    still holding the school and the pupil.

    The hub locks the pupil, then (inserting the enrollment) takes a key-share lock on the
    school. The test holds the school (one transaction) and the pupil (another), so the hub waits
    for the pupil; the first transaction asks for the pupil too and queues behind the hub; the
    second lets the pupil go: the hub takes it, asks for the school and closes the cycle."""
    school_holder, pupil_holder = patient
    await school_holder.execute(
        text("SELECT id FROM institution WHERE id = :id FOR UPDATE"), {"id": pupil.school.id}
    )
    await pupil_holder.execute(
        text("SELECT id FROM person WHERE id = :id FOR UPDATE"), {"id": pupil.person.id}
    )
    await blocked(engine, BLOCKED_BY, await backend_pid(pupil_holder), enrollment)
    queued = asyncio.create_task(
        school_holder.execute(
            text("SELECT id FROM person WHERE id = :id FOR UPDATE"), {"id": pupil.person.id}
        )
    )
    await blocked(engine, WAITING, await backend_pid(school_holder), enrollment)
    await pupil_holder.rollback()
    # the hub's attempt is aborted as the deadlock's victim; its savepoint's locks go, and the
    # waiting transaction takes the pupil
    await queued
    return school_holder


async def backend_pid(conn: AsyncConnection) -> int:
    """The server process of a connection (asked of the driver: the connection may be busy)."""
    raw: Any = await conn.get_raw_connection()
    return int(raw.driver_connection.get_server_pid())


def enroll(hub: Hub, token: str, pupil: Pupil) -> asyncio.Task[Any]:
    variables = {
        "input": {
            "personId": gid("Person", pupil.person.id),
            "institutionId": gid("Institution", pupil.school.id),
            "entryDate": SEPTEMBER.isoformat(),
            "gradeLevel": 3,
        }
    }
    return asyncio.create_task(hub.gql(ENROLL_STUDENT, variables, token=token))


async def enrollment_audit(engine: AsyncEngine) -> list[tuple[Outcome, list[str], dict[str, Any]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(AuditEntry.outcome, AuditEntry.error_codes, AuditEntry.details)
            .where(AuditEntry.operation == "enrollments.enroll_student")
            .order_by(AuditEntry.id)
        )
        return [tuple(r) for r in rows]


class TestDeadlockedMutation:
    async def test_is_run_again_and_succeeds(
        self,
        hub: Hub,
        ministry: str,
        engine: AsyncEngine,
        pupil: Pupil,
        patient: list[AsyncConnection],
    ) -> None:
        # given the enrollment deadlocked once with another transaction
        enrollment = enroll(hub, ministry, pupil)
        other = await deadlock_the_enrollment(engine, patient, pupil, enrollment)

        # when the other transaction ends
        await other.commit()
        body = await enrollment

        # then the hub ran the enrollment again, and it went through
        assert "errors" not in body, body
        payload = body["data"]["enrollStudent"]
        assert payload["userErrors"] == []
        assert payload["enrollment"]["gradeLevel"] == 3
        assert await count_rows(engine, Enrollment, Enrollment.person_id == pupil.person.id) == 1
        assert await enrollment_audit(engine) == [(Outcome.SUCCEEDED, [], {"attempts": 2})]

    async def test_that_loses_its_last_attempt_answers_conflict_and_writes_nothing(
        self,
        settings: Settings,
        engine: AsyncEngine,
        pupil: Pupil,
        patient: list[AsyncConnection],
    ) -> None:
        async with running_hub(settings.model_copy(update={"mutation_attempts": 1})) as hub:
            # given a hub that tries a mutation once, and the enrollment deadlocked
            enrollment = enroll(hub, hub.token(Role.MINISTRY), pupil)
            other = await deadlock_the_enrollment(engine, patient, pupil, enrollment)

            # when the other transaction ends
            await other.rollback()
            body = await enrollment

        # then the answer is the typed, retryable CONFLICT, and nothing was written
        assert "errors" not in body, body
        payload = body["data"]["enrollStudent"]
        assert payload["enrollment"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["CONFLICT"]
        assert await count_rows(engine, Enrollment) == 0
        assert await enrollment_audit(engine) == [(Outcome.REJECTED, ["CONFLICT"], {})]


class TestStepLosingEveryRace:
    async def test_answers_conflict_after_three_attempts(
        self, engine: AsyncEngine, patient: list[AsyncConnection]
    ) -> None:
        # given a step that locks region 1 then region 2, and a transaction that holds region 2
        # and, each time the step holds region 1, asks for it
        other, _ = patient
        await other.execute(text("SELECT id FROM region WHERE id = 2 FOR UPDATE"))
        holding, other_waits = asyncio.Event(), asyncio.Event()
        attempts = 0

        async def step(session: AsyncSession) -> None:
            nonlocal attempts
            attempts += 1
            await session.execute(text("SELECT id FROM region WHERE id = 1 FOR UPDATE"))
            holding.set()
            await other_waits.wait()
            other_waits.clear()
            await session.execute(text("SELECT id FROM region WHERE id = 2 FOR UPDATE"))

        async def lock_in_the_other_order(rounds: int) -> None:
            for _ in range(rounds):
                await holding.wait()
                holding.clear()
                await other.execute(text("SAVEPOINT round"))
                asking = asyncio.create_task(
                    other.execute(text("SELECT id FROM region WHERE id = 1 FOR UPDATE"))
                )
                pid = await backend_pid(other)
                await blocked(engine, WAITING, pid, asking)
                other_waits.set()
                await asking  # the step's attempt was aborted: region 1 is free
                await other.execute(text("ROLLBACK TO SAVEPOINT round"))

        ctx = Context(
            principal=Principal(subject="ministry:race", role=Role.MINISTRY),
            sessions=database.session_factory(engine),
            request_id="req-race",
            cursors=CursorKeys({"k": "race"}, "k"),
        )

        # when the step runs as a mutation
        racing = asyncio.create_task(lock_in_the_other_order(3))
        result = await perform(ctx, "test.lock_two_regions", step)
        await racing
        await ctx.close(commit=True)
        await other.rollback()

        # then it ran three times, each deadlocked, and answers CONFLICT
        assert attempts == 3
        assert [p.code for p in result.problems] == [ErrorCode.CONFLICT]
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(AuditEntry.outcome, AuditEntry.error_codes, AuditEntry.details).where(
                        AuditEntry.request_id == "req-race"
                    )
                )
            ).one()
        assert tuple(row) == (Outcome.REJECTED, ["CONFLICT"], {"attempts": 3})

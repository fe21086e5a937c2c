"""A mutation step's outbox events and status history ride on its audit row (issue 21: at most
10 statements a mutation): one INSERT carries them all, they exist if and only if the step's
change is kept, and outside a mutation step an event is written at once."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, OutboxEvent, Outcome, database
from resolvers.access import Principal, Role
from resolvers.context import Context
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import append_bound, emit
from resolvers.mutations import perform
from resolvers.relay import CursorKeys


def _context(engine: AsyncEngine, request_id: str) -> Context:
    return Context(
        principal=Principal(subject="ministry:trail", role=Role.MINISTRY),
        sessions=database.session_factory(engine),
        request_id=request_id,
        cursors=CursorKeys({"k": "trail"}, "k"),
    )


async def _events(engine: AsyncEngine, topic: str) -> list[tuple[str, int, dict[str, Any]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(OutboxEvent.topic, OutboxEvent.aggregate_id, OutboxEvent.payload)
            .where(OutboxEvent.topic == topic)
            .order_by(OutboxEvent.id)
        )
        return [(r.topic, r.aggregate_id, r.payload) for r in rows]


async def _outcome(engine: AsyncEngine, request_id: str) -> Outcome:
    async with engine.connect() as conn:
        outcome: Outcome = (
            await conn.execute(
                select(AuditEntry.outcome).where(AuditEntry.request_id == request_id)
            )
        ).scalar_one()
        return outcome


class TestTrail:
    async def test_events_of_a_step_are_written_with_its_audit_row_in_order(
        self, engine: AsyncEngine
    ) -> None:
        # given a step that emits two events
        async def step(session: AsyncSession) -> None:
            for n in (1, 2):
                await emit(
                    session,
                    topic="test.trail_kept",
                    aggregate_type="Test",
                    aggregate_id=n,
                    payload={"n": n},
                )

        ctx = _context(engine, "req-trail-kept")
        counter = database.StatementCounter()
        counter.attach(engine)
        counter.reset()
        # when it runs as a mutation and its change is kept
        result = await perform(ctx, "test.trail_kept", step)
        sent = list(counter.statements or [])
        counter.detach(engine)
        await ctx.close(commit=True)
        # then the events exist, in the order emitted, written by the audit row's one INSERT
        assert result.problems == []
        assert await _events(engine, "test.trail_kept") == [
            ("test.trail_kept", 1, {"n": 1}),
            ("test.trail_kept", 2, {"n": 2}),
        ]
        writes = [s for s in sent if "INSERT" in s]
        assert len(writes) == 1, writes
        assert "INSERT INTO outbox" in writes[0]
        assert "INSERT INTO audit_log" in writes[0]
        assert await _outcome(engine, "req-trail-kept") == Outcome.SUCCEEDED

    async def test_a_refused_step_leaves_no_event(self, engine: AsyncEngine) -> None:
        # given a step that emits, then is refused (a bad input leaves no partial write)
        async def step(session: AsyncSession) -> None:
            await emit(session, topic="test.trail_refused", aggregate_type="Test", aggregate_id=1)
            raise DomainError(ErrorCode.INVALID_INPUT, "refused after emitting")

        ctx = _context(engine, "req-trail-refused")
        # when it runs as a mutation
        result = await perform(ctx, "test.trail_refused", step)
        await ctx.close(commit=True)
        # then it answers its typed code, is audited as refused, and no event exists
        assert [p.code for p in result.problems] == [ErrorCode.INVALID_INPUT]
        assert await _outcome(engine, "req-trail-refused") == Outcome.REJECTED
        assert await _events(engine, "test.trail_refused") == []

    async def test_outside_a_mutation_an_event_is_written_at_once(
        self, engine: AsyncEngine
    ) -> None:
        # given a session outside any mutation step (a job, the command line)
        async with database.session_factory(engine)() as session:
            # when an event is emitted
            await emit(session, topic="test.trail_apart", aggregate_type="Test", aggregate_id=7)
            # then it is in the transaction at once
            count = await session.scalar(
                select(func.count()).where(OutboxEvent.topic == "test.trail_apart")
            )
            assert count == 1
            await session.rollback()


# A bound insert as a domain makes one (resolvers/intake/history.py): once, its values named.
BOUND: Insert = insert(cast(Table, OutboxEvent.__table__)).values(
    topic=bindparam("bound_topic"),
    aggregate_type=bindparam("bound_type"),
    aggregate_id=bindparam("bound_id"),
    payload=bindparam("bound_payload", type_=JSONB),
)


def _bound(topic: str, n: int) -> dict[str, Any]:
    return {"bound_topic": topic, "bound_type": "Bound", "bound_id": n, "bound_payload": {"b": n}}


class TestShapes:
    """The audit statement is made once per shape of trail and reused with each step's values
    (issue 21, CPU per mutation); a trail of another shape is written whole all the same."""

    async def test_a_shape_made_once_writes_each_steps_own_values(
        self, engine: AsyncEngine
    ) -> None:
        # given two steps of one shape (two events and a bound insert), with different values
        def step_of(n: int) -> Any:
            async def step(session: AsyncSession) -> None:
                for k in (1, 2):
                    await emit(
                        session,
                        topic="test.shape_event",
                        aggregate_type="Test",
                        aggregate_id=10 * n + k,
                        payload={"n": n, "k": k},
                    )
                await append_bound(session, BOUND, _bound("test.shape_bound", n))

            return step

        for n in (1, 2):
            ctx = _context(engine, f"req-shape-{n}")
            # when each runs as a mutation and its change is kept
            result = await perform(ctx, "test.shape", step_of(n))
            await ctx.close(commit=True)
            assert result.problems == []
        # then each step's own rows exist, none of the other's values in them
        assert await _events(engine, "test.shape_event") == [
            ("test.shape_event", 11, {"n": 1, "k": 1}),
            ("test.shape_event", 12, {"n": 1, "k": 2}),
            ("test.shape_event", 21, {"n": 2, "k": 1}),
            ("test.shape_event", 22, {"n": 2, "k": 2}),
        ]
        assert await _events(engine, "test.shape_bound") == [
            ("test.shape_bound", 1, {"b": 1}),
            ("test.shape_bound", 2, {"b": 2}),
        ]
        assert await _outcome(engine, "req-shape-2") == Outcome.SUCCEEDED

    async def test_many_events_and_a_bound_insert_twice_are_written_whole(
        self, engine: AsyncEngine
    ) -> None:
        # given a step with many events (a bulk transition's), and one bound insert used twice
        many = 45

        async def step(session: AsyncSession) -> None:
            for k in range(many):
                await emit(session, topic="test.many_event", aggregate_type="Test", aggregate_id=k)
            await append_bound(session, BOUND, _bound("test.twice_bound", 1))
            await append_bound(session, BOUND, _bound("test.twice_bound", 2))

        ctx = _context(engine, "req-many")
        counter = database.StatementCounter()
        counter.attach(engine)
        counter.reset()
        # when it runs as a mutation
        result = await perform(ctx, "test.many", step)
        sent = list(counter.statements or [])
        counter.detach(engine)
        await ctx.close(commit=True)
        # then every event and both bound rows exist, written with the audit row in one INSERT
        assert result.problems == []
        assert [e[1] for e in await _events(engine, "test.many_event")] == list(range(many))
        # (each bound insert its own CTE: PostgreSQL runs them in no order of their ids)
        assert sorted(await _events(engine, "test.twice_bound")) == [
            ("test.twice_bound", 1, {"b": 1}),
            ("test.twice_bound", 2, {"b": 2}),
        ]
        assert len([s for s in sent if "INSERT" in s]) == 1
        assert await _outcome(engine, "req-many") == Outcome.SUCCEEDED

    async def test_the_audit_statement_is_compiled_once_for_any_number_of_events(
        self, engine: AsyncEngine
    ) -> None:
        # given steps of one kind emitting one, two, five and again one event (the events are
        # one parameter of the audit row's statement: a multi-row VALUES insert would have no
        # cache key, and SQLAlchemy compiled it again on every mutation)
        def step_of(events: int) -> Any:
            async def step(session: AsyncSession) -> None:
                for k in range(events):
                    await emit(
                        session,
                        topic="test.compiled_once",
                        aggregate_type="Test",
                        aggregate_id=100 * events + k,
                    )

            return step

        counter = database.StatementCounter()
        counter.attach(engine)
        compiled: list[list[str]] = []
        for n, events in enumerate((1, 2, 5, 1)):
            ctx = _context(engine, f"req-compiled-{n}")
            counter.reset()
            # when each runs as a mutation
            result = await perform(ctx, "test.compiled_once", step_of(events))
            compiled.append([s for s in counter.compiled or [] if "INSERT INTO audit_log" in s])
            await ctx.close(commit=True)
            assert result.problems == []
        counter.detach(engine)
        # then after the first, no step's audit statement is compiled again: SQLAlchemy takes it
        # from its cache whatever the number of events
        assert compiled[1:] == [[], [], []], compiled
        # and every event is written, in the order emitted
        written = [e[1] for e in await _events(engine, "test.compiled_once")]
        assert written == [100, 200, 201, 500, 501, 502, 503, 504, 100], written

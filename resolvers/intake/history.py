"""Transitions in bulk, shared by the two intake workflows: status-history rows, outbox events
and id arrays, each one statement however many applications move."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Insert,
    Integer,
    String,
    any_,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    FirstGradeApplicationEvent,
    FirstGradeStatus,
    KindergartenApplicationEvent,
    OutboxEvent,
    QueueStatus,
)
from resolvers import events as events_service

log = logging.getLogger("bilim.intake")


@dataclass(frozen=True)
class StatusHistory:
    """The status-history table of one workflow: a row for every status an application
    takes, with who moved it and why."""

    table: type[KindergartenApplicationEvent] | type[FirstGradeApplicationEvent]

    async def record(
        self,
        session: AsyncSession,
        actor: str,
        application_ids: Sequence[int],
        status: QueueStatus | FirstGradeStatus,
        reason: str | None = None,
    ) -> None:
        """Append a status-history row for each application (one statement however many)."""
        if not application_ids:
            return
        await events_service.append(session, self._insert(actor, application_ids, status, reason))

    def _insert(
        self,
        actor: str,
        application_ids: Sequence[int],
        status: QueueStatus | FirstGradeStatus,
        reason: str | None,
    ) -> Insert:
        ids = select(
            func.unnest(literal(list(application_ids), type_=ARRAY(Integer))).label("id")
        ).subquery()
        return insert(self.table).from_select(
            ["application_id", "status", "actor", "reason"],
            select(ids.c.id, literal(status.value), literal(actor), literal(reason, type_=String)),
        )

    async def record_and_emit(
        self,
        session: AsyncSession,
        actor: str,
        application_id: int,
        status: QueueStatus | FirstGradeStatus,
        reason: str | None = None,
        *,
        topic: str,
        aggregate_type: str,
        aggregate_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """One application's status-history row and its outbox event: within a mutation step
        both ride on its audit row (:class:`resolvers.events.Trail`); elsewhere one statement
        (the history insert a CTE of the outbox insert). Issue 21: at most 10 statements a
        mutation."""
        aggregate_id = application_id if aggregate_id is None else aggregate_id
        if events_service.trail_of(session) is not None:
            await events_service.append(
                session, self._insert(actor, [application_id], status, reason)
            )
            await events_service.emit(
                session,
                topic=topic,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                payload=payload,
            )
            return
        history = self._insert(actor, [application_id], status, reason).cte("history")
        await session.execute(
            insert(OutboxEvent)
            .values(
                topic=topic,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                payload=payload or {},
            )
            .add_cte(history)
        )
        log.info("%s", topic, extra={"event": topic, "aggregate_id": aggregate_id})


async def emit_many(
    session: AsyncSession,
    *,
    topic: str,
    aggregate_type: str,
    events: Sequence[tuple[int, dict[str, Any]]],
) -> None:
    """Queue one outbox event per aggregate in a single statement (bulk transitions); within a
    mutation step they ride on its audit row (:class:`resolvers.events.Trail`)."""
    if not events:
        return
    trail = events_service.trail_of(session)
    if trail is not None:
        trail.events.extend(
            {
                "topic": topic,
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "payload": payload,
            }
            for aggregate_id, payload in events
        )
        log.info("%s", topic, extra={"event": topic, "count": len(events)})
        return
    await session.execute(
        insert(OutboxEvent),
        [
            {
                "topic": topic,
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "payload": payload,
            }
            for aggregate_id, payload in events
        ],
    )
    log.info("%s", topic, extra={"event": topic, "count": len(events)})


def any_of(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column = ANY(:array)``: one bound array instead of one parameter per id, so bulk
    transitions over 100,000+ rows stay one statement."""
    return column == any_(literal(list(ids), type_=ARRAY(Integer)))

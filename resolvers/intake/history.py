"""Transitions in bulk, shared by the two intake workflows: status-history rows, outbox events
and id arrays, each one statement however many applications move."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Insert,
    Integer,
    String,
    Table,
    any_,
    bindparam,
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

# StatusHistory's inserts, one per history table (:meth:`StatusHistory._template`).
_TEMPLATES: dict[type[Any], Insert] = {}


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
        await events_service.append_bound(
            session, self._template(), self._values(actor, application_ids, status, reason)
        )

    def _template(self) -> Insert:
        """The history insert, made once per table: its values are bind parameters named
        after the table (``<table>_ids`` ...), so it can ride on an audit statement made once
        per shape (:func:`resolvers.events.write_audit`; issue 21)."""
        made = _TEMPLATES.get(self.table)
        if made is None:
            name = self.table.__tablename__
            ids = select(
                func.unnest(bindparam(f"{name}_ids", type_=ARRAY(Integer))).label("id")
            ).subquery()
            table = cast(Table, self.table.__table__)
            made = _TEMPLATES[self.table] = insert(table).from_select(
                ["application_id", "status", "actor", "reason"],
                select(
                    ids.c.id,
                    bindparam(f"{name}_status", type_=String),
                    bindparam(f"{name}_actor", type_=String),
                    bindparam(f"{name}_reason", type_=String),
                ),
            )
        return made

    def _values(
        self,
        actor: str,
        application_ids: Sequence[int],
        status: QueueStatus | FirstGradeStatus,
        reason: str | None,
    ) -> dict[str, Any]:
        name = self.table.__tablename__
        return {
            f"{name}_ids": list(application_ids),
            f"{name}_status": status.value,
            f"{name}_actor": actor,
            f"{name}_reason": reason,
        }

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
        values = self._values(actor, [application_id], status, reason)
        if events_service.trail_of(session) is not None:
            await events_service.append_bound(session, self._template(), values)
            await events_service.emit(
                session,
                topic=topic,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                payload=payload,
            )
            return
        history = self._template().cte("history")
        await session.execute(
            insert(OutboxEvent)
            .values(
                topic=topic,
                aggregate_type=aggregate_type,
                aggregate_id=aggregate_id,
                payload=payload or {},
            )
            .add_cte(history),
            values,
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

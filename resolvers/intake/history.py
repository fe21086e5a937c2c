"""Transitions in bulk, shared by the two intake workflows: status-history rows, outbox events
and id arrays, each one statement however many applications move."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, String, any_, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    FirstGradeApplicationEvent,
    FirstGradeStatus,
    KindergartenApplicationEvent,
    OutboxEvent,
    QueueStatus,
)

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
        ids = select(
            func.unnest(literal(list(application_ids), type_=ARRAY(Integer))).label("id")
        ).subquery()
        await session.execute(
            insert(self.table).from_select(
                ["application_id", "status", "actor", "reason"],
                select(
                    ids.c.id, literal(status.value), literal(actor), literal(reason, type_=String)
                ),
            )
        )


async def emit_many(
    session: AsyncSession,
    *,
    topic: str,
    aggregate_type: str,
    events: Sequence[tuple[int, dict[str, Any]]],
) -> None:
    """Queue one outbox event per aggregate in a single statement (bulk transitions)."""
    if not events:
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

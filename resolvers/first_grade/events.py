"""What a first-grade application's transitions leave behind: its status history and one
outbox event per application, both written in bulk."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import FirstGradeApplication, FirstGradeApplicationEvent, OutboxEvent
from resolvers import events as events_service
from resolvers.intake import StatusHistory, any_of

FGA = FirstGradeApplication
HISTORY = StatusHistory(FirstGradeApplicationEvent)


async def emit_for(session: AsyncSession, topic: str, application_ids: Sequence[int]) -> None:
    """One outbox event per application, built in the database (ids and codes only); within
    a mutation step it rides on the audit row (issue 21: statements per mutation)."""
    if not application_ids:
        return
    await events_service.append(
        session,
        insert(OutboxEvent).from_select(
            ["topic", "aggregate_type", "aggregate_id", "payload"],
            select(
                literal(topic),
                literal("FirstGradeApplication"),
                FGA.id,
                func.jsonb_build_object(
                    "school_id",
                    FGA.school_id,
                    "grade_level",
                    FGA.grade_level,
                    "enrollment_id",
                    FGA.enrollment_id,
                ),
            ).where(any_of(FGA.id, application_ids)),
        ),
    )

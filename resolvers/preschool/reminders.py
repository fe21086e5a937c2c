"""Reminders before an offer's deadline: the family is told two working days ahead that the
place will pass to another child unless they bring their documents (domain.md K5; issue 18).
A job emits one ``preschool.offer_expiring`` event per open offer due within the window; the
notices consumer turns it into a notice (one per offer, however often the job runs)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import IntakeSeason, KindergartenApplication, KindergartenOffer, OfferStatus
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.intake import add_working_days, emit_many

KA = KindergartenApplication
REMIND_WORKING_DAYS = 2
# Two working days never span more than this, holidays included.
WINDOW = timedelta(days=14)


async def remind_expiring_offers(
    session: AsyncSession, principal: Principal, *, on: date | None = None
) -> int:
    """Emit ``preschool.offer_expiring`` for the open offers whose deadline falls within the
    next two working days (each season's weekend, the holiday calendar); return how many."""
    require(principal.is_ministry, "Only the ministry runs the queue's jobs")
    on = on or today()
    rows = (
        await session.execute(
            select(
                KindergartenOffer.id,
                KindergartenOffer.application_id,
                KindergartenOffer.kindergarten_id,
                KindergartenOffer.deadline,
                IntakeSeason.weekend_days,
            )
            .join(
                KindergartenApplication,
                KindergartenApplication.id == KindergartenOffer.application_id,
            )
            .join(IntakeSeason, IntakeSeason.id == KA.season_id)
            .where(
                KindergartenOffer.status == OfferStatus.OPEN,
                KindergartenOffer.deadline >= on,
                KindergartenOffer.deadline <= on + WINDOW,
            )
        )
    ).all()
    limits: dict[tuple[int, ...], date] = {}
    due = []
    for row in rows:
        weekend = tuple(row.weekend_days)
        if weekend not in limits:
            limits[weekend] = await add_working_days(session, on, REMIND_WORKING_DAYS, weekend)
        if row.deadline <= limits[weekend]:
            due.append(row)
    await emit_many(
        session,
        topic="preschool.offer_expiring",
        aggregate_type="KindergartenOffer",
        events=[
            (
                r.id,
                {
                    "application_id": r.application_id,
                    "kindergarten_id": r.kindergarten_id,
                    "deadline": r.deadline.isoformat(),
                },
            )
            for r in due
        ],
    )
    return len(due)

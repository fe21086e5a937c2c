"""A family's decline of an offer written in one statement made once through the driver: the
offer declined, its place given back and its application moved by the season's decline rule
(domain.md K5; issue 21: three statements before, two of them through the ORM)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam, case, func, literal, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    DeclineRule,
    IntakeSeason,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    OfferStatus,
    QueueStatus,
)
from resolvers import driver

KA = KindergartenApplication


async def decline(
    session: AsyncSession, offer: KindergartenOffer, application: KindergartenApplication
) -> QueueStatus:
    """The locked offer declined, its place given back and its locked application moved by the
    season's decline rule, in one statement made once through the driver (issue 21: three
    statements before, two of them through the ORM); the session's objects given what was
    written. The places row is the last one locked (resolvers/locks.py). The application's new
    status is returned."""
    decided_at = datetime.now(UTC)
    params = {
        "offer_id": offer.id,
        "declined": OfferStatus.DECLINED,
        "decided_at": decided_at,
        "application_id": application.id,
        "places_id": offer.places_id,
    }
    found_status, updated_at, free = await driver.one(session, _DECLINE, params)
    status = QueueStatus(found_status)
    set_committed_value(offer, "status", OfferStatus.DECLINED)
    set_committed_value(offer, "decided_at", decided_at)
    set_committed_value(application, "status", status)
    set_committed_value(application, "updated_at", updated_at)
    # As the ORM's UPDATE of the places row did for a loaded one.
    places = driver.held(session, KindergartenPlaces, offer.places_id)
    if places is not None:
        set_committed_value(places, "free_places", free)
    return status


# A declined offer's application, by the season's decline rule read inside the UPDATE (not a
# read and a write); with the offer's and the place's UPDATEs in one statement made once
# (issue 21). The rows are the offer's, its application's (both locked by the step) and its
# places row's.
_DECLINE_RULE = (
    select(IntakeSeason.decline_rule).where(IntakeSeason.id == KA.season_id).scalar_subquery()
)


def _decline_of() -> driver.Made:
    KO, KP = KindergartenOffer, KindergartenPlaces
    declined_offer = (
        update(KO)
        .where(KO.id == bindparam("offer_id", type_=Integer))
        .values(
            status=bindparam("declined", type_=KO.status.type),
            decided_at=bindparam("decided_at", type_=KO.decided_at.type),
        )
        .returning(KO.id)
        .cte("declined_offer")
    )
    declined = (
        update(KA)
        .where(KA.id == bindparam("application_id", type_=Integer))
        .values(
            status=case(
                (
                    _DECLINE_RULE == DeclineRule.REQUEUE,
                    literal(QueueStatus.WAITING, KA.status.type),
                ),
                else_=literal(QueueStatus.REMOVED, KA.status.type),
            ),
            updated_at=func.now(),
        )
        .returning(KA.status, KA.updated_at)
        .cte("declined_application")
    )
    returned = (
        update(KP)
        .where(KP.id == bindparam("places_id", type_=Integer))
        .values(free_places=KP.free_places + 1)
        .returning(KP.free_places)
        .cte("returned_place")
    )
    return driver.Made(
        select(declined.c.status, declined.c.updated_at, returned.c.free_places)
        .select_from(declined)
        .join(returned, true())
        .join(declined_offer, true())
    )


_DECLINE = _decline_of()

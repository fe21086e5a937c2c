"""The queue's rows as the workflow takes them: an application or offer locked for the
transition (NOT_FOUND when missing), and the status history every transition appends to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import KindergartenApplication, KindergartenApplicationEvent, KindergartenOffer
from resolvers.errors import NotFound
from resolvers.intake import StatusHistory

HISTORY = StatusHistory(KindergartenApplicationEvent)


async def application_for_update(
    session: AsyncSession, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    application = await session.get(KindergartenApplication, application_id, with_for_update=True)
    if application is None:
        raise NotFound("The application", field=field)
    return application


async def offer_for_update(session: AsyncSession, offer_id: int) -> KindergartenOffer:
    offer = await session.get(KindergartenOffer, offer_id, with_for_update=True)
    if offer is None:
        raise NotFound("The offer", field="offerId")
    return offer

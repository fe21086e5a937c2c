"""The queue's rows as the workflow takes them: an application or offer locked for the
transition, reached through the caller's row rule (NOT_FOUND when missing or not theirs to
read: :mod:`resolvers.lookup`), and the status history every transition appends to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import KindergartenApplication, KindergartenApplicationEvent, KindergartenOffer
from resolvers.access import Principal
from resolvers.intake import StatusHistory
from resolvers.lookup import readable_or_not_found
from resolvers.preschool.rules import application_readable, offer_readable

HISTORY = StatusHistory(KindergartenApplicationEvent)


async def application_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    return await readable_or_not_found(
        session,
        KindergartenApplication,
        application_id,
        application_readable(principal),
        what="The application",
        field=field,
    )


async def offer_for_update(
    session: AsyncSession, principal: Principal, offer_id: int
) -> KindergartenOffer:
    return await readable_or_not_found(
        session,
        KindergartenOffer,
        offer_id,
        offer_readable(principal),
        what="The offer",
        field="offerId",
    )

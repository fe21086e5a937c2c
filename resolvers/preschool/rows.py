"""The queue's rows as the workflow takes them: an application or offer reached through the
caller's row rule (NOT_FOUND when missing or not theirs to read: :mod:`resolvers.lookup`),
locked for the transition, and the status history every transition appends to.

A transition on one child takes the child's person row first, then the application, then its
offer (``resolvers/locks.py``): so a withdrawal, an acceptance, a confirmation and a school
admission of the same child run one after the other, never each holding what the other
waits for. Who may reach a row is checked before any lock: an id alone locks nothing."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    OfferStatus,
)
from resolvers.access import Principal
from resolvers.errors import NotFound
from resolvers.intake import StatusHistory
from resolvers.locks import lock_persons
from resolvers.lookup import readable_or_not_found
from resolvers.preschool.rules import application_readable, offer_readable

HISTORY = StatusHistory(KindergartenApplicationEvent)
KA = KindergartenApplication
# An offer in one of these holds a seat of its places row.
LIVE = (OfferStatus.OPEN, OfferStatus.ACCEPTED)


class OfferRef(NamedTuple):
    """An offer as read before any lock: enough to check who may act, and whose row to lock."""

    offer_id: int
    application_id: int
    child_id: int
    kindergarten_id: int


async def application_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    """The application, locked, if the caller may read it (NOT_FOUND otherwise)."""
    return await readable_or_not_found(
        session,
        KindergartenApplication,
        application_id,
        application_readable(principal),
        what="The application",
        field=field,
    )


async def _application_locked(
    session: AsyncSession, application_id: int, field: str
) -> KindergartenApplication:
    application = await session.get(
        KindergartenApplication, application_id, with_for_update=True, populate_existing=True
    )
    if application is None:
        raise NotFound("The application", field=field)
    return application


async def offer_for_update(session: AsyncSession, offer_id: int) -> KindergartenOffer:
    """The offer, locked: called once the caller reached it (:func:`offer_ref`) and its
    application is locked."""
    offer = await session.get(
        KindergartenOffer, offer_id, with_for_update=True, populate_existing=True
    )
    if offer is None:
        raise NotFound("The offer", field="offerId")
    return offer


async def child_application_for_update(
    session: AsyncSession, principal: Principal, application_id: int, field: str = "applicationId"
) -> KindergartenApplication:
    """The application the caller may read, locked after its child's person row (NOT_FOUND
    when missing or not theirs to read)."""
    child_id = await session.scalar(
        select(KA.child_id).where(KA.id == application_id, application_readable(principal))
    )
    if child_id is None:
        raise NotFound("The application", field=field)
    await lock_persons(session, [child_id])
    return await _application_locked(session, application_id, field)


async def offer_ref(session: AsyncSession, principal: Principal, offer_id: int) -> OfferRef:
    """Who an offer is for, read without a lock (NOT_FOUND when missing or not the caller's to
    read)."""
    row = (
        await session.execute(
            select(
                KindergartenOffer.id,
                KindergartenOffer.application_id,
                KA.child_id,
                KindergartenOffer.kindergarten_id,
            )
            .join(KA, KA.id == KindergartenOffer.application_id)
            .where(KindergartenOffer.id == offer_id, offer_readable(principal))
        )
    ).first()
    if row is None:
        raise NotFound("The offer", field="offerId")
    return OfferRef(*row)


async def offer_rows_for_update(
    session: AsyncSession, ref: OfferRef
) -> tuple[KindergartenOffer, KindergartenApplication]:
    """The offer and its application (already reached through :func:`offer_ref`), locked in
    the order: the child's person row, the application, the offer."""
    await lock_persons(session, [ref.child_id])
    application = await _application_locked(session, ref.application_id, "offerId")
    return await offer_for_update(session, ref.offer_id), application

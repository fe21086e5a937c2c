"""Taking a recommended place (domain.md, "University admission", U5): in the round's
confirmation window, once; it withdraws the applicant's lower preferences and releases a place
confirmed earlier for one of them."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    ProgrammePlaces,
)
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import load_season, require_open
from resolvers.admission.rules import may_act_for_applicant, offer_readable
from resolvers.errors import DomainError
from resolvers.events import emit
from resolvers.lookup import readable_or_not_found
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_offer_confirmed",
    AdmissionCode.ALREADY_CONFIRMED,
    "The applicant has already confirmed a place this season",
    "offerId",
)


async def confirm_place(
    session: AsyncSession, principal: Principal, *, offer_id: int
) -> AdmissionOffer:
    """Take a recommended place (domain.md, "University admission").

    Rules: only the applicant or the guardian of a minor; within the round's confirmation
    window; an offer is confirmed once. The place is counted in the programme's places (the
    database refuses more confirmations than places); the applicant's lower preferences are
    withdrawn, and a place confirmed earlier for a lower preference is released for the next
    round.
    """
    offer = await _recommended_offer(session, principal, offer_id)
    season = await load_season(session, offer.season_id)
    require_open(season, "offerId")
    await _require_confirmation_window(session, offer)
    application = await session.get(
        AdmissionApplication, offer.application_id, with_for_update=True
    )
    assert application is not None
    earlier = await _confirmed_offer(session, season, offer.person_id)
    if earlier is not None:
        await _release(session, earlier)
    await _count_filled(session, offer, 1)
    offer.status = AdmissionOfferStatus.CONFIRMED
    offer.decided_at = func.now()
    application.status = ApplicationStatus.CONFIRMED
    await _withdraw_lower_preferences(session, season, application)
    await session.flush()
    await session.refresh(offer)
    await emit(
        session,
        topic="admission.place_confirmed",
        aggregate_type="AdmissionOffer",
        aggregate_id=offer.id,
        payload={
            "application_id": application.id,
            "programme_id": offer.programme_id,
            "category": offer.category.value,
        },
    )
    return offer


async def _recommended_offer(
    session: AsyncSession, principal: Principal, offer_id: int
) -> AdmissionOffer:
    """The offer, locked, if the caller may act for its applicant and it is still open."""
    offer = await readable_or_not_found(
        session,
        AdmissionOffer,
        offer_id,
        offer_readable(principal),
        what="The recommended place",
        field="offerId",
    )
    require(
        await may_act_for_applicant(session, principal, offer.person_id),
        "Only the applicant, or the guardian of a minor applicant, may confirm",
    )
    if offer.status == AdmissionOfferStatus.CONFIRMED:
        raise DomainError(
            AdmissionCode.ALREADY_CONFIRMED, "This place is already confirmed", field="offerId"
        )
    if offer.status != AdmissionOfferStatus.RECOMMENDED:
        raise DomainError(
            AdmissionCode.OFFER_NOT_OPEN, f"This place is {offer.status.value}", field="offerId"
        )
    return offer


async def _require_confirmation_window(session: AsyncSession, offer: AdmissionOffer) -> None:
    rnd = await session.get(AdmissionRound, offer.round_id)
    assert rnd is not None
    if not rnd.confirmation_opens <= clock.today() <= rnd.confirmation_closes:
        raise DomainError(
            AdmissionCode.WINDOW_CLOSED,
            f"Confirmation runs from {rnd.confirmation_opens} to {rnd.confirmation_closes}",
            field="offerId",
        )


async def _confirmed_offer(
    session: AsyncSession, season: AdmissionSeason, person_id: int
) -> AdmissionOffer | None:
    """The place the applicant confirmed earlier this season, locked, if any."""
    return (
        await session.execute(
            select(AdmissionOffer)
            .where(
                AdmissionOffer.season_id == season.id,
                AdmissionOffer.person_id == person_id,
                AdmissionOffer.status == AdmissionOfferStatus.CONFIRMED,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()


async def _count_filled(session: AsyncSession, offer: AdmissionOffer, change: int) -> None:
    """Take (1) or give back (-1) the offer's place in its programme's category."""
    await session.execute(
        update(ProgrammePlaces)
        .where(
            ProgrammePlaces.programme_id == offer.programme_id,
            ProgrammePlaces.category == offer.category,
        )
        .values(filled=ProgrammePlaces.filled + change)
    )


async def _withdraw_lower_preferences(
    session: AsyncSession, season: AdmissionSeason, application: AdmissionApplication
) -> None:
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == application.person_id,
            AdmissionApplication.preference > application.preference,
            AdmissionApplication.status == ApplicationStatus.ACTIVE,
        )
        .values(status=ApplicationStatus.WITHDRAWN)
    )


async def _release(session: AsyncSession, offer: AdmissionOffer) -> None:
    """Give up a confirmed place for a higher preference: it becomes a vacancy."""
    offer.status = AdmissionOfferStatus.RELEASED
    offer.decided_at = func.now()
    await _count_filled(session, offer, -1)
    await session.execute(
        update(AdmissionApplication)
        .where(AdmissionApplication.id == offer.application_id)
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    await emit(
        session,
        topic="admission.place_released",
        aggregate_type="AdmissionOffer",
        aggregate_id=offer.id,
        payload={"programme_id": offer.programme_id, "category": offer.category.value},
    )

"""Taking a recommended place (domain.md, "University admission", U5): in the round's
confirmation window, once; it withdraws the applicant's lower preferences and releases a place
confirmed earlier for one of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    ApplicationStatus,
    ProgrammePlaces,
)
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import require_open
from resolvers.admission.rules import may_act_for_applicant, offer_readable
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit
from resolvers.mutations import register_constraint

register_constraint(
    "uq_admission_offer_confirmed",
    AdmissionCode.ALREADY_CONFIRMED,
    "The applicant has already confirmed a place this season",
    "offerId",
)


@dataclass(frozen=True)
class Confirmed:
    """A confirmed offer and its programme (as the step read it)."""

    offer: AdmissionOffer
    programme: AdmissionProgramme


async def confirm_place(session: AsyncSession, principal: Principal, *, offer_id: int) -> Confirmed:
    """Take a recommended place (domain.md, "University admission").

    Rules: only the applicant or the guardian of a minor; within the round's confirmation
    window; an offer is confirmed once. The place is counted in the programme's places (the
    database refuses more confirmations than places); the applicant's lower preferences are
    withdrawn, and a place confirmed earlier for a lower preference is released for the next
    round.
    """
    offer, application, season, rnd, programme = await _recommended_offer(
        session, principal, offer_id
    )
    require_open(season, "offerId")
    if not rnd.confirmation_opens <= clock.today() <= rnd.confirmation_closes:
        raise DomainError(
            AdmissionCode.WINDOW_CLOSED,
            f"Confirmation runs from {rnd.confirmation_opens} to {rnd.confirmation_closes}",
            field="offerId",
        )
    earlier = await _confirmed_offer(session, season, offer.person_id)
    if earlier is not None:
        await _release(session, earlier)
    await _count_filled(session, offer, 1)
    await _confirm_application(session, season, application)
    # The offer's new state and decision time come back with its UPDATE (it was read again).
    decided_at = await session.scalar(
        update(AdmissionOffer)
        .where(AdmissionOffer.id == offer.id)
        .values(status=AdmissionOfferStatus.CONFIRMED, decided_at=func.now())
        .returning(AdmissionOffer.decided_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(offer, "status", AdmissionOfferStatus.CONFIRMED)
    set_committed_value(offer, "decided_at", decided_at)
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
    return Confirmed(offer, programme)


async def _recommended_offer(
    session: AsyncSession, principal: Principal, offer_id: int
) -> tuple[
    AdmissionOffer, AdmissionApplication, AdmissionSeason, AdmissionRound, AdmissionProgramme
]:
    """The offer and its application, locked in that order, if the caller may act for its
    applicant and it is still open; with its season, round and programme read in the same
    statement (five statements before). A season or round read as the lock's statement began
    is what a read just before the lock would give: neither is changed under these locks."""
    found = (
        await session.execute(
            select(
                AdmissionOffer,
                AdmissionApplication,
                AdmissionSeason,
                AdmissionRound,
                AdmissionProgramme,
            )
            .join(AdmissionApplication, AdmissionApplication.id == AdmissionOffer.application_id)
            .join(AdmissionSeason, AdmissionSeason.id == AdmissionOffer.season_id)
            .join(AdmissionRound, AdmissionRound.id == AdmissionOffer.round_id)
            .join(AdmissionProgramme, AdmissionProgramme.id == AdmissionOffer.programme_id)
            .where(AdmissionOffer.id == offer_id, offer_readable(principal))
            .with_for_update(of=[AdmissionOffer, AdmissionApplication])
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("The recommended place", field="offerId")
    offer, application, season, rnd, programme = found
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
    return offer, application, season, rnd, programme


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


async def _confirm_application(
    session: AsyncSession, season: AdmissionSeason, application: AdmissionApplication
) -> None:
    """The application confirmed and the applicant's lower preferences withdrawn, in one
    UPDATE (two before)."""
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.person_id == application.person_id,
            (AdmissionApplication.id == application.id)
            | (
                (AdmissionApplication.preference > application.preference)
                & (AdmissionApplication.status == ApplicationStatus.ACTIVE)
            ),
        )
        .values(
            status=case(
                (
                    AdmissionApplication.id == application.id,
                    literal(ApplicationStatus.CONFIRMED, AdmissionApplication.status.type),
                ),
                else_=literal(ApplicationStatus.WITHDRAWN, AdmissionApplication.status.type),
            )
        )
        .execution_options(synchronize_session=False)
    )
    set_committed_value(application, "status", ApplicationStatus.CONFIRMED)


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

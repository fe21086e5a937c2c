"""The kindergarten queue's mutations: registering, checking benefits, declaring and
offering places, the family's decisions, admission, transfer, withdrawal, expiry."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import Residency as ResidencyEnum
from resolvers import preschool as preschool_service
from resolvers.context import Context
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.errors import DomainError
from resolvers.errors import ErrorCode as Code
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.mutations import MutationResult
from resolvers.preschool import Preferred
from resolvers.preschool.loaders import (
    KindergartenApplicationByIdLoader,
    KindergartenPreferencesByApplicationLoader,
)
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation, personal
from schema.node import pk_of
from schema.preschool.types import (
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    Residency,
)


async def _with_preferences(ctx: Context, session: AsyncSession, written: Preferred) -> Any:
    """The step's application, with the request's loaders given the preferences it wrote and
    their kindergartens: the payload reads neither again (issue 21, statements per mutation).
    Both are the caller's to read: the step reached the application through its rule, and
    kindergartens are public."""
    await session.flush()
    application = written.application
    preferences = sorted(written.preferences, key=lambda p: p.rank)
    KindergartenPreferencesByApplicationLoader(ctx).prime(application.id, preferences)
    institutions = InstitutionByIdLoader(ctx)
    for kindergarten in written.kindergartens:
        institutions.prime(kindergarten.id, kindergarten)
    return application


def _decided(ctx: Context, decided: preschool_service.Decided) -> Any:
    """The decided offer, with the request's loaders given its application and kindergarten:
    the payload reads neither again (issue 21). Both are the caller's to read: the step reached
    the offer through its rule, and kindergartens are public."""
    KindergartenApplicationByIdLoader(ctx).prime(decided.application.id, decided.application)
    InstitutionByIdLoader(ctx).prime(decided.kindergarten.id, decided.kindergarten)
    return decided.offer


@strawberry.input(description="Register a child in the kindergarten queue.")
class ApplyToKindergartenQueueInput:
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    kindergarten_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 3 preferred kindergartens (season policy), in order."
    )
    benefit_category: str | None = strawberry.field(
        default=None, description="Code of a benefit category of the season, if any."
    )
    benefit_proof: str | None = personal(
        default=None, description="The document proving the benefit (series and number)."
    )
    residency: Residency = strawberry.field(
        default=ResidencyEnum.RESIDENT, description="Resident of the locality or not."
    )
    contact_phone: str | None = strawberry.field(default=None, description="Contact phone.")


@strawberry.type(description="Result of a mutation on a kindergarten application.")
class KindergartenApplicationPayload(Payload):
    application: KindergartenApplication | None = strawberry.field(description="The application.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Record the check of a claimed benefit's proof.")
class VerifyKindergartenBenefitInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    verified: bool = strawberry.field(description="The proof holds.")
    reason: str | None = strawberry.field(default=None, description="Note, e.g. why not.")


@strawberry.input(description="Declare a kindergarten's free places of an age group.")
class DeclareFreePlacesInput:
    kindergarten_id: strawberry.ID = strawberry.field(description="The kindergarten.")
    age_group: str = strawberry.field(description="Age group code of the season, e.g. 3-4.")
    free_places: int = strawberry.field(description="Places free to offer (not yet offered).")
    groups: int = strawberry.field(default=1, description="Groups of this age the places are in.")


@strawberry.type(description="Result of declareFreePlaces.")
class DeclareFreePlacesPayload(Payload):
    places: KindergartenPlaces | None = strawberry.field(description="The places now free.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Offer free places to the children next in the queue.")
class OfferPlacesInput:
    kindergarten_id: strawberry.ID = strawberry.field(description="The kindergarten.")
    age_group: str | None = strawberry.field(
        default=None, description="Only this age group (all groups with free places if unset)."
    )
    count: int | None = strawberry.field(
        default=None, description="At most this many places (all free places if unset)."
    )
    application_id: strawberry.ID | None = strawberry.field(
        default=None, description="Offer one place to this child, who must be next in turn."
    )


@strawberry.type(description="Result of offerPlaces.")
class OfferPlacesPayload(Payload):
    offers: list[KindergartenOffer] = strawberry.field(description="The offers made.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Decide on an offer.")
class OfferDecisionInput:
    offer_id: strawberry.ID = strawberry.field(description="The offer.")


@strawberry.input(description="Admit a child whose documents were checked.")
class ConfirmAdmissionInput:
    offer_id: strawberry.ID = strawberry.field(description="The accepted offer.")
    entry_date: date | None = strawberry.field(default=None, description="First day; today.")


@strawberry.type(description="Result of a mutation on an offer.")
class KindergartenOfferPayload(Payload):
    offer: KindergartenOffer | None = strawberry.field(description="The offer.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Move an application to other kindergartens.")
class TransferKindergartenApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    kindergarten_ids: list[strawberry.ID] = strawberry.field(
        description="The new preferred kindergartens, in order."
    )


@strawberry.input(description="Withdraw an application (and end a held place).")
class WithdrawKindergartenApplicationInput:
    application_id: strawberry.ID = strawberry.field(description="The application.")
    reason: str | None = strawberry.field(default=None, description="Why.")


@strawberry.input(description="Run the offer-expiry job.")
class ProcessExpiredOffersInput:
    as_of: date | None = strawberry.field(
        default=None,
        description="Expire offers whose deadline is before this day (today if unset; a past "
        "day only, to catch up after an outage).",
    )


@strawberry.type(description="Result of processExpiredOffers.")
class ProcessExpiredOffersPayload(Payload):
    expired: int = strawberry.field(description="Offers expired now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> ProcessExpiredOffersPayload:
        """A refused run expired nothing: 0, not null."""
        return cls(expired=result.value or 0, user_errors=user_errors(result.problems))


MAX_IDS = 10


def _kindergartens(ids: list[strawberry.ID]) -> list[int]:
    if len(ids) > MAX_IDS:
        raise DomainError(
            Code.INVALID_INPUT, f"Name at most {MAX_IDS} kindergartens", field="kindergartenIds"
        )
    return [pk_of(i, "Institution", field="kindergartenIds") for i in ids]


def _application_pk(application_id: strawberry.ID) -> int:
    return pk_of(application_id, "KindergartenApplication", field="applicationId")


def _offer_pk(offer_id: strawberry.ID) -> int:
    return pk_of(offer_id, "KindergartenOffer", field="offerId")


@strawberry.type
class Mutation:
    @mutation(
        "preschool.apply",
        KindergartenApplicationPayload,
        description="Register a child in the kindergarten queue (guardian).",
    )
    async def apply_to_kindergarten_queue(
        session: AsyncSession, ctx: Context, input: ApplyToKindergartenQueueInput
    ) -> Any:
        written = await preschool_service.apply_to_kindergarten_queue(
            session,
            ctx.principal,
            child_id=pk_of(input.child_id, "Person", field="childId"),
            kindergarten_ids=_kindergartens(input.kindergarten_ids),
            benefit_code=input.benefit_category,
            benefit_proof=input.benefit_proof,
            residency=input.residency,
            contact_phone=input.contact_phone,
        )
        return await _with_preferences(ctx, session, written)

    @mutation(
        "preschool.verify_benefit",
        KindergartenApplicationPayload,
        description="Record the check of a benefit's proof (officer).",
    )
    async def verify_kindergarten_benefit(
        session: AsyncSession, ctx: Context, input: VerifyKindergartenBenefitInput
    ) -> Any:
        return await preschool_service.verify_benefit(
            session,
            ctx.principal,
            application_id=_application_pk(input.application_id),
            verified=input.verified,
            reason=input.reason,
        )

    @mutation(
        "preschool.declare_free_places",
        DeclareFreePlacesPayload,
        description="Declare free places of an age group (kindergarten officer).",
    )
    async def declare_free_places(
        session: AsyncSession, ctx: Context, input: DeclareFreePlacesInput
    ) -> Any:
        return await preschool_service.declare_free_places(
            session,
            ctx.principal,
            kindergarten_id=pk_of(input.kindergarten_id, "Institution", field="kindergartenId"),
            age_group=input.age_group,
            free_places=input.free_places,
            groups=input.groups,
        )

    @mutation(
        "preschool.offer_places",
        OfferPlacesPayload,
        description="Offer free places: verified benefit first, then registration time.",
    )
    async def offer_places(session: AsyncSession, ctx: Context, input: OfferPlacesInput) -> Any:
        offered = await preschool_service.offer_places(
            session,
            ctx.principal,
            kindergarten_id=pk_of(input.kindergarten_id, "Institution", field="kindergartenId"),
            age_group=input.age_group,
            count=input.count,
            application_id=_application_pk(input.application_id) if input.application_id else None,
        )
        # The officer reached these applications through their own kindergarten's queue: the
        # payload reads them as the step left them (issue 21).
        applications = KindergartenApplicationByIdLoader(ctx)
        for application in offered.applications:
            applications.prime(application.id, application)
        return offered.offers

    @mutation(
        "preschool.accept_offer",
        KindergartenOfferPayload,
        description="Accept an offer before its deadline (guardian).",
    )
    async def accept_offer(session: AsyncSession, ctx: Context, input: OfferDecisionInput) -> Any:
        accepted = await preschool_service.accept_offer(
            session, ctx.principal, offer_id=_offer_pk(input.offer_id)
        )
        return _decided(ctx, accepted)

    @mutation(
        "preschool.decline_offer",
        KindergartenOfferPayload,
        description="Decline an offer (guardian); the season's rule applies.",
    )
    async def decline_offer(session: AsyncSession, ctx: Context, input: OfferDecisionInput) -> Any:
        declined = await preschool_service.decline_offer(
            session, ctx.principal, offer_id=_offer_pk(input.offer_id)
        )
        return _decided(ctx, declined)

    @mutation(
        "preschool.confirm_admission",
        KindergartenOfferPayload,
        description="Admit the child of an accepted offer (kindergarten officer).",
    )
    async def confirm_admission(
        session: AsyncSession, ctx: Context, input: ConfirmAdmissionInput
    ) -> Any:
        admitted = await preschool_service.confirm_admission(
            session,
            ctx.principal,
            offer_id=_offer_pk(input.offer_id),
            entry_date=input.entry_date,
        )
        # The officer reached the offer, so its application and the new place in their own
        # kindergarten are theirs to read: the payload reads neither again (issue 21).
        await session.flush()
        KindergartenApplicationByIdLoader(ctx).prime(admitted.application.id, admitted.application)
        EnrollmentByIdLoader(ctx).prime(admitted.enrollment.id, admitted.enrollment)
        return admitted.offer

    @mutation(
        "preschool.transfer",
        KindergartenApplicationPayload,
        description="Move an application to other kindergartens (guardian).",
    )
    async def transfer_kindergarten_application(
        session: AsyncSession, ctx: Context, input: TransferKindergartenApplicationInput
    ) -> Any:
        written = await preschool_service.transfer_application(
            session,
            ctx.principal,
            application_id=_application_pk(input.application_id),
            kindergarten_ids=_kindergartens(input.kindergarten_ids),
        )
        return await _with_preferences(ctx, session, written)

    @mutation(
        "preschool.withdraw",
        KindergartenApplicationPayload,
        description="Withdraw an application, freeing any place it holds.",
    )
    async def withdraw_kindergarten_application(
        session: AsyncSession, ctx: Context, input: WithdrawKindergartenApplicationInput
    ) -> Any:
        return await preschool_service.withdraw_application(
            session,
            ctx.principal,
            application_id=_application_pk(input.application_id),
            reason=input.reason,
        )

    @mutation(
        "preschool.process_expired_offers",
        ProcessExpiredOffersPayload,
        description="Expire offers past their deadline and apply the decline rule (ministry; "
        "also `bilim jobs run`).",
    )
    async def process_expired_offers(
        session: AsyncSession, ctx: Context, input: ProcessExpiredOffersInput
    ) -> Any:
        return await preschool_service.process_expired_offers(
            session, ctx.principal, on=input.as_of
        )

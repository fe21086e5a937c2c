"""The kindergarten e-queue: applications, queue positions, places, offers and the workflow's
mutations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any, TypeAlias

import strawberry
from sqlalchemy import select

from models import IntakeKind
from models import KindergartenPlaces as KindergartenPlacesModel
from models import OfferStatus as OfferStatusEnum
from models import QueueStatus as QueueStatusEnum
from models import Residency as ResidencyEnum
from resolvers import preschool as preschool_service
from resolvers.clock import today
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.errors import DomainError, RequestError
from resolvers.errors import ErrorCode as Code
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.intake import current_season
from resolvers.intake.loaders import ApplicantByIdLoader
from resolvers.mutations import perform
from resolvers.preschool.loaders import (
    KindergartenApplicationByIdLoader,
    KindergartenHistoryByApplicationLoader,
    KindergartenOfferByIdLoader,
    KindergartenOffersByApplicationLoader,
    KindergartenPreferencesByApplicationLoader,
    QueuePositionByPreferenceLoader,
)
from resolvers.relay import encode_id
from schema.common import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    UserError,
    bounds,
    list_connection,
    require_signed_in,
    user_errors,
)
from schema.enrollments import Enrollment
from schema.institutions import Institution
from schema.intake import BenefitCategory, BenefitStatus, IntakeSeason, benefit_of, season_of
from schema.node import node_type, pk_of, query_pk
from schema.people import Person

strawberry.enum(
    QueueStatusEnum,
    name="KindergartenApplicationStatus",
    description="Where a kindergarten application stands.",
)
KindergartenApplicationStatus: TypeAlias = QueueStatusEnum
strawberry.enum(ResidencyEnum, name="Residency", description="Resident or not of the locality.")
Residency: TypeAlias = ResidencyEnum
strawberry.enum(OfferStatusEnum, name="KindergartenOfferStatus", description="An offer's state.")
KindergartenOfferStatus: TypeAlias = OfferStatusEnum


@strawberry.type(description="One status an application went through.")
class KindergartenStatusChange:
    status: KindergartenApplicationStatus = strawberry.field(description="The new status.")
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(description="Who (the caller's subject, or the job).")
    reason: str | None = strawberry.field(description="Why, if said.")


@strawberry.type(
    description="Where a child stands in one (kindergarten, intake, age group) queue, and why: "
    "children with a verified benefit come first, then by registration time."
)
class QueuePosition:
    position: int = strawberry.field(description="1 for the next child to be offered a place.")
    ahead: int = strawberry.field(description="Waiting children who come first.")
    ahead_with_benefit: int = strawberry.field(
        description="Of those ahead, how many hold a verified benefit."
    )
    ahead_registered_later: int = strawberry.field(
        description="Of those ahead, how many registered later (ahead by their benefit only)."
    )
    age_group: str = strawberry.field(description="The age group this queue is for.")
    intake_year: int = strawberry.field(description="The intake (1 September) it is for.")
    registered_at: datetime = strawberry.field(description="This child's registration time.")
    benefit_verified: bool = strawberry.field(description="This child holds a verified benefit.")


@strawberry.type(description="One of an application's preferred kindergartens.")
class KindergartenPreference:
    pk: strawberry.Private[int]
    kindergarten_pk: strawberry.Private[int]
    application: strawberry.Private[Any]
    rank: int = strawberry.field(description="The family's order, 1 first.")

    @strawberry.field(description="The kindergarten.")
    async def kindergarten(self, info: Info) -> Institution:
        row = await InstitutionByIdLoader(info.context).load(self.kindergarten_pk)
        return Institution.from_row(row)

    @strawberry.field(description="The child's place in this kindergarten's queue (while waiting).")
    async def queue_position(self, info: Info) -> QueuePosition | None:
        row = await QueuePositionByPreferenceLoader(info.context).load(self.pk)
        if row is None:
            return None
        app = self.application
        return QueuePosition(
            position=row.ahead + 1,
            ahead=row.ahead,
            ahead_with_benefit=row.ahead_with_benefit,
            ahead_registered_later=row.ahead_registered_later,
            age_group=app.age_group,
            intake_year=app.intake_year,
            registered_at=app.registered_at,
            benefit_verified=app.benefit_verified,
        )


@strawberry.type(description="A place offered to a child, with the deadline for documents.")
class KindergartenOffer(Node):
    pk: strawberry.Private[int]
    application_pk: strawberry.Private[int]
    kindergarten_pk: strawberry.Private[int]
    age_group: str = strawberry.field(description="Age group of the place.")
    status: KindergartenOfferStatus = strawberry.field(description="The offer's state.")
    offered_at: datetime = strawberry.field(description="When it was made.")
    deadline: date = strawberry.field(description="Last day to accept and bring documents.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")

    @classmethod
    def from_row(cls, row: Any) -> KindergartenOffer:
        return cls(
            id=strawberry.ID(encode_id("KindergartenOffer", row.id)),
            pk=row.id,
            application_pk=row.application_id,
            kindergarten_pk=row.kindergarten_id,
            age_group=row.age_group,
            status=row.status,
            offered_at=row.offered_at,
            deadline=row.deadline,
            decided_at=row.decided_at,
        )

    @strawberry.field(description="The kindergarten offering the place.")
    async def kindergarten(self, info: Info) -> Institution:
        row = await InstitutionByIdLoader(info.context).load(self.kindergarten_pk)
        return Institution.from_row(row)

    @strawberry.field(description="The application the place is offered to.")
    async def application(self, info: Info) -> KindergartenApplication | None:
        row = await KindergartenApplicationByIdLoader(info.context).load(self.application_pk)
        return KindergartenApplication.from_row(row) if row else None


@strawberry.type(description="A child's application to the kindergarten queue.")
class KindergartenApplication(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    registered_at: datetime = strawberry.field(
        description="Queue time; kept through transfers and re-queued offers."
    )
    status: KindergartenApplicationStatus = strawberry.field(description="Where it stands.")
    intake_year: int = strawberry.field(description="The September intake the child waits for.")
    age_group: str = strawberry.field(description="Age group at that intake.")
    benefit_status: BenefitStatus = strawberry.field(description="The claimed benefit's proof.")
    benefit_proof: str | None = strawberry.field(description="The proof document named.")
    residency: Residency = strawberry.field(description="Resident or not.")
    contact_phone: str | None = strawberry.field(description="The family's contact phone.")

    @classmethod
    def from_row(cls, row: Any) -> KindergartenApplication:
        return cls(
            id=strawberry.ID(encode_id("KindergartenApplication", row.id)),
            pk=row.id,
            row=row,
            registered_at=row.registered_at,
            status=row.status,
            intake_year=row.intake_year,
            age_group=row.age_group,
            benefit_status=row.benefit_status,
            benefit_proof=row.benefit_proof,
            residency=row.residency,
            contact_phone=row.contact_phone,
        )

    @strawberry.field(description="The child.")
    async def child(self, info: Info) -> Person | None:
        row = await ApplicantByIdLoader(info.context).load(self.row.child_id)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The guardian who applied.")
    async def guardian(self, info: Info) -> Person | None:
        row = await ApplicantByIdLoader(info.context).load(self.row.guardian_id)
        return Person.from_row(row) if row else None

    @strawberry.field(description="The season it was registered in.")
    async def season(self, info: Info) -> IntakeSeason:
        return await season_of(info, self.row.season_id)

    @strawberry.field(description="The benefit category claimed, if any.")
    async def benefit_category(self, info: Info) -> BenefitCategory | None:
        return await benefit_of(info, self.row.benefit_category_id)

    @strawberry.field(description="Preferred kindergartens, in the family's order.")
    async def preferences(self, info: Info) -> list[KindergartenPreference]:
        rows = await KindergartenPreferencesByApplicationLoader(info.context).load(self.pk)
        return [
            KindergartenPreference(
                pk=r.id, kindergarten_pk=r.kindergarten_id, application=self.row, rank=r.rank
            )
            for r in rows
        ]

    @strawberry.field(description="Offers made to this application, newest first.")
    async def offers(self, info: Info) -> list[KindergartenOffer]:
        rows = await KindergartenOffersByApplicationLoader(info.context).load(self.pk)
        return [KindergartenOffer.from_row(r) for r in rows]

    @strawberry.field(description="The open or accepted offer, if there is one.")
    async def current_offer(self, info: Info) -> KindergartenOffer | None:
        rows = await KindergartenOffersByApplicationLoader(info.context).load(self.pk)
        live = (OfferStatusEnum.OPEN, OfferStatusEnum.ACCEPTED)
        return next((KindergartenOffer.from_row(r) for r in rows if r.status in live), None)

    @strawberry.field(description="The kindergarten enrollment it led to (or the held place).")
    async def enrollment(self, info: Info) -> Enrollment | None:
        if self.row.enrollment_id is None:
            return None
        row = await EnrollmentByIdLoader(info.context).load(self.row.enrollment_id)
        return Enrollment.from_row(row) if row else None

    @strawberry.field(description="Every status it went through, oldest first.")
    async def status_history(self, info: Info) -> list[KindergartenStatusChange]:
        rows = await KindergartenHistoryByApplicationLoader(info.context).load(self.pk)
        return [
            KindergartenStatusChange(status=r.status, at=r.at, actor=r.actor, reason=r.reason)
            for r in rows
        ]


@node_type("KindergartenApplication")
async def fetch_kindergarten_application(ctx: Context, pk: int) -> KindergartenApplication | None:
    row = await KindergartenApplicationByIdLoader(ctx).load(pk)
    return KindergartenApplication.from_row(row) if row else None


@node_type("KindergartenOffer")
async def fetch_kindergarten_offer(ctx: Context, pk: int) -> KindergartenOffer | None:
    row = await KindergartenOfferByIdLoader(ctx).load(pk)
    return KindergartenOffer.from_row(row) if row else None


@strawberry.type(description="Places of an age group a kindergarten has free to offer.")
class KindergartenPlaces:
    kindergarten_pk: strawberry.Private[int]
    age_group: str = strawberry.field(description="The age group.")
    free_places: int = strawberry.field(description="Places not yet offered.")
    declared_at: datetime = strawberry.field(description="When last declared.")

    @classmethod
    def from_row(cls, row: Any) -> KindergartenPlaces:
        return cls(
            kindergarten_pk=row.kindergarten_id,
            age_group=row.age_group,
            free_places=row.free_places,
            declared_at=row.declared_at,
        )

    @strawberry.field(description="The kindergarten.")
    async def kindergarten(self, info: Info) -> Institution:
        row = await InstitutionByIdLoader(info.context).load(self.kindergarten_pk)
        return Institution.from_row(row)


# --- queries -------------------------------------------------------------------------------


@strawberry.input(description="Narrow the application list; every field given must hold.")
class KindergartenApplicationFilter:
    status: KindergartenApplicationStatus | None = strawberry.field(
        default=None, description="Only in this status."
    )
    kindergarten_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only those naming this kindergarten."
    )
    age_group: str | None = strawberry.field(default=None, description="Only this age group.")
    intake_year: int | None = strawberry.field(default=None, description="Only this intake.")
    child_id: strawberry.ID | None = strawberry.field(default=None, description="Only this child.")


@strawberry.enum(description="Orders of the kindergarten application list.")
class KindergartenApplicationOrder(enum.Enum):
    QUEUE = "QUEUE"
    REGISTERED_AT = "REGISTERED_AT"
    ID = "ID"


def _filter(flt: KindergartenApplicationFilter | None) -> preschool_service.ApplicationFilter:
    if flt is None:
        return preschool_service.ApplicationFilter()
    if flt.age_group is not None and len(flt.age_group) > 16:
        raise RequestError(Code.INVALID_INPUT, "`ageGroup` is at most 16 characters")
    return preschool_service.ApplicationFilter(
        status=flt.status,
        kindergarten_id=query_pk(flt.kindergarten_id, "Institution")
        if flt.kindergarten_id
        else None,
        age_group=flt.age_group,
        intake_year=flt.intake_year,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Kindergarten applications you may read: a guardian their children's, an "
        "officer those naming their kindergartens, the ministry all."
    )
    async def kindergarten_applications(
        self,
        info: Info,
        filter: KindergartenApplicationFilter | None = None,
        order_by: KindergartenApplicationOrder = KindergartenApplicationOrder.QUEUE,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[KindergartenApplication]:
        ctx = info.context
        require_signed_in(ctx, "Sign in to read applications")
        args = bounds(first, after, last, before)
        stmt = preschool_service.applications_query(ctx.principal, _filter(filter))
        ordering = preschool_service.APPLICATION_ORDERINGS[order_by.value]
        return await list_connection(ctx, stmt, args, ordering, KindergartenApplication.from_row)

    @strawberry.field(description="A kindergarten's free places this season, per age group.")
    async def kindergarten_places(
        self,
        info: Info,
        kindergarten_id: Annotated[
            strawberry.ID, strawberry.argument(description="The kindergarten.")
        ],
    ) -> list[KindergartenPlaces]:
        pk = query_pk(kindergarten_id, "Institution")

        async def load(session: Any) -> list[Any]:
            try:
                season = await current_season(session, IntakeKind.KINDERGARTEN, today())
            except DomainError:
                return []
            rows = await session.execute(
                select(*KindergartenPlacesModel.__table__.c)
                .where(
                    KindergartenPlacesModel.season_id == season.id,
                    KindergartenPlacesModel.kindergarten_id == pk,
                )
                .order_by(KindergartenPlacesModel.age_group)
            )
            return list(rows)

        return [KindergartenPlaces.from_row(r) for r in await info.context.run(load)]


# --- mutations -----------------------------------------------------------------------------


@strawberry.input(description="Register a child in the kindergarten queue.")
class ApplyToKindergartenQueueInput:
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    kindergarten_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 3 preferred kindergartens (season policy), in order."
    )
    benefit_category: str | None = strawberry.field(
        default=None, description="Code of a benefit category of the season, if any."
    )
    benefit_proof: str | None = strawberry.field(
        default=None, description="The document proving the benefit (series and number)."
    )
    residency: Residency = strawberry.field(
        default=ResidencyEnum.RESIDENT, description="Resident of the locality or not."
    )
    contact_phone: str | None = strawberry.field(default=None, description="Contact phone.")


@strawberry.type(description="Result of a mutation on a kindergarten application.")
class KindergartenApplicationPayload:
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
class DeclareFreePlacesPayload:
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
class OfferPlacesPayload:
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
class KindergartenOfferPayload:
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
class ProcessExpiredOffersPayload:
    expired: int = strawberry.field(description="Offers expired now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


def _app_payload(value: Any, problems: Any) -> KindergartenApplicationPayload:
    return KindergartenApplicationPayload(
        application=KindergartenApplication.from_row(value) if value else None,
        user_errors=user_errors(problems),
    )


def _offer_payload(value: Any, problems: Any) -> KindergartenOfferPayload:
    return KindergartenOfferPayload(
        offer=KindergartenOffer.from_row(value) if value else None,
        user_errors=user_errors(problems),
    )


MAX_IDS = 10


def _kindergartens(ids: list[strawberry.ID]) -> list[int]:
    if len(ids) > MAX_IDS:
        raise DomainError(
            Code.INVALID_INPUT, f"Name at most {MAX_IDS} kindergartens", field="kindergartenIds"
        )
    return [pk_of(i, "Institution", field="kindergartenIds") for i in ids]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a child in the kindergarten queue (guardian).")
    async def apply_to_kindergarten_queue(
        self, info: Info, input: ApplyToKindergartenQueueInput
    ) -> KindergartenApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.apply",
            lambda s: preschool_service.apply_to_kindergarten_queue(
                s,
                ctx.principal,
                child_id=pk_of(input.child_id, "Person", field="childId"),
                kindergarten_ids=_kindergartens(input.kindergarten_ids),
                benefit_code=input.benefit_category,
                benefit_proof=input.benefit_proof,
                residency=input.residency,
                contact_phone=input.contact_phone,
            ),
        )
        return _app_payload(result.value, result.problems)

    @strawberry.mutation(description="Record the check of a benefit's proof (officer).")
    async def verify_kindergarten_benefit(
        self, info: Info, input: VerifyKindergartenBenefitInput
    ) -> KindergartenApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.verify_benefit",
            lambda s: preschool_service.verify_benefit(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "KindergartenApplication", field="applicationId"
                ),
                verified=input.verified,
                reason=input.reason,
            ),
        )
        return _app_payload(result.value, result.problems)

    @strawberry.mutation(description="Declare free places of an age group (kindergarten officer).")
    async def declare_free_places(
        self, info: Info, input: DeclareFreePlacesInput
    ) -> DeclareFreePlacesPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.declare_free_places",
            lambda s: preschool_service.declare_free_places(
                s,
                ctx.principal,
                kindergarten_id=pk_of(input.kindergarten_id, "Institution", field="kindergartenId"),
                age_group=input.age_group,
                free_places=input.free_places,
                groups=input.groups,
            ),
        )
        return DeclareFreePlacesPayload(
            places=KindergartenPlaces.from_row(result.value) if result.value else None,
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(
        description="Offer free places: verified benefit first, then registration time."
    )
    async def offer_places(self, info: Info, input: OfferPlacesInput) -> OfferPlacesPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.offer_places",
            lambda s: preschool_service.offer_places(
                s,
                ctx.principal,
                kindergarten_id=pk_of(input.kindergarten_id, "Institution", field="kindergartenId"),
                age_group=input.age_group,
                count=input.count,
                application_id=pk_of(
                    input.application_id, "KindergartenApplication", field="applicationId"
                )
                if input.application_id
                else None,
            ),
        )
        return OfferPlacesPayload(
            offers=[KindergartenOffer.from_row(o) for o in result.value or []],
            user_errors=user_errors(result.problems),
        )

    @strawberry.mutation(description="Accept an offer before its deadline (guardian).")
    async def accept_offer(self, info: Info, input: OfferDecisionInput) -> KindergartenOfferPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.accept_offer",
            lambda s: preschool_service.accept_offer(
                s,
                ctx.principal,
                offer_id=pk_of(input.offer_id, "KindergartenOffer", field="offerId"),
            ),
        )
        return _offer_payload(result.value, result.problems)

    @strawberry.mutation(description="Decline an offer (guardian); the season's rule applies.")
    async def decline_offer(
        self, info: Info, input: OfferDecisionInput
    ) -> KindergartenOfferPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.decline_offer",
            lambda s: preschool_service.decline_offer(
                s,
                ctx.principal,
                offer_id=pk_of(input.offer_id, "KindergartenOffer", field="offerId"),
            ),
        )
        return _offer_payload(result.value, result.problems)

    @strawberry.mutation(description="Admit the child of an accepted offer (kindergarten officer).")
    async def confirm_admission(
        self, info: Info, input: ConfirmAdmissionInput
    ) -> KindergartenOfferPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.confirm_admission",
            lambda s: preschool_service.confirm_admission(
                s,
                ctx.principal,
                offer_id=pk_of(input.offer_id, "KindergartenOffer", field="offerId"),
                entry_date=input.entry_date,
            ),
        )
        return _offer_payload(result.value, result.problems)

    @strawberry.mutation(description="Move an application to other kindergartens (guardian).")
    async def transfer_kindergarten_application(
        self, info: Info, input: TransferKindergartenApplicationInput
    ) -> KindergartenApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.transfer",
            lambda s: preschool_service.transfer_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "KindergartenApplication", field="applicationId"
                ),
                kindergarten_ids=_kindergartens(input.kindergarten_ids),
            ),
        )
        return _app_payload(result.value, result.problems)

    @strawberry.mutation(description="Withdraw an application, freeing any place it holds.")
    async def withdraw_kindergarten_application(
        self, info: Info, input: WithdrawKindergartenApplicationInput
    ) -> KindergartenApplicationPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.withdraw",
            lambda s: preschool_service.withdraw_application(
                s,
                ctx.principal,
                application_id=pk_of(
                    input.application_id, "KindergartenApplication", field="applicationId"
                ),
                reason=input.reason,
            ),
        )
        return _app_payload(result.value, result.problems)

    @strawberry.mutation(
        description="Expire offers past their deadline and apply the decline rule (ministry; "
        "also `bilim jobs run`)."
    )
    async def process_expired_offers(
        self, info: Info, input: ProcessExpiredOffersInput
    ) -> ProcessExpiredOffersPayload:
        ctx = info.context
        require_signed_in(ctx)
        result = await perform(
            ctx,
            "preschool.process_expired_offers",
            lambda s: preschool_service.process_expired_offers(s, ctx.principal, on=input.as_of),
        )
        return ProcessExpiredOffersPayload(
            expired=result.value or 0, user_errors=user_errors(result.problems)
        )

"""The kindergarten e-queue's types: applications, preferences with queue positions, offers
and free places."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeAlias

import strawberry

from models import OfferStatus as OfferStatusEnum
from models import QueueStatus as QueueStatusEnum
from models import Residency as ResidencyEnum
from resolvers import people as people_service
from resolvers.context import Info
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.preschool.loaders import (
    KindergartenApplicantByIdLoader,
    KindergartenApplicationByIdLoader,
    KindergartenHistoryByApplicationLoader,
    KindergartenOfferByIdLoader,
    KindergartenOffersByApplicationLoader,
    KindergartenPreferencesByApplicationLoader,
    QueuePositionByPreferenceLoader,
)
from resolvers.relay import encode_id
from schema.common import Node
from schema.enrollments import Enrollment
from schema.fields import personal
from schema.institutions import Institution
from schema.intake import (
    BenefitCategory,
    BenefitStatus,
    IntakeSeason,
    applicant_of,
    benefit_of,
    enrollment_of,
    season_of,
)
from schema.node import fetched_by
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


@fetched_by(KindergartenOfferByIdLoader)
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


def _contact_phone(root: Any, info: Info) -> str | None:
    """The phone the applying guardian gave: hidden from the child's other guardian."""
    row = root.row
    if not people_service.reads_contacts_given_by(info.context.principal, row.guardian_id):
        return None
    phone: str | None = row.contact_phone
    return phone


@fetched_by(KindergartenApplicationByIdLoader)
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
    benefit_proof: str | None = personal(description="The proof document named.")
    residency: Residency = strawberry.field(description="Resident or not.")
    contact_phone: str | None = strawberry.field(
        description="The family's contact phone.", resolver=_contact_phone
    )

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
        )

    @strawberry.field(description="The child.")
    async def child(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.child_id, KindergartenApplicantByIdLoader)

    @strawberry.field(description="The guardian who applied.")
    async def guardian(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.guardian_id, KindergartenApplicantByIdLoader)

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
        return await enrollment_of(info, self.row.enrollment_id)

    @strawberry.field(description="Every status it went through, oldest first.")
    async def status_history(self, info: Info) -> list[KindergartenStatusChange]:
        rows = await KindergartenHistoryByApplicationLoader(info.context).load(self.pk)
        return [
            KindergartenStatusChange(status=r.status, at=r.at, actor=r.actor, reason=r.reason)
            for r in rows
        ]


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

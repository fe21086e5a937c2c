"""Kindergarten vouchers in the graph (domain.md K8): the voucher node, its list, and the
claim, decision, use, end and expiry mutations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, TypeAlias

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from models import VoucherEndReason as VoucherEndReasonEnum
from models import VoucherGround as VoucherGroundEnum
from models import VoucherStatus as VoucherStatusEnum
from resolvers import preschool as preschool_service
from resolvers.context import Context, Info
from resolvers.enrollments.loaders import EnrollmentByIdLoader
from resolvers.geography.loaders import DistrictByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.mutations import MutationResult
from resolvers.preschool.loaders import (
    KindergartenVoucherByIdLoader,
    KindergartenVoucherPersonByIdLoader,
)
from resolvers.relay import encode_id
from schema.common import Connection, Node, UserError, user_errors
from schema.enrollments import Enrollment
from schema.fields import Listing, Payload, connection, mutation, personal
from schema.geography import District
from schema.institutions import Institution
from schema.intake import IntakeSeason, applicant_of, enrollment_of, season_of
from schema.node import fetched_by, pk_of, query_pk
from schema.people import Person
from schema.permissions import signed_in

strawberry.enum(
    VoucherGroundEnum,
    name="KindergartenVoucherGround",
    description="Why the state pays for the place (K8).",
)
KindergartenVoucherGround: TypeAlias = VoucherGroundEnum
strawberry.enum(
    VoucherStatusEnum, name="KindergartenVoucherStatus", description="Where a voucher stands."
)
KindergartenVoucherStatus: TypeAlias = VoucherStatusEnum
strawberry.enum(
    VoucherEndReasonEnum,
    name="KindergartenVoucherEndReason",
    description="Why a voucher ended: the child starts school, the family gave it up or the "
    "child left, it expired, or an officer ended it.",
)
KindergartenVoucherEndReason: TypeAlias = VoucherEndReasonEnum


@fetched_by(KindergartenVoucherByIdLoader)
@strawberry.type(
    description="A state-paid place in a private kindergarten for a low-income family's child "
    "or a child with a disability (K8): claimed by a guardian, verified by a district officer, "
    "used at a private licensed kindergarten, ended when the child starts school, leaves, on "
    "expiry or by an officer."
)
class KindergartenVoucher(Node):
    pk: strawberry.Private[int]
    row: strawberry.Private[Any]
    ground: KindergartenVoucherGround = strawberry.field(description="Why the state pays.")
    proof: str = personal(description="The eligibility document named.")
    status: KindergartenVoucherStatus = strawberry.field(description="Where it stands.")
    claimed_at: datetime = strawberry.field(description="When the guardian claimed it.")
    decided_at: datetime | None = strawberry.field(description="When it was decided.")
    decision_reason: str | None = strawberry.field(description="The officer's note or reason.")
    valid_until: date | None = strawberry.field(description="Last day the state pays.")
    used_on: date | None = strawberry.field(description="First day of the place it pays for.")
    ended_on: date | None = strawberry.field(description="When it ended.")
    end_reason: KindergartenVoucherEndReason | None = strawberry.field(description="Why.")
    end_note: str | None = strawberry.field(description="The officer's reason for ending it.")

    @classmethod
    def from_row(cls, row: Any) -> KindergartenVoucher:
        return cls(
            id=strawberry.ID(encode_id("KindergartenVoucher", row.id)),
            pk=row.id,
            row=row,
            ground=row.ground,
            proof=row.proof,
            status=row.status,
            claimed_at=row.claimed_at,
            decided_at=row.decided_at,
            decision_reason=row.decision_reason,
            valid_until=row.valid_until,
            used_on=row.used_on,
            ended_on=row.ended_on,
            end_reason=row.end_reason,
            end_note=row.end_note,
        )

    @strawberry.field(description="The child.")
    async def child(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.child_id, KindergartenVoucherPersonByIdLoader)

    @strawberry.field(description="The guardian who claimed it.")
    async def guardian(self, info: Info) -> Person | None:
        return await applicant_of(info, self.row.guardian_id, KindergartenVoucherPersonByIdLoader)

    @strawberry.field(description="The district whose officers check the proof.")
    async def district(self, info: Info) -> District:
        return District.from_row(await DistrictByIdLoader(info.context).load(self.row.district_id))

    @strawberry.field(description="The kindergarten season it was claimed in.")
    async def season(self, info: Info) -> IntakeSeason:
        return await season_of(info, self.row.season_id)

    @strawberry.field(description="The private kindergarten it is used at, if used.")
    async def kindergarten(self, info: Info) -> Institution | None:
        if self.row.kindergarten_id is None:
            return None
        row = await InstitutionByIdLoader(info.context).load(self.row.kindergarten_id)
        return Institution.from_row(row)

    @strawberry.field(description="The kindergarten enrollment it pays for, if used.")
    async def enrollment(self, info: Info) -> Enrollment | None:
        return await enrollment_of(info, self.row.enrollment_id)


@strawberry.input(description="Narrow the voucher list; every field given must hold.")
class KindergartenVoucherFilter:
    status: KindergartenVoucherStatus | None = strawberry.field(
        default=None, description="Only in this status."
    )
    child_id: strawberry.ID | None = strawberry.field(default=None, description="Only this child.")
    district_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this district's."
    )


@strawberry.enum(description="Orders of the voucher list.")
class KindergartenVoucherOrder(enum.Enum):
    CLAIMED_AT = "CLAIMED_AT"
    ID = "ID"


@strawberry.type
class Query:
    @connection(
        Connection[KindergartenVoucher],
        description="Kindergarten vouchers you may read: a guardian their children's, a "
        "district (region) officer those of their districts (regions), the ministry all.",
        permission_classes=[signed_in("Sign in to read vouchers")],
    )
    def kindergarten_vouchers(
        self,
        ctx: Context,
        filter: KindergartenVoucherFilter | None = None,
        order_by: KindergartenVoucherOrder = KindergartenVoucherOrder.CLAIMED_AT,
    ) -> Listing:
        flt = filter or KindergartenVoucherFilter()
        stmt = preschool_service.vouchers_query(
            ctx.principal,
            status=flt.status,
            child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
            district_id=query_pk(flt.district_id, "District") if flt.district_id else None,
        )
        ordering = preschool_service.VOUCHER_ORDERINGS[order_by.value]
        return Listing(stmt, ordering, KindergartenVoucher.from_row)


@strawberry.input(description="Claim a kindergarten voucher for a child (guardian).")
class ClaimKindergartenVoucherInput:
    child_id: strawberry.ID = strawberry.field(description="The child (a Person).")
    ground: KindergartenVoucherGround = strawberry.field(description="Why the state would pay.")
    proof: str = personal(
        description="The eligibility document (social-assistance decision or disability "
        "certificate: series and number)."
    )
    district_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The district the family lives in (the child's registered one if unset).",
    )


@strawberry.input(description="Record the check of a voucher's eligibility proof (officer).")
class DecideKindergartenVoucherInput:
    voucher_id: strawberry.ID = strawberry.field(description="The voucher.")
    verified: bool = strawberry.field(description="The proof holds.")
    reason: str | None = strawberry.field(
        default=None, description="Why not (required when refused), or a note."
    )


@strawberry.input(description="Use a verified voucher at a private kindergarten (guardian).")
class UseKindergartenVoucherInput:
    voucher_id: strawberry.ID = strawberry.field(description="The voucher.")
    kindergarten_id: strawberry.ID = strawberry.field(
        description="The private licensed kindergarten."
    )
    entry_date: date | None = strawberry.field(default=None, description="First day; today.")


@strawberry.input(description="End a voucher: the guardian gives it up, or an officer ends it.")
class EndKindergartenVoucherInput:
    voucher_id: strawberry.ID = strawberry.field(description="The voucher.")
    reason: str | None = strawberry.field(default=None, description="Why (required of an officer).")


@strawberry.input(description="Run the voucher-expiry job.")
class ExpireKindergartenVouchersInput:
    as_of: date | None = strawberry.field(
        default=None,
        description="End vouchers whose last day is before this day (today if unset; a past "
        "day only).",
    )


@strawberry.type(description="Result of a mutation on a kindergarten voucher.")
class KindergartenVoucherPayload(Payload):
    voucher: KindergartenVoucher | None = strawberry.field(description="The voucher.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="Result of expireKindergartenVouchers.")
class ExpireKindergartenVouchersPayload(Payload):
    expired: int = strawberry.field(description="Vouchers ended now.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> ExpireKindergartenVouchersPayload:
        """A refused run ended nothing: 0, not null."""
        return cls(expired=result.value or 0, user_errors=user_errors(result.problems))


def _voucher_pk(voucher_id: strawberry.ID) -> int:
    return pk_of(voucher_id, "KindergartenVoucher", field="voucherId")


@strawberry.type
class Mutation:
    @mutation(
        "preschool.claim_voucher",
        KindergartenVoucherPayload,
        description="Claim a kindergarten voucher for a child, with the eligibility proof "
        "(guardian; K8).",
    )
    async def claim_kindergarten_voucher(
        session: AsyncSession, ctx: Context, input: ClaimKindergartenVoucherInput
    ) -> Any:
        claimed = await preschool_service.claim_voucher(
            session,
            ctx.principal,
            child_id=pk_of(input.child_id, "Person", field="childId"),
            ground=input.ground,
            proof=input.proof,
            district_id=pk_of(input.district_id, "District", field="districtId")
            if input.district_id
            else None,
        )
        # Districts are public: the payload reads the one the step read (issue 21).
        DistrictByIdLoader(ctx).prime(claimed.district.id, claimed.district)
        return claimed.voucher

    @mutation(
        "preschool.decide_voucher",
        KindergartenVoucherPayload,
        description="Verify or refuse a voucher's eligibility proof (district officer).",
    )
    async def decide_kindergarten_voucher(
        session: AsyncSession, ctx: Context, input: DecideKindergartenVoucherInput
    ) -> Any:
        return await preschool_service.decide_voucher(
            session,
            ctx.principal,
            voucher_id=_voucher_pk(input.voucher_id),
            verified=input.verified,
            reason=input.reason,
        )

    @mutation(
        "preschool.use_voucher",
        KindergartenVoucherPayload,
        description="Use a verified voucher at a private licensed kindergarten: the child's "
        "place opens there (guardian).",
    )
    async def use_kindergarten_voucher(
        session: AsyncSession, ctx: Context, input: UseKindergartenVoucherInput
    ) -> Any:
        used = await preschool_service.use_voucher(
            session,
            ctx.principal,
            voucher_id=_voucher_pk(input.voucher_id),
            kindergarten_id=pk_of(input.kindergarten_id, "Institution", field="kindergartenId"),
            entry_date=input.entry_date,
        )
        # The kindergarten is public and the place is the guardian's child's (the caller
        # reached the voucher through their guardianship): the payload reads neither again.
        InstitutionByIdLoader(ctx).prime(used.kindergarten.id, used.kindergarten)
        EnrollmentByIdLoader(ctx).prime(used.enrollment.id, used.enrollment)
        return used.voucher

    @mutation(
        "preschool.end_voucher",
        KindergartenVoucherPayload,
        description="End a voucher: the guardian gives it up (the place it pays ends), or a "
        "district officer ends it with a reason.",
    )
    async def end_kindergarten_voucher(
        session: AsyncSession, ctx: Context, input: EndKindergartenVoucherInput
    ) -> Any:
        return await preschool_service.end_voucher(
            session, ctx.principal, voucher_id=_voucher_pk(input.voucher_id), reason=input.reason
        )

    @mutation(
        "preschool.expire_vouchers",
        ExpireKindergartenVouchersPayload,
        description="End vouchers past their last day (ministry).",
    )
    async def expire_kindergarten_vouchers(
        session: AsyncSession, ctx: Context, input: ExpireKindergartenVouchersInput
    ) -> Any:
        return await preschool_service.expire_vouchers(session, ctx.principal, on=input.as_of)

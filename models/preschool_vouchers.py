"""Kindergarten vouchers (domain.md K8): a place in a private kindergarten paid by the state,
for a child of a low-income family or a child with a disability. The guardian claims it with
the proof of eligibility, a district officer verifies or refuses it, the family uses it at a
private licensed kindergarten (an enrollment opens), and it ends when the child starts school,
leaves, when it expires, or on an officer's decision."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column


class VoucherGround(enum.StrEnum):
    """Why the state pays (K8)."""

    LOW_INCOME = "low_income"
    DISABILITY = "disability"


class VoucherStatus(enum.StrEnum):
    CLAIMED = "claimed"  # the guardian asked; the proof waits for an officer
    VERIFIED = "verified"  # the proof holds: the family may use it
    REFUSED = "refused"  # the proof does not hold (final)
    IN_USE = "in_use"  # the child holds a place with it
    ENDED = "ended"  # final: see ``end_reason``


# A voucher in one of these is the child's one live voucher (partial unique index).
LIVE_VOUCHER_STATUSES = (VoucherStatus.CLAIMED, VoucherStatus.VERIFIED, VoucherStatus.IN_USE)


class VoucherEndReason(enum.StrEnum):
    SCHOOL = "school"  # the child starts school (K7, F4)
    LEFT = "left"  # the family gave it up, or the child left the kindergarten
    EXPIRED = "expired"  # past its last day
    OFFICER = "officer"  # an officer's decision, with a reason


class KindergartenVoucher(Timestamped, Base):
    """One voucher of one child, from the guardian's claim to its end."""

    __tablename__ = "kindergarten_voucher"
    __table_args__ = (
        # One live voucher per child, however many claims arrive at once.
        Index(
            "uq_kindergarten_voucher_live_child",
            "child_id",
            unique=True,
            postgresql_where=text("status IN ('claimed', 'verified', 'in_use')"),
        ),
        Index("ix_kindergarten_voucher_child", "child_id", "id"),
        Index("ix_kindergarten_voucher_district", "district_id", "id"),
        Index(
            "ix_kindergarten_voucher_valid_until",
            "valid_until",
            postgresql_where=text("status IN ('verified', 'in_use')"),
        ),
        # The voucher's district lies in its region (officers' scope is either).
        ForeignKeyConstraint(
            ["district_id", "region_id"],
            ["district.id", "district.region_id"],
            name="fk_kindergarten_voucher_district_in_region",
        ),
        CheckConstraint("guardian_id <> child_id", name="not_self"),
        # Each state carries what it means: a decision after the claim, a place while in use,
        # a reason for a refusal and for an end.
        CheckConstraint("(status = 'claimed') = (decided_at IS NULL)", name="decided"),
        CheckConstraint(
            "status NOT IN ('verified', 'in_use') OR valid_until IS NOT NULL", name="valid_until"
        ),
        CheckConstraint(
            "status <> 'in_use' OR (kindergarten_id IS NOT NULL AND enrollment_id IS NOT NULL)",
            name="in_use_place",
        ),
        CheckConstraint("status <> 'refused' OR decision_reason IS NOT NULL", name="refusal"),
        CheckConstraint(
            "(status = 'ended') = (end_reason IS NOT NULL AND ended_on IS NOT NULL)", name="ended"
        ),
        CheckConstraint("end_reason <> 'officer' OR end_note IS NOT NULL", name="officer_end_note"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id"))
    # The district whose officers check the proof (the family's), and its region.
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    ground: Mapped[VoucherGround] = enum_column(VoucherGround)
    # The eligibility document (social-assistance decision, disability certificate): personal.
    proof: Mapped[str] = mapped_column(String(300))
    status: Mapped[VoucherStatus] = enum_column(VoucherStatus)
    claimed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decision_reason: Mapped[str | None] = mapped_column(String(200))
    # The last day the state pays: the season's end (policy row), set when verified.
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Where it is used, and the enrollment that place is.
    kindergarten_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment.id"))
    used_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[VoucherEndReason | None] = enum_column(VoucherEndReason, nullable=True)
    end_note: Mapped[str | None] = mapped_column(String(200))
    ended_by: Mapped[str | None] = mapped_column(String(120))

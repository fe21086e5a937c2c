"""The kindergarten e-queue: applications with preferred kindergartens, declared free places,
offers with deadlines, and every status change an application went through."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.intake import BenefitStatus
from models.types import enum_column


class QueueStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    ADMITTED = "admitted"
    WITHDRAWN = "withdrawn"
    REMOVED = "removed"
    CANCELLED = "cancelled"


# An application in one of these holds the child's single place in the queue.
ACTIVE_QUEUE_STATUSES = (QueueStatus.WAITING, QueueStatus.OFFERED, QueueStatus.ACCEPTED)


class Residency(enum.StrEnum):
    RESIDENT = "resident"
    NON_RESIDENT = "non_resident"


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    ADMITTED = "admitted"
    CANCELLED = "cancelled"


class OfferHold(enum.StrEnum):
    """Why a waiting application is passed over when places are offered (read, not stored)."""

    STARTS_SCHOOL = "starts_school"  # the child starts school by the day a place would begin


class KindergartenApplication(Timestamped, Base):
    """A child's place in the kindergarten queue, from registration to admission or exit."""

    __tablename__ = "kindergarten_application"
    # Server-set columns (times, the computed benefit flag, the school-start trigger) come
    # back with the INSERT/UPDATE itself: a transition needs no refresh (issue 21).
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        # One active application per child, whoever applies and however fast.
        Index(
            "uq_kindergarten_application_active_child",
            "child_id",
            unique=True,
            postgresql_where=text("status IN ('waiting', 'offered', 'accepted')"),
        ),
        Index("ix_kindergarten_application_guardian", "guardian_id"),
        Index("ix_kindergarten_application_child", "child_id"),
        Index(
            "ix_kindergarten_application_queue",
            "intake_year",
            "age_group",
            "registered_at",
            "id",
            postgresql_where=text("status = 'waiting'"),
        ),
        CheckConstraint(
            "(benefit_category_id IS NULL) = (benefit_status = 'none')", name="benefit"
        ),
        CheckConstraint("guardian_id <> child_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id"))
    # The queue time: kept through transfers and (by the requeue rule) declined offers.
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    status: Mapped[QueueStatus] = enum_column(QueueStatus)
    # The intake (1 September of this year) whose age group the child waits for.
    intake_year: Mapped[int] = mapped_column(SmallInteger)
    age_group: Mapped[str] = mapped_column(String(16))
    # The child's first school day (F4), computed by a trigger from the birth date and the
    # season's policy: no place is offered that would begin on it or later.
    starts_school_on: Mapped[date] = mapped_column(Date, server_default=FetchedValue())
    benefit_category_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_category.id"))
    benefit_status: Mapped[BenefitStatus] = enum_column(BenefitStatus)
    benefit_proof: Mapped[str | None] = mapped_column(String(300))
    benefit_verified: Mapped[bool] = mapped_column(
        Boolean, Computed("benefit_status = 'verified'", persisted=True)
    )
    residency: Mapped[Residency] = enum_column(Residency)
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    # The kindergarten enrollment this application led to (or the place held during a transfer).
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment.id"))


class KindergartenPreference(Base):
    """One of an application's preferred kindergartens, in the family's order."""

    __tablename__ = "kindergarten_preference"
    __table_args__ = (
        UniqueConstraint(
            "application_id", "kindergarten_id", name="uq_kindergarten_preference_kindergarten"
        ),
        UniqueConstraint("application_id", "rank", name="uq_kindergarten_preference_rank"),
        CheckConstraint("rank BETWEEN 1 AND 10", name="rank"),
        Index("ix_kindergarten_preference_kindergarten", "kindergarten_id", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("kindergarten_application.id", ondelete="CASCADE")
    )
    kindergarten_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    rank: Mapped[int] = mapped_column(SmallInteger)


class KindergartenPlaces(Base):
    """Places of one age group at one kindergarten not yet offered. Offers take from
    ``free_places`` under a row lock; the CHECK makes overselling impossible."""

    __tablename__ = "kindergarten_places"
    __table_args__ = (
        UniqueConstraint(
            "season_id", "kindergarten_id", "age_group", name="uq_kindergarten_places_group"
        ),
        CheckConstraint("free_places >= 0", name="free_places"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id"))
    kindergarten_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    age_group: Mapped[str] = mapped_column(String(16))
    free_places: Mapped[int] = mapped_column(Integer)
    declared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    declared_by: Mapped[str] = mapped_column(String(120))


class KindergartenOffer(Base):
    """A place offered to an application, with the deadline for the family's documents."""

    __tablename__ = "kindergarten_offer"
    __table_args__ = (
        # A child never holds two live offers, whichever officers offer at the same moment.
        Index(
            "uq_kindergarten_offer_live",
            "application_id",
            unique=True,
            postgresql_where=text("status IN ('open', 'accepted')"),
        ),
        Index(
            "ix_kindergarten_offer_open_deadline",
            "deadline",
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_kindergarten_offer_application", "application_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("kindergarten_application.id"))
    places_id: Mapped[int] = mapped_column(ForeignKey("kindergarten_places.id"), index=True)
    kindergarten_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    age_group: Mapped[str] = mapped_column(String(16))
    status: Mapped[OfferStatus] = enum_column(OfferStatus)
    offered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # Last day (Bishkek) the family may accept and bring documents.
    deadline: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offered_by: Mapped[str] = mapped_column(String(120))


class KindergartenApplicationEvent(Base):
    """One status change of a kindergarten application: what, when, who and why."""

    __tablename__ = "kindergarten_application_event"
    __table_args__ = (
        Index("ix_kindergarten_application_event_application", "application_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("kindergarten_application.id", ondelete="CASCADE")
    )
    status: Mapped[QueueStatus] = enum_column(QueueStatus)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(200))

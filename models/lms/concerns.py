"""The pupils' anonymous channel (S4): reports of pressure, bullying or abuse that reach a
counsellor of the district or region, never the school. A report row holds no reporter: not
their id, not their school, not the time of day (only the day). The per-pupil rate limit keeps
its counts under keyed hashes of (pupil, day) in a table of its own that no report points to."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column, global_id_column


class ConcernCategory(enum.StrEnum):
    PRESSURE = "pressure"
    EXTORTION = "extortion"
    BULLYING = "bullying"
    ABUSE = "abuse"
    DISCRIMINATION = "discrimination"
    OTHER = "other"


class ConcernStatus(enum.StrEnum):
    """Where a report stands; counsellors move it on."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    REFERRED = "referred"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ConcernReport(Base):
    """A pupil's anonymous report, routed to the counsellors of a district (and its region)."""

    __tablename__ = "concern_report"
    __table_args__ = (
        CheckConstraint("district_id IS NULL OR region_id IS NOT NULL", name="routing"),
        Index("ix_concern_report_region_status", "region_id", "status", "id"),
        Index("ix_concern_report_district_status", "district_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("ConcernReport")
    category: Mapped[ConcernCategory] = enum_column(ConcernCategory)
    body: Mapped[str] = mapped_column(String(4000))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    status: Mapped[ConcernStatus] = enum_column(ConcernStatus)
    # The day only: a time of day could be matched against the reporter's other requests.
    received_on: Mapped[date] = mapped_column(Date)
    # HMAC of the receipt the reporter keeps to follow the report; the receipt is shown once.
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The counsellor's answer, which the holder of the receipt reads.
    reply: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConcernReportEvent(Base):
    """A counsellor moving a report on, with their note (never shown to the reporter)."""

    __tablename__ = "concern_report_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("concern_report.id"), index=True)
    # The status the report moved to (the one before is the previous event's).
    status: Mapped[ConcernStatus] = enum_column(ConcernStatus)
    note: Mapped[str | None] = mapped_column(String(2000))
    actor: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConcernQuota(Base):
    """Reports sent on a day under one bucket: a keyed hash of (pupil, day). The key is the
    hub's, the table holds no pupil id and no report points to it, so it says how often a
    pupil reported, never what or which report."""

    __tablename__ = "concern_quota"
    __table_args__ = (CheckConstraint("used >= 0", name="used"),)

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    used: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))

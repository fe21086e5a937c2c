"""First-grade e-enrollment: applications to a school for a season, the schools' quotas and
every status change an application went through."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
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
from models.institutions import Language
from models.intake import BenefitStatus
from models.types import enum_column


class FirstGradeStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    WAITLISTED = "waitlisted"
    ADMITTED = "admitted"
    CANCELLED = "cancelled"
    # Taken back by the guardian (or by the school on the family's behalf) while still open:
    # the family's decision, not the school's (rejected) nor the system's (cancelled).
    WITHDRAWN = "withdrawn"


class FirstGradeStage(enum.StrEnum):
    """When the application was made: which rule gave the child a claim on the school."""

    CATCHMENT = "catchment"  # stage 1: registered address in the catchment area
    RESIDENCE = "residence"  # stage 2: actual residence, regardless of registration
    DIRECTOR = "director"  # after the season: the director enrolls on the guardian's request


class RejectionReason(enum.StrEnum):
    DOCUMENTS_INVALID = "documents_invalid"
    BIRTH_CERTIFICATE_INVALID = "birth_certificate_invalid"
    ADDRESS_NOT_PROVEN = "address_not_proven"
    PRESCHOOL_PROGRAMME_NOT_PROVEN = "preschool_programme_not_proven"
    ALREADY_ENROLLED = "already_enrolled"
    OTHER = "other"


class FirstGradeApplication(Timestamped, Base):
    """A guardian's application for a child's place in grade 1 (or 2) of a school."""

    __tablename__ = "first_grade_application"
    # Server-set columns (times, the computed benefit flag, the school-start trigger) come
    # back with the INSERT/UPDATE itself: a transition needs no refresh (issue 21).
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        Index(
            "uq_first_grade_application_active_child",
            "child_id",
            "season_id",
            unique=True,
            postgresql_where=text("status NOT IN ('rejected', 'cancelled', 'withdrawn')"),
        ),
        Index("ix_first_grade_application_school", "season_id", "school_id", "grade_level", "id"),
        Index("ix_first_grade_application_guardian", "guardian_id"),
        # Who an application is for: the applicants' row rule asks it per person (issue 21).
        Index("ix_first_grade_application_child", "child_id"),
        CheckConstraint("grade_level IN (1, 2)", name="grade"),
        CheckConstraint(
            "(benefit_category_id IS NULL) = (benefit_status = 'none')", name="benefit"
        ),
        CheckConstraint(
            "(status = 'rejected') = (rejection_reason IS NOT NULL)", name="rejection_reason"
        ),
        CheckConstraint("guardian_id <> child_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    language: Mapped[Language] = enum_column(Language)
    grade_level: Mapped[int] = mapped_column(SmallInteger)
    finished_preschool_programme: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[FirstGradeStage] = enum_column(FirstGradeStage)
    birth_certificate: Mapped[str] = mapped_column(String(40))
    address_district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    address: Mapped[str | None] = mapped_column(String(300))
    # Whether the address the stage counts lies in one of the school's catchment areas.
    catchment: Mapped[bool] = mapped_column(Boolean)
    benefit_category_id: Mapped[int | None] = mapped_column(ForeignKey("benefit_category.id"))
    benefit_status: Mapped[BenefitStatus] = enum_column(BenefitStatus)
    benefit_proof: Mapped[str | None] = mapped_column(String(300))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    applied_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    status: Mapped[FirstGradeStatus] = enum_column(FirstGradeStatus)
    rejection_reason: Mapped[RejectionReason | None] = enum_column(RejectionReason, nullable=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment.id"))


class FirstGradeQuota(Base):
    """Places of a school in an entry grade and language of instruction for a season (domain.md
    F1, F5; issue 14.4: the Kyrgyz, Russian, Uzbek and Tajik streams of a school are separate
    pools). ``admitted`` counts admissions; the CHECK keeps it within ``places`` under any
    concurrency."""

    __tablename__ = "first_grade_quota"
    __table_args__ = (
        UniqueConstraint(
            "season_id",
            "school_id",
            "grade_level",
            "language",
            name="uq_first_grade_quota_language",
        ),
        CheckConstraint("grade_level IN (1, 2)", name="grade"),
        CheckConstraint("classes >= 0 AND places >= 0", name="sizes"),
        CheckConstraint("admitted >= 0 AND admitted <= places", name="admitted"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    grade_level: Mapped[int] = mapped_column(SmallInteger)
    language: Mapped[Language] = enum_column(Language, server_default=text("'ky'"))
    classes: Mapped[int] = mapped_column(SmallInteger)
    places: Mapped[int] = mapped_column(Integer)
    admitted: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class FirstGradeApplicationEvent(Base):
    """One status change of a first-grade application: what, when, who and why."""

    __tablename__ = "first_grade_application_event"
    __table_args__ = (
        Index("ix_first_grade_application_event_application", "application_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("first_grade_application.id", ondelete="CASCADE")
    )
    status: Mapped[FirstGradeStatus] = enum_column(FirstGradeStatus)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    actor: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(200))

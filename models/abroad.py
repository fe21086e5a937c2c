"""Admission to foreign universities: government-quota programmes by country with their windows,
age limits, grade rules and selection stages, and the applications moving through them
(domain.md, "Admission to foreign universities")."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column


class StudyLevel(enum.StrEnum):
    BACHELOR = "bachelor"
    MASTER = "master"
    PHD = "phd"


class ForeignStage(enum.StrEnum):
    """Selection stages; a programme lists the ones it uses, ending with nomination."""

    DOCUMENT_CHECK = "document_check"
    TEST = "test"
    INTERVIEW = "interview"
    NOMINATION = "nomination"


class ForeignApplicationStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    NOMINATED = "nominated"
    REJECTED = "rejected"


class StageDecision(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class ForeignProgramme(Timestamped, Base):
    """A programme of study abroad under a government quota or scholarship.

    ``nominated`` counts nominations; the database refuses more than ``quota``."""

    __tablename__ = "foreign_programme"
    __table_args__ = (
        CheckConstraint("quota >= 0", name="quota"),
        CheckConstraint("nominated >= 0 AND nominated <= quota", name="nominated"),
        CheckConstraint("opens_on <= closes_on", name="window"),
        CheckConstraint(
            "min_age IS NULL OR max_age IS NULL OR min_age <= max_age", name="age_limits"
        ),
        CheckConstraint(
            "cardinality(stages) >= 1 AND stages[cardinality(stages)] = 'nomination' "
            "AND stages <@ ARRAY['document_check', 'test', 'interview', 'nomination']::varchar[]",
            name="stages",
        ),
        CheckConstraint("country_code ~ '^[A-Z]{2}$' AND country_code <> 'KG'", name="country"),
        Index("ix_foreign_programme_country", "country_code", "year", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    country_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(300))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    level: Mapped[StudyLevel] = enum_column(StudyLevel)
    quota: Mapped[int] = mapped_column(Integer)
    nominated: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    min_age: Mapped[int | None] = mapped_column(SmallInteger)
    max_age: Mapped[int | None] = mapped_column(SmallInteger)
    age_on: Mapped[date] = mapped_column(Date)
    stages: Mapped[list[str]] = mapped_column(ARRAY(String(32)))


class ForeignFieldRule(Base):
    """The minimum school average a programme asks of applicants in one field of study."""

    __tablename__ = "foreign_field_rule"
    __table_args__ = (
        UniqueConstraint("programme_id", "field_of_study", name="uq_foreign_field_rule"),
        CheckConstraint("min_average BETWEEN 0 AND 5", name="min_average"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("foreign_programme.id", ondelete="CASCADE")
    )
    field_of_study: Mapped[str] = mapped_column(String(40))
    min_average: Mapped[Decimal] = mapped_column(Numeric(3, 2))


class ForeignApplication(Timestamped, Base):
    """An applicant's way through a foreign programme's stages."""

    __tablename__ = "foreign_application"
    __table_args__ = (
        UniqueConstraint("programme_id", "person_id", name="uq_foreign_application_person"),
        CheckConstraint("school_average BETWEEN 0 AND 5", name="school_average"),
        Index("ix_foreign_application_person", "person_id", "id"),
        Index("ix_foreign_application_programme", "programme_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("foreign_programme.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    field_of_study: Mapped[str] = mapped_column(String(40))
    school_average: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    stage: Mapped[ForeignStage] = enum_column(ForeignStage)
    status: Mapped[ForeignApplicationStatus] = enum_column(
        ForeignApplicationStatus, server_default=text("'in_progress'")
    )


class ForeignStageResult(Base):
    """What one stage decided about an application: score, decision and reason."""

    __tablename__ = "foreign_stage_result"
    __table_args__ = (
        UniqueConstraint("application_id", "stage", name="uq_foreign_stage_result"),
        CheckConstraint("decision = 'passed' OR reason IS NOT NULL", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("foreign_application.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[ForeignStage] = enum_column(ForeignStage)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    decision: Mapped[StageDecision] = enum_column(StageDecision)
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

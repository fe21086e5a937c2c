"""The school year (S3): academic years with their four terms, the ministry's and schools'
LMS policy rows, the assessment scheme of each grade (S2), and year-end promotion."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column, global_id_column


class CurriculumModel(enum.StrEnum):
    """The state standard a class learns under (S1): the 12-year standard from 2025, or the
    legacy 11-year model that runs alongside it during the transition."""

    TWELVE_YEAR = "twelve_year"
    ELEVEN_YEAR = "eleven_year"


class AssessmentScheme(enum.StrEnum):
    """How a grade is assessed (S2): descriptive feedback without marks, points, criteria-based
    levels, or the legacy 2-5 marks."""

    DESCRIPTIVE = "descriptive"
    POINTS = "points"
    CRITERIA = "criteria"
    FIVE_POINT = "five_point"


class AcademicYear(Timestamped, Base):
    """A school year: early September to late May by default, its dates set by the ministry
    each year (S3). Creating one makes its partitions of the lesson, attendance and mark
    tables (a trigger, migration 0019)."""

    __tablename__ = "academic_year"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on AND ends_on - starts_on < 366", name="period"),
        CheckConstraint(
            "start_year = extract(year FROM starts_on)::int", name="start_year_matches"
        ),
        ExcludeConstraint(
            (text("daterange(starts_on, ends_on, '[]')"), "&&"),
            name="ex_academic_year_overlap",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("AcademicYear")
    # One academic year begins in a calendar year; its partitions are named after it.
    start_year: Mapped[int] = mapped_column(SmallInteger, unique=True)
    name: Mapped[str] = mapped_column(String(20))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Term(Timestamped, Base):
    """One of a year's four quarters; the holidays lie between them (S3)."""

    __tablename__ = "term"
    __table_args__ = (
        CheckConstraint("number BETWEEN 1 AND 4", name="number"),
        CheckConstraint("ends_on >= starts_on", name="period"),
        UniqueConstraint("academic_year_id", "number"),
        ExcludeConstraint(
            ("academic_year_id", "="),
            (text("daterange(starts_on, ends_on, '[]')"), "&&"),
            name="ex_term_overlap",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Term")
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    number: Mapped[int] = mapped_column(SmallInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class LmsPolicy(Timestamped, Base):
    """The LMS rules that are data, not code: the national row (no institution) and a school's
    own row where it differs. A class holds at most 36 pupils unless the school's row says
    otherwise (F5)."""

    __tablename__ = "lms_policy"
    __table_args__ = (
        UniqueConstraint("institution_id", postgresql_nulls_not_distinct=True),
        CheckConstraint("max_class_size BETWEEN 1 AND 60", name="class_size"),
        CheckConstraint("twelve_year_from BETWEEN 2025 AND 2100", name="twelve_year_from"),
        CheckConstraint("school_days IN (5, 6)", name="school_days"),
        CheckConstraint("min_marks_for_result BETWEEN 1 AND 20", name="min_marks"),
        CheckConstraint("concern_reports_per_day BETWEEN 1 AND 50", name="concern_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    # The first grade-1 intake that learns under the 12-year standard (F4: 2025); earlier
    # cohorts finish under the 11-year model. A school still on the old model sets a later year.
    twelve_year_from: Mapped[int] = mapped_column(SmallInteger)
    # A basic school teaches grades 1-9 only: its 9th-graders leave at year end.
    basic_only: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    max_class_size: Mapped[int] = mapped_column(SmallInteger)
    school_days: Mapped[int] = mapped_column(SmallInteger)
    # A term result is computed once a pupil has this many marks in the subject.
    min_marks_for_result: Mapped[int] = mapped_column(SmallInteger)
    # How many concern reports one pupil may send a day (read from the national row).
    concern_reports_per_day: Mapped[int] = mapped_column(SmallInteger)


class AssessmentRule(Base):
    """The assessment scheme of a grade under a curriculum model, and the range of its values
    (S2): seeded by migration 0019, changed by the ministry as the standard changes."""

    __tablename__ = "assessment_rule"
    __table_args__ = (
        CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
        CheckConstraint(
            "(scheme = 'descriptive') = (min_value IS NULL AND max_value IS NULL)", name="range"
        ),
        CheckConstraint("min_value IS NULL OR max_value > min_value", name="range_order"),
    )

    curriculum_model: Mapped[CurriculumModel] = enum_column(CurriculumModel, primary_key=True)
    grade: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    scheme: Mapped[AssessmentScheme] = enum_column(AssessmentScheme)
    min_value: Mapped[int | None] = mapped_column(SmallInteger)
    max_value: Mapped[int | None] = mapped_column(SmallInteger)


class ClosureStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"


class AcademicYearClosure(Base):
    """A school's year-end closure: asked for (pending), then done in one transaction, once
    (the unique key makes closing again a no-op)."""

    __tablename__ = "academic_year_closure"
    __table_args__ = (
        UniqueConstraint("academic_year_id", "institution_id"),
        Index(
            "ix_academic_year_closure_pending",
            "academic_year_id",
            "id",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    status: Mapped[ClosureStatus] = enum_column(ClosureStatus)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    promoted: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    retained: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    left_school: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    graduated: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    classes_continued: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class PromotionOutcome(enum.StrEnum):
    """What happens to a pupil at year end, when a decision says other than the default
    (promoted to the next grade; the last grade graduates)."""

    PROMOTE = "promote"
    RETAIN = "retain"
    LEAVE = "leave"


class PromotionDecision(Base):
    """A pedagogical council's decision for one pupil's year end: repeat the grade, or leave
    the school having completed the level (a 9th-grader going to college)."""

    __tablename__ = "promotion_decision"
    __table_args__ = (UniqueConstraint("academic_year_id", "enrollment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    outcome: Mapped[PromotionOutcome] = enum_column(PromotionOutcome)
    reason: Mapped[str] = mapped_column(String(300))
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

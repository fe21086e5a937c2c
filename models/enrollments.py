"""Enrollments: a person at an institution over a period (Ed-Fi's student-school association)."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column, global_id_column


class Sector(enum.StrEnum):
    """The level of education an enrollment belongs to, copied from the institution's kind so
    the database can enforce one open school enrollment per pupil."""

    PRESCHOOL = "preschool"
    SCHOOL = "school"
    VOCATIONAL = "vocational"
    HIGHER = "higher"
    ABROAD = "abroad"


class ExitReason(enum.StrEnum):
    TRANSFERRED = "transferred"
    WITHDRAWN = "withdrawn"
    GRADUATED = "graduated"
    COMPLETED_LEVEL = "completed_level"
    # Year-end promotion (issue 15): the year's enrollment ends and the next year's begins,
    # in the next grade or (retained) in the same one.
    PROMOTED = "promoted"
    RETAINED = "retained"
    MOVED_ABROAD = "moved_abroad"
    EXPELLED = "expelled"
    DECEASED = "deceased"
    OTHER = "other"


class Enrollment(Timestamped, Base):
    """A person's enrollment at an institution from ``entry_date`` until ``exit_date``."""

    __tablename__ = "enrollment"
    __table_args__ = (
        CheckConstraint("exit_date IS NULL OR exit_date >= entry_date", name="period"),
        CheckConstraint("grade_level IS NULL OR grade_level BETWEEN 0 AND 12", name="grade"),
        CheckConstraint("(exit_date IS NULL) = (exit_reason IS NULL)", name="exit_reason"),
        # At most one open school enrollment per pupil ...
        Index(
            "uq_enrollment_open_school",
            "person_id",
            unique=True,
            postgresql_where=text("sector = 'school' AND exit_date IS NULL"),
        ),
        # ... and school enrollments never overlap in time.
        ExcludeConstraint(
            ("person_id", "="),
            (text("daterange(entry_date, exit_date, '[)')"), "&&"),
            name="ex_enrollment_school_overlap",
            using="gist",
            where=text("sector = 'school'"),
        ),
        # A child is never at school and in kindergarten over the same days (domain.md K7):
        # of two overlapping enrollments of a person, neither is preschool beside school.
        ExcludeConstraint(
            ("person_id", "="),
            (text("daterange(entry_date, exit_date, '[)')"), "&&"),
            ("sector", "<>"),
            name="ex_enrollment_preschool_school_overlap",
            using="gist",
            where=text("sector IN ('preschool', 'school')"),
        ),
        Index(
            "ix_enrollment_institution_open",
            "institution_id",
            "id",
            postgresql_where=text("exit_date IS NULL"),
        ),
        Index("ix_enrollment_person", "person_id", "entry_date"),
        # The pupils of a grade in a school or a region, read from the index alone.
        Index(
            "ix_enrollment_open_institution_grade",
            "institution_id",
            "grade_level",
            "person_id",
            postgresql_where=text("exit_date IS NULL"),
        ),
        # What a class membership points at: this pupil at this school in this grade (lms).
        UniqueConstraint("id", "person_id", "institution_id", "grade_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Enrollment")
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    sector: Mapped[Sector] = enum_column(Sector)
    entry_date: Mapped[date] = mapped_column(Date)
    exit_date: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[ExitReason | None] = enum_column(ExitReason, nullable=True)
    grade_level: Mapped[int | None] = mapped_column(SmallInteger)
    programme: Mapped[str | None] = mapped_column(String(200))
    class_group: Mapped[str | None] = mapped_column(String(20))
    # The commission's decision that let the child in outside the entry-age rule (F4, K1).
    age_decision: Mapped[str | None] = mapped_column(String(120))
    previous_enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollment.id"))

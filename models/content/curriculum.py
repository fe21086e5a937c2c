"""The state standard's structure: per subject (the register in models/subjects.py) and grade
the units and topics a year is made of, with their learning outcomes, hours and the languages
lessons exist in (domain.md S1: the 12-year standard and the legacy 11-year model run side by
side)."""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column, global_id_column

# The languages of instruction lessons are made in (domain.md S5).
LESSON_LANGUAGES = ("ky", "ru", "uz", "tg")


class CurriculumStandard(enum.StrEnum):
    """Which school model a unit belongs to: the 12-year standard (grades 1-12) or the legacy
    11-year model (grades 1-11) still taught during the transition."""

    TWELVE_YEAR = "twelve_year"
    ELEVEN_YEAR = "eleven_year"


class CurriculumUnit(Timestamped, Base):
    """One topic of a unit of the standard: subject, grade, term, unit and topic with their
    learning outcomes and hours, and the languages of instruction it is offered in.

    Its place (standard, subject, grade, unit, topic) is its natural key: the curriculum file
    a methodologist edits is loaded by it."""

    __tablename__ = "curriculum_unit"
    __table_args__ = (
        UniqueConstraint(
            "standard",
            "subject_code",
            "grade",
            "unit_no",
            "topic_no",
            name="uq_curriculum_unit_place",
        ),
        CheckConstraint(
            "grade BETWEEN 1 AND 12 AND (standard = 'twelve_year' OR grade <= 11)", name="grade"
        ),
        CheckConstraint("term BETWEEN 1 AND 4", name="term"),
        CheckConstraint("unit_no >= 1 AND topic_no >= 1", name="numbers"),
        CheckConstraint("hours > 0", name="hours"),
        CheckConstraint(
            "cardinality(languages) >= 1 AND languages <@ ARRAY['ky', 'ru', 'uz', 'tg']::varchar[]",
            name="languages",
        ),
        Index(
            "ix_curriculum_unit_order",
            "grade",
            "subject_code",
            "term",
            "unit_no",
            "topic_no",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("CurriculumUnit")
    standard: Mapped[CurriculumStandard] = enum_column(CurriculumStandard)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subject.code"))
    grade: Mapped[int] = mapped_column(SmallInteger)
    term: Mapped[int] = mapped_column(SmallInteger)
    unit_no: Mapped[int] = mapped_column(SmallInteger)
    unit_title: Mapped[str] = mapped_column(String(300))
    topic_no: Mapped[int] = mapped_column(SmallInteger)
    topic_title: Mapped[str] = mapped_column(String(300))
    outcomes: Mapped[list[str]] = mapped_column(
        ARRAY(String(500)), server_default=text("'{}'::varchar[]")
    )
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    languages: Mapped[list[str]] = mapped_column(ARRAY(String(2)))

"""Intake seasons and their policy: the figures domain.md marks *configurable* (deadlines,
decline rule, age limits and groups, benefit categories, class size, the entry-age rule) are
rows per season, edited by the ministry, never constants in code. The holiday calendar that
working-day deadlines are counted on lives here too."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column


class IntakeKind(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    FIRST_GRADE = "first_grade"


class DeclineRule(enum.StrEnum):
    """What a declined or expired kindergarten offer does to the application."""

    REQUEUE = "requeue"  # back to the queue, keeping the original registration time
    REMOVE = "remove"  # the application leaves the queue


class BenefitStatus(enum.StrEnum):
    """Where the proof of a claimed benefit stands."""

    NONE = "none"
    CLAIMED = "claimed"
    VERIFIED = "verified"
    REJECTED = "rejected"


class IntakeSeason(Timestamped, Base):
    """One intake of a system (kindergarten year or first-grade enrollment) and its policy."""

    __tablename__ = "intake_season"
    __table_args__ = (
        UniqueConstraint("kind", "year", name="uq_intake_season_kind_year"),
        CheckConstraint("ends_on >= starts_on", name="period"),
        CheckConstraint("min_age_months >= 0 AND max_age_months > min_age_months", name="ages"),
        CheckConstraint("max_preferences BETWEEN 1 AND 10", name="max_preferences"),
        CheckConstraint("offer_deadline_working_days BETWEEN 1 AND 90", name="deadline"),
        CheckConstraint("class_size_max BETWEEN 1 AND 60", name="class_size"),
        CheckConstraint("grades_per_school BETWEEN 1 AND 12", name="grades_per_school"),
        CheckConstraint("grade_age_tolerance_years BETWEEN 0 AND 6", name="grade_age_tolerance"),
        CheckConstraint(
            "grade2_birth_year_offset = grade1_birth_year_offset + 1", name="entry_offsets"
        ),
        CheckConstraint(
            "kind <> 'first_grade' OR (stage1_starts IS NOT NULL AND stage1_ends >= stage1_starts"
            " AND stage2_starts > stage1_ends AND stage2_ends >= stage2_starts"
            " AND ends_on >= stage2_ends)",
            name="stages",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[IntakeKind] = enum_column(IntakeKind)
    # The calendar year of the intake: groups and grades are reckoned as of 1 September of it.
    year: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    school_year_starts: Mapped[date] = mapped_column(Date)
    # ISO weekdays (1 = Monday) that are not working days.
    weekend_days: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{6,7}'::integer[]")
    )

    # kindergarten queue
    min_age_months: Mapped[int] = mapped_column(SmallInteger, server_default=text("6"))
    max_age_months: Mapped[int] = mapped_column(SmallInteger, server_default=text("84"))
    max_preferences: Mapped[int] = mapped_column(SmallInteger, server_default=text("3"))
    offer_deadline_working_days: Mapped[int] = mapped_column(
        SmallInteger, server_default=text("15")
    )
    decline_rule: Mapped[DeclineRule] = enum_column(DeclineRule, server_default=text("'requeue'"))

    # first-grade enrollment
    stage1_starts: Mapped[date | None] = mapped_column(Date)
    stage1_ends: Mapped[date | None] = mapped_column(Date)
    stage2_starts: Mapped[date | None] = mapped_column(Date)
    stage2_ends: Mapped[date | None] = mapped_column(Date)
    class_size_max: Mapped[int] = mapped_column(SmallInteger, server_default=text("36"))
    grades_per_school: Mapped[int] = mapped_column(SmallInteger, server_default=text("12"))
    grade1_birth_year_offset: Mapped[int] = mapped_column(SmallInteger, server_default=text("6"))
    grade2_birth_year_offset: Mapped[int] = mapped_column(SmallInteger, server_default=text("7"))
    preschool_programme_grade2: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # How many years older than a grade's age (F4) a pupil may be enrolled without a
    # commission's decision (the 11-year model's later entry, repeated years): policy, no
    # public source fixed it.
    grade_age_tolerance_years: Mapped[int] = mapped_column(SmallInteger, server_default=text("2"))
    sibling_priority: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class KindergartenAgeGroup(Base):
    """An age group of a kindergarten season: ages (in months, on 1 September) and size cap."""

    __tablename__ = "kindergarten_age_group"
    __table_args__ = (
        UniqueConstraint("season_id", "code", name="uq_kindergarten_age_group_code"),
        CheckConstraint("max_months > min_months AND min_months >= 0", name="ages"),
        CheckConstraint("group_size BETWEEN 1 AND 60", name="group_size"),
        ExcludeConstraint(
            ("season_id", "="),
            (text("int4range(min_months, max_months)"), "&&"),
            name="ex_kindergarten_age_group_overlap",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    min_months: Mapped[int] = mapped_column(SmallInteger)
    max_months: Mapped[int] = mapped_column(SmallInteger)
    group_size: Mapped[int] = mapped_column(SmallInteger)


class BenefitCategory(Base):
    """A benefit category of a season; ``rank`` orders first-grade priority (1 first)."""

    __tablename__ = "benefit_category"
    __table_args__ = (
        UniqueConstraint("season_id", "code", name="uq_benefit_category_code"),
        CheckConstraint("rank BETWEEN 1 AND 100", name="rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("intake_season.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))


class PublicHoliday(Base):
    """The ministry's decision on one day, over the statutory calendar the ``holidays`` package
    computes: a day off (``working`` false: an extra holiday, a moved rest day) or a working
    day (``working`` true: a weekend day worked in exchange, a statutory date moved away)."""

    __tablename__ = "public_holiday"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    working: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

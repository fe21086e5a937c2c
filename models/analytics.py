"""EMIS statistics: the census rollups (counts per cell of every dimension, as of a census
date) and the population by age and district that the ratios divide by.

The rollup rows are derived data: ``resolvers/analytics/rollups.py`` rebuilds a census
date's rows from enrollments, staff positions, institutions and the kindergarten queue in
one statement, and a test holds them equal to a recount."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

# One row per cell: a measure counted as of a census date for one combination of the
# dimensions. Dimensions that do not apply to a measure (a school's grade for staff) are NULL.
# A Core table: cells have no identity of their own, and NULLs forbid a primary key on them.
stat_cell = Table(
    "stat_cell",
    Base.metadata,
    Column("census_date", Date, nullable=False),
    Column("measure", String(24), nullable=False),
    Column("region_id", Integer, nullable=True),
    Column("district_id", Integer, nullable=True),
    Column("settlement", String(8), nullable=True),
    Column("institution_kind", String(32), nullable=True),
    Column("ownership", String(32), nullable=True),
    Column("level", String(12), nullable=True),
    Column("grade", SmallInteger, nullable=True),
    Column("sex", String(8), nullable=True),
    Column("age", SmallInteger, nullable=True),
    Column("language", String(2), nullable=True),
    Column("age_group", String(16), nullable=True),
    Column("count", BigInteger, nullable=False),
    Index("ix_stat_cell_date_measure", "census_date", "measure"),
)


# An area whose cells a change may have altered, from a census date on: written by triggers on
# the counted tables (migration 0031), taken and recounted by the nightly refresh. No unique
# key, so writers never wait on each other's marks; the refresh takes the earliest per area.
stat_dirty = Table(
    "stat_dirty",
    Base.metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("region_id", Integer, nullable=False),
    Column("district_id", Integer, nullable=True),
    Column("since", Date, nullable=False),
    Index("ix_stat_dirty_area", "region_id", "district_id"),
)


class StatRefresh(Base):
    """When a census date's rollup was last rebuilt, how many cells it holds, and how long
    the rebuild took (the job's own record; the default census date is the latest here)."""

    __tablename__ = "stat_refresh"

    census_date: Mapped[date] = mapped_column(Date, primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    cells: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # How many areas the last refresh recounted; null when it rebuilt the whole date.
    areas: Mapped[int | None] = mapped_column(Integer)


class Population(Base):
    """Resident population of a district by single year of age on 1 January of ``year``
    (the statistics committee's table, loaded with ``bilim import population``)."""

    __tablename__ = "population"
    __table_args__ = (
        CheckConstraint("age BETWEEN 0 AND 120", name="age"),
        CheckConstraint("count >= 0", name="count"),
        CheckConstraint("year BETWEEN 1990 AND 2100", name="year"),
    )

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), primary_key=True)
    age: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DisclosurePolicy(Base):
    """The disclosure control rule for counts of people, as the ministry sets it: the
    threshold under which a cell is hidden and whether secondary suppression protects the
    hidden cells from subtraction, with the source the rule follows (one row; every change is
    an audited mutation, setDisclosurePolicy)."""

    __tablename__ = "disclosure_policy"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("threshold BETWEEN 2 AND 100", name="threshold"),
        CheckConstraint("length(source) BETWEEN 10 AND 1000", name="source"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    threshold: Mapped[int] = mapped_column(SmallInteger)
    secondary_suppression: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StatVersion(Base):
    """One row: a value every write to what a statistics answer reads changes (the rollups,
    the disclosure rule, regions, districts, the population; statement triggers), so a worker
    keeps the /stats page's answers per version and knows when they are stale
    (schema/http/kept.py)."""

    __tablename__ = "stat_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

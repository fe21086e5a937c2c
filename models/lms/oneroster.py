"""The OneRoster users and enrollments kept as tables (issue 15): what the rostering service
lists, one row per object, maintained by triggers on the class memberships, the teaching
assignments, the class subjects, the people and the schools (migration 0038), so that a page,
a filter, a total and a lookup by ``sourcedId`` read an index instead of computing every
membership of the country.

Nothing writes these tables but the triggers; the hub only reads them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OneRosterUser(Base):
    """A person as a OneRoster user in one role: a pupil (``student``, at the school and grade
    of their latest class membership) or a teacher (``teacher``, at the school of their latest
    teaching assignment). A person who is both has two rows under one ``sourcedId``."""

    __tablename__ = "oneroster_user"
    __table_args__ = (
        Index("ix_oneroster_user_sourced_id", "sourced_id", "role"),
        Index("ix_oneroster_user_role", "role", "sourced_id"),
        Index("ix_oneroster_user_modified", "modified"),
        Index("ix_oneroster_user_institution", "institution_id"),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(Text, primary_key=True)
    sourced_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    modified: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    given_name: Mapped[str] = mapped_column(Text)
    family_name: Mapped[str] = mapped_column(Text)
    middle_name: Mapped[str | None] = mapped_column(Text)
    institution_id: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[str] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[int | None] = mapped_column(Integer)


class OneRosterEnrollment(Base):
    """A OneRoster enrollment: a pupil's class membership in one subject of the class
    (``m<membership>-<class subject>``) or a teacher's assignment (``t<assignment>``)."""

    __tablename__ = "oneroster_enrollment"
    __table_args__ = (
        Index("ix_oneroster_enrollment_school", "school_id", "role", "user_id"),
        Index("ix_oneroster_enrollment_class", "class_id", "role", "user_id"),
        Index("ix_oneroster_enrollment_user", "user_id", "role", "class_id"),
        Index("ix_oneroster_enrollment_modified", "modified"),
        Index(
            "ix_oneroster_enrollment_membership",
            "membership_id",
            postgresql_where=text("membership_id IS NOT NULL"),
        ),
        Index(
            "ix_oneroster_enrollment_assignment",
            "assignment_id",
            postgresql_where=text("assignment_id IS NOT NULL"),
        ),
    )

    sourced_id: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text)
    modified: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[str] = mapped_column(Text)
    class_id: Mapped[str] = mapped_column(Text)
    school_id: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    primary: Mapped[bool] = mapped_column(Boolean)
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    region_id: Mapped[int | None] = mapped_column(Integer)
    institution_id: Mapped[int] = mapped_column(Integer)
    membership_id: Mapped[int | None] = mapped_column(Integer)
    assignment_id: Mapped[int | None] = mapped_column(Integer)
    class_subject_id: Mapped[int] = mapped_column(Integer)

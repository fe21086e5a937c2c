"""Lessons and what is recorded in them: attendance, marks with their scheme, and the
results a teacher sets apart from the computed rule. ``class_lesson``, ``attendance`` and ``mark``
are partitioned by academic year (LIST on ``academic_year_id``): a year's rows live in that
year's partitions, made when the year is created; old years can be detached and archived
whole."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.lms.years import AssessmentScheme
from models.types import enum_column

PARTITIONED_BY_YEAR = {"postgresql_partition_by": "LIST (academic_year_id)"}


class ClassLessonStatus(enum.StrEnum):
    HELD = "held"
    CANCELLED = "cancelled"


class ClassLesson(Base):
    """A timetable slot on a date (or an extra lesson), taught by the slot's teacher or by a
    replacement, with its topic. Recorded once per slot and date (a unique key); a teacher is
    never in two lessons at once, replacements included (an exclusion constraint)."""

    __tablename__ = "class_lesson"
    __table_args__ = (
        ForeignKeyConstraint(
            ["class_group_id", "subject_id"],
            ["class_subject.class_group_id", "class_subject.subject_id"],
            name="fk_class_lesson_subject_of_class",
        ),
        CheckConstraint("ends_minute > starts_minute", name="time"),
        CheckConstraint("subgroup BETWEEN 0 AND 2", name="subgroup"),
        Index("uq_class_lesson_slot_date", "academic_year_id", "slot_id", "on_date", unique=True),
        Index(
            "ix_class_lesson_class_subject_date",
            "academic_year_id",
            "class_group_id",
            "subject_id",
            "on_date",
        ),
        Index("ix_class_lesson_class_date", "academic_year_id", "class_group_id", "on_date"),
        # Where a class is in the curriculum, per subject: its latest held lesson that names a
        # curriculum topic (the pupil's feed, resolvers/content/feed.py; issue 16), of the
        # whole class or of the pupil's half (the subgroup, carried so the index answers).
        Index(
            "ix_class_lesson_class_subject_unit",
            "academic_year_id",
            "class_group_id",
            "subject_id",
            "on_date",
            "starts_minute",
            "curriculum_unit_id",
            "subgroup",
            postgresql_where=text("curriculum_unit_id IS NOT NULL AND status = 'held'"),
        ),
        ExcludeConstraint(
            ("academic_year_id", "="),
            ("teacher_id", "="),
            ("on_date", "="),
            (text("int4range(starts_minute, ends_minute)"), "&&"),
            name="ex_class_lesson_teacher_busy",
            using="gist",
            where=text("status = 'held'"),
        ),
        PARTITIONED_BY_YEAR,
    )

    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"), primary_key=True)
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, server_default=text("nextval('class_lesson_id_seq')")
    )
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    class_group_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("timetable_slot.id"))
    # Who teaches it; ``replaced_teacher_id`` is the slot's teacher when someone replaces them.
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    replaced_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    on_date: Mapped[date] = mapped_column(Date)
    starts_minute: Mapped[int] = mapped_column(SmallInteger)
    ends_minute: Mapped[int] = mapped_column(SmallInteger)
    subgroup: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    topic: Mapped[str | None] = mapped_column(String(500))
    # The curriculum topic the lesson taught (a unit's topic of the class's subject and grade,
    # learning content's ``curriculum_unit``), when the teacher names one: what the feed of the
    # class's pupils follows.
    curriculum_unit_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_unit.id"))
    status: Mapped[ClassLessonStatus] = enum_column(ClassLessonStatus)
    attendance_taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AttendanceStatus(enum.StrEnum):
    """A pupil's attendance at a lesson. ``present`` is never stored: once the register is
    taken, a pupil without a row was present."""

    PRESENT = "present"
    ABSENT = "absent"
    LATE = "late"
    EXCUSED = "excused"


class Attendance(Base):
    """A pupil missing a lesson, late for it, or excused from it (with the reason)."""

    __tablename__ = "attendance"
    __table_args__ = (
        ForeignKeyConstraint(
            ["academic_year_id", "lesson_id"],
            ["class_lesson.academic_year_id", "class_lesson.id"],
            name="fk_attendance_lesson",
        ),
        CheckConstraint("status <> 'present'", name="not_present"),
        CheckConstraint("status <> 'excused' OR reason IS NOT NULL", name="excused_reason"),
        CheckConstraint(
            "minutes_late IS NULL OR (status = 'late' AND minutes_late BETWEEN 1 AND 90)",
            name="minutes_late",
        ),
        Index("ix_attendance_pupil_date", "pupil_id", "on_date"),
        Index("ix_attendance_class_date", "academic_year_id", "class_group_id", "on_date"),
        PARTITIONED_BY_YEAR,
    )

    academic_year_id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    # Copied from the lesson by the trigger that checks the pupil is in its class.
    class_group_id: Mapped[int] = mapped_column(Integer)
    on_date: Mapped[date] = mapped_column(Date)
    status: Mapped[AttendanceStatus] = enum_column(AttendanceStatus)
    reason: Mapped[str | None] = mapped_column(String(300))
    minutes_late: Mapped[int | None] = mapped_column(SmallInteger)
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class MarkWork(enum.StrEnum):
    """What a mark is for; a pupil has at most one current mark per lesson and kind of work."""

    CLASSWORK = "classwork"
    ORAL = "oral"
    WRITTEN = "written"
    HOMEWORK = "homework"
    TEST = "test"
    PROJECT = "project"


class Mark(Base):
    """A mark (or descriptive feedback) a pupil got in a lesson, with the assessment scheme it
    was given under (S2). A correction never overwrites: the old row is superseded (with the
    time) and a new row carries the new value and the reason (history kept)."""

    __tablename__ = "mark"
    __table_args__ = (
        ForeignKeyConstraint(
            ["academic_year_id", "lesson_id"],
            ["class_lesson.academic_year_id", "class_lesson.id"],
            name="fk_mark_lesson",
        ),
        CheckConstraint(
            "(scheme = 'descriptive' AND value IS NULL AND criterion IS NULL"
            " AND comment IS NOT NULL)"
            " OR (scheme = 'five_point' AND value BETWEEN 1 AND 5 AND criterion IS NULL)"
            " OR (scheme = 'points' AND value >= 0 AND criterion IS NULL)"
            " OR (scheme = 'criteria' AND value >= 0 AND criterion ~ '^[A-Z]$')",
            name="fits_scheme",
        ),
        Index(
            "uq_mark_current",
            "academic_year_id",
            "lesson_id",
            "pupil_id",
            "work",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index(
            "ix_mark_class_subject_date",
            "academic_year_id",
            "class_group_id",
            "subject_id",
            "on_date",
            postgresql_where=text("superseded_at IS NULL"),
        ),
        Index(
            "ix_mark_pupil_date",
            "pupil_id",
            "on_date",
            postgresql_where=text("superseded_at IS NULL"),
        ),
        # Corrected marks of a class (few), which OneRoster partners read as tobedeleted.
        Index(
            "ix_mark_superseded_class_subject",
            "academic_year_id",
            "class_group_id",
            "subject_id",
            postgresql_where=text("superseded_at IS NOT NULL"),
        ),
        PARTITIONED_BY_YEAR,
    )

    academic_year_id: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, server_default=text("nextval('mark_id_seq')")
    )
    lesson_id: Mapped[int] = mapped_column(BigInteger)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # Copied from the lesson by the trigger that checks the pupil and the scheme.
    class_group_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer)
    on_date: Mapped[date] = mapped_column(Date)
    work: Mapped[MarkWork] = enum_column(MarkWork)
    scheme: Mapped[AssessmentScheme] = enum_column(AssessmentScheme)
    value: Mapped[int | None] = mapped_column(SmallInteger)
    criterion: Mapped[str | None] = mapped_column(String(1))
    comment: Mapped[str | None] = mapped_column(String(500))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why this row replaced the one before it (a correction); null for a first mark.
    correction_reason: Mapped[str | None] = mapped_column(String(300))


class ResultOverride(Base):
    """A term or year result the teacher set instead of the computed one, with the reason;
    a later override supersedes it (history kept). ``period`` 1-4 is a term, 5 the year."""

    __tablename__ = "result_override"
    __table_args__ = (
        CheckConstraint("period BETWEEN 1 AND 5", name="period"),
        CheckConstraint(
            "(scheme = 'descriptive') = (value IS NULL) AND (scheme <> 'descriptive' OR comment"
            " IS NOT NULL)",
            name="fits_scheme",
        ),
        Index(
            "uq_result_override_current",
            "class_group_id",
            "subject_id",
            "pupil_id",
            "period",
            unique=True,
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    class_group_id: Mapped[int] = mapped_column(ForeignKey("class_group.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    period: Mapped[int] = mapped_column(SmallInteger)
    scheme: Mapped[AssessmentScheme] = enum_column(AssessmentScheme)
    value: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(500))
    computed_value: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

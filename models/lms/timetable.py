"""The timetable: a school's periods per shift, its rooms, and the weekly slots. No teacher,
class (or class half) or room is in two places at once: exclusion constraints, so that of two
concurrent edits only one can win."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import global_id_column

# A slot's time and weekly validity, shared by the three exclusion constraints.
_WHEN = (
    ("weekday", "="),
    (text("int4range(starts_minute, ends_minute)"), "&&"),
    (text("daterange(valid_from, valid_to, '[)')"), "&&"),
)
# A whole class (subgroup 0) overlaps both of its halves; the two halves do not overlap.
_PART = text(
    "int4range(CASE subgroup WHEN 0 THEN 0 ELSE subgroup END,"
    " CASE subgroup WHEN 0 THEN 3 ELSE subgroup + 1 END)"
)


class BellPeriod(Base):
    """A lesson period of a shift at a school: number and time (minutes after midnight)."""

    __tablename__ = "bell_period"
    __table_args__ = (
        UniqueConstraint("institution_id", "shift", "number"),
        CheckConstraint("shift BETWEEN 1 AND 3", name="shift"),
        CheckConstraint("number BETWEEN 0 AND 12", name="number"),
        CheckConstraint(
            "starts_minute >= 0 AND ends_minute <= 1440 AND ends_minute > starts_minute",
            name="time",
        ),
        ExcludeConstraint(
            ("institution_id", "="),
            ("shift", "="),
            (text("int4range(starts_minute, ends_minute)"), "&&"),
            name="ex_bell_period_overlap",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    shift: Mapped[int] = mapped_column(SmallInteger)
    number: Mapped[int] = mapped_column(SmallInteger)
    starts_minute: Mapped[int] = mapped_column(SmallInteger)
    ends_minute: Mapped[int] = mapped_column(SmallInteger)


class Room(Timestamped, Base):
    """A room of a school."""

    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("institution_id", "name"),
        UniqueConstraint("id", "institution_id"),
        CheckConstraint("capacity IS NULL OR capacity BETWEEN 1 AND 500", name="capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Room")
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    name: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int | None] = mapped_column(SmallInteger)


class TimetableSlot(Timestamped, Base):
    """A weekly lesson: a class (or half of it) learns a subject from a teacher in a room, on a
    weekday in a period, from ``valid_from`` until ``valid_to`` (exclusive). The foreign keys
    hold that the subject is in the class's curriculum and that the teacher is assigned to
    teach it there; the exclusion constraints that nobody is in two places at once."""

    __tablename__ = "timetable_slot"
    __table_args__ = (
        ForeignKeyConstraint(
            ["class_group_id", "institution_id", "academic_year_id"],
            ["class_group.id", "class_group.institution_id", "class_group.academic_year_id"],
            name="fk_timetable_slot_class_of_school",
        ),
        ForeignKeyConstraint(
            ["class_group_id", "subject_id", "teacher_id"],
            [
                "teaching_assignment.class_group_id",
                "teaching_assignment.subject_id",
                "teaching_assignment.teacher_id",
            ],
            name="fk_timetable_slot_assigned_teacher",
        ),
        ForeignKeyConstraint(
            ["room_id", "institution_id"],
            ["room.id", "room.institution_id"],
            name="fk_timetable_slot_room_of_school",
        ),
        ForeignKeyConstraint(
            ["institution_id", "shift", "period"],
            ["bell_period.institution_id", "bell_period.shift", "bell_period.number"],
            name="fk_timetable_slot_period_of_school",
        ),
        CheckConstraint("weekday BETWEEN 1 AND 6", name="weekday"),
        CheckConstraint("subgroup BETWEEN 0 AND 2", name="subgroup"),
        CheckConstraint("ends_minute > starts_minute", name="time"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        ExcludeConstraint(
            ("teacher_id", "="), *_WHEN, name="ex_timetable_slot_teacher", using="gist"
        ),
        ExcludeConstraint(
            ("class_group_id", "="),
            *_WHEN,
            (_PART, "&&"),
            name="ex_timetable_slot_class",
            using="gist",
        ),
        ExcludeConstraint(
            ("room_id", "="),
            *_WHEN,
            name="ex_timetable_slot_room",
            using="gist",
            where=text("room_id IS NOT NULL"),
        ),
        Index("ix_timetable_slot_class", "class_group_id", "weekday", "starts_minute"),
        Index("ix_timetable_slot_teacher", "teacher_id", "weekday", "starts_minute"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("TimetableSlot")
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    institution_id: Mapped[int] = mapped_column(Integer)
    class_group_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    room_id: Mapped[int | None] = mapped_column(Integer)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    shift: Mapped[int] = mapped_column(SmallInteger)
    period: Mapped[int] = mapped_column(SmallInteger)
    starts_minute: Mapped[int] = mapped_column(SmallInteger)
    ends_minute: Mapped[int] = mapped_column(SmallInteger)
    # 0: the whole class; 1 or 2: a half (languages, computing, labour lessons).
    subgroup: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

"""Homework set in a lesson, pupils' submissions (text and files in the hub's file store,
by content hash) and the teacher's feedback."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
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
from models.types import enum_column, global_id_column


class Homework(Timestamped, Base):
    """What a lesson sets to do at home, by when; one per lesson (setting it again edits it)."""

    __tablename__ = "homework"
    __table_args__ = (
        ForeignKeyConstraint(
            ["academic_year_id", "lesson_id"],
            ["class_lesson.academic_year_id", "class_lesson.id"],
            name="fk_homework_lesson",
        ),
        UniqueConstraint("academic_year_id", "lesson_id"),
        Index("ix_homework_class_due", "class_group_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Homework")
    academic_year_id: Mapped[int] = mapped_column(Integer)
    lesson_id: Mapped[int] = mapped_column(BigInteger)
    class_group_id: Mapped[int] = mapped_column(ForeignKey("class_group.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    assigned_on: Mapped[date] = mapped_column(Date)
    body: Mapped[str] = mapped_column(String(2000))
    due_on: Mapped[date] = mapped_column(Date)
    accepts_submissions: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class HomeworkSubmission(Timestamped, Base):
    """A pupil's work for a homework; sent again (until accepted) it replaces the earlier one."""

    __tablename__ = "homework_submission"
    __table_args__ = (
        UniqueConstraint("homework_id", "pupil_id"),
        CheckConstraint("status = 'submitted' OR feedback IS NOT NULL", name="feedback"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("HomeworkSubmission")
    homework_id: Mapped[int] = mapped_column(ForeignKey("homework.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    body: Mapped[str | None] = mapped_column(String(5000))
    status: Mapped[SubmissionStatus] = enum_column(SubmissionStatus)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    feedback: Mapped[str | None] = mapped_column(String(2000))
    feedback_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HomeworkFile(Base):
    """A file of a submission: the stored file (by hash) under the name the pupil gave it."""

    __tablename__ = "homework_file"
    __table_args__ = (
        UniqueConstraint("submission_id", "position"),
        CheckConstraint("position BETWEEN 0 AND 9", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("homework_submission.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("file_object.sha256"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

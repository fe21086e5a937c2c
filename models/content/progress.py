"""Learners' progress through lessons: the statements a learner's device (or their school's
offline server) sends, each once by its id, and the progress they add up to."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column


class ProgressVerb(enum.StrEnum):
    STARTED = "started"
    PROGRESSED = "progressed"
    COMPLETED = "completed"


class ProgressStatus(enum.StrEnum):
    STARTED = "started"
    COMPLETED = "completed"


class ProgressStatement(Base):
    """One progress statement, kept once per learner and statement id: a statement sent twice
    (a retry, an offline batch sent again) is the same row and counts once."""

    __tablename__ = "lesson_progress_statement"
    __table_args__ = (
        CheckConstraint("attempt BETWEEN 1 AND 1000", name="attempt"),
        CheckConstraint("seconds BETWEEN 0 AND 86400", name="seconds"),
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score"),
        Index("ix_lesson_progress_statement_lesson", "lesson_id", "learner_id"),
    )

    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    verb: Mapped[ProgressVerb] = enum_column(ProgressVerb)
    seconds: Mapped[int] = mapped_column(Integer)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    recorded_by: Mapped[str] = mapped_column(String(120))


class LessonProgress(Base):
    """A learner's progress in one lesson, the sum of their statements: when they started and
    completed it, attempts, scores and the time spent."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        CheckConstraint("seconds_spent >= 0", name="seconds"),
        CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_at"),
        Index("ix_lesson_progress_lesson", "lesson_id"),
    )

    learner_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id"), primary_key=True)
    status: Mapped[ProgressStatus] = enum_column(ProgressStatus)
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    seconds_spent: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    best_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

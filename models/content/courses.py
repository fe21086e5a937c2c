"""The open education portal (issue 16; the design README's system 9): open courses from
universities licensed for higher education, their runs with dates and capacity, modules and
assessments, students' enrollments with results and credit recognition, and certificates
anyone can check by number."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.abroad import StudyLevel
from models.base import Base, Timestamped
from models.types import enum_column, global_id_column


class AssessmentKind(enum.StrEnum):
    QUIZ = "quiz"
    ASSIGNMENT = "assignment"
    PROJECT = "project"
    EXAM = "exam"


class CourseEnrollmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"


class OpenCourse(Timestamped, Base):
    """A course a university offers on the open education portal, in one language, at one
    level, worth some credits, under a programme code of the classifier."""

    __tablename__ = "open_course"
    __table_args__ = (
        UniqueConstraint("institution_id", "code", name="uq_open_course_code"),
        CheckConstraint("credits > 0 AND credits <= 60", name="credits"),
        CheckConstraint("language IN ('ky', 'ru', 'uz', 'tg', 'en')", name="language"),
        Index("ix_open_course_list", "language", "level", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("OpenCourse")
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2))
    level: Mapped[StudyLevel] = enum_column(StudyLevel)
    credits: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    programme_code: Mapped[str] = mapped_column(ForeignKey("programme_code.code"))
    created_by: Mapped[str] = mapped_column(String(120))


class CourseModule(Base):
    """A module of a course, in order."""

    __tablename__ = "course_module"
    __table_args__ = (
        UniqueConstraint("course_id", "position", name="uq_course_module_position"),
        CheckConstraint("hours > 0", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("open_course.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(String(2000))
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))


class CourseAssessment(Base):
    """An assessment of a course and its weight in the final score (the weights of a course
    add up to 100); a required one must have a result before the course counts as completed."""

    __tablename__ = "course_assessment"
    __table_args__ = (
        UniqueConstraint("course_id", "position", name="uq_course_assessment_position"),
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("open_course.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[AssessmentKind] = enum_column(AssessmentKind)
    weight: Mapped[int] = mapped_column(SmallInteger)
    required: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class CourseRun(Timestamped, Base):
    """One offering of a course: its dates, the last day to enroll, a capacity (none: unlimited)
    and who may enroll (students of universities, or anyone for an open run), and the final
    score that completes it. ``enrolled`` counts enrollments; the database refuses more than
    ``capacity``."""

    __tablename__ = "course_run"
    __table_args__ = (
        CheckConstraint("starts_on <= ends_on", name="dates"),
        CheckConstraint("enrollment_closes_on <= ends_on", name="enrollment_window"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        CheckConstraint(
            "enrolled >= 0 AND (capacity IS NULL OR enrolled <= capacity)", name="capacity"
        ),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark"),
        Index("ix_course_run_course", "course_id", "starts_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("CourseRun")
    course_id: Mapped[int] = mapped_column(ForeignKey("open_course.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    enrollment_closes_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)
    enrolled: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    open_to_all: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    pass_mark: Mapped[int] = mapped_column(SmallInteger, server_default=text("50"))


class CourseEnrollment(Timestamped, Base):
    """A learner in a course run: their final score once completed, and the credits their own
    university recognised for it."""

    __tablename__ = "course_enrollment"
    __table_args__ = (
        UniqueConstraint("run_id", "person_id", name="uq_course_enrollment_person"),
        CheckConstraint("final_score IS NULL OR final_score BETWEEN 0 AND 100", name="final_score"),
        CheckConstraint(
            "(status = 'completed') = (completed_on IS NOT NULL AND final_score IS NOT NULL)",
            name="completed",
        ),
        CheckConstraint(
            "(recognised_by_institution_id IS NULL) = (recognised_credits IS NULL)",
            name="recognition",
        ),
        Index("ix_course_enrollment_person", "person_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("CourseEnrollment")
    run_id: Mapped[int] = mapped_column(ForeignKey("course_run.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    status: Mapped[CourseEnrollmentStatus] = enum_column(
        CourseEnrollmentStatus, server_default=text("'enrolled'")
    )
    final_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    completed_on: Mapped[date | None] = mapped_column(Date)
    recognised_by_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    recognised_credits: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    recognised_on: Mapped[date | None] = mapped_column(Date)


class AssessmentResult(Base):
    """A learner's score (0-100) in one assessment of their run; recorded again, it replaces."""

    __tablename__ = "course_assessment_result"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "assessment_id", name="uq_course_assessment_result"),
        CheckConstraint("score BETWEEN 0 AND 100", name="score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("course_enrollment.id", ondelete="CASCADE")
    )
    assessment_id: Mapped[int] = mapped_column(ForeignKey("course_assessment.id"))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CourseCertificate(Base):
    """The certificate of a completed enrollment: a number anyone can check."""

    __tablename__ = "course_certificate"
    __table_args__ = (
        UniqueConstraint("number", name="uq_course_certificate_number"),
        UniqueConstraint("enrollment_id", name="uq_course_certificate_enrollment"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("CourseCertificate")
    number: Mapped[str] = mapped_column(String(32))
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("course_enrollment.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(120))
    revoked_on: Mapped[date | None] = mapped_column(Date)

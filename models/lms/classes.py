"""Classes and what they learn: subjects, the state curriculum plan per grade, a school's
class groups (5А), their subjects, their pupils and their teachers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.institutions import Language
from models.lms.years import CurriculumModel
from models.types import enum_column, global_id_column


class CurriculumPlan(Timestamped, Base):
    """Weekly hours of a subject in a grade under a curriculum model (the state basic
    curriculum); a new class takes its subjects from here."""

    __tablename__ = "curriculum_plan"
    __table_args__ = (
        UniqueConstraint("curriculum_model", "grade", "subject_id"),
        CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
        CheckConstraint("weekly_hours > 0 AND weekly_hours <= 12", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("CurriculumPlan")
    curriculum_model: Mapped[CurriculumModel] = enum_column(CurriculumModel)
    grade: Mapped[int] = mapped_column(SmallInteger)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    weekly_hours: Mapped[Decimal] = mapped_column(Numeric(3, 1))


class ClassGroup(Timestamped, Base):
    """A class of a school in one academic year ("5А"): its grade, language of instruction,
    shift, home-room teacher and the most pupils it may hold. ``pupil_count`` is kept by a
    trigger on the memberships; the CHECK on it is what holds the size limit when two
    assignments race (F5)."""

    __tablename__ = "class_group"
    __table_args__ = (
        UniqueConstraint("institution_id", "academic_year_id", "grade", "letter"),
        # What memberships, assignments and slots point at: a class of this school (and year,
        # and grade), so the database holds "same school, same grade" (issue 15).
        UniqueConstraint(
            "id", "institution_id", "academic_year_id", "grade", name="uq_class_group_of_grade"
        ),
        UniqueConstraint("id", "institution_id", "academic_year_id", name="uq_class_group_of_year"),
        CheckConstraint("grade BETWEEN 1 AND 12", name="grade"),
        CheckConstraint("letter ~ '^[А-ЯЁӨҮҢA-Z0-9]{1,3}$'", name="letter_format"),
        CheckConstraint("shift BETWEEN 1 AND 3", name="shift"),
        CheckConstraint("capacity BETWEEN 1 AND 60", name="capacity"),
        CheckConstraint("pupil_count >= 0 AND pupil_count <= capacity", name="size"),
        Index("ix_class_group_year_institution", "academic_year_id", "institution_id", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("ClassGroup")
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_year.id"))
    grade: Mapped[int] = mapped_column(SmallInteger)
    letter: Mapped[str] = mapped_column(String(3))
    language: Mapped[Language] = enum_column(Language)
    shift: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    curriculum_model: Mapped[CurriculumModel] = enum_column(CurriculumModel)
    homeroom_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    capacity: Mapped[int] = mapped_column(SmallInteger)
    pupil_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The class of the year before that this one continues (5А of 2025 -> 6А of 2026).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("class_group.id"))


class ClassSubject(Timestamped, Base):
    """A subject a class learns, with its weekly hours (from the curriculum plan when the class
    is made); a timetable slot's subject must be one of these (a foreign key)."""

    __tablename__ = "class_subject"
    __table_args__ = (
        UniqueConstraint("class_group_id", "subject_id"),
        CheckConstraint("weekly_hours >= 0 AND weekly_hours <= 12", name="hours"),
        # OneRoster names a class by this row's global ID (its sourcedId).
        Index("ix_class_subject_gid", "gid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("ClassSubject")
    class_group_id: Mapped[int] = mapped_column(ForeignKey("class_group.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"))
    weekly_hours: Mapped[Decimal] = mapped_column(Numeric(3, 1))


class ClassMembership(Timestamped, Base):
    """A pupil in a class, through their enrollment. The foreign keys hold that the enrollment
    is at the class's school in the class's grade; a trigger holds that it is open, and ends
    the membership when the enrollment ends (issue 15)."""

    __tablename__ = "class_membership"
    __table_args__ = (
        ForeignKeyConstraint(
            ["class_group_id", "institution_id", "academic_year_id", "grade"],
            [
                "class_group.id",
                "class_group.institution_id",
                "class_group.academic_year_id",
                "class_group.grade",
            ],
            name="fk_class_membership_class_of_school_and_grade",
        ),
        ForeignKeyConstraint(
            ["enrollment_id", "pupil_id", "institution_id", "grade"],
            [
                "enrollment.id",
                "enrollment.person_id",
                "enrollment.institution_id",
                "enrollment.grade_level",
            ],
            name="fk_class_membership_enrollment_at_school_and_grade",
        ),
        CheckConstraint("until IS NULL OR until >= since", name="period"),
        Index(
            "uq_class_membership_open_enrollment",
            "enrollment_id",
            unique=True,
            postgresql_where=text("until IS NULL"),
        ),
        Index(
            "uq_class_membership_open_pupil_year",
            "pupil_id",
            "academic_year_id",
            unique=True,
            postgresql_where=text("until IS NULL"),
        ),
        Index("ix_class_membership_class", "class_group_id", "pupil_id"),
        Index("ix_class_membership_pupil", "pupil_id", "since"),
        # What a pupil's half of the class points at: this membership, of this class.
        UniqueConstraint("id", "class_group_id", name="uq_class_membership_of_class"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("ClassMembership")
    class_group_id: Mapped[int] = mapped_column(Integer)
    enrollment_id: Mapped[int] = mapped_column(Integer)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    institution_id: Mapped[int] = mapped_column(Integer)
    academic_year_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[int] = mapped_column(SmallInteger)
    since: Mapped[date] = mapped_column(Date)
    # The first day the pupil is no longer in the class (exclusive, like enrollments).
    until: Mapped[date | None] = mapped_column(Date)


class ClassMembershipHalf(Timestamped, Base):
    """The half of their class a pupil learns a subject in, where the class is taught that
    subject in halves (the timetable's subgroups 1 and 2: languages, computing, labour
    lessons). Per subject, as the timetable splits per subject: a pupil's English group need
    not be their computing group. The foreign keys hold that the half is of the pupil's own
    class (the membership and its class) and of a subject that class learns; a pupil without a
    row learns the subject with the whole class (or is not yet placed in a half)."""

    __tablename__ = "class_membership_half"
    __table_args__ = (
        ForeignKeyConstraint(
            ["membership_id", "class_group_id"],
            ["class_membership.id", "class_membership.class_group_id"],
            name="fk_class_membership_half_membership_of_class",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["class_group_id", "subject_id"],
            ["class_subject.class_group_id", "class_subject.subject_id"],
            name="fk_class_membership_half_subject_of_class",
            ondelete="CASCADE",
        ),
        CheckConstraint("subgroup IN (1, 2)", name="subgroup"),
        Index("ix_class_membership_half_class", "class_group_id", "subject_id", "subgroup"),
    )

    membership_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_group_id: Mapped[int] = mapped_column(Integer)
    # 1 or 2: the timetable's subgroup of the slots the pupil learns the subject in.
    subgroup: Mapped[int] = mapped_column(SmallInteger)


class TeachingAssignment(Timestamped, Base):
    """A teacher teaching a subject to a class, within their staff post at that school; the
    rows that give a teacher their rights over the class's pupils, marks and attendance."""

    __tablename__ = "teaching_assignment"
    __table_args__ = (
        UniqueConstraint("class_group_id", "subject_id", "teacher_id"),
        ForeignKeyConstraint(
            ["class_group_id", "subject_id"],
            ["class_subject.class_group_id", "class_subject.subject_id"],
            name="fk_teaching_assignment_subject_of_class",
        ),
        ForeignKeyConstraint(
            ["class_group_id", "institution_id", "academic_year_id"],
            ["class_group.id", "class_group.institution_id", "class_group.academic_year_id"],
            name="fk_teaching_assignment_class_of_school",
        ),
        ForeignKeyConstraint(
            ["staff_position_id", "teacher_id", "institution_id"],
            ["staff_position.id", "staff_position.person_id", "staff_position.institution_id"],
            name="fk_teaching_assignment_post_at_school",
        ),
        CheckConstraint("ended_on IS NULL OR ended_on >= since", name="period"),
        Index("ix_teaching_assignment_teacher", "teacher_id", "class_group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("TeachingAssignment")
    class_group_id: Mapped[int] = mapped_column(Integer)
    subject_id: Mapped[int] = mapped_column(Integer)
    teacher_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    staff_position_id: Mapped[int] = mapped_column(Integer)
    institution_id: Mapped[int] = mapped_column(Integer)
    academic_year_id: Mapped[int] = mapped_column(Integer)
    since: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

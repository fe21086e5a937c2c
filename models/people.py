"""Persons and what ties them together: PINs over time, guardianship and staff positions.

One person, one row, whatever roles they hold (child in a queue, pupil, applicant, guardian,
staff member): every other domain refers to ``person.id``, never to the PIN."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column, global_id_column


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class GuardianKind(enum.StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    LEGAL_GUARDIAN = "legal_guardian"
    TRUSTEE = "trustee"
    FOSTER_PARENT = "foster_parent"


class PinChangeReason(enum.StrEnum):
    ISSUED = "issued"
    REISSUED = "reissued"
    CORRECTED = "corrected"


class Person(Timestamped, Base):
    """A natural person known to the education system."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_name", "last_name", "first_name", "id"),
        Index(
            "ix_person_name_trgm",
            text("(lower(last_name || ' ' || first_name)) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Person")
    # The current PIN, kept here for lookups; its history lives in person_pin.
    pin: Mapped[str | None] = mapped_column(String(14))
    last_name: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[Sex] = enum_column(Sex)
    birth_date: Mapped[date] = mapped_column(Date)
    registered_district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    registered_address: Mapped[str | None] = mapped_column(String(300))


# "current PIN" is unique among persons; history rows may repeat a re-issued number's owner only.
Index("uq_person_pin_current", Person.pin, unique=True, postgresql_where=Person.pin.is_not(None))


class PersonPin(Base):
    """One PIN a person held, and when. Exactly one row per person is current, and a PIN once
    issued stays its holder's for life: no row gives it to anyone else (domain.md P1)."""

    __tablename__ = "person_pin"
    __table_args__ = (
        CheckConstraint("pin ~ '^[12][0-9]{13}$'", name="pin_format"),
        ExcludeConstraint(
            ("pin", "="), ("person_id", "<>"), name="ex_person_pin_one_holder", using="gist"
        ),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        Index(
            "uq_person_pin_pin_current",
            "pin",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index(
            "uq_person_pin_person_current",
            "person_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    pin: Mapped[str] = mapped_column(String(14), index=True)
    reason: Mapped[PinChangeReason] = enum_column(PinChangeReason)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Guardianship(Base):
    """A guardian's legal tie to a child."""

    __tablename__ = "guardianship"
    __table_args__ = (
        CheckConstraint("guardian_id <> child_id", name="not_self"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        Index(
            "uq_guardianship_active",
            "guardian_id",
            "child_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[GuardianKind] = enum_column(GuardianKind)
    valid_from: Mapped[date] = mapped_column(Date, server_default=func.current_date())
    valid_to: Mapped[date | None] = mapped_column(Date)


class StaffRole(enum.StrEnum):
    DIRECTOR = "director"
    DEPUTY_DIRECTOR = "deputy_director"
    TEACHER = "teacher"
    EDUCATOR = "educator"
    LECTURER = "lecturer"
    LIBRARIAN = "librarian"
    ADMINISTRATOR = "administrator"
    OTHER = "other"


class StaffPosition(Base):
    """A person's post at an institution over a period."""

    __tablename__ = "staff_position"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="period"),
        CheckConstraint("rate > 0 AND rate <= 2", name="rate"),
        # What a teaching assignment points at: this person's post at this school (lms).
        UniqueConstraint("id", "person_id", "institution_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    role: Mapped[StaffRole] = enum_column(StaffRole)
    title: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(100))
    rate: Mapped[float] = mapped_column(server_default=text("1.0"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

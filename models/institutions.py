"""Educational institutions: kindergartens, schools, colleges, universities and the foreign
universities Kyrgyz citizens are sent to."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import enum_column, global_id_column


class InstitutionKind(enum.StrEnum):
    KINDERGARTEN = "kindergarten"
    SCHOOL = "school"
    COLLEGE = "college"
    UNIVERSITY = "university"
    FOREIGN_UNIVERSITY = "foreign_university"


class Ownership(enum.StrEnum):
    STATE = "state"
    MUNICIPAL = "municipal"
    PRIVATE = "private"


class Language(enum.StrEnum):
    KY = "ky"
    RU = "ru"
    UZ = "uz"
    TG = "tg"
    EN = "en"


class SchoolType(enum.StrEnum):
    """What a school is (domain.md S1, F6; issue 14.3): the grades it teaches by default, and
    whether it takes first graders through e-enrollment."""

    PRIMARY_1_4 = "primary_1_4"
    PRIMARY_1_6 = "primary_1_6"
    BASIC = "basic"  # grades 1-9
    COMPLETE_11 = "complete_11"  # grades 1-11 (the legacy model)
    COMPLETE_12 = "complete_12"  # grades 1-12 (the 12-year standard)
    GYMNASIUM = "gymnasium"
    LYCEUM = "lyceum"
    BOARDING = "boarding"
    SPECIAL_NEEDS = "special_needs"


class Institution(Timestamped, Base):
    """An institution that teaches or cares for learners."""

    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint("legal_id IS NULL OR legal_id ~ '^[0-9]{14}$'", name="legal_id_format"),
        CheckConstraint("design_capacity IS NULL OR design_capacity >= 0", name="capacity"),
        CheckConstraint(
            "(kind = 'foreign_university') = (country_code <> 'KG')", name="foreign_country"
        ),
        CheckConstraint(
            "kind = 'foreign_university' OR region_id IS NOT NULL", name="domestic_region"
        ),
        CheckConstraint(
            "closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on", name="period"
        ),
        Index(
            "uq_institution_legal_id",
            "legal_id",
            unique=True,
            postgresql_where=text("legal_id IS NOT NULL"),
        ),
        CheckConstraint(
            "kind = 'school' OR (school_type IS NULL AND grade_from IS NULL"
            " AND grade_to IS NULL AND NOT outside_e_enrollment)",
            name="school_profile",
        ),
        CheckConstraint(
            "(grade_from IS NULL) = (grade_to IS NULL)"
            " AND (grade_from IS NULL OR 1 <= grade_from AND grade_from <= grade_to"
            " AND grade_to <= 12)",
            name="grades",
        ),
        CheckConstraint("shifts BETWEEN 1 AND 3", name="shifts"),
        Index("ix_institution_region_kind", "region_id", "kind", "id"),
        Index("ix_institution_name", "name", "id"),
        ForeignKeyConstraint(
            ["district_id", "region_id"],
            ["district.id", "district.region_id"],
            name="fk_institution_district_in_region",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Institution")
    kind: Mapped[InstitutionKind] = enum_column(InstitutionKind)
    ownership: Mapped[Ownership] = enum_column(Ownership)
    name: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str | None] = mapped_column(String(300))
    legal_id: Mapped[str | None] = mapped_column(String(14))
    country_code: Mapped[str] = mapped_column(String(2), server_default=text("'KG'"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(400))
    languages: Mapped[list[str]] = mapped_column(
        ARRAY(String(2)), server_default=text("'{}'::varchar[]")
    )
    design_capacity: Mapped[int | None] = mapped_column(Integer)
    # Schools only (issue 14.3): the type, the grades taught, the shifts a day (design
    # capacity is per shift), and whether first graders come outside e-enrollment (F6).
    school_type: Mapped[SchoolType | None] = enum_column(SchoolType, nullable=True)
    grade_from: Mapped[int | None] = mapped_column(SmallInteger)
    grade_to: Mapped[int | None] = mapped_column(SmallInteger)
    shifts: Mapped[int] = mapped_column(SmallInteger, server_default=text("1"))
    outside_e_enrollment: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)


class CatchmentArea(Base):
    """A micro-district a school serves: addresses registered there give stage-1 priority in
    first-grade enrollment."""

    __tablename__ = "catchment_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    district_id: Mapped[int] = mapped_column(ForeignKey("district.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    streets: Mapped[list[str]] = mapped_column(
        ARRAY(String(200)), server_default=text("'{}'::varchar[]")
    )

"""Educational institutions: kindergartens, schools, colleges, universities and the foreign
universities Kyrgyz citizens are sent to."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
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

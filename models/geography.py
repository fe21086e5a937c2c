"""Administrative-territorial units: regions (oblasts and cities of republican significance) and
the districts, cities and ayil aimaks below them. Units change over time, so each row carries its
validity period and the unit it belongs to."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column


class RegionKind(enum.StrEnum):
    OBLAST = "oblast"
    CITY = "city"


class DistrictKind(enum.StrEnum):
    RAYON = "rayon"
    CITY = "city"
    CITY_DISTRICT = "city_district"
    AYIL_AIMAK = "ayil_aimak"


class Region(Base):
    """An oblast or a city of republican significance."""

    __tablename__ = "region"
    __table_args__ = (CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # Code in the national classifier of administrative-territorial units (SOATE).
    soate: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[RegionKind] = enum_column(RegionKind)
    name_ky: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date, server_default=text("'1991-08-31'"))
    valid_to: Mapped[date | None] = mapped_column(Date)


class District(Base):
    """A rayon, city, city district or ayil aimak inside a region (optionally inside another
    district, e.g. an ayil aimak inside its rayon)."""

    __tablename__ = "district"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
        # Target of composite keys that keep a row's district inside its region.
        UniqueConstraint("id", "region_id", name="uq_district_id_region"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # SOATE code; null where no public source confirmed it (docs/domains/registry.md).
    soate: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[DistrictKind] = enum_column(DistrictKind)
    name_ky: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date, server_default=text("'1991-08-31'"))
    valid_to: Mapped[date | None] = mapped_column(Date)

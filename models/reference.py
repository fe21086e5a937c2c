"""The reference data's versions (schema/http/kept.py): a public page that reads only a set of
reference data (the accreditation agencies, the licensing policies and programme classifier,
the intake seasons, the admission seasons) is kept per worker under its set's version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ReferenceVersion(Base):
    """One row per set of reference data: a value every write to its tables changes (a
    statement trigger per table, migration ``reference_version``)."""

    __tablename__ = "reference_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

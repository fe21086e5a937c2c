"""The one register of school subjects (the state basic curriculum's subjects), shared by
learning content (curriculum units and lessons, by code) and the LMS (plans, classes,
timetable, marks and homework, by id). Codes are lower-case (``mathematics``); the register
changes only by migration (0029 merged learning content's and the LMS's registers)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Timestamped
from models.types import global_id_column


class Subject(Timestamped, Base):
    """A school subject of the state basic curriculum (reference data)."""

    __tablename__ = "subject"
    __table_args__ = (CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,39}$'", name="code_format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gid: Mapped[str] = global_id_column("Subject")
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_ky: Mapped[str] = mapped_column(String(120))
    name_ru: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

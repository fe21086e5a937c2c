"""The intake's public lists: seasons with their policy, and the holiday calendar."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select

from models import IntakeKind, IntakeSeason, PublicHoliday

MAX_SEASONS = 100


def seasons_query(kind: IntakeKind | None) -> Select[Any]:
    """Seasons, newest first (at most ``MAX_SEASONS``), of one intake or both."""
    stmt = select(*IntakeSeason.__table__.c).order_by(IntakeSeason.year.desc(), IntakeSeason.kind)
    if kind is not None:
        stmt = stmt.where(IntakeSeason.kind == kind)
    return stmt.limit(MAX_SEASONS)


def holidays_query(year: int) -> Select[date, str]:
    """The public holidays of a calendar year, in date order."""
    return (
        select(PublicHoliday.day, PublicHoliday.name)
        .where(PublicHoliday.day.between(date(year, 1, 1), date(year, 12, 31)))
        .order_by(PublicHoliday.day)
    )

"""The intake's public lists: seasons with their policy (the calendar: ``calendar``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from models import IntakeKind, IntakeSeason

MAX_SEASONS = 100


def seasons_query(kind: IntakeKind | None) -> Select[Any]:
    """Seasons, newest first (at most ``MAX_SEASONS``), of one intake or both."""
    stmt = select(*IntakeSeason.__table__.c).order_by(IntakeSeason.year.desc(), IntakeSeason.kind)
    if kind is not None:
        stmt = stmt.where(IntakeSeason.kind == kind)
    return stmt.limit(MAX_SEASONS)

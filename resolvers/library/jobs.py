"""The library's scheduled work (``bilim jobs run``): overdue loans marked, and holds not
picked up in time expired (their copies passed on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.library.circulation import mark_overdue_loans
from resolvers.library.holds import expire_holds


@dataclass(frozen=True)
class LibraryJobReport:
    overdue_loans: int
    expired_holds: int


async def run_library_jobs(session: AsyncSession, *, on: date | None = None) -> LibraryJobReport:
    """Both jobs, in the caller's transaction."""
    overdue = await mark_overdue_loans(session, on=on)
    expired = await expire_holds(session, on=on)
    return LibraryJobReport(overdue_loans=overdue, expired_holds=expired)

"""The working-day calendar deadlines are counted on (issue 14.2; domain.md K5).

Kyrgyzstan's statutory holidays come from the maintained ``holidays`` package (the fixed dates
and the lunar Orozo Ait and Kurman Ait, which it estimates until a year's decree is out), so no
year is ever left without holidays. The ministry's rows in ``public_holiday`` override it: a
row with ``working = false`` adds a day off (a decree's extra holiday, a rest day moved onto a
weekday, an Ait fixed on another day), a row with ``working = true`` makes a day a working day
(a Saturday worked in exchange, or a package date the decree moved elsewhere).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Date, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import PublicHoliday
from resolvers import driver

COUNTRY = "KG"
# Names in English like the ministry's rows; the package also speaks ky and ru_KG.
LANGUAGE = "en_US"


@dataclass(frozen=True)
class CalendarDay:
    """A day off on the calendar, and whether the ministry decreed it (else: statutory)."""

    day: date
    name: str
    decreed: bool


@functools.cache
def statutory_holidays(year: int) -> dict[date, str]:
    """The statutory holidays of one year as the ``holidays`` package computes them (imported
    on the first deadline counted: ~2 MB a worker that counts none does not hold)."""
    import holidays

    computed = holidays.country_holidays(COUNTRY, years=year, language=LANGUAGE)
    return {day: str(name) for day, name in computed.items()}


async def _decrees(session: AsyncSession, first: date, last: date) -> dict[date, PublicHoliday]:
    # Through the driver, the rows' objects the session's (issue 21).
    rows = await driver.rows(session, _DECREES, {"first": first, "last": last})
    return {row[_HOLIDAY.key_at]: driver.object_of(session, _HOLIDAY, row) for row in rows}


_HOLIDAY = driver.entity(PublicHoliday)
_DECREES = driver.Made(
    select(*_HOLIDAY.columns).where(
        PublicHoliday.day >= bindparam("first", type_=Date),
        PublicHoliday.day <= bindparam("last", type_=Date),
    )
)


async def holidays_of_year(session: AsyncSession, year: int) -> list[CalendarDay]:
    """The days off of a calendar year (weekends aside), in date order: the statutory ones
    the ministry did not make working days, and the ministry's own."""
    decrees = await _decrees(session, date(year, 1, 1), date(year, 12, 31))
    days = {
        day: CalendarDay(day, name, decreed=False) for day, name in statutory_holidays(year).items()
    }
    for day, row in decrees.items():
        if row.working:
            days.pop(day, None)
        else:
            days[day] = CalendarDay(day, row.name, decreed=True)
    return [days[d] for d in sorted(days)]


async def add_working_days(
    session: AsyncSession, start: date, days: int, weekend: Sequence[int]
) -> date:
    """The ``days``-th working day after ``start``: weekends (ISO weekdays of the season's
    policy) and holidays are skipped; the ministry's rows decide over both."""
    horizon = start + timedelta(days=days * 3 + 31)
    decrees = await _decrees(session, start + timedelta(days=1), horizon)
    statutory: set[date] = set()
    for year in range(start.year, horizon.year + 1):
        statutory.update(statutory_holidays(year))
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        decree = decrees.get(day)
        if decree is not None:
            working = decree.working
        else:
            working = day.isoweekday() not in weekend and day not in statutory
        if working:
            counted += 1
    return day

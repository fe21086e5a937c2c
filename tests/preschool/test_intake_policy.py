"""The ministry's policy rows: seasons, their figures and the holiday calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import IntakeKind
from resolvers import intake as intake_service
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import make_intake_season
from tests.preschool.helpers import errors_of

OPEN = """
mutation Open($input: OpenIntakeSeasonInput!) {
  openIntakeSeason(input: $input) {
    season { year kind offerDeadlineWorkingDays startsOn ageGroups { code groupSize } benefitCategories { code } }
    userErrors { field code }
  }
}
"""
HOLIDAYS = """
mutation Holidays($input: SetPublicHolidaysInput!) {
  setPublicHolidays(input: $input) { holidays { date name } userErrors { field code } }
}
"""


class TestIntakePolicy:
    async def test_ministry_opens_next_season_with_the_latest_policy(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given this year's kindergarten season
        season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN)
        await session.commit()
        year = max(season.year, 2027) + 1
        # when the ministry opens the following one, twice, and a guardian tries
        body = await hub.gql(
            OPEN, {"input": {"kind": "KINDERGARTEN", "year": year}}, token=ministry
        )
        again = await hub.gql(
            OPEN, {"input": {"kind": "KINDERGARTEN", "year": year}}, token=ministry
        )
        guardian = await hub.gql(
            OPEN,
            {"input": {"kind": "KINDERGARTEN", "year": year + 1}},
            token=hub.token(Role.GUARDIAN, person_id=1),
        )
        # then it carries the same figures, moved to its year; once only; by the ministry only
        opened = body["data"]["openIntakeSeason"]["season"]
        assert opened["year"] == year
        assert opened["offerDeadlineWorkingDays"] == 15
        assert [g["groupSize"] for g in opened["ageGroups"]] == [25, 30, 30, 30, 30]
        assert date.fromisoformat(opened["startsOn"]).year == year
        assert errors_of(again, "openIntakeSeason") == ["SEASON_EXISTS"]
        assert errors_of(guardian, "openIntakeSeason") == ["FORBIDDEN"]
        seasons = await hub.data("{ intakeSeasons(kind: KINDERGARTEN) { year } }")
        assert year in [s["year"] for s in seasons["intakeSeasons"]]

    async def test_decreed_days_are_replaced_per_year_over_the_statutory_calendar_k5(
        self, hub: Hub, ministry: str
    ) -> None:
        # given the ministry's decreed days of 2028: an extra day off and a Saturday worked
        days = [
            {"date": "2028-01-08", "name": "Extra day off", "working": False},
            {"date": "2028-03-04", "name": "Worked for 2028-03-07", "working": True},
        ]
        # when it sets them (once for the wrong year), and anyone reads the calendar
        body = await hub.gql(HOLIDAYS, {"input": {"year": 2028, "holidays": days}}, token=ministry)
        wrong_year = await hub.gql(
            HOLIDAYS, {"input": {"year": 2029, "holidays": days}}, token=ministry
        )
        listed = await hub.data("{ publicHolidays(year: 2028) { date name decreed } }")
        # then the year's days off are the statutory ones plus the decreed day off
        assert errors_of(body, "setPublicHolidays") == []
        assert errors_of(wrong_year, "setPublicHolidays") == ["INVALID_DATE"]
        listed_days = {(h["date"], h["decreed"]) for h in listed["publicHolidays"]}
        assert ("2028-01-08", True) in listed_days
        assert ("2028-03-21", False) in listed_days  # Nooruz, computed
        assert "2028-03-04" not in {h["date"] for h in listed["publicHolidays"]}


class TestWorkingDayCalendar:
    async def test_a_year_after_2027_has_its_holidays_and_aits_without_any_row_k5(
        self, hub: Hub
    ) -> None:
        # given no row of the ministry for 2029
        # when anyone reads the 2029 calendar
        listed = await hub.data("{ publicHolidays(year: 2029) { date name decreed } }")
        # then the fixed dates and both lunar Aits are there, computed
        days = {h["date"]: h for h in listed["publicHolidays"]}
        assert {"2029-01-01", "2029-03-08", "2029-03-21", "2029-08-31"} <= set(days)
        assert days["2029-02-14"]["name"].startswith("Eid al-Fitr")  # Orozo Ait
        assert days["2029-04-24"]["name"].startswith("Eid al-Adha")  # Kurman Ait
        assert not any(h["decreed"] for h in days.values())

    async def test_deadline_after_2027_skips_computed_holidays_k5(
        self, session: AsyncSession
    ) -> None:
        # given Friday 20 April 2029, Kurman Ait computed on Tuesday 24 April
        # when a 3-working-day deadline is counted
        deadline = await intake_service.add_working_days(session, date(2029, 4, 20), 3, [6, 7])
        # then the weekend and the Ait are skipped: Mon 23, Wed 25, Thu 26
        assert deadline == date(2029, 4, 26)

    async def test_ministry_rows_override_the_computed_calendar_k5(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given the decree: Saturday 21 April worked, Monday 23 off in exchange, and the Ait
        # held on another day than the computed 24 April
        days = [
            {"date": "2029-04-21", "name": "Worked for 23 April", "working": True},
            {"date": "2029-04-23", "name": "Rest day moved from 21 April"},
            {"date": "2029-04-24", "name": "Kurman Ait decreed on 27 April", "working": True},
            {"date": "2029-04-27", "name": "Kurman Ait"},
        ]
        body = await hub.gql(HOLIDAYS, {"input": {"year": 2029, "holidays": days}}, token=ministry)
        assert errors_of(body, "setPublicHolidays") == []
        # when a 3-working-day deadline is counted from Friday 20 April
        deadline = await intake_service.add_working_days(session, date(2029, 4, 20), 3, [6, 7])
        # then Sat 21, Tue 24 and Wed 25 are the three working days
        assert deadline == date(2029, 4, 25)
        listed = await hub.data("{ publicHolidays(year: 2029) { date decreed } }")
        off = {h["date"]: h["decreed"] for h in listed["publicHolidays"]}
        assert off["2029-04-23"] is True
        assert off["2029-04-27"] is True
        assert "2029-04-24" not in off

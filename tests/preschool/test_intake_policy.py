"""The ministry's policy rows: seasons, their figures and the holiday calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import IntakeKind
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

    async def test_holiday_calendar_is_replaced_per_year(self, hub: Hub, ministry: str) -> None:
        days = [
            {"date": "2028-01-01", "name": "New Year"},
            {"date": "2028-03-21", "name": "Nooruz"},
        ]
        body = await hub.gql(HOLIDAYS, {"input": {"year": 2028, "holidays": days}}, token=ministry)
        wrong_year = await hub.gql(
            HOLIDAYS, {"input": {"year": 2029, "holidays": days}}, token=ministry
        )
        listed = await hub.data("{ publicHolidays(year: 2028) { date name } }")
        assert errors_of(body, "setPublicHolidays") == []
        assert errors_of(wrong_year, "setPublicHolidays") == ["INVALID_DATE"]
        assert listed["publicHolidays"] == days

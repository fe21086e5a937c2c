"""Differencing across differently filtered tables: a filtered table never gives away, by
subtraction from the same table with a filter dropped or narrowed, fewer people than the
threshold (resolvers/analytics/differencing.py); the ministry still reads exact counts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Sex
from resolvers.access import Role
from tests.analytics.helpers import add_pupils
from tests.conftest import Hub
from tests.factories import BISHKEK, CHUY, CHUY_SOKULUK, gid, make_institution

TABLE = """
query Table($groupBy: [StatisticsDimension!], $filter: StatisticsFilter) {
  statistics(measure: PUPILS, groupBy: $groupBy, filter: $filter, censusDate: "2026-09-15") {
    total cells { grade sex count } }
}
"""


async def table(hub: Hub, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    return (await hub.data(TABLE, variables, token=token))["statistics"]


class TestDroppedFilter:
    async def test_a_region_filter_hides_what_the_country_total_would_give_away(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given 20 pupils in Bishkek and 3 in Chuy: the country shows 23, hiding nothing
        # a one-region table does not already hide
        await add_pupils(session, await make_institution(session), n=20, grade=5)
        village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        await add_pupils(session, village, n=3, grade=5)
        await session.commit()
        assert (await table(hub, {}))["total"] == 23
        # when an anonymous caller filters Bishkek
        bishkek = {"filter": {"regionIds": [gid("Region", BISHKEK)]}}
        protected = await table(hub, bishkek)
        # then Bishkek's 20 is hidden: 23 - 20 would give away Chuy's 3
        assert protected["total"] is None
        # and the ministry reads the exact figure
        exact = await table(hub, bishkek, token=hub.token(Role.MINISTRY))
        assert exact["total"] == 20

    async def test_an_age_range_hides_what_the_ages_left_out_would_give_away(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given 10 pupils aged 10 and 2 aged 13 (one school, grade 5 and 8)
        school = await make_institution(session)
        await add_pupils(session, school, n=10, grade=5)
        await add_pupils(session, school, n=2, grade=8, sex=Sex.MALE)
        await session.commit()
        # when the table is filtered to ages up to 11, grouped by grade
        young = await table(hub, {"groupBy": ["GRADE"], "filter": {"ageTo": 11}})
        # then the total is hidden (the unfiltered 12 minus it is 2), and so is grade 5's
        # cell, which adds up to it
        assert young["total"] is None
        assert {c["grade"]: c["count"] for c in young["cells"]} == {5: None}


class TestNarrowedFilter:
    async def test_a_value_list_hides_a_cell_one_value_fewer_would_give_away(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given grade 1: 3 pupils, grade 2: 10 and grade 3: 12
        school = await make_institution(session)
        await add_pupils(session, school, n=3, grade=1)
        await add_pupils(session, school, n=10, grade=2)
        await add_pupils(session, school, n=12, grade=3)
        await session.commit()
        # when filtered to grades 1 and 2, grouped by sex
        both = await table(hub, {"groupBy": ["SEX"], "filter": {"grades": [1, 2]}})
        only_two = await table(hub, {"groupBy": ["SEX"], "filter": {"grades": [2]}})
        # then the grades 1-2 cell is hidden (minus grade 2's 10 it gives grade 1's 3)
        assert [c["count"] for c in both["cells"]] == [None]
        assert both["total"] is None
        # while grade 2 alone is shown: what it leaves out (grades 1 and 3) counts 15, and
        # the table that adds grade 1's 3 is the one hidden
        assert only_two["total"] == 10

    async def test_a_filter_whose_slices_and_complement_are_large_changes_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given grades of 10, 12 and 15 pupils in Bishkek, 9 girls and 8 boys in Chuy
        school = await make_institution(session)
        for grade, n in ((1, 10), (2, 12), (3, 15)):
            await add_pupils(session, school, n=n, grade=grade)
        village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        await add_pupils(session, village, n=9, grade=4)
        await add_pupils(session, village, n=8, grade=4, sex=Sex.MALE)
        await session.commit()
        # when filtered to Bishkek's grades 1-2, grouped by grade
        body = await table(
            hub,
            {
                "groupBy": ["GRADE"],
                "filter": {"regionIds": [gid("Region", BISHKEK)], "grades": [1, 2]},
            },
        )
        # then every cell shows: no filter leaves out or lets in a small group
        assert {c["grade"]: c["count"] for c in body["cells"]} == {1: 10, 2: 12}
        assert body["total"] == 22

    async def test_the_ministry_is_never_protected(self, hub: Hub, session: AsyncSession) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=3, grade=1)
        await add_pupils(session, school, n=10, grade=2, entry_date=date(2026, 9, 1))
        await session.commit()
        body = await table(
            hub, {"groupBy": ["SEX"], "filter": {"grades": [1, 2]}}, token=hub.token(Role.MINISTRY)
        )
        assert body["total"] == 13

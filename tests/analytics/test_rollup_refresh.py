"""The nightly refresh recounts only what changed (issue 19): triggers note each changed area
with the first census date it alters, and the job recounts those areas of those dates; the
rollup stays equal to a recount of every date."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import Sex, StatRefresh, stat_cell
from resolvers import analytics as analytics_service
from tests.analytics.helpers import CENSUS, add_pupils, add_teachers
from tests.factories import BISHKEK, BISHKEK_LENIN, CHUY, CHUY_SOKULUK, make_institution

Area = analytics_service.Area
LENIN = Area(BISHKEK, BISHKEK_LENIN)
SOKULUK = Area(CHUY, CHUY_SOKULUK)


async def stored(session: AsyncSession, day: date) -> list[tuple[Any, ...]]:
    rows = await session.execute(select(stat_cell).where(stat_cell.c.census_date == day))
    return sorted(tuple(r)[1:] for r in rows)


async def assert_rollups_equal_recounts(session: AsyncSession) -> None:
    for day in await analytics_service.rolled_up_dates(session):
        assert await stored(session, day) == sorted(await analytics_service.recount(session, day))


async def refreshes(session: AsyncSession) -> dict[date, int | None]:
    """census date -> areas the last refresh recounted (None: the whole date)."""
    rows = await session.execute(select(StatRefresh.census_date, StatRefresh.areas))
    return {d: a for d, a in rows}


async def two_districts(session: AsyncSession) -> tuple[Any, Any]:
    """A Bishkek school and a Chuy village school with pupils since 2022, all dates built."""
    city = await make_institution(session)
    village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
    await add_pupils(session, city, n=6, grade=3, entry_date=date(2022, 9, 1))
    await add_pupils(session, village, n=7, grade=4, entry_date=date(2022, 9, 1))
    await add_teachers(session, village, n=2)
    await session.commit()
    built = await analytics_service.refresh_recent(session)
    await session.commit()
    assert len(built) == 5
    assert set((await refreshes(session)).values()) == {None}
    assert await session.scalar(text("SELECT count(*) FROM stat_dirty")) == 0
    return city, village


class TestIncrementalRefresh:
    async def test_nothing_changed_nothing_is_recounted(self, session: AsyncSession) -> None:
        # given rollups of the last five census dates
        await two_districts(session)
        # when the job runs again with no change
        touched = await analytics_service.refresh_recent(session)
        # then it recounts nothing
        assert touched == {}

    async def test_a_change_after_the_census_alters_no_rolled_up_date(
        self, session: AsyncSession
    ) -> None:
        # given rollups, then a pupil who joins after the census date
        city, _ = await two_districts(session)
        await add_pupils(session, city, n=1, grade=3, entry_date=date(2026, 11, 2))
        await session.commit()
        # when the job refreshes
        touched = await analytics_service.refresh_recent(session)
        await session.commit()
        # then no census date was recounted, and every rollup still equals its recount
        assert touched == {}
        await assert_rollups_equal_recounts(session)

    async def test_a_back_dated_exit_recounts_its_district_of_the_dates_after_it(
        self, session: AsyncSession
    ) -> None:
        # given rollups, then two city pupils whose leaving is recorded late: they left in
        # June 2026, before the last census but after the earlier ones
        await two_districts(session)
        await session.execute(
            text(
                "UPDATE enrollment SET exit_date = '2026-06-01', exit_reason = 'transferred' "
                "WHERE id IN (SELECT e.id FROM enrollment AS e JOIN institution AS i "
                "ON i.id = e.institution_id WHERE i.district_id = :district LIMIT 2)"
            ),
            {"district": BISHKEK_LENIN},
        )
        await session.commit()
        # when the job refreshes
        touched = await analytics_service.refresh_recent(session)
        await session.commit()
        # then only the last census date was touched, and only one area of it
        assert list(touched) == [CENSUS.isoformat()]
        assert (await refreshes(session))[CENSUS] == 1
        await assert_rollups_equal_recounts(session)
        city = await session.scalar(
            text(
                "SELECT sum(count) FROM stat_cell WHERE census_date = :d "
                "AND measure = 'pupils' AND district_id = :district"
            ),
            {"d": CENSUS, "district": BISHKEK_LENIN},
        )
        assert city == 4

    async def test_a_pupil_whose_sex_is_corrected_is_recounted_on_every_date(
        self, session: AsyncSession
    ) -> None:
        # given rollups, then a village pupil's sex corrected in the registry
        await two_districts(session)
        await session.execute(
            text(
                "UPDATE person SET sex = :sex WHERE id = (SELECT e.person_id FROM enrollment "
                "AS e JOIN institution AS i ON i.id = e.institution_id "
                "WHERE i.district_id = :district ORDER BY e.id LIMIT 1)"
            ),
            {"sex": Sex.MALE.value, "district": CHUY_SOKULUK},
        )
        await session.commit()
        # when the job refreshes
        touched = await analytics_service.refresh_recent(session)
        await session.commit()
        # then every date recounted the village's district only, equal to a recount
        assert len(touched) == 5
        assert set((await refreshes(session)).values()) == {1}
        await assert_rollups_equal_recounts(session)

    async def test_a_school_moved_to_another_district_recounts_both(
        self, session: AsyncSession
    ) -> None:
        # given rollups, then the city school re-registered in a Chuy district
        city, _ = await two_districts(session)
        city.region_id, city.district_id = CHUY, CHUY_SOKULUK
        await session.commit()
        # when the job refreshes
        await analytics_service.refresh_recent(session)
        await session.commit()
        # then both areas were recounted on every date, and the rollups equal recounts
        assert set((await refreshes(session)).values()) == {2}
        await assert_rollups_equal_recounts(session)
        assert (
            await session.scalar(
                text("SELECT count(*) FROM stat_cell WHERE census_date = :d AND district_id = :d2"),
                {"d": CENSUS, "d2": BISHKEK_LENIN},
            )
            == 0
        )

    async def test_new_enrollments_and_teachers_are_counted_after_the_refresh(
        self, session: AsyncSession
    ) -> None:
        # given rollups, then pupils added to the village school from 2023
        _, village = await two_districts(session)
        await add_pupils(session, village, n=3, grade=5, entry_date=date(2023, 9, 1))
        await session.commit()
        # when the job refreshes, then the dates from 2023 on were recounted
        touched = await analytics_service.refresh_recent(session)
        await session.commit()
        assert sorted(touched) == [f"{y}-09-15" for y in (2023, 2024, 2025, 2026)]
        # and a teacher who started in 2020 recounts every date
        await add_teachers(session, village, n=1)
        await session.commit()
        assert len(await analytics_service.refresh_recent(session)) == 5
        await session.commit()
        await assert_rollups_equal_recounts(session)

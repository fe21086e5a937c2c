"""Statistics as of a census date: counts from enrollments, rollups equal to a recount,
disclosure control for everyone but the ministry, and exports."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Sex, stat_cell
from resolvers import analytics as analytics_service
from resolvers import jobs
from resolvers.access import Role
from resolvers.access.keys import load_pepper
from tests.analytics.helpers import CENSUS, add_pupils, add_teachers
from tests.conftest import Hub
from tests.factories import (
    BISHKEK_LENIN,
    CHUY,
    CHUY_SOKULUK,
    gid,
    make_api_key,
    make_institution,
)

STATISTICS = """
query Statistics($measure: Measure!, $groupBy: [StatisticsDimension!], $date: Date,
                 $filter: StatisticsFilter) {
  statistics(measure: $measure, groupBy: $groupBy, censusDate: $date, filter: $filter) {
    censusDate total exact fromRollup
    cells { grade sex settlement level count suppressed region { code } }
  }
}
"""

STATISTICS_BY_GRADE = """
{ statistics(measure: PUPILS, groupBy: [GRADE], censusDate: "2026-09-15") {
    total cells { grade count suppressed } } }
"""

EXPORT = """
query Export($groupBy: [StatisticsDimension!], $format: ExportFormat!) {
  statistics(measure: PUPILS, groupBy: $groupBy, censusDate: "2026-09-15") {
    export(format: $format) { filename mediaType contentBase64 }
  }
}
"""


async def arrange_grades(session: AsyncSession) -> None:
    """Grade 1: 3 pupils, grade 2: 6, grade 3: 10, in one Bishkek school."""
    school = await make_institution(session)
    await add_pupils(session, school, n=3, grade=1)
    await add_pupils(session, school, n=6, grade=2)
    await add_pupils(session, school, n=10, grade=3)
    await session.commit()


def counts(body: dict[str, Any], key: str) -> dict[Any, int | None]:
    return {c[key]: c["count"] for c in body["statistics"]["cells"]}


class TestCensusDate:
    async def test_pupils_count_only_when_enrolled_on_the_census_date(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: 5 pupils enrolled, 5 who left before the census, 5 who came after it
        school = await make_institution(session)
        await add_pupils(session, school, n=5, grade=4)
        await add_pupils(
            session, school, n=5, grade=4, entry_date=date(2025, 9, 1), exit_date=date(2026, 6, 1)
        )
        await add_pupils(session, school, n=5, grade=4, entry_date=date(2026, 10, 1))
        await session.commit()
        # when
        body = await hub.data(
            STATISTICS, {"measure": "PUPILS", "date": "2026-09-15"}, token=hub.token(Role.MINISTRY)
        )
        # then
        assert body["statistics"]["total"] == 5
        assert body["statistics"]["fromRollup"] is False

    async def test_dimensions_come_from_the_institution_and_the_pupil(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        city = await make_institution(session)
        village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        await add_pupils(session, city, n=7, grade=8, sex=Sex.MALE)
        await add_pupils(session, village, n=9, grade=11)
        await session.commit()
        body = await hub.data(
            STATISTICS,
            {"measure": "PUPILS", "groupBy": ["SETTLEMENT", "LEVEL"], "date": "2026-09-15"},
        )
        cells = {(c["settlement"], c["level"]): c["count"] for c in body["statistics"]["cells"]}
        assert cells == {("URBAN", "ISCED_2"): 7, ("RURAL", "ISCED_3"): 9}


class TestRollups:
    async def test_rollup_equals_a_recount_after_the_job_refreshes_it(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: pupils, teachers and a kindergarten
        school = await make_institution(session)
        kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        await add_pupils(session, school, n=6, grade=1, class_group="1A")
        await add_pupils(session, school, n=4, grade=1, sex=Sex.MALE, class_group="1B")
        await add_teachers(session, school, n=2)
        await make_institution(session, district_id=BISHKEK_LENIN, design_capacity=120)
        del kindergarten
        # when
        cells = await analytics_service.refresh(session, CENSUS)
        await session.commit()
        # then: the rolled-up cells are the recount's, one for one
        stored = sorted(
            tuple(r)[1:]
            for r in await session.execute(
                select(stat_cell).where(stat_cell.c.census_date == CENSUS)
            )
        )
        assert cells == len(stored) > 0
        assert stored == sorted(await analytics_service.recount(session, CENSUS))
        body = await hub.data(
            STATISTICS, {"measure": "PUPILS", "date": "2026-09-15"}, token=hub.token(Role.MINISTRY)
        )
        assert body["statistics"]["fromRollup"] is True
        assert body["statistics"]["total"] == 10

    async def test_the_daily_job_rolls_up_the_last_five_census_dates(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=5, grade=2)
        await session.commit()
        done = await jobs.run_all(hub.settings.database_url or "")
        assert done["statistics_cells"] > 0
        body = await hub.data("{ censusDates }")
        assert body["censusDates"] == [
            d.isoformat() for d in analytics_service.recent_census_dates(5)
        ]

    async def test_rollup_catches_up_with_changes_when_refreshed(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=5, grade=2)
        await analytics_service.refresh(session, CENSUS)
        await add_pupils(session, school, n=5, grade=2)
        await session.commit()
        assert sorted(
            tuple(r)[1:]
            for r in await session.execute(
                select(stat_cell).where(stat_cell.c.census_date == CENSUS)
            )
        ) != sorted(await analytics_service.recount(session, CENSUS))
        await analytics_service.refresh(session, CENSUS)
        await session.commit()
        body = await hub.data(STATISTICS, {"measure": "PUPILS", "date": "2026-09-15"})
        assert body["statistics"]["total"] == 10

    async def test_teachers_places_and_classes_are_counted(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session, design_capacity=300)
        await add_pupils(session, school, n=5, grade=1, class_group="1A")
        await add_pupils(session, school, n=5, grade=1, class_group="1B")
        await add_teachers(session, school, n=6)
        await session.commit()
        totals = {}
        for measure in ("TEACHERS", "STAFF", "PLACES", "CLASSES", "INSTITUTIONS"):
            body = await hub.data(STATISTICS, {"measure": measure, "date": "2026-09-15"})
            totals[measure] = body["statistics"]["total"]
        assert totals == {
            "TEACHERS": 6,
            "STAFF": 6,
            "PLACES": 300,
            "CLASSES": 2,
            "INSTITUTIONS": 1,
        }


class TestDisclosureControl:
    async def test_ministry_sees_exact_counts(self, hub: Hub, session: AsyncSession) -> None:
        await arrange_grades(session)
        body = await hub.data(
            STATISTICS,
            {"measure": "PUPILS", "groupBy": ["GRADE"], "date": "2026-09-15"},
            token=hub.token(Role.MINISTRY),
        )
        assert counts(body, "grade") == {1: 3, 2: 6, 3: 10}
        assert body["statistics"]["exact"] is True

    async def test_anonymous_caller_cannot_see_or_derive_a_small_cell(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: grade 1 has 3 pupils (under the threshold of 5)
        await arrange_grades(session)
        # when
        body = await hub.data(
            STATISTICS, {"measure": "PUPILS", "groupBy": ["GRADE"], "date": "2026-09-15"}
        )
        # then: grade 1 is hidden, and so is grade 2 (the total minus grade 3 would give it)
        assert counts(body, "grade") == {1: None, 2: None, 3: 10}
        assert body["statistics"]["total"] == 19
        assert body["statistics"]["exact"] is False

    async def test_partner_key_reads_protected_tables_too(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange_grades(session)
        for role in (Role.REGION_OFFICER, Role.SCHOOL_ADMIN):
            body = await hub.data(
                STATISTICS,
                {"measure": "PUPILS", "groupBy": ["GRADE"], "date": "2026-09-15"},
                token=hub.token(
                    role, scopes=["region:8"] if role == Role.REGION_OFFICER else ["institution:1"]
                ),
            )
            assert counts(body, "grade")[1] is None

    async def test_a_partners_api_key_never_sees_a_small_cell(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: a partner whose key's subgraph holds the statistics
        await arrange_grades(session)
        _, key = await make_api_key(
            session,
            pepper=load_pepper(hub.settings),
            allowed_fields=["Query.statistics", "StatisticsTable.*", "StatisticsCell.*"],
        )
        await session.commit()
        # when
        response = await hub.post(STATISTICS_BY_GRADE, headers={"Authorization": f"Bearer {key}"})
        # then
        body = response.json()
        assert "errors" not in body, body
        assert counts(body["data"], "grade") == {1: None, 2: None, 3: 10}

    async def test_two_dimensions_hide_a_cell_in_its_row_and_its_column(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: Bishkek 12 girls and 3 boys, Chuy 8 girls and 7 boys
        city = await make_institution(session)
        village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        await add_pupils(session, city, n=12, grade=5)
        await add_pupils(session, city, n=3, grade=5, sex=Sex.MALE)
        await add_pupils(session, village, n=8, grade=5)
        await add_pupils(session, village, n=7, grade=5, sex=Sex.MALE)
        await session.commit()
        # when
        body = await hub.data(
            STATISTICS,
            {"measure": "PUPILS", "groupBy": ["REGION", "SEX"], "date": "2026-09-15"},
        )
        # then: no row or column of the table has exactly one hidden cell, so neither the
        # region totals nor the sex totals give the 3 boys away
        cells = {(c["region"]["code"], c["sex"]): c["count"] for c in body["statistics"]["cells"]}
        assert cells[("KG-GB", "MALE")] is None
        for region in ("KG-GB", "KG-C"):
            assert sum(v is None for (r, _), v in cells.items() if r == region) != 1
        for sex in ("FEMALE", "MALE"):
            assert sum(v is None for (_, s), v in cells.items() if s == sex) != 1

    async def test_a_total_under_the_threshold_is_hidden(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=2, grade=9)
        await session.commit()
        body = await hub.data(STATISTICS, {"measure": "PUPILS", "date": "2026-09-15"})
        assert body["statistics"]["total"] is None


class TestSuppressionRule:
    """The rule itself on tables no fixture would build (docs/domains/analytics.md)."""

    def test_every_line_has_zero_or_at_least_two_hidden_cells(self) -> None:
        from resolvers.analytics.disclosure import Cell, suppress

        grid = {
            (r, c): n
            for r, row in enumerate([[1, 9, 30], [20, 2, 40], [50, 60, 70]])
            for c, n in enumerate(row)
        }
        cells = [Cell(keys=k, count=n) for k, n in grid.items()]
        suppress(cells, 5)
        hidden = {c.keys for c in cells if c.suppressed}
        assert {(0, 0), (1, 1)} <= hidden
        for axis in (0, 1):
            for line in range(3):
                on_line = [k for k in hidden if k[axis] == line]
                assert len(on_line) != 1


class TestExport:
    async def test_csv_holds_what_the_caller_sees_with_isced_levels(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange_grades(session)
        body = await hub.data(EXPORT, {"groupBy": ["GRADE"], "format": "CSV"})
        file = body["statistics"]["export"]
        assert file["filename"] == "pupils-2026-09-15.csv"
        rows = list(csv.reader(io.StringIO(base64.b64decode(file["contentBase64"]).decode())))
        assert rows == [
            ["grade", "isced_level", "pupils"],
            ["1", "ISCED_1", "<5"],
            ["2", "ISCED_1", "<5"],
            ["3", "ISCED_1", "10"],
            ["total", "", "19"],
        ]

    async def test_xlsx_opens_in_a_spreadsheet(self, hub: Hub, session: AsyncSession) -> None:
        await arrange_grades(session)
        body = await hub.data(
            EXPORT, {"groupBy": ["REGION"], "format": "XLSX"}, token=hub.token(Role.MINISTRY)
        )
        data = base64.b64decode(body["statistics"]["export"]["contentBase64"])
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0] == ["region_code", "region_name", "pupils"]
        assert rows[1][0] == "KG-GB"
        assert rows[1][2] == 19
        assert rows[-1][-1] == 19


class TestGraph:
    async def test_grade_levels_follow_the_twelve_year_standard(self, hub: Hub) -> None:
        body = await hub.data("{ gradeLevels { grade isced } }")
        levels = {g["grade"]: g["isced"] for g in body["gradeLevels"]}
        assert levels[0] == "ISCED_02"
        assert levels[6] == "ISCED_1"
        assert levels[7] == "ISCED_2"
        assert levels[12] == "ISCED_3"

    async def test_filter_by_region_id(self, hub: Hub, session: AsyncSession) -> None:
        city = await make_institution(session)
        village = await make_institution(session, region_id=CHUY, district_id=CHUY_SOKULUK)
        await add_pupils(session, city, n=5, grade=1)
        await add_pupils(session, village, n=6, grade=1)
        await session.commit()
        body = await hub.data(
            STATISTICS,
            {
                "measure": "PUPILS",
                "date": "2026-09-15",
                "filter": {"regionIds": [gid("Region", CHUY)]},
            },
        )
        assert body["statistics"]["total"] == 6

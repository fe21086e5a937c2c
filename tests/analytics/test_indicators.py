"""The ministry's indicators and the population table they divide by."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import InstitutionKind, Sex
from resolvers.access import Role
from resolvers.analytics.population import PopulationProblem, PopulationRefused, import_population
from tests.analytics.helpers import add_population, add_pupils, add_teachers
from tests.conftest import Hub
from tests.factories import BISHKEK_LENIN, make_enrollment, make_institution, make_person

INDICATORS = """
query Indicators($by: AreaLevel!, $kinds: [IndicatorKind!]) {
  indicators(by: $by, kinds: $kinds, censusDate: "2026-09-15") {
    censusDate
    values { kind value numerator denominator region { code } district { code } }
  }
}
"""


def value_of(body: dict[str, Any], kind: str, region: str | None) -> dict[str, Any]:
    for v in body["indicators"]["values"]:
        code = v["region"]["code"] if v["region"] else None
        if v["kind"] == kind and code == region:
            return v
    raise AssertionError(f"no {kind} for {region}")


class TestIndicators:
    async def test_pupils_per_teacher_class_size_and_occupancy(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session, design_capacity=40)
        await add_pupils(session, school, n=12, grade=1, class_group="1A")
        await add_pupils(session, school, n=8, grade=1, class_group="1B", sex=Sex.MALE)
        await add_teachers(session, school, n=4)
        await session.commit()
        body = await hub.data(
            INDICATORS,
            {"by": "REGION", "kinds": ["PUPILS_PER_TEACHER", "CLASS_SIZE", "OCCUPANCY"]},
            token=hub.token(Role.MINISTRY),
        )
        assert value_of(body, "PUPILS_PER_TEACHER", "KG-GB")["value"] == 5.0
        assert value_of(body, "CLASS_SIZE", "KG-GB")["value"] == 10.0
        assert value_of(body, "OCCUPANCY", "KG-GB")["value"] == 0.5
        # the country's figure (no region) equals the only region's here
        assert value_of(body, "PUPILS_PER_TEACHER", None)["value"] == 5.0

    async def test_kindergarten_coverage_and_intake_use_the_population(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: 10 four-year-olds in a kindergarten, 40 children aged 3-6 living there,
        # 10 first-graders against a cohort of 20 (born 2020, aged 5 on 1 January 2026)
        kindergarten = await make_institution(session, kind=InstitutionKind.KINDERGARTEN)
        for _ in range(10):
            child = await make_person(session, birth_date=date(2022, 5, 1))
            await make_enrollment(
                session, person=child, institution=kindergarten, entry_date=date(2025, 9, 1)
            )
        school = await make_institution(session)
        await add_pupils(session, school, n=10, grade=1)
        await add_population(
            session, district_id=BISHKEK_LENIN, year=2026, by_age={3: 10, 4: 10, 5: 20, 6: 10}
        )
        await session.commit()
        body = await hub.data(
            INDICATORS,
            {"by": "DISTRICT", "kinds": ["KINDERGARTEN_COVERAGE", "FIRST_GRADE_INTAKE"]},
            token=hub.token(Role.MINISTRY),
        )
        coverage = [
            v
            for v in body["indicators"]["values"]
            if v["kind"] == "KINDERGARTEN_COVERAGE" and v["district"]
        ]
        assert coverage[0]["numerator"] == 10
        assert coverage[0]["denominator"] == 50
        assert coverage[0]["value"] == 0.2
        intake = [
            v
            for v in body["indicators"]["values"]
            if v["kind"] == "FIRST_GRADE_INTAKE" and v["district"]
        ]
        assert intake[0]["value"] == 0.5

    async def test_without_population_a_ratio_is_unknown_not_zero(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=10, grade=3)
        await session.commit()
        body = await hub.data(INDICATORS, {"by": "REGION", "kinds": ["GROSS_ENROLLMENT_RATIO"]})
        ger = value_of(body, "GROSS_ENROLLMENT_RATIO", "KG-GB")
        assert ger["value"] is None
        assert ger["denominator"] is None

    async def test_anonymous_callers_get_no_small_numerators(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        school = await make_institution(session)
        await add_pupils(session, school, n=3, grade=3)
        await add_teachers(session, school, n=1)
        await session.commit()
        body = await hub.data(INDICATORS, {"by": "REGION", "kinds": ["PUPILS_PER_TEACHER"]})
        ratio = value_of(body, "PUPILS_PER_TEACHER", "KG-GB")
        assert ratio["numerator"] is None
        assert ratio["value"] is None


class TestPopulationImport:
    async def test_good_rows_load_and_bad_rows_are_reported_by_line(
        self, session: AsyncSession
    ) -> None:
        data = (
            "year,district_code,age,count\n"
            "2026,{code},3,120\n"
            "2026,{code},x,5\n"
            "2026,NOWHERE,4,10\n"
            "2026,{code},130,10\n"
            "2026,{code},3,99\n"
        )
        code = await session.scalar(
            text("SELECT code FROM district WHERE id = :i"),
            {"i": BISHKEK_LENIN},
        )
        report = await import_population(session, data.format(code=code).encode())
        assert report.rows_total == 5
        assert report.rows_loaded == 1
        assert [(p.line, p.code) for p in report.problems] == [
            (3, PopulationProblem.NOT_A_NUMBER),
            (4, PopulationProblem.UNKNOWN_DISTRICT),
            (5, PopulationProblem.OUT_OF_RANGE),
            (6, PopulationProblem.DUPLICATE_ROW),
        ]

    async def test_a_file_without_the_columns_is_refused(self, session: AsyncSession) -> None:
        with pytest.raises(PopulationRefused, match="district_code"):
            await import_population(session, b"year,district,age\n2026,x,3\n")

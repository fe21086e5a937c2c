"""The indicators the ministry reports, per region or district and for the country, as of a
census date: ratios of the census cells to each other and to the population table."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import Principal
from resolvers.analytics.disclosure import Cell, suppress, under_threshold
from resolvers.analytics.policy import DisclosureRule, disclosure_rule
from resolvers.analytics.rules import sees_exact_counts
from resolvers.analytics.statistics import default_census_date, source_for


class IndicatorKind(enum.StrEnum):
    PUPILS_PER_TEACHER = "pupils_per_teacher"
    CLASS_SIZE = "class_size"
    OCCUPANCY = "occupancy"
    KINDERGARTEN_COVERAGE = "kindergarten_coverage"
    QUEUE_LENGTH = "queue_length"
    FIRST_GRADE_INTAKE = "first_grade_intake"
    GROSS_ENROLLMENT_RATIO = "gross_enrollment_ratio"


class AreaLevel(enum.StrEnum):
    REGION = "region_id"
    DISTRICT = "district_id"


# numerator, denominator, whether each counts people (protected) or is public (places,
# classes and the statistics committee's population are published figures).
_PARTS: dict[IndicatorKind, tuple[str, str, bool, bool]] = {
    IndicatorKind.PUPILS_PER_TEACHER: ("pupils", "teachers", True, True),
    IndicatorKind.CLASS_SIZE: ("pupils_in_classes", "classes", True, False),
    IndicatorKind.OCCUPANCY: ("enrolled", "places", True, False),
    IndicatorKind.KINDERGARTEN_COVERAGE: ("kindergarten_3_6", "population_3_6", True, False),
    IndicatorKind.QUEUE_LENGTH: ("queue", "", True, False),
    IndicatorKind.FIRST_GRADE_INTAKE: ("grade_1", "population_cohort", True, False),
    IndicatorKind.GROSS_ENROLLMENT_RATIO: ("grades_1_12", "population_school_age", True, False),
}

_CENSUS_SUMS = """
SELECT {area} AS area,
  sum(count) FILTER (WHERE measure = 'pupils') AS pupils,
  sum(count) FILTER (WHERE measure = 'teachers' AND institution_kind = 'school') AS teachers,
  sum(count) FILTER (WHERE measure = 'classes') AS classes,
  sum(count) FILTER (WHERE measure IN ('pupils', 'preschool_children')
      AND institution_kind IN ('school', 'kindergarten')) AS enrolled,
  sum(count) FILTER (WHERE measure = 'places'
      AND institution_kind IN ('school', 'kindergarten')) AS places,
  sum(count) FILTER (WHERE measure = 'preschool_children' AND age BETWEEN 3 AND 6)
      AS kindergarten_3_6,
  sum(count) FILTER (WHERE measure = 'queue') AS queue,
  sum(count) FILTER (WHERE measure = 'pupils' AND grade = 1) AS grade_1,
  sum(count) FILTER (WHERE measure = 'pupils' AND grade BETWEEN 1 AND 12) AS grades_1_12
FROM {source}
GROUP BY ROLLUP ({area})
"""

# Population on 1 January of the census year. Children born in year Y-6 start grade 1 in Y
# (domain.md F4): on 1 January of Y they are 5, so the cohort is age 5 and the 12 grades'
# official ages are 5 to 16 on that day.
_POPULATION_SUMS = """
SELECT {area} AS area,
  sum(p.count) FILTER (WHERE p.age BETWEEN 3 AND 6) AS population_3_6,
  sum(p.count) FILTER (WHERE p.age = 5) AS population_cohort,
  sum(p.count) FILTER (WHERE p.age BETWEEN 5 AND 16) AS population_school_age
FROM population AS p JOIN district AS d ON d.id = p.district_id
WHERE p.year = :year
GROUP BY ROLLUP ({area})
"""


@dataclass
class IndicatorValue:
    kind: IndicatorKind
    region_id: int | None
    district_id: int | None
    value: float | None
    numerator: int | None
    denominator: int | None


@dataclass
class IndicatorTable:
    census_date: date
    values: list[IndicatorValue]
    # Read from the census date's rollup (False: counted live, as statistics.py does).
    from_rollup: bool


async def indicators(
    session: AsyncSession,
    principal: Principal,
    *,
    census_date: date | None,
    by: AreaLevel,
    kinds: list[IndicatorKind],
) -> IndicatorTable:
    """Each indicator of ``kinds`` per area of ``by`` (and the country, area None)."""
    day = census_date or await default_census_date(session)
    source, rolled = await source_for(session, day)
    sums: dict[Any, dict[str, Any]] = {}
    for row in await session.execute(
        text(_CENSUS_SUMS.format(area=by.value, source=source)), {"d": day}
    ):
        sums[row.area] = {k: int(v or 0) for k, v in row._mapping.items() if k != "area"}
    population_area = "d.region_id" if by == AreaLevel.REGION else "d.id"
    for row in await session.execute(
        text(_POPULATION_SUMS.format(area=population_area)), {"year": day.year}
    ):
        sums.setdefault(row.area, {}).update(
            {k: int(v) if v is not None else None for k, v in row._mapping.items() if k != "area"}
        )
    for counts in sums.values():
        counts["pupils_in_classes"] = counts.get("pupils", 0) if counts.get("classes") else 0
    region_of = await _regions_of_districts(session) if by == AreaLevel.DISTRICT else {}
    rule = None if sees_exact_counts(principal) else await disclosure_rule(session)
    values: list[IndicatorValue] = []
    for kind in kinds:
        values.extend(_indicator(kind, sums, by, region_of, rule=rule))
    return IndicatorTable(census_date=day, values=values, from_rollup=rolled)


def _indicator(
    kind: IndicatorKind,
    sums: dict[Any, dict[str, Any]],
    by: AreaLevel,
    region_of: dict[int, int],
    *,
    rule: DisclosureRule | None,
) -> list[IndicatorValue]:
    """One indicator per area; with a ``rule`` (all but the ministry) its parts that count
    people are protected by it."""
    top, bottom, top_people, bottom_people = _PARTS[kind]
    areas = sorted(sums, key=lambda a: (a is None, a or 0))
    tops = [Cell(keys=(a,), count=sums[a].get(top) or 0) for a in areas]
    bottoms = [Cell(keys=(a,), count=sums[a].get(bottom) or 0) for a in areas] if bottom else []
    if rule is not None:
        # The areas and the country form one line: the country's figure is their total.
        for cells, people in ((tops, top_people), (bottoms, bottom_people)):
            if people and cells:
                suppress(
                    cells[:-1] if areas[-1] is None else cells,
                    rule.threshold,
                    secondary=rule.secondary_suppression,
                )
                if areas[-1] is None:
                    cells[-1].suppressed = under_threshold(cells[-1].count, rule.threshold)
    out: list[IndicatorValue] = []
    for i, area in enumerate(areas):
        numerator = tops[i].shown
        denominator = bottoms[i].shown if bottom else None
        if bottom and bottom.startswith("population") and sums[area].get(bottom) is None:
            denominator = None
        value: float | None
        if not bottom:
            value = float(numerator) if numerator is not None else None
        elif numerator is None or not denominator:
            value = None
        else:
            value = round(numerator / denominator, 3)
        out.append(
            IndicatorValue(
                kind=kind,
                region_id=(region_of.get(area) if by == AreaLevel.DISTRICT else area),
                district_id=area if by == AreaLevel.DISTRICT else None,
                value=value,
                numerator=numerator,
                denominator=denominator,
            )
        )
    return out


async def _regions_of_districts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(text("SELECT id, region_id FROM district"))
    return {r.id: r.region_id for r in rows}

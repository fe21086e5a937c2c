"""The census: every measure counted from the registry as of one date, in one statement.

A pupil counts on the census date when an enrollment covers that day (entered on or before
it, not yet left); a staff member when a position does; an institution when open. Nothing
reads a stored counter: the rollups are this statement's result kept in a table."""

from __future__ import annotations

from datetime import date

from resolvers.analytics.dimensions import SETTLEMENT_SQL, isced_sql
from resolvers.clock import today

# The census day of a year (the ministry's statistical reports count as of 15 September).
CENSUS_MONTH, CENSUS_DAY = 9, 15
CELL_COLUMNS = (
    "measure",
    "region_id",
    "district_id",
    "settlement",
    "institution_kind",
    "ownership",
    "level",
    "grade",
    "sex",
    "age",
    "language",
    "age_group",
    "count",
)

# The areas a partial recount is limited to: parallel arrays of region and district ids (0 for
# "no district"), bound as :area_regions and :area_districts.
AREAS = "(SELECT * FROM unnest(CAST(:area_regions AS int[]), CAST(:area_districts AS int[])))"
INSTITUTION_IN_AREAS = f"(i.region_id, coalesce(i.district_id, 0)) IN {AREAS}"
QUEUE_IN_AREAS = f"(d.region_id, d.id) IN {AREAS}"

_INSTITUTIONS = """
inst AS (
    SELECT i.id, i.region_id, i.district_id, {settlement} AS settlement,
           i.kind AS institution_kind, i.ownership, i.languages[1] AS language,
           i.design_capacity
    FROM institution AS i
    JOIN region AS r ON r.id = i.region_id
    LEFT JOIN district AS d ON d.id = i.district_id
    WHERE i.kind <> 'foreign_university'
      AND (i.opened_on IS NULL OR i.opened_on <= :d)
      AND (i.closed_on IS NULL OR i.closed_on > :d)
      AND {institutions}
),
enr AS (
    SELECT e.institution_id, e.sector, e.grade_level, e.class_group, e.person_id
    FROM enrollment AS e
    WHERE e.entry_date <= :d AND (e.exit_date IS NULL OR e.exit_date > :d)
      AND e.sector IN ('preschool', 'school', 'vocational', 'higher')
      AND {enrollments}
)"""

_AGE = "date_part('year', age(CAST(:d AS date), p.birth_date))::smallint"

_CELLS = f"""
WITH __INSTITUTIONS__
SELECT CASE e.sector WHEN 'school' THEN 'pupils' WHEN 'preschool' THEN 'preschool_children'
            ELSE 'students' END AS measure,
       inst.region_id, inst.district_id, inst.settlement, inst.institution_kind,
       inst.ownership, {isced_sql("e.sector", "e.grade_level")} AS level,
       e.grade_level AS grade, p.sex, {_AGE} AS age, inst.language,
       NULL::varchar AS age_group, count(*) AS count
FROM enr AS e JOIN inst ON inst.id = e.institution_id JOIN person AS p ON p.id = e.person_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
UNION ALL
SELECT m.measure, inst.region_id, inst.district_id, inst.settlement, inst.institution_kind,
       inst.ownership, NULL::varchar, NULL::smallint, p.sex, {_AGE}, inst.language,
       NULL::varchar, count(*)
FROM staff_position AS s
JOIN inst ON inst.id = s.institution_id
JOIN person AS p ON p.id = s.person_id
CROSS JOIN LATERAL (
    SELECT 'staff' AS measure
    UNION ALL
    SELECT 'teachers' WHERE s.role IN ('teacher', 'educator', 'lecturer')
) AS m
WHERE s.start_date <= :d AND (s.end_date IS NULL OR s.end_date > :d)
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
UNION ALL
SELECT m.measure, inst.region_id, inst.district_id, inst.settlement, inst.institution_kind,
       inst.ownership, NULL::varchar, NULL::smallint, NULL::varchar, NULL::smallint,
       inst.language, NULL::varchar, sum(m.n)
FROM inst
CROSS JOIN LATERAL (
    SELECT 'institutions' AS measure, 1 AS n
    UNION ALL
    SELECT 'places', inst.design_capacity WHERE inst.design_capacity IS NOT NULL
) AS m
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
UNION ALL
SELECT 'classes', inst.region_id, inst.district_id, inst.settlement, inst.institution_kind,
       inst.ownership, {isced_sql("'school'", "c.grade_level")}, c.grade_level, NULL::varchar,
       NULL::smallint, inst.language, NULL::varchar, count(*)
FROM (
    SELECT DISTINCT e.institution_id, e.grade_level, e.class_group
    FROM enr AS e WHERE e.sector = 'school' AND e.class_group IS NOT NULL
) AS c
JOIN inst ON inst.id = c.institution_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
UNION ALL
SELECT 'queue', d.region_id, d.id, {SETTLEMENT_SQL}, 'kindergarten', NULL::varchar,
       'isced_02', NULL::smallint, p.sex, {_AGE}, NULL::varchar, a.age_group, count(*)
FROM kindergarten_application AS a
JOIN person AS p ON p.id = a.child_id
JOIN district AS d ON d.id = p.registered_district_id
JOIN region AS r ON r.id = d.region_id
WHERE a.status = 'waiting' AND a.registered_at < CAST(:d AS date) + 1 AND __QUEUE__
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
"""


def cells_sql(*, in_areas: bool = False) -> str:
    """The census statement: every cell of a date (``:d``), or only the cells of the listed
    areas (a partial recount after changes there, rollups.py)."""
    institutions = _INSTITUTIONS.format(
        settlement=SETTLEMENT_SQL,
        institutions=INSTITUTION_IN_AREAS if in_areas else "true",
        enrollments="e.institution_id IN (SELECT id FROM inst)" if in_areas else "true",
    )
    return _CELLS.replace("__INSTITUTIONS__", institutions).replace(
        "__QUEUE__", QUEUE_IN_AREAS if in_areas else "true"
    )


CELLS_SQL = cells_sql()


def census_date_of(year: int) -> date:
    return date(year, CENSUS_MONTH, CENSUS_DAY)


def latest_census_date(on: date | None = None) -> date:
    """The most recent census day on or before ``on`` (default: today)."""
    day = on or today()
    this_year = census_date_of(day.year)
    return this_year if this_year <= day else census_date_of(day.year - 1)


def recent_census_dates(years: int, on: date | None = None) -> list[date]:
    """The last ``years`` census days, oldest first (the years the /stats page charts)."""
    latest = latest_census_date(on)
    return [census_date_of(latest.year - back) for back in range(years - 1, -1, -1)]

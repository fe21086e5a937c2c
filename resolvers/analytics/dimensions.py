"""What statistics count and what they group by: measures, dimensions, the ISCED level of
each grade and the urban/rural rule."""

from __future__ import annotations

import enum


class Measure(enum.StrEnum):
    """A count the census takes (stat_cell.measure)."""

    PUPILS = "pupils"
    PRESCHOOL_CHILDREN = "preschool_children"
    STUDENTS = "students"
    STAFF = "staff"
    TEACHERS = "teachers"
    INSTITUTIONS = "institutions"
    PLACES = "places"
    CLASSES = "classes"
    QUEUE = "queue"


# Measures that count people: disclosure control applies to them. Institutions, their
# design capacity and class counts are public facts about public bodies.
PERSON_MEASURES = frozenset(
    {
        Measure.PUPILS,
        Measure.PRESCHOOL_CHILDREN,
        Measure.STUDENTS,
        Measure.STAFF,
        Measure.TEACHERS,
        Measure.QUEUE,
    }
)


class Dimension(enum.StrEnum):
    """A column of stat_cell a statistics query may group or filter by."""

    REGION = "region_id"
    DISTRICT = "district_id"
    SETTLEMENT = "settlement"
    INSTITUTION_KIND = "institution_kind"
    OWNERSHIP = "ownership"
    LEVEL = "level"
    GRADE = "grade"
    SEX = "sex"
    AGE = "age"
    LANGUAGE = "language"
    AGE_GROUP = "age_group"


class Settlement(enum.StrEnum):
    URBAN = "urban"
    RURAL = "rural"


class IscedLevel(enum.StrEnum):
    """ISCED 2011 levels used for international reporting (UNESCO UIS)."""

    ISCED_02 = "isced_02"
    ISCED_1 = "isced_1"
    ISCED_2 = "isced_2"
    ISCED_3 = "isced_3"
    ISCED_35 = "isced_35"
    ISCED_6 = "isced_6"


# Grade -> ISCED under the 12-year standard (domain.md S1: primary 1-6, basic 7-9, secondary
# 10-12); grade 0 is the pre-school preparatory year, ISCED 02.
ISCED_BY_GRADE: dict[int, IscedLevel] = {
    0: IscedLevel.ISCED_02,
    **{g: IscedLevel.ISCED_1 for g in range(1, 7)},
    **{g: IscedLevel.ISCED_2 for g in range(7, 10)},
    **{g: IscedLevel.ISCED_3 for g in range(10, 13)},
}
ISCED_BY_SECTOR: dict[str, IscedLevel] = {
    "preschool": IscedLevel.ISCED_02,
    "vocational": IscedLevel.ISCED_35,
    "higher": IscedLevel.ISCED_6,
}


def isced_sql(sector: str, grade: str) -> str:
    """The ISCED level of an enrollment as an SQL expression, from the two maps above (one
    source of truth for the rollups and the exports)."""
    by_grade = " ".join(f"WHEN {g} THEN '{level.value}'" for g, level in ISCED_BY_GRADE.items())
    by_sector = " ".join(f"WHEN '{s}' THEN '{level.value}'" for s, level in ISCED_BY_SECTOR.items())
    return f"CASE {sector} WHEN 'school' THEN (CASE {grade} {by_grade} END) {by_sector} END"


# A city of republican significance, a city or a city district is urban; rayons and ayil
# aimaks are rural (the statistics committee's settlement type follows the unit's kind).
SETTLEMENT_SQL = (
    "CASE WHEN r.kind = 'city' OR d.kind IN ('city', 'city_district') THEN 'urban' ELSE 'rural' END"
)

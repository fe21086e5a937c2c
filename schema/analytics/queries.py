"""The statistics root fields (public: disclosure control protects what callers see)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from resolvers import analytics as analytics_service
from resolvers.access import Principal
from resolvers.analytics import Dimension as DimensionEnum
from resolvers.analytics.rules import sees_exact_counts
from resolvers.context import Info
from schema.analytics.types import (
    AreaLevel,
    DisclosurePolicy,
    GradeLevel,
    Indicator,
    IndicatorKind,
    Indicators,
    IscedLevel,
    Measure,
    Settlement,
    StatisticsDimension,
    StatisticsTable,
)
from schema.institutions import InstitutionKind, Language, Ownership
from schema.node import query_pk
from schema.people import Sex


@strawberry.input(description="Keep only these values of each dimension (all when omitted).")
class StatisticsFilter:
    region_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Regions.")
    district_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Districts."
    )
    settlements: list[Settlement] | None = strawberry.field(
        default=None, description="Urban/rural."
    )
    institution_kinds: list[InstitutionKind] | None = strawberry.field(
        default=None, description="Kinds of institution."
    )
    ownerships: list[Ownership] | None = strawberry.field(default=None, description="Ownerships.")
    levels: list[IscedLevel] | None = strawberry.field(default=None, description="ISCED levels.")
    grades: list[int] | None = strawberry.field(default=None, description="Grades.")
    sexes: list[Sex] | None = strawberry.field(default=None, description="Sexes.")
    languages: list[Language] | None = strawberry.field(default=None, description="Languages.")
    age_from: int | None = strawberry.field(default=None, description="Youngest age counted.")
    age_to: int | None = strawberry.field(default=None, description="Oldest age counted.")


def filters_from(flt: StatisticsFilter | None) -> analytics_service.Filters:
    if flt is None:
        return analytics_service.Filters()
    values: dict[DimensionEnum, list[object]] = {}
    pairs: list[tuple[DimensionEnum, list[object] | None]] = [
        (
            DimensionEnum.REGION,
            [query_pk(i, "Region") for i in flt.region_ids] if flt.region_ids else None,
        ),
        (
            DimensionEnum.DISTRICT,
            [query_pk(i, "District") for i in flt.district_ids] if flt.district_ids else None,
        ),
        (DimensionEnum.SETTLEMENT, _values(flt.settlements)),
        (DimensionEnum.INSTITUTION_KIND, _values(flt.institution_kinds)),
        (DimensionEnum.OWNERSHIP, _values(flt.ownerships)),
        (DimensionEnum.LEVEL, _values(flt.levels)),
        (DimensionEnum.GRADE, list(flt.grades) if flt.grades else None),
        (DimensionEnum.SEX, _values(flt.sexes)),
        (DimensionEnum.LANGUAGE, _values(flt.languages)),
    ]
    for dim, listed in pairs:
        if listed:
            values[dim] = listed
    return analytics_service.Filters(values=values, age_from=flt.age_from, age_to=flt.age_to)


def _values(items: list[Any] | None) -> list[object] | None:
    return [i.value for i in items] if items else None


@strawberry.type
class Query:
    @strawberry.field(
        description="Counts of pupils, kindergarten children, students, staff, teachers, "
        "institutions, places, classes or queued children as of a census date (default: the "
        "latest), grouped by up to three dimensions. Public; counts of people under the "
        "disclosure threshold are hidden from all but the ministry."
    )
    async def statistics(
        self,
        info: Info,
        measure: Measure,
        group_by: list[StatisticsDimension] | None = None,
        filter: StatisticsFilter | None = None,
        census_date: date | None = None,
    ) -> StatisticsTable:
        ctx = info.context
        table = await ctx.run(
            lambda s: analytics_service.statistics(
                s,
                ctx.principal,
                measure=measure,
                census_date=census_date,
                group_by=list(group_by or []),
                filters=filters_from(filter),
            )
        )
        if not table.from_rollup:
            # Counted live: every write to the registry changes it, no version covers it.
            ctx.keep_answer = False
        return StatisticsTable.from_table(table)

    @strawberry.field(
        description="The ministry's indicators per region or district and for the country: "
        "pupils per teacher, class size, occupancy of design capacity, kindergarten coverage "
        "(ages 3-6), queue length, first-grade intake against its cohort, gross enrollment "
        "ratio (where the population is known)."
    )
    async def indicators(
        self,
        info: Info,
        by: AreaLevel = AreaLevel.REGION,
        kinds: list[IndicatorKind] | None = None,
        census_date: date | None = None,
    ) -> Indicators:
        ctx = info.context
        table = await ctx.run(
            lambda s: analytics_service.indicators(
                s,
                ctx.principal,
                census_date=census_date,
                by=by,
                kinds=list(kinds or analytics_service.IndicatorKind),
            )
        )
        if not table.from_rollup:
            ctx.keep_answer = False
        return Indicators(
            census_date=table.census_date, values=[Indicator.from_value(v) for v in table.values]
        )

    @strawberry.field(
        description="The disclosure control rule in force (public: anyone may know how the "
        "published tables are protected)."
    )
    async def disclosure_policy(self, info: Info) -> DisclosurePolicy:
        rule = await info.context.run(analytics_service.disclosure_rule)
        return DisclosurePolicy.from_row(rule)

    @strawberry.field(description="Census dates with a rollup, oldest first.")
    async def census_dates(self, info: Info) -> list[date]:
        return await info.context.run(analytics_service.rolled_up_dates)

    @strawberry.field(description="The ISCED level of each grade (international reporting).")
    def grade_levels(self) -> list[GradeLevel]:
        return [
            GradeLevel(grade=g, isced=lvl) for g, lvl in analytics_service.ISCED_BY_GRADE.items()
        ]


# The statistics answer alike every caller of a class (the ministry, which reads exact counts;
# everyone else, who reads the protected tables: resolvers/analytics/rules.py) and change only
# with the rollups, the disclosure rule, the geography and the population, whose writes change
# the statistics' version (``stat_version``'s statement triggers); so the HTTP view keeps their
# answers per version and caller class (schema/http/kept.py). A document is kept only if it asks for
# statistics or indicators (``KEPT_ROOTS``) and nothing but the fields below: the public
# geography lists alone are not this keepable's, nor an export (a file made per request).
_KEPT = {
    "Query": "statistics indicators regions disclosurePolicy censusDates gradeLevels",
    "StatisticsTable": "measure censusDate groupBy cells total exact fromRollup",
    "StatisticsCell": "region district settlement institutionKind ownership level grade sex age "
    "language ageGroup count suppressed",
    "Indicators": "censusDate values",
    "Indicator": "kind value numerator denominator region district",
    "RegionConnection": "edges nodes pageInfo totalCount",
    "RegionEdge": "cursor node",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
    "Region": "id code kind nameKy nameRu nameEn validFrom validTo districts",
    "District": "id code kind nameKy nameRu nameEn validFrom validTo region",
    "GradeLevel": "grade isced",
    "DisclosurePolicy": "threshold secondarySuppression source changedAt",
}
KEPT_FIELDS = frozenset((kind, name) for kind, names in _KEPT.items() for name in names.split())
KEPT_ROOTS = frozenset({("Query", "statistics"), ("Query", "indicators")})
STATS_VERSION_SQL = "SELECT int8send(version) FROM stat_version WHERE id = 1"


def kept_class(principal: Principal) -> str:
    """The class whose statistics answers a caller shares: exact counts or protected ones (the
    one difference between callers; partners' keys are decided by the HTTP view)."""
    return "exact" if sees_exact_counts(principal) else "protected"

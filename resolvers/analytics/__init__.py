"""EMIS statistics: the census as of a date, its rollups, disclosure control, the ministry's
indicators, the population table and exports (docs/domains/analytics.md)."""

from resolvers.analytics.census import latest_census_date, recent_census_dates
from resolvers.analytics.dimensions import (
    ISCED_BY_GRADE,
    Dimension,
    IscedLevel,
    Measure,
    Settlement,
)
from resolvers.analytics.disclosure import Cell
from resolvers.analytics.export import ExportFormat, export
from resolvers.analytics.indicators import (
    AreaLevel,
    IndicatorKind,
    IndicatorTable,
    IndicatorValue,
    indicators,
)
from resolvers.analytics.policy import (
    DisclosureRule,
    disclosure_rule,
    may_set_disclosure_rule,
    set_disclosure_rule,
)
from resolvers.analytics.rollups import (
    Area,
    rebuild_recent,
    recount,
    refresh,
    refresh_areas,
    refresh_recent,
    rolled_up_dates,
    take_changed_areas,
)
from resolvers.analytics.statistics import Filters, StatisticsTable, statistics

__all__ = [
    "ISCED_BY_GRADE",
    "Area",
    "AreaLevel",
    "Cell",
    "Dimension",
    "DisclosureRule",
    "ExportFormat",
    "Filters",
    "IndicatorKind",
    "IndicatorTable",
    "IndicatorValue",
    "IscedLevel",
    "Measure",
    "Settlement",
    "StatisticsTable",
    "disclosure_rule",
    "export",
    "indicators",
    "latest_census_date",
    "may_set_disclosure_rule",
    "rebuild_recent",
    "recent_census_dates",
    "recount",
    "refresh",
    "refresh_areas",
    "refresh_recent",
    "rolled_up_dates",
    "set_disclosure_rule",
    "statistics",
    "take_changed_areas",
]

"""EMIS statistics: tables, indicators and exports (docs/domains/analytics.md)."""

from schema.analytics.queries import Query, StatisticsFilter
from schema.analytics.types import Indicator, Indicators, StatisticsCell, StatisticsTable

__all__ = [
    "Indicator",
    "Indicators",
    "Query",
    "StatisticsCell",
    "StatisticsFilter",
    "StatisticsTable",
]

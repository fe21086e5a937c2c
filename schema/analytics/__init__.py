"""EMIS statistics: tables, indicators and exports (docs/domains/analytics.md)."""

from schema.analytics.mutations import Mutation
from schema.analytics.queries import Query, StatisticsFilter
from schema.analytics.types import Indicator, Indicators, StatisticsCell, StatisticsTable

__all__ = [
    "Indicator",
    "Indicators",
    "Mutation",
    "Query",
    "StatisticsCell",
    "StatisticsFilter",
    "StatisticsTable",
]

"""EMIS statistics: tables, indicators and exports (docs/domains/analytics.md)."""

from schema.analytics.mutations import Mutation
from schema.analytics.queries import (
    KEPT_FIELDS,
    KEPT_ROOTS,
    STATS_VERSION_SQL,
    Query,
    StatisticsFilter,
    kept_class,
)
from schema.analytics.types import Indicator, Indicators, StatisticsCell, StatisticsTable

__all__ = [
    "KEPT_FIELDS",
    "KEPT_ROOTS",
    "STATS_VERSION_SQL",
    "Indicator",
    "Indicators",
    "Mutation",
    "Query",
    "StatisticsCell",
    "StatisticsFilter",
    "StatisticsTable",
    "kept_class",
]

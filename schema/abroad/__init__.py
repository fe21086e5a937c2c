"""Admission to foreign universities in the graph: programmes by country and the applications
moving through their stages to nomination (types in ``types``, root lists in ``queries``,
mutations in ``mutations``)."""

from schema.abroad.mutations import Mutation
from schema.abroad.queries import Query
from schema.abroad.types import ForeignApplication, ForeignProgramme

__all__ = ["ForeignApplication", "ForeignProgramme", "Mutation", "Query"]

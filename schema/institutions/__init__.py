"""Institutions in the graph: the registry record, catchment areas, the public registry list
and its mutations."""

from schema.institutions.mutations import Mutation
from schema.institutions.queries import (
    InstitutionFilter,
    InstitutionOrder,
    Query,
    institution_filter,
)
from schema.institutions.types import (
    CatchmentArea,
    Institution,
    InstitutionKind,
    Language,
    Ownership,
    institution_of,
)

__all__ = [
    "CatchmentArea",
    "Institution",
    "InstitutionFilter",
    "InstitutionKind",
    "InstitutionOrder",
    "Language",
    "Mutation",
    "Ownership",
    "Query",
    "institution_filter",
    "institution_of",
]

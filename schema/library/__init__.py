"""The libraries in the graph (issue 17): the one catalogue and its search, copies, loans,
holds and the textbook fund (``types``, ``queries``, ``mutations``)."""

from schema.library.mutations import Mutation
from schema.library.queries import (
    CATALOGUE_VERSION_KEY,
    CATALOGUE_VERSION_SQL,
    KEPT_FIELDS,
    Query,
)
from schema.library.types import BibFile, BibRecord, Hold, LibraryItem, Loan

NODE_TYPES = [BibRecord, BibFile, LibraryItem, Loan, Hold]

__all__ = [
    "CATALOGUE_VERSION_KEY",
    "CATALOGUE_VERSION_SQL",
    "KEPT_FIELDS",
    "NODE_TYPES",
    "Mutation",
    "Query",
]

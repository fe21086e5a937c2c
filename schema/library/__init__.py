"""The libraries in the graph (issue 17): the one catalogue and its search, copies, loans,
holds and the textbook fund (``types``, ``queries``, ``mutations``)."""

from schema.library.mutations import Mutation
from schema.library.queries import Query
from schema.library.types import BibFile, BibRecord, Hold, LibraryItem, Loan

NODE_TYPES = [BibRecord, BibFile, LibraryItem, Loan, Hold]

__all__ = ["NODE_TYPES", "Mutation", "Query"]

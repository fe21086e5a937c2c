"""Admission to foreign universities (domain.md, "Admission to foreign universities"):
programmes by country with a quota, an application window, age limits at a reference date,
a minimum school average per field of study and ordered selection stages; applications move
through the stages to nomination, and nominations never exceed the quota (the database
refuses it).

Modules: ``programmes`` (announcing a programme), ``applications`` (applying, deciding
stages, nominating), ``queries`` (the lists), ``rules`` (who may read) and ``loaders``.
"""

from resolvers.abroad.applications import (
    advance_foreign_application,
    apply_to_foreign_programme,
)
from resolvers.abroad.programmes import create_foreign_programme
from resolvers.abroad.queries import (
    APPLICATION_COLUMNS,
    APPLICATION_ORDERINGS,
    PROGRAMME_COLUMNS,
    PROGRAMME_ORDERINGS,
    ForeignApplicationFilter,
    ForeignProgrammeFilter,
    applications_query,
    programmes_query,
)

__all__ = [
    "APPLICATION_COLUMNS",
    "APPLICATION_ORDERINGS",
    "PROGRAMME_COLUMNS",
    "PROGRAMME_ORDERINGS",
    "ForeignApplicationFilter",
    "ForeignProgrammeFilter",
    "advance_foreign_application",
    "applications_query",
    "apply_to_foreign_programme",
    "create_foreign_programme",
    "programmes_query",
]

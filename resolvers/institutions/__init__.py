"""Institutions: the registry's records (``registry``), catchment areas, the public list
(``queries``), who may add and manage them (``rules``) and the loaders."""

from resolvers.institutions.catchment import add_catchment_area
from resolvers.institutions.errors import InstitutionCode
from resolvers.institutions.queries import (
    INSTITUTION_COLUMNS,
    INSTITUTION_ORDERINGS,
    InstitutionFilter,
    institutions_query,
)
from resolvers.institutions.registry import (
    InstitutionFields,
    create_institution,
    update_institution,
)
from resolvers.institutions.rules import (
    can_create_institution,
    managed_institution,
    may_manage_institution,
)
from resolvers.institutions.schools import DEFAULT_GRADES, SchoolProfile
from resolvers.mutations import register_constraint

register_constraint(
    "uq_institution_legal_id",
    InstitutionCode.LEGAL_ID_TAKEN,
    "Another institution has this legal identifier",
    "legalId",
)

__all__ = [
    "DEFAULT_GRADES",
    "INSTITUTION_COLUMNS",
    "INSTITUTION_ORDERINGS",
    "InstitutionFields",
    "InstitutionFilter",
    "SchoolProfile",
    "add_catchment_area",
    "can_create_institution",
    "create_institution",
    "institutions_query",
    "managed_institution",
    "may_manage_institution",
    "update_institution",
]

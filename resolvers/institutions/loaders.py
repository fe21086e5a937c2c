"""The institutions domain's DataLoaders."""

from __future__ import annotations

from models import CatchmentArea, Institution
from resolvers.institutions.queries import INSTITUTION_COLUMNS
from resolvers.loaders import ById, ByParent


class InstitutionByIdLoader(ById):
    columns = INSTITUTION_COLUMNS
    key = Institution.id


class CatchmentAreaByIdLoader(ById):
    columns = tuple(CatchmentArea.__table__.c)
    key = CatchmentArea.id


class CatchmentAreasByInstitutionLoader(ByParent):
    columns = tuple(CatchmentArea.__table__.c)
    parent = CatchmentArea.institution_id
    order_by = (CatchmentArea.id,)


class InstitutionByLegalIdLoader(ById):
    """Institutions by legal-entity identifier (P2): a federation key partners know."""

    columns = INSTITUTION_COLUMNS
    key = Institution.legal_id

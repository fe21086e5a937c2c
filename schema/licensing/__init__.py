"""Licensing and accreditation in the graph: types, the public registers and checks, and the
officers' and applicants' mutations."""

from schema.licensing.mutations import Mutation
from schema.licensing.queries import Query
from schema.licensing.types import (
    Accreditation,
    AccreditationAgency,
    InstitutionProgramme,
    Licence,
    LicenceApplication,
)

NODE_TYPES = [Accreditation, AccreditationAgency, InstitutionProgramme, Licence, LicenceApplication]

__all__ = ["NODE_TYPES", "Mutation", "Query"]

"""Licensing and accreditation in the graph: ``enums``, ``types`` (licences, their dossiers,
accreditations), the public registers and checks (``queries``), and the officers' and
applicants' mutations (``inputs``, ``mutations``)."""

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

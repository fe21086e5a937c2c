"""People in the graph: persons, PINs, guardianships and staff posts; the person list and
the registry's people mutations."""

from schema.people.mutations import Mutation
from schema.people.queries import PersonFilter, PersonOrder, Query, person_filter
from schema.people.types import (
    GuardianKind,
    Guardianship,
    Person,
    PinChangeReason,
    PinRecord,
    Sex,
    StaffPosition,
    StaffRole,
)

__all__ = [
    "GuardianKind",
    "Guardianship",
    "Mutation",
    "Person",
    "PersonFilter",
    "PersonOrder",
    "PinChangeReason",
    "PinRecord",
    "Query",
    "Sex",
    "StaffPosition",
    "StaffRole",
    "person_filter",
]

"""University admission in the graph: types in ``types``, root lists in ``queries``,
mutations in ``mutations``."""

from strawberry.tools import merge_types

from schema.admission import mutations, recognition
from schema.admission.queries import Query
from schema.admission.types import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionRound,
    AdmissionSeason,
    NationalTestResult,
    Programme,
)

Mutation = merge_types("Mutation", (mutations.Mutation, recognition.Mutation))

__all__ = [
    "AdmissionApplication",
    "AdmissionOffer",
    "AdmissionRound",
    "AdmissionSeason",
    "Mutation",
    "NationalTestResult",
    "Programme",
    "Query",
]

"""University admission in the graph (types in ``types``, root fields in ``operations``)."""

from schema.admission.operations import Mutation, Query
from schema.admission.types import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionRound,
    AdmissionSeason,
    NationalTestResult,
    Programme,
)

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

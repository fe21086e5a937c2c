"""University admission in the graph: types in ``types``, root lists in ``queries``,
mutations in ``mutations``."""

from schema.admission.mutations import Mutation
from schema.admission.queries import Query
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

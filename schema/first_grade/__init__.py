"""First-grade e-enrollment in the graph (types in ``types``, root fields in ``queries`` and
``mutations``)."""

from schema.first_grade.mutations import Mutation
from schema.first_grade.queries import Query
from schema.first_grade.types import (
    FirstGradeApplication,
    FirstGradeApplicationStatus,
    FirstGradeQuota,
    FirstGradeRejectionReason,
    FirstGradeStage,
)

__all__ = [
    "FirstGradeApplication",
    "FirstGradeApplicationStatus",
    "FirstGradeQuota",
    "FirstGradeRejectionReason",
    "FirstGradeStage",
    "Mutation",
    "Query",
]

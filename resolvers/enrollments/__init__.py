"""Enrollments (Ed-Fi's student-school association): the workflow (enroll, transfer,
withdraw), the lists (``queries``), who may read them (``rules``) and the loaders."""

from resolvers.enrollments.queries import (
    ENROLLMENT_COLUMNS,
    ENROLLMENT_ORDERINGS,
    EnrollmentFilter,
    enrollment_filter_clauses,
    enrollments_query,
)
from resolvers.enrollments.workflow import (
    MAX_DAYS_AHEAD,
    SECTOR_OF_KIND,
    enroll_student,
    transfer_student,
    withdraw_student,
)

__all__ = [
    "ENROLLMENT_COLUMNS",
    "ENROLLMENT_ORDERINGS",
    "MAX_DAYS_AHEAD",
    "SECTOR_OF_KIND",
    "EnrollmentFilter",
    "enroll_student",
    "enrollment_filter_clauses",
    "enrollments_query",
    "transfer_student",
    "withdraw_student",
]

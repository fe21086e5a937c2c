"""Enrollments (Ed-Fi's student-school association): the workflow (enroll, transfer,
withdraw), the lists (``queries``), who may read them (``rules``), the loaders, and the hook
by which higher domains end what a child leaves for school (``school_entry``, K7)."""

from resolvers.enrollments.errors import EnrollmentCode
from resolvers.enrollments.queries import (
    ENROLLMENT_COLUMNS,
    ENROLLMENT_ORDERINGS,
    EnrollmentFilter,
    enrollment_filter_clauses,
    enrollments_query,
)
from resolvers.enrollments.school_entry import (
    SchoolEntryStep,
    enter_school,
    on_school_entry,
    school_entry_steps,
)
from resolvers.enrollments.workflow import (
    MAX_DAYS_AHEAD,
    SECTOR_OF_KIND,
    Transferred,
    enroll_student,
    transfer_student,
    withdraw_student,
)
from resolvers.mutations import register_constraint

register_constraint(
    "uq_enrollment_open_school",
    EnrollmentCode.ALREADY_ENROLLED,
    "The pupil already has an open school enrollment",
    "personId",
)
register_constraint(
    "ex_enrollment_school_overlap",
    EnrollmentCode.ALREADY_ENROLLED,
    "The pupil is enrolled at a school over these dates",
    "entryDate",
)
register_constraint(
    "ex_enrollment_preschool_school_overlap",
    EnrollmentCode.ALREADY_ENROLLED,
    "A child is never at school and in kindergarten over the same dates",
    "entryDate",
)

__all__ = [
    "ENROLLMENT_COLUMNS",
    "ENROLLMENT_ORDERINGS",
    "MAX_DAYS_AHEAD",
    "SECTOR_OF_KIND",
    "EnrollmentFilter",
    "SchoolEntryStep",
    "Transferred",
    "enroll_student",
    "enrollment_filter_clauses",
    "enrollments_query",
    "enter_school",
    "on_school_entry",
    "school_entry_steps",
    "transfer_student",
    "withdraw_student",
]

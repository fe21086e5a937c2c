"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class EnrollmentCode(enum.StrEnum):
    """Enrollments in the registry."""

    WRONG_INSTITUTION_KIND = "WRONG_INSTITUTION_KIND"
    INSTITUTION_CLOSED = "INSTITUTION_CLOSED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    NOT_ENROLLED = "NOT_ENROLLED"
    INVALID_GRADE = "INVALID_GRADE"
    # The entry-age rule (F4) or the kindergarten age range (K1), without a commission's decision.
    CHILD_TOO_YOUNG = "CHILD_TOO_YOUNG"
    CHILD_TOO_OLD = "CHILD_TOO_OLD"

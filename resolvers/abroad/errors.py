"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class AbroadCode(enum.StrEnum):
    """Admission to foreign programmes."""

    WRONG_INSTITUTION_KIND = "WRONG_INSTITUTION_KIND"
    SCORE_OUT_OF_RANGE = "SCORE_OUT_OF_RANGE"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    AGE_OUT_OF_RANGE = "AGE_OUT_OF_RANGE"
    SCHOOL_AVERAGE_TOO_LOW = "SCHOOL_AVERAGE_TOO_LOW"
    ALREADY_APPLIED = "ALREADY_APPLIED"
    WRONG_STAGE = "WRONG_STAGE"
    QUOTA_FULL = "QUOTA_FULL"

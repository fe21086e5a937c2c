"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class IntakeCode(enum.StrEnum):
    """Intake seasons and their policy (kindergarten queue, first grade)."""

    SEASON_CLOSED = "SEASON_CLOSED"
    SEASON_EXISTS = "SEASON_EXISTS"
    UNKNOWN_BENEFIT_CATEGORY = "UNKNOWN_BENEFIT_CATEGORY"
    INVALID_POLICY = "INVALID_POLICY"
    NOT_GUARDIAN = "NOT_GUARDIAN"

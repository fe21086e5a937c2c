"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class AccessCode(enum.StrEnum):
    """Partner keys and their scopes."""

    FIELD_NOT_IN_SCOPE = "FIELD_NOT_IN_SCOPE"
    PERSONAL_DATA_NOT_GRANTED = "PERSONAL_DATA_NOT_GRANTED"
    INVALID_SCOPE = "INVALID_SCOPE"
    ALREADY_REVOKED = "ALREADY_REVOKED"

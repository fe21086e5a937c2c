"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class InstitutionCode(enum.StrEnum):
    """The institutions registry."""

    LEGAL_ID_TAKEN = "LEGAL_ID_TAKEN"
    INVALID_LEGAL_ID = "INVALID_LEGAL_ID"
    WRONG_INSTITUTION_KIND = "WRONG_INSTITUTION_KIND"

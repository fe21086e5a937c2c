"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class PeopleCode(enum.StrEnum):
    """PINs, people and guardianship."""

    INVALID_PIN = "INVALID_PIN"
    PIN_MISMATCH = "PIN_MISMATCH"
    PIN_TAKEN = "PIN_TAKEN"
    SELF_GUARDIANSHIP = "SELF_GUARDIANSHIP"
    ALREADY_LINKED = "ALREADY_LINKED"

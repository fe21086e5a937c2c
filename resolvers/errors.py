"""Expected failures, with stable codes.

A workflow raises a :class:`DomainError`; a mutation turns it into ``userErrors`` and rolls
back everything the mutation wrote. A query raises a :class:`RequestError`, which reaches the
client as a top-level GraphQL error carrying ``extensions.code``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError


class ErrorCode(enum.StrEnum):
    """Every stable error code the hub returns. Clients may switch on these; never rename one."""

    # input and lookup
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    INVALID_PAGINATION = "INVALID_PAGINATION"
    # people
    INVALID_PIN = "INVALID_PIN"
    PIN_MISMATCH = "PIN_MISMATCH"
    PIN_TAKEN = "PIN_TAKEN"
    SELF_GUARDIANSHIP = "SELF_GUARDIANSHIP"
    ALREADY_LINKED = "ALREADY_LINKED"
    # institutions and enrollments
    LEGAL_ID_TAKEN = "LEGAL_ID_TAKEN"
    INVALID_LEGAL_ID = "INVALID_LEGAL_ID"
    WRONG_INSTITUTION_KIND = "WRONG_INSTITUTION_KIND"
    INSTITUTION_CLOSED = "INSTITUTION_CLOSED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    NOT_ENROLLED = "NOT_ENROLLED"
    INVALID_DATE = "INVALID_DATE"
    INVALID_GRADE = "INVALID_GRADE"
    # intake seasons and their policy (preschool, enrollment)
    SEASON_CLOSED = "SEASON_CLOSED"
    SEASON_EXISTS = "SEASON_EXISTS"
    UNKNOWN_BENEFIT_CATEGORY = "UNKNOWN_BENEFIT_CATEGORY"
    UNKNOWN_AGE_GROUP = "UNKNOWN_AGE_GROUP"
    INVALID_POLICY = "INVALID_POLICY"
    # kindergarten queue (preschool)
    CHILD_TOO_YOUNG = "CHILD_TOO_YOUNG"
    CHILD_TOO_OLD = "CHILD_TOO_OLD"
    NOT_GUARDIAN = "NOT_GUARDIAN"
    DUPLICATE_APPLICATION = "DUPLICATE_APPLICATION"
    NOT_IN_QUEUE = "NOT_IN_QUEUE"
    OUT_OF_TURN = "OUT_OF_TURN"
    NO_FREE_PLACES = "NO_FREE_PLACES"
    EXCEEDS_GROUP_SIZE = "EXCEEDS_GROUP_SIZE"
    OFFER_NOT_OPEN = "OFFER_NOT_OPEN"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_NOT_ACCEPTED = "OFFER_NOT_ACCEPTED"
    APPLICATION_CLOSED = "APPLICATION_CLOSED"
    # first-grade enrollment (enrollment)
    NOT_IN_CATCHMENT = "NOT_IN_CATCHMENT"
    LANGUAGE_NOT_TAUGHT = "LANGUAGE_NOT_TAUGHT"
    APPLICATION_NOT_PENDING = "APPLICATION_NOT_PENDING"
    REJECTION_REASON_REQUIRED = "REJECTION_REASON_REQUIRED"
    CLASS_SIZE_EXCEEDED = "CLASS_SIZE_EXCEEDED"
    QUOTA_BELOW_ADMITTED = "QUOTA_BELOW_ADMITTED"
    # admission (national test, university rounds) and study abroad
    UNKNOWN_CERTIFICATE = "UNKNOWN_CERTIFICATE"
    CERTIFICATE_CONFLICT = "CERTIFICATE_CONFLICT"
    SCORE_OUT_OF_RANGE = "SCORE_OUT_OF_RANGE"
    INVALID_FILE = "INVALID_FILE"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    TOO_MANY_CHOICES = "TOO_MANY_CHOICES"
    DUPLICATE_CHOICE = "DUPLICATE_CHOICE"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    MISSING_SUBJECT_TEST = "MISSING_SUBJECT_TEST"
    STATE_LANGUAGE_NOT_PASSED = "STATE_LANGUAGE_NOT_PASSED"
    CONTRACT_ONLY = "CONTRACT_ONLY"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
    ALREADY_PLACED = "ALREADY_PLACED"
    PLACES_FULL = "PLACES_FULL"
    ROUND_NOT_READY = "ROUND_NOT_READY"
    ROUND_ALREADY_PUBLISHED = "ROUND_ALREADY_PUBLISHED"
    AGE_OUT_OF_RANGE = "AGE_OUT_OF_RANGE"
    SCHOOL_AVERAGE_TOO_LOW = "SCHOOL_AVERAGE_TOO_LOW"
    ALREADY_APPLIED = "ALREADY_APPLIED"
    WRONG_STAGE = "WRONG_STAGE"
    QUOTA_FULL = "QUOTA_FULL"
    # licensing and accreditation
    LICENCE_REQUIRED = "LICENCE_REQUIRED"
    ACCREDITATION_REQUIRED = "ACCREDITATION_REQUIRED"
    LICENCE_EXEMPT = "LICENCE_EXEMPT"
    UNKNOWN_PROGRAMME = "UNKNOWN_PROGRAMME"
    FLOOR_AREA_TOO_SMALL = "FLOOR_AREA_TOO_SMALL"
    PREMISES_TENURE_TOO_SHORT = "PREMISES_TENURE_TOO_SHORT"
    DOCUMENTS_MISSING = "DOCUMENTS_MISSING"
    CLINICAL_BASE_REQUIRED = "CLINICAL_BASE_REQUIRED"
    APPLICATION_PENDING = "APPLICATION_PENDING"
    CASE_CLOSED = "CASE_CLOSED"
    WRONG_APPLICATION_STATE = "WRONG_APPLICATION_STATE"
    WRONG_LICENCE_STATE = "WRONG_LICENCE_STATE"
    LEGAL_BASIS_REQUIRED = "LEGAL_BASIS_REQUIRED"
    AGENCY_NOT_RECOGNISED = "AGENCY_NOT_RECOGNISED"
    WRONG_ACCREDITATION_STEP = "WRONG_ACCREDITATION_STEP"
    ACCREDITATION_PENDING = "ACCREDITATION_PENDING"
    # access
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    FIELD_NOT_IN_SCOPE = "FIELD_NOT_IN_SCOPE"
    PERSONAL_DATA_NOT_GRANTED = "PERSONAL_DATA_NOT_GRANTED"
    INVALID_SCOPE = "INVALID_SCOPE"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    # request safety
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
    INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
    BAD_REQUEST = "BAD_REQUEST"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass
class Problem:
    """One expected failure: the input field at fault (if any), a code and a message."""

    code: ErrorCode
    message: str
    field: str | None = None


class DomainError(Exception):
    """Base of every expected workflow failure; carries one or more :class:`Problem`."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        more: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.problems = [Problem(code=code, message=message, field=field), *(more or [])]

    @property
    def code(self) -> ErrorCode:
        return self.problems[0].code


class NotFound(DomainError):
    def __init__(self, what: str, *, field: str | None = None) -> None:
        super().__init__(ErrorCode.NOT_FOUND, f"{what} was not found", field=field)


class Forbidden(DomainError):
    def __init__(self, message: str = "You may not do this", *, field: str | None = None) -> None:
        super().__init__(ErrorCode.FORBIDDEN, message, field=field)


class RequestError(GraphQLError):
    """A top-level error the client is meant to see, with ``extensions.code``."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extra})
        self.code = code

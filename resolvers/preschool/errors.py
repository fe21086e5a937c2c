"""The stable error codes of this domain; clients may switch on them, never rename one.
A code another domain also raises means the same there: the schema joins every domain's
codes into one ``ErrorCode`` enum (schema/common.py)."""

import enum


class PreschoolCode(enum.StrEnum):
    """The kindergarten queue."""

    WRONG_INSTITUTION_KIND = "WRONG_INSTITUTION_KIND"
    INSTITUTION_CLOSED = "INSTITUTION_CLOSED"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    UNKNOWN_AGE_GROUP = "UNKNOWN_AGE_GROUP"
    INVALID_POLICY = "INVALID_POLICY"
    CHILD_TOO_YOUNG = "CHILD_TOO_YOUNG"
    CHILD_TOO_OLD = "CHILD_TOO_OLD"
    DUPLICATE_APPLICATION = "DUPLICATE_APPLICATION"
    NOT_IN_QUEUE = "NOT_IN_QUEUE"
    OUT_OF_TURN = "OUT_OF_TURN"
    NO_FREE_PLACES = "NO_FREE_PLACES"
    EXCEEDS_GROUP_SIZE = "EXCEEDS_GROUP_SIZE"
    OFFER_NOT_OPEN = "OFFER_NOT_OPEN"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    OFFER_NOT_ACCEPTED = "OFFER_NOT_ACCEPTED"
    APPLICATION_CLOSED = "APPLICATION_CLOSED"
    # F4 (issue 14.6): the child starts school by the day the place would begin.
    STARTS_SCHOOL_FIRST = "STARTS_SCHOOL_FIRST"
    # K8 (issue 14.7): vouchers.
    DUPLICATE_VOUCHER = "DUPLICATE_VOUCHER"
    VOUCHER_NOT_CLAIMED = "VOUCHER_NOT_CLAIMED"
    VOUCHER_NOT_VERIFIED = "VOUCHER_NOT_VERIFIED"
    VOUCHER_ENDED = "VOUCHER_ENDED"
    VOUCHER_EXPIRED = "VOUCHER_EXPIRED"
    NOT_PRIVATE_KINDERGARTEN = "NOT_PRIVATE_KINDERGARTEN"

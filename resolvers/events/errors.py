"""The stable error codes of this domain; clients may switch on them, never rename one."""

import enum


class EventsCode(enum.StrEnum):
    """The change feed, webhook endpoints and notice preferences."""

    # The cursor is older than the retention: the events after it are gone; resync.
    CURSOR_EXPIRED = "CURSOR_EXPIRED"
    INVALID_CURSOR = "INVALID_CURSOR"
    # The URL is not https, or leads to a loopback, private or otherwise internal address.
    WEBHOOK_URL_REFUSED = "WEBHOOK_URL_REFUSED"
    # An event type outside the key's subgraph, or no such event type.
    EVENT_TYPE_NOT_IN_SCOPE = "EVENT_TYPE_NOT_IN_SCOPE"
    TOO_MANY_ENDPOINTS = "TOO_MANY_ENDPOINTS"

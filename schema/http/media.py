"""GraphQL over HTTP's two response media types (the GraphQL-over-HTTP specification).

``application/graphql-response+json`` is answered to a client that accepts it (Apollo Client 4,
graphql-http, urql's newer fetchers): a request that fails before execution (parse, validation,
variable coercion, the hub's own pre-execution refusals) is answered with a 4xx status and no
``data`` entry, so that a proxy or a client tells a refused request from an executed one by its
status alone. ``application/json`` (no ``Accept``, ``*/*``, or older clients) keeps the old
behaviour: 200 with ``"data": null`` and the errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLError

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# Where in the request's ASGI scope the view notes the negotiated type and a request error.
MEDIA_KEY = "bilim.media"
REQUEST_ERROR_KEY = "bilim.request_error"

# Pre-execution refusals by code; any other code a request error carries is a 400.
_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "OPERATION_NOT_ALLOWED": 403,
    "INTROSPECTION_DISABLED": 403,
    "FIELD_NOT_IN_SCOPE": 403,
    "RATE_LIMITED": 429,
    "SERVICE_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
    # Automatic persisted queries: "send the document" is a step of the protocol, not a failure
    # (Apollo Server answers it 200 too); a client that sees 400 here turns the protocol off.
    "PERSISTED_QUERY_NOT_FOUND": 200,
    "PERSISTED_QUERY_NOT_SUPPORTED": 200,
}


def negotiate(accept: str | None) -> str:
    """The response type for an ``Accept`` header: ``application/graphql-response+json`` when
    the client ranks it at least as high as ``application/json``, else ``application/json``
    (also for no header, ``*/*`` and types the hub does not offer)."""
    if not accept:
        return JSON
    ranks: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        ranks[media] = max(quality, ranks.get(media, 0.0))
    new = ranks.get(GRAPHQL_RESPONSE, 0.0)
    old = max(ranks.get(JSON, 0.0), ranks.get("application/*", 0.0), ranks.get("*/*", 0.0))
    return GRAPHQL_RESPONSE if new > 0 and new >= old else JSON


def media_of(scope: Mapping[str, Any]) -> str:
    return str(scope.get(MEDIA_KEY, JSON))


def is_request_error(data: object, errors: Iterable[GraphQLError] | None) -> bool:
    """Did the request fail before execution? No data and no error located in the response
    (an execution error always has a path; one bubbling to the root still leaves ``data``
    present as null under the specification, and is answered 200)."""
    errors = list(errors or ())
    return data is None and bool(errors) and all(e.path is None for e in errors)


def request_error_status(codes: Iterable[str | None]) -> int:
    """The status of a request that failed before execution, by its errors' codes: the most
    severe of them (a 5xx over a 4xx, a 4xx over 200)."""
    statuses = [_STATUS.get(code or "", 400) for code in codes] or [400]
    return max(statuses)

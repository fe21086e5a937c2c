"""The hub's telemetry: the record of each request (``record``), its one log line (``logs``),
the Prometheus metrics (``metrics``, imported only where served: it picks its storage when
imported) and OpenTelemetry traces when configured (``traces``).

This is the hub's mechanism: it imports no domain. The HTTP layer that opens and closes the
records is schema/http/observability.py."""

from resolvers.telemetry.record import (
    CURRENT,
    RequestRecord,
    count_statements,
    current,
    new_request_id,
    note_context,
    note_result,
    request_id_from,
)

__all__ = [
    "CURRENT",
    "RequestRecord",
    "count_statements",
    "current",
    "new_request_id",
    "note_context",
    "note_result",
    "request_id_from",
]

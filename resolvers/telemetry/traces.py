"""OpenTelemetry traces, on only when an OTLP endpoint is configured
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; the exporter reads
the rest of the standard ``OTEL_*`` settings itself). Off, nothing of OpenTelemetry is imported
and no listener runs.

Spans: the HTTP request (opentelemetry-instrumentation-asgi, which continues the caller's W3C
``traceparent``), the GraphQL operation with its parsing and validation (strawberry's
OpenTelemetry extension) and each SQL statement (opentelemetry-instrumentation-sqlalchemy).
The compiled path makes its own two (schema/compiled/endpoint.py, :func:`compiled_spans`). The
statements' text is recorded with its placeholders, never its parameters."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configured() -> bool:
    """Is an OTLP endpoint set (and the SDK not disabled)?"""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def provider_from_environment() -> TracerProvider | None:
    """A tracer provider exporting by OTLP over HTTP in batches, or None when not configured."""
    if not configured():
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "bilim-hub"}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def trace_statements(provider: Any, *engines: AsyncEngine | None) -> list[Any]:
    """A span for each SQL statement these engines send; returns what to detach at the end."""
    from opentelemetry import metrics, trace
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    class StatementSpans(EngineTracer):
        # The compiled path sends its one statement straight through asyncpg and calls the
        # engine's listeners itself with no SQLAlchemy connection (models.database.fetch_bytes):
        # that statement is counted, and its span is the compiled path's own. A budget lease
        # goes the same way (models.database.fetch_row) and has no span of its own.
        def _before_cur_exec(self, conn: Any, *args: Any) -> Any:
            if conn is None:
                return args[1], args[2]
            return super()._before_cur_exec(conn, *args)

    tracer = trace.get_tracer("bilim.sql", tracer_provider=provider)
    usage = metrics.NoOpMeterProvider().get_meter("bilim").create_up_down_counter("unused")
    return [
        StatementSpans(tracer, engine.sync_engine, usage)
        for engine in engines
        if engine is not None
    ]


def compiled_spans(provider: Any) -> Any:
    """The tracer of the compiled path's own spans (its operation and its one statement go
    straight to asyncpg, past strawberry's and SQLAlchemy's instrumentation)."""
    from opentelemetry import trace

    return trace.get_tracer("bilim.compiled", tracer_provider=provider)


def stop_tracing(provider: Any) -> None:
    """Remove the statement listeners and send what is left."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    EngineTracer.remove_all_event_listeners()
    if provider is not None and hasattr(provider, "force_flush"):
        provider.force_flush()

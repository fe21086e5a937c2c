"""What an operator sees of each HTTP request: its id, one log line, its metrics and, when
an OTLP endpoint is configured, its trace (resolvers/telemetry holds the mechanism; this module
is its HTTP half).

``Observe`` wraps the app: it gives the request its id (the client's ``X-Request-Id`` when
well formed, else a new one, echoed on every response), opens the request's record, and at the
end writes the log line and, for GraphQL requests, the metrics. ``ObservedView`` is the
GraphQL view that tells the record who called and how the answer ended."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from resolvers.access import Principal
from resolvers.context import Context
from resolvers.telemetry import (
    CURRENT,
    RequestRecord,
    logs,
    metrics,
    note_context,
    note_result,
    request_id_from,
)
from schema import schema
from schema.http.view import GraphQLView

GRAPHQL_PATH = "/graphql"
# Probes and scrapes: logged at DEBUG only (a load balancer asks every few seconds).
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_REQUEST_ID = b"x-request-id"


class Observe:
    """ASGI middleware: the request's id, record, log line and metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        given = next((v for k, v in headers if k == _REQUEST_ID), None)
        given_text = given.decode("latin-1") if given is not None else None
        request_id = request_id_from(given_text)
        if request_id != given_text:
            # The view and everything after it read the id from the headers: one id throughout.
            headers = [(k, v) for k, v in headers if k != _REQUEST_ID]
            headers.append((_REQUEST_ID, request_id.encode()))
            scope = {**scope, "headers": headers}
        record = RequestRecord(request_id=request_id, method=scope["method"], path=scope["path"])
        record.trace_id = _trace_id()
        token = CURRENT.set(record)

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                sent = message.get("headers") or []
                if not any(k.lower() == _REQUEST_ID for k, _ in sent):
                    message = {**message, "headers": [*sent, (_REQUEST_ID, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except BaseException:
            record.status = record.status or 500
            raise
        finally:
            CURRENT.reset(token)
            self._finish(record)

    def _finish(self, record: RequestRecord) -> None:
        record.finish()
        if record.path == GRAPHQL_PATH and record.codes is None and record.status >= 400:
            # Refused before the view knew it as an operation (a malformed body, a GET of a
            # mutation): a GraphQL request all the same, coded by its status.
            record.codes = (f"HTTP_{record.status}",)
        if record.graphql:
            metrics.observe(record)
        if record.path in QUIET_PATHS and record.status < 400:
            if logs.REQUEST_LOG.isEnabledFor(logging.DEBUG):
                logs.REQUEST_LOG.debug("http.request", extra=logs.request_fields(record))
            return
        logs.log_request(record)


class ObservedView(GraphQLView):
    """The GraphQL view, telling the request's record its caller and its answer's codes."""

    def context_for(self, request: Any, response: Any, principal: Principal) -> Context:
        context = super().context_for(request, response, principal)
        note_context(context)
        return context

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute_single(*args, **kwargs)
        note_result(result.errors)
        return result


def _trace_id() -> str | None:
    """The trace id of the request's span when tracing is on (W3C form: 32 hex digits)."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:  # tracing off: OpenTelemetry was never imported
        return None
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


# --- traces -------------------------------------------------------------------------------


class Traced:
    """OpenTelemetry's ASGI middleware around the app: a server span per request that continues
    the caller's ``traceparent``. The URL's query string (a GET's variables) is not recorded."""

    def __init__(self, app: ASGIApp, *, provider: Any) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        self.inner = OpenTelemetryMiddleware(
            app,
            tracer_provider=provider,
            exclude_spans=["receive", "send"],
            server_request_hook=_without_query,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.inner(scope, receive, send)


def _without_query(span: Any, scope: dict[str, Any]) -> None:
    if span is None or not span.is_recording():
        return
    path = scope.get("path", "")
    for name in ("http.url", "url.full", "http.target"):
        span.set_attribute(name, path)
    span.set_attribute("url.query", "")


@contextmanager
def observed_schema(provider: Any) -> Iterator[None]:
    """While the app runs: the GraphQL operation's spans when tracing is on."""
    if provider is None:
        yield
        return
    extension = operation_spans(provider)
    schema.extensions = (*schema.extensions, extension)
    try:
        yield
    finally:
        schema.extensions = tuple(e for e in schema.extensions if e is not extension)


def operation_spans(provider: Any) -> type[SchemaExtension]:
    """strawberry's OpenTelemetry extension for this provider: a span for the operation (the
    current span while it runs, so its SQL statements are its children), its parsing and its
    validation. Not one per resolver (a page of a hundred rows would make hundreds), and not
    the document's text (it may carry a PIN as a literal)."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class OperationSpans(OpenTelemetryExtension):
        resolve: Callable[..., Any] = SchemaExtension.resolve

        def __init__(self, *, execution_context: Any = None) -> None:
            super().__init__(execution_context=execution_context, tracer_provider=provider)

        def on_operation(self) -> Generator[None, None, None]:
            span = self._tracer.start_span("GraphQL operation")
            self._span_holder[LifecycleStep.OPERATION] = span
            token = otel_context.attach(trace.set_span_in_context(span))
            try:
                yield
            finally:
                otel_context.detach(token)
                ec = self.execution_context
                if ec.operation_name:
                    span.update_name(f"GraphQL {ec.operation_name}")
                    span.set_attribute("graphql.operation.name", ec.operation_name)
                kind = getattr(ec.context, "operation_type", None)
                if kind:
                    span.set_attribute("graphql.operation.type", kind)
                span.end()

    return OperationSpans

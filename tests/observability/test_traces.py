"""Issue 20 (operators): with tracing on, one request gives one trace that continues the
caller's W3C traceparent: the request's span, the GraphQL operation's under it, and each SQL
statement under the operation. Tracing off, nothing of OpenTelemetry runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import create_app
from resolvers.access import KeyRing, Role, issue_token
from resolvers.safety import operation_name_of
from resolvers.settings import Settings

PERSONS = "query Persons($first: Int!) { persons(first: $first) { totalCount nodes { id } } }"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
async def traced() -> AsyncIterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def _tree(spans: tuple[ReadableSpan, ...]) -> dict[str, list[str]]:
    """Each span's name -> the names of its children."""
    by_id = {s.context.span_id: s for s in spans}
    children: dict[str, list[str]] = {s.name: [] for s in spans}
    for span in spans:
        if span.parent is not None and span.parent.span_id in by_id:
            children[by_id[span.parent.span_id].name].append(span.name)
    return children


async def _traced_persons(
    settings: Settings, traced: InMemorySpanExporter, *, compiled: bool
) -> str:
    """PERSONS sent with a W3C traceparent to a hub tracing into ``traced``; the token used."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(traced))
    app = create_app(
        settings.model_copy(update={"compiled_queries": compiled}), tracer_provider=provider
    )
    token = issue_token(KeyRing.load(settings), settings, role=Role.MINISTRY)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            response = await client.post(
                "/graphql",
                json={"query": PERSONS, "variables": {"first": 2}},
                headers={
                    "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
                    "authorization": f"Bearer {token}",
                },
            )
    assert response.status_code == 200, response.text
    return token


async def test_one_request_gives_the_span_tree_under_the_callers_trace(
    settings: Settings, traced: InMemorySpanExporter
) -> None:
    # given a hub tracing into memory, on the resolvers' path,
    # when a request arrives with a W3C traceparent
    token = await _traced_persons(settings, traced, compiled=False)
    spans = traced.get_finished_spans()
    # then every span belongs to the caller's trace
    assert spans
    assert {f"{s.context.trace_id:032x}" for s in spans} == {TRACE_ID}
    # and the request's span is the child of the caller's
    (server,) = [
        s for s in spans if s.parent is not None and f"{s.parent.span_id:016x}" == PARENT_ID
    ]
    assert server.name == "POST /graphql"
    # and the operation's span is under it, its parsing, validation and SQL under that
    tree = _tree(spans)
    assert "GraphQL Persons" in tree[server.name]
    under_operation = tree["GraphQL Persons"]
    assert "GraphQL Parsing" in under_operation
    assert "GraphQL Validation" in under_operation
    sql = [s for s in spans if s.attributes and s.attributes.get("db.system") == "postgresql"]
    assert len(sql) >= 2  # the page and its count at least
    operation = next(s for s in spans if s.name == "GraphQL Persons")
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"
    request_sql = [s for s in sql if s.parent and s.parent.span_id == operation.context.span_id]
    assert len(request_sql) >= 2
    # and no span carries the variables or the document
    for span in spans:
        for value in (span.attributes or {}).values():
            assert "persons(first" not in str(value)
            assert token not in str(value)


async def test_the_compiled_path_gives_its_operation_and_its_statement(
    settings: Settings, traced: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.compiled import endpoint

    named: list[str | None] = []

    def counted(document: object, name: str | None) -> str | None:
        found = operation_name_of(document, name)  # type: ignore[arg-type]
        named.append(found)
        return found

    monkeypatch.setattr(endpoint, "operation_name_of", counted)
    # given a hub tracing into memory, with the compiled path on,
    # when a query the compiled path answers arrives with a traceparent
    token = await _traced_persons(settings, traced, compiled=True)
    # the operation's name is worked out once, for the span and the request's log line alike
    assert named == ["Persons"]
    spans = traced.get_finished_spans()
    assert {f"{s.context.trace_id:032x}" for s in spans} == {TRACE_ID}
    # then the operation's span, marked compiled, is under the request's
    operation = next(s for s in spans if s.name == "GraphQL Persons")
    assert operation.attributes is not None
    assert operation.attributes["bilim.compiled"] is True
    assert "GraphQL Persons" in _tree(spans)["POST /graphql"]
    # and its one statement under it (beside the budget's and audit's own), with
    # placeholders and no arguments
    (statement,) = [
        s
        for s in spans
        if s.parent is not None
        and s.parent.span_id == operation.context.span_id
        and (s.attributes or {}).get("db.system") == "postgresql"
        and (s.attributes or {}).get("bilim.compiled") is True
    ]
    assert statement.attributes is not None
    assert "$1" in str(statement.attributes["db.statement"])
    for span in spans:
        for value in (span.attributes or {}).values():
            assert token not in str(value)


def test_opentelemetry_is_not_imported_when_tracing_is_off() -> None:
    # given no OTLP endpoint, when the app is built
    code = (
        "import sys; from app import create_app; from resolvers.settings import Settings; "
        "create_app(Settings(database_url='postgresql://x/y')); "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    env = {"PATH": "/usr/bin:/bin", "BILIM_FETCH_ASSETS": "false"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    # then OpenTelemetry was not even imported
    assert out.stdout.strip() == "[]"

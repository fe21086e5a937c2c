"""Issue 20 (operators): one JSON log line and the metrics of each request, through HTTP.

A log line names the request, the operation, the kind and role of the caller, the duration,
the SQL statements and the outcome, never personal data (style.md 11; docs/operating.md)."""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest

from resolvers.telemetry import metrics
from resolvers.telemetry.logs import JsonFormatter, request_fields
from tests.conftest import Hub

REGIONS = "query Regions { regions(first: 2) { nodes { code } } }"
PERSONS = "query Persons { persons(first: 3) { totalCount nodes { id } } }"
REGISTER = """mutation Register($input: RegisterPersonInput!) {
  registerPerson(input: $input) { person { id } userErrors { code } } }"""
PIN = "21705201600123"
NAME = "Азамат"


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 when it has none yet), the requests
    tallied so far counted."""
    from prometheus_client import REGISTRY

    metrics.flush()
    return REGISTRY.get_sample_value(name, labels) or 0.0


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The request log lines, as the JSON formatter writes them."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "bilim.request"]


class TestLogLine:
    async def test_one_json_line_per_request_with_its_id_operation_caller_and_statements(
        self, resolver_hub: Hub, caplog: pytest.LogCaptureFixture
    ) -> None:
        # given a ministry caller and a request id of the client's
        hub = resolver_hub
        token = hub.token("ministry")
        caplog.set_level(logging.INFO, logger="bilim.request")
        hub.counter.reset()
        # when it asks for persons
        response = await hub.post(PERSONS, token=token, headers={"X-Request-Id": "portal-42"})
        # then the id is echoed and one line tells the request
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "portal-42"
        (line,) = request_lines(caplog)
        assert line["event"] == "http.request"
        assert line["request_id"] == "portal-42"
        assert line["method"] == "POST"
        assert line["path"] == "/graphql"
        assert line["status"] == 200
        assert line["operation"] == "Persons"
        assert line["operation_type"] == "query"
        assert line["principal"] == "token"
        assert line["role"] == "ministry"
        assert line["outcome"] == "ok"
        assert line["codes"] == []
        assert line["statements"] == hub.counter.count > 0
        assert isinstance(line["duration_ms"], float)

    async def test_a_request_without_an_id_gets_one_and_its_line_names_it(
        self, hub: Hub, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="bilim.request")
        response = await hub.post(REGIONS, headers={"X-Request-Id": "not a valid id!"})
        given = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", given)
        (line,) = request_lines(caplog)
        assert line["request_id"] == given
        assert line["principal"] == "anonymous"
        assert line["role"] == "anonymous"

    async def test_no_personal_data_in_the_line_of_a_mutation(
        self, hub: Hub, caplog: pytest.LogCaptureFixture
    ) -> None:
        # given a mutation whose variables carry a PIN and a name, with a token
        token = hub.token("ministry")
        caplog.set_level(logging.DEBUG)
        variables = {
            "input": {
                "pin": PIN,
                "firstName": NAME,
                "lastName": "Асанов",
                "birthDate": "2016-05-17",
                "sex": "MALE",
            }
        }
        body = (await hub.post(REGISTER, variables, token=token)).json()
        assert body["data"]["registerPerson"]["userErrors"] == []
        # then its line names the operation and no PIN, name or token appears in any line
        (line,) = request_lines(caplog)
        assert line["operation"] == "Register"
        assert line["operation_type"] == "mutation"
        everything = "\n".join(JsonFormatter().format(r) for r in caplog.records)
        for secret in (PIN, NAME, "Асанов", token):
            assert secret not in everything

    async def test_refused_token_is_a_401_line_with_its_code(
        self, hub: Hub, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="bilim.request")
        response = await hub.post(REGIONS, token="not-a-token")
        assert response.status_code == 401
        (line,) = request_lines(caplog)
        assert line["status"] == 401
        assert line["outcome"] == "error"
        assert line["codes"] == ["UNAUTHENTICATED"]
        assert "not-a-token" not in json.dumps(line)


class TestMetrics:
    async def test_one_request_moves_counter_histogram_and_statements_by_one_request(
        self, resolver_hub: Hub
    ) -> None:
        # given the metrics before
        hub = resolver_hub
        token = hub.token("ministry")
        labels = {"operation": "Persons", "type": "query"}
        before = (
            sample("bilim_graphql_requests_total", **labels, outcome="ok"),
            sample("bilim_graphql_request_seconds_count", **labels),
            sample("bilim_sql_statements_per_request_count", type="query"),
            sample("bilim_sql_statements_per_request_sum", type="query"),
            sample("bilim_sql_statements_total", type="query"),
        )
        hub.counter.reset()
        # when one query runs
        await hub.data(PERSONS, token=token)
        statements = hub.counter.count
        # then each moved by that one request and its statements
        after = (
            sample("bilim_graphql_requests_total", **labels, outcome="ok"),
            sample("bilim_graphql_request_seconds_count", **labels),
            sample("bilim_sql_statements_per_request_count", type="query"),
            sample("bilim_sql_statements_per_request_sum", type="query"),
            sample("bilim_sql_statements_total", type="query"),
        )
        assert statements > 0
        assert [a - b for a, b in zip(after, before, strict=True)] == [
            1,
            1,
            1,
            statements,
            statements,
        ]
        # and /metrics shows them
        text = (await hub.client.get("/metrics")).text
        assert 'bilim_graphql_requests_total{operation="Persons",outcome="ok",type="query"}' in text
        assert "bilim_db_pool_connections_in_use" in text
        assert 'bilim_db_pool_wait_seconds_count{engine="requests"}' in text

    async def test_counter_and_histogram_agree_through_refusals(self, hub: Hub) -> None:
        # given every way a GraphQL request can be refused before it executes
        def totals() -> tuple[float, float]:
            from prometheus_client import REGISTRY

            counted = timed = 0.0
            metrics.flush()
            for family in REGISTRY.collect():
                for s in family.samples:
                    if s.name == "bilim_graphql_requests_total":
                        counted += s.value
                    elif s.name == "bilim_graphql_request_seconds_count":
                        timed += s.value
            return counted, timed

        before = totals()
        unknown = hashlib.sha256(b"{ unknown }").hexdigest()
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": unknown}}
        await hub.client.post("/graphql", json={"extensions": persisted})  # persisted miss
        await hub.post(REGIONS, token="not-a-token")  # refused token (401)
        mutation = 'mutation { withdrawStudent(input: {enrollmentId: "x", date: "2026-01-01"}) { userErrors { code } } }'
        await hub.client.get("/graphql", params={"query": mutation})  # mutation over GET
        await hub.client.post(
            "/graphql", content=b'{"query": ', headers={"content-type": "application/json"}
        )  # malformed JSON
        await hub.gql("{ regions(first: 1) { nodes { code }")  # syntax error
        await hub.data(REGIONS)  # and one that runs
        after = totals()
        # then both counted all six
        assert after[0] - before[0] == 6
        assert after[1] - before[1] == 6

    async def test_errors_are_counted_by_code(self, hub: Hub) -> None:
        before = sample("bilim_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
        await hub.gql("{ regions(first: 1) { nodes { password } } }")
        after = sample("bilim_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
        assert after - before == 1


def test_request_fields_hold_no_variables() -> None:
    from resolvers.telemetry import RequestRecord

    record = RequestRecord(request_id="r", method="GET", path="/healthz", status=200)
    assert set(request_fields(record)) == {"request_id", "method", "path", "status", "duration_ms"}


class TestTally:
    """Requests are tallied in memory and counted in the metrics together (within
    ``FLUSH_SECONDS``, or when /metrics is served): the counts must be those of one ``inc``
    and ``observe`` per request."""

    @staticmethod
    def records(name: str, kind: str = "query") -> list[object]:
        from types import SimpleNamespace

        from resolvers.telemetry import RequestRecord

        context = SimpleNamespace(operation_name=name, operation_type=kind)
        # on the buckets' bounds, between them, below the first and above the last
        durations = [0.0, 0.0025, 0.003, 0.005, 0.01, 0.7, 5.0, 10.0, 11.0, 0.0025]
        statements = [0, 1, 2, 4, 13, 89, 90, 300, 1, 0]
        out: list[object] = []
        for duration, count in zip(durations, statements, strict=True):
            record = RequestRecord(request_id="r", method="POST", path="/graphql", status=200)
            record.context, record.codes, record.duration = context, (), duration
            record.statements, record.compiled = count, count == 1
            out.append(record)
        return out

    def test_tallied_counts_equal_one_observation_per_request(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        # given the same requests observed one by one in histograms of the same buckets
        registry = CollectorRegistry()
        latency = Histogram("l", "l", buckets=metrics.LATENCY._upper_bounds[:-1], registry=registry)
        statements = Histogram(
            "s", "s", buckets=metrics.STATEMENTS._upper_bounds[:-1], registry=registry
        )
        total = Counter("t", "t", registry=registry)
        records = self.records("TallyProbe", "probe")
        for record in records:
            latency.observe(record.duration)  # type: ignore[attr-defined]
            statements.observe(record.statements)  # type: ignore[attr-defined]
            total.inc(record.statements)  # type: ignore[attr-defined]
        compiled_before = sample("bilim_graphql_compiled_total")
        # when the hub tallies them (no event loop here: counted at once)
        for record in records:
            metrics.observe(record)  # type: ignore[arg-type]
        labels = {"operation": "TallyProbe", "type": "probe"}
        # then every bucket, sum and count is the same
        for bound in metrics.LATENCY._upper_bounds:
            le = "+Inf" if bound == float("inf") else str(bound)
            expected = registry.get_sample_value("l_bucket", {"le": le})
            assert sample("bilim_graphql_request_seconds_bucket", **labels, le=le) == expected
        assert sample("bilim_graphql_request_seconds_sum", **labels) == pytest.approx(
            registry.get_sample_value("l_sum")
        )
        assert sample("bilim_graphql_requests_total", **labels, outcome="ok") == len(records)
        for bound in metrics.STATEMENTS._upper_bounds:
            le = "+Inf" if bound == float("inf") else str(bound)
            expected = registry.get_sample_value("s_bucket", {"le": le})
            assert (
                sample("bilim_sql_statements_per_request_bucket", type="probe", le=le) == expected
            )
        assert sample("bilim_sql_statements_total", type="probe") == registry.get_sample_value(
            "t_total"
        )
        assert sample("bilim_graphql_compiled_total") - compiled_before == 2

    async def test_tallied_requests_are_counted_within_the_flush_interval(self) -> None:
        import asyncio

        from prometheus_client import REGISTRY

        # given two requests ended in a running loop
        labels = {"operation": "TallyTimer", "type": "query", "outcome": "ok"}
        for record in self.records("TallyTimer")[:2]:
            metrics.observe(record)  # type: ignore[arg-type]
        # then they are not counted yet, and are once FLUSH_SECONDS have passed, unprompted
        assert (REGISTRY.get_sample_value("bilim_graphql_requests_total", labels) or 0) == 0
        await asyncio.sleep(metrics.FLUSH_SECONDS * 3)
        assert REGISTRY.get_sample_value("bilim_graphql_requests_total", labels) == 2

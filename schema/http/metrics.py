"""Prometheus counters of the GraphQL endpoint, and ``/metrics`` that exposes them."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter("bilim_graphql_requests_total", "GraphQL requests", ["outcome"])
COMPILED = Counter("bilim_graphql_compiled_total", "Queries answered by the compiled path")
LATENCY = Histogram("bilim_graphql_seconds", "GraphQL request duration")


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Bilim Hub: the Starlette application. It wires settings, the database engines, the schema,
the routes (``/graphql``, ``/healthz``, ``/readyz``, ``/metrics`` where settings allow it,
GraphiQL assets, stored files, the library's OAI-PMH ``/oai``, the ``/stats`` page), the
lifespan and the middleware; the ``bilim`` command line is cli.py."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from models import database
from resolvers.access import KeyRing
from resolvers.access.keys import load_pepper
from resolvers.events import dispatches
from resolvers.safety import Guard
from resolvers.settings import Settings, metrics_served
from resolvers.telemetry import count_statements, traces
from resolvers.telemetry import metrics as telemetry_metrics
from schema.compiled import Compiler
from schema.events.wiring import events_runtime
from schema.http import kept
from schema.http.cors import cors_options
from schema.http.files import files
from schema.http.graphiql import DEMO_TOKENS_PATH, demo_tokens, demo_tokens_served
from schema.http.health import healthz, readyz
from schema.http.lane import GraphQLLane, Hub, socket_lane
from schema.http.limits import MAX_BODY, BodyLimit
from schema.http.manifests import portal_manifest
from schema.http.metrics import metrics
from schema.http.oai import oai
from schema.http.observability import Observe, ObservedView, Traced, observed_schema
from schema.http.stats import stats_asset, stats_page
from schema.http.view import GraphQLView, graphiql_asset
from schema.lms.oneroster import oneroster_routes


# long: the whole wiring of the app (state, lifespan, routes, middleware) in one place.
def create_app(settings: Settings | None = None, *, tracer_provider: Any = None) -> Hub:
    """The hub as an ASGI app; the database URL comes from settings (``DATABASE_URL``).
    Traces go to ``tracer_provider``, else by OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is
    set, else nowhere (resolvers/telemetry/traces.py)."""
    settings = settings or Settings()
    provider = tracer_provider or traces.provider_from_environment()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (bilim serve sets it for its workers)")
    state: Any = SimpleNamespace(settings=settings, compiler=None, events=None, tracer=None)
    if provider is not None:
        state.tracer = traces.compiled_spans(provider)
    if settings.compiled_queries:
        from schema import LIMIT_RULES, schema

        state.compiler = Compiler(schema, LIMIT_RULES, settings.max_tokens)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine, bookkeeping, read_engine = _engines(settings)
        state.engine = engine
        state.sessions = database.session_factory(engine)
        state.read_sessions = database.session_factory(read_engine) if read_engine else None
        state.keyring = KeyRing.load(settings)
        state.guard = Guard(settings, bookkeeping, load_pepper(settings))
        # The compiled path's single read statement runs outside a transaction; it reads from
        # the replica when there is one, as every query operation does.
        state.compiled_engine = read_engine or engine
        state.compiled_pool = database.DirectPool(
            state.compiled_engine,
            settings.read_database_url or settings.database_url or "",
            size=settings.pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
            pgbouncer=settings.pgbouncer,
            pool_timeout=settings.pool_timeout_seconds,
        )
        app.state.engine = engine
        app.state.compiled_pool = state.compiled_pool
        app.state.bookkeeping_engine = bookkeeping
        app.state.read_engine = read_engine
        app.state.settings = settings
        app.state.keyring = state.keyring
        app.state.compiler = state.compiler
        # The worker's kept answers (schema/http/kept.py), where tests and tools find them.
        app.state.kept_answers = kept.answers_of(state)
        # The OneRoster endpoints spend from the same budgets as the graph.
        app.state.guard = state.guard
        # Events: the live feed of subscriptions in every worker; the dispatcher too unless
        # it runs apart (`bilim events run`, BILIM_EVENT_DISPATCHER=false).
        state.events = events_runtime(settings)
        await state.events.start(dispatch=dispatches(settings))
        app.state.events = state.events
        count_statements(engine, read_engine)
        pools = {"requests": engine, "bookkeeping": bookkeeping, "replica": read_engine}
        for name, each in pools.items():
            if each is not None:
                telemetry_metrics.watch_pool(each, name)
        statement_spans = traces.trace_statements(provider, *pools.values()) if provider else []
        if settings.environment != "test":
            # What is loaded by now lives as long as the worker: the collector stops walking
            # it (a small query's p99 on the normal path: 96 -> 7 ms).
            gc.collect()
            gc.freeze()
            database.keep_freed_memory()
        # Security events counted in memory reach their rows every few seconds, and at the end.
        flusher = asyncio.create_task(state.guard.security.run())
        try:
            with observed_schema(provider):
                yield
        finally:
            if statement_spans:
                traces.stop_tracing(provider)
            for name, each in pools.items():
                if each is not None:
                    telemetry_metrics.unwatch_pool(each, name)
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await state.guard.security.flush()
            telemetry_metrics.flush()
            await state.events.stop()
            await state.compiled_pool.close()
            for each in (engine, bookkeeping, read_engine):
                if each is not None:
                    await each.dispose()

    # Multipart uploads carry the test results file; bearer tokens (not cookies) authenticate,
    # so a cross-site form cannot act for a signed-in user.
    view = ObservedView(
        state, graphql_ide="graphiql", allow_queries_via_get=True, multipart_uploads_enabled=True
    )
    routes = _routes(view, settings)
    app = Hub(routes=routes, lifespan=lifespan)
    # The graph's schema, for the routes beside it that read its field rules (OneRoster).
    app.state.graph = view.schema
    body: dict[str, Any] = {
        "limit": MAX_BODY,
        "idle_timeout": settings.body_idle_timeout_seconds,
        "timeout": settings.body_timeout_seconds,
    }
    app.add_middleware(BodyLimit, **body)
    if settings.trusted_proxies:
        # The caller behind a trusted proxy, by uvicorn's rule (the rightmost X-Forwarded-For
        # entry that is not a trusted proxy): the same rule `bilim serve` gives uvicorn, here
        # for any server. Applying it twice gives the same client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    # Outside the body guard: a refusal (413, 408, 503) still carries the CORS headers a
    # browser needs to show it to the portal's script.
    cors = cors_options(settings)
    app.add_middleware(CORSMiddleware, **cors)
    # Outermost: the request's id, log line and metrics cover all of it; its trace span
    # (when tracing is on) wraps even that, so the log line can name the trace.
    app.add_middleware(Observe)
    if provider is not None:
        app.add_middleware(Traced, provider=provider)
    else:
        # POST /graphql through the same steps without Starlette's general stack.
        app.lane = GraphQLLane(view, cors=cors, body=body, trusted_proxies=settings.trusted_proxies)
        app.socket_lane = socket_lane(view, trusted_proxies=settings.trusted_proxies)
    return app


def _routes(view: GraphQLView, settings: Settings) -> list[BaseRoute]:
    """The hub's routes: the graph (HTTP and websocket), health, assets, files, the library's
    OAI-PMH, the statistics page and, where settings allow, the metrics."""
    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST", "OPTIONS"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphiql/{name}", graphiql_asset),
        Route("/files/{sha256}", files),
        Route("/oai", oai, methods=["GET", "POST"]),
        Route("/stats", stats_page),
        Route("/stats/assets/{name}", stats_asset),
        Route("/persisted-queries/{portal}.json", portal_manifest),
        *oneroster_routes,
    ]
    if metrics_served(settings):
        routes.append(Route("/metrics", metrics))
    if demo_tokens_served(settings):
        routes.append(Route(DEMO_TOKENS_PATH, demo_tokens))
    return routes


def _engines(settings: Settings) -> tuple[AsyncEngine, AsyncEngine, AsyncEngine | None]:
    """The requests' engine, the bookkeeping engine (budgets, keys, persisted queries commit
    apart from the requests) and the read replica's, or None without one (query operations
    read from it; all else uses the primary)."""
    assert settings.database_url
    engine = database.create_engine(
        settings.database_url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_seconds,
        statement_timeout_ms=settings.statement_timeout_ms,
        pgbouncer=settings.pgbouncer,
    )
    bookkeeping = database.create_engine(
        settings.database_url,
        pool_size=settings.bookkeeping_pool_size,
        max_overflow=settings.bookkeeping_pool_size,
        pool_timeout=settings.pool_timeout_seconds,
        statement_timeout_ms=2_000,
        application_name="bilim-hub-bookkeeping",
        pgbouncer=settings.pgbouncer,
    )
    read_engine = None
    if settings.read_database_url:
        read_engine = database.create_engine(
            settings.read_database_url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            pool_timeout=settings.pool_timeout_seconds,
            statement_timeout_ms=settings.statement_timeout_ms,
            application_name="bilim-hub-replica",
            pgbouncer=settings.pgbouncer,
            read_only=True,
        )
    return engine, bookkeeping, read_engine

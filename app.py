"""Bilim Hub: the Starlette application (``/graphql``, ``/healthz``, ``/readyz``, ``/metrics``,
GraphiQL assets) and the ``bilim`` command line."""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import gc
import itertools
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import typer
from cross_web import HTTPException
from graphql import GraphQLError
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from models import database
from resolvers import assets
from resolvers.access import ANONYMOUS, KeyRing, Principal, Role, issue_token, principal_from_token
from resolvers.access.keys import load_pepper, looks_like_key
from resolvers.context import Context
from resolvers.errors import ErrorCode, RequestError
from resolvers.safety import Guard, operation_name_of
from resolvers.settings import Settings
from schema.compiled import Compiler, Unsupported

log = logging.getLogger("bilim")

REQUESTS = Counter("bilim_graphql_requests_total", "GraphQL requests", ["outcome"])
COMPILED = Counter("bilim_graphql_compiled_total", "Queries answered by the compiled path")
LATENCY = Histogram("bilim_graphql_seconds", "GraphQL request duration")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_BODY = 1_000_000
# File uploads (the national test results file) may be larger than a JSON request.
MAX_UPLOAD_BODY = 17 * 1024 * 1024


# Request ids: a random prefix per process and a counter (unique without a system call each).
_REQUEST_PREFIX = uuid.uuid4().hex[:16]
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_PREFIX}{next(_request_numbers):016x}"


def _error_body(code: ErrorCode, message: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code.value}}]})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes before anything parses them."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY, upload_limit: int = MAX_UPLOAD_BODY
    ) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            limit = self.upload_limit
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send, limit)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = _error_body(ErrorCode.BAD_REQUEST, f"The request body is over {limit} bytes")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def code_of(error: GraphQLError) -> ErrorCode:
    """The code of an error raised before execution (parse and validation)."""
    from schema import TOO_COMPLEX

    if TOO_COMPLEX.search(error.message):
        return ErrorCode.QUERY_TOO_COMPLEX
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


class GraphQLView(GraphQL[Context, None]):
    """``/graphql``: one session and one transaction per request, committed only when the
    operation produced no errors."""

    def _hides_schema(self, context: Context) -> bool:
        """Callers who get no field suggestions: anonymous callers and data partners, and in
        production everyone."""
        principal = context.principal
        return (
            principal.is_anonymous
            or principal.grant is not None
            or self.state.settings.environment == "production"
        )

    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        from schema import schema

        super().__init__(schema, **kwargs)
        self.state = app_state

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        principal, auth_error = await self.authenticate(request)
        ctx = self.context_for(request, response, principal)
        ctx.auth_error = auth_error
        return ctx

    def context_for(self, request: Any, response: Any, principal: Principal) -> Context:
        """The request's context (its id: the client's ``X-Request-Id`` when well formed, else
        a new one, echoed in the response)."""
        header = request.headers.get("x-request-id", "")
        request_id = header if REQUEST_ID.match(header) else new_request_id()
        if response is not None and hasattr(response, "headers"):
            response.headers["x-request-id"] = request_id
        return Context(
            principal=principal,
            sessions=self.state.sessions,
            read_sessions=self.state.read_sessions,
            request_id=request_id,
            request=request,
            response=response,
            guard=self.state.guard,
        )

    async def authenticate(self, request: Any) -> tuple[Principal, RequestError | None]:
        """The caller: a bearer token, a partner's API key (``Bearer bk_...`` or
        ``X-Api-Key``), or nobody."""
        authorization = request.headers.get("authorization")
        api_key = request.headers.get("x-api-key")
        if not authorization and not api_key:
            return ANONYMOUS, None
        if authorization and api_key:
            return ANONYMOUS, RequestError(
                ErrorCode.UNAUTHENTICATED, "Send a token or an API key, not both"
            )
        credential = api_key
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                return ANONYMOUS, RequestError(
                    ErrorCode.UNAUTHENTICATED, "Use 'Authorization: Bearer <token>'"
                )
        credential = credential.strip()
        try:
            if looks_like_key(credential) or api_key:
                return await self.state.guard.principal_from_key(credential), None
            return principal_from_token(credential, self.state.keyring, self.state.settings), None
        except RequestError as err:
            return ANONYMOUS, err

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        auth_error = context.auth_error
        if auth_error is not None:
            sub_response.status_code = 401
            return ExecutionResult(data=None, errors=[auth_error])
        started = time.perf_counter()
        try:
            try:
                query = await self.state.guard.resolve_query(
                    context.principal, request_data.query, request_data.extensions
                )
            except RequestError as err:
                return ExecutionResult(data=None, errors=[err])
            if query is not request_data.query:
                request_data = dataclasses.replace(request_data, query=query)
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
            ok = not result.errors
            for error in result.errors or ():
                if not (error.extensions or {}).get("code"):
                    error.extensions = {**(error.extensions or {}), "code": code_of(error).value}
            if result.errors and self._hides_schema(context):
                # "Did you mean ...?" would map the schema for a caller who may not introspect
                # it (OWASP GraphQL: field suggestions). Copies: validation errors are cached.
                result.errors = [
                    GraphQLError(
                        SUGGESTION.sub("", e.message),
                        nodes=e.nodes,
                        path=e.path,
                        original_error=e.original_error,
                        extensions=e.extensions,
                    )
                    if SUGGESTION.search(e.message)
                    else e
                    for e in result.errors
                ]
            try:
                await context.close(commit=ok)
            except Exception:
                log.exception("graphql.commit_failed", extra={"request_id": context.request_id})
                error = GraphQLError(
                    "The change could not be saved; try again",
                    extensions={
                        "code": ErrorCode.INTERNAL_ERROR.value,
                        "requestId": context.request_id,
                    },
                )
                return ExecutionResult(data=None, errors=[error])
            REQUESTS.labels("ok" if ok else "error").inc()
            return result
        finally:
            await context.close(commit=False)
            LATENCY.observe(time.perf_counter() - started)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted query is an operation, not a visit to the IDE.
        return bool(super().should_render_graphql_ide(request)) and (
            "extensions" not in request.query_params
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(assets.page(local=assets.installed(self.state.settings.data_dir)))

    async def compiled(self, request: Request) -> Response | None:
        """Answer a hot read query with one SQL statement (schema/compiled.py), or None when
        the request takes the normal path. Before anything is spent or run, every reason to
        take the normal path is known; from the budget on, this path answers."""
        compiler: Compiler | None = self.state.compiler
        if compiler is None or request.method != "POST":
            return None
        if not request.headers.get("content-type", "").startswith("application/json"):
            return None
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        operation_name, extensions = data.get("operationName"), data.get("extensions")
        if not (
            isinstance(variables, dict | None)
            and isinstance(operation_name, str | None)
            and isinstance(extensions, dict | None)
        ):
            return None
        principal, auth_error = await self.authenticate(request)
        if auth_error is not None:
            return None
        try:
            query = await self.state.guard.resolve_query(principal, query, extensions)
        except RequestError:
            return None
        if not isinstance(query, str):
            return None
        plan = compiler.plan(query, operation_name)
        if plan is None:
            return None
        try:
            sql, args = compiler.prepared(plan, principal, variables)
        except Unsupported:
            return None
        started = time.perf_counter()
        response = Response(media_type="application/json")
        ctx = self.context_for(request, response, principal)
        request_id = ctx.request_id
        ctx.operation_name = operation_name_of(plan.document, operation_name)
        ctx.variables = variables
        ok = False
        try:
            try:
                await self.state.guard.admit(
                    ctx, compiler.gql, plan.document, operation_name, variables, query
                )
            except RequestError as err:
                return self._compiled_response(response, ctx, None, [err.formatted])
            try:
                answer = await database.fetch_bytes(self.state.compiled_engine, sql, args)
                if answer is None:
                    raise RuntimeError("the compiled statement returned no row")
            except Exception:
                log.exception("graphql.compiled_failed", extra={"request_id": request_id})
                failure = GraphQLError(
                    "Unexpected error; quote the request id when you report it",
                    extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
                )
                if ctx.personal_read:  # audited as the resolvers' path audits it: rejected
                    await self.state.guard.audit_personal_read(
                        ctx, ExecutionResult(data=None, errors=[failure])
                    )
                return self._compiled_response(response, ctx, None, [failure.formatted])
            ok = True
            if ctx.personal_read:
                await self.state.guard.audit_personal_read(
                    ctx, ExecutionResult(data=None, errors=None)
                )
            return self._compiled_response(response, ctx, answer, None)
        finally:
            REQUESTS.labels("ok" if ok else "error").inc()
            COMPILED.inc()
            LATENCY.observe(time.perf_counter() - started)

    @staticmethod
    def _compiled_response(
        response: Response, ctx: Context, data: bytes | None, errors: list[Any] | None
    ) -> Response:
        parts = [b'{"data":', data if data is not None else b"null"]
        if errors:
            parts += [b',"errors":', orjson.dumps(errors)]
        if ctx.cost is not None:
            parts += [b',"extensions":', orjson.dumps({"cost": ctx.cost.as_extension()})]
        parts.append(b"}")
        response.body = b"".join(parts)
        response.headers["content-length"] = str(len(response.body))
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.compiled(request) or await self.run(request)
        except HTTPException as e:
            # GraphQL over HTTP: a malformed request still gets a JSON error body.
            response = Response(
                _error_body(ErrorCode.BAD_REQUEST, e.reason),
                status_code=e.status_code,
                media_type="application/json",
            )
        await response(scope, receive, send)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    engine = request.app.state.engine
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current = await database.current_revisions(engine)
    except Exception:
        log.warning("readyz.database_unreachable")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    heads = database.head_revisions()
    if current != heads:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": "pending",
                "current": sorted(current),
                "head": sorted(heads),
            },
            status_code=503,
        )
    body = {"status": "ok", "database": "ok", "migrations": "at head"}
    replica = await _replica_status(request.app.state.read_engine, heads)
    if replica is None:
        return JSONResponse(body)
    if replica != "ok":
        return JSONResponse({**body, "status": "unavailable", "replica": replica}, status_code=503)
    return JSONResponse({**body, "replica": replica})


async def _replica_status(engine: Any, heads: set[str]) -> str | None:
    """The read replica's state for /readyz: None without one, else ok, unreachable or
    behind (its migrations are not yet the primary's)."""
    if engine is None:
        return None
    try:
        current = await database.current_revisions(engine)
    except Exception:
        log.warning("readyz.replica_unreachable")
        return "unreachable"
    return "ok" if current == heads else "behind"


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def graphiql_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in assets.FILES:
        return JSONResponse({"error": "not found"}, status_code=404)
    path = assets.assets_dir(request.app.state.settings.data_dir) / name
    if not path.is_file():
        return JSONResponse({"error": "run `bilim assets install`"}, status_code=404)
    return FileResponse(path, headers={"cache-control": "public, max-age=86400"})


# mallopt(3) parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _keep_freed_memory() -> None:
    """glibc's malloc maps blocks over 128 kB apart and gives them back to the kernel when
    freed, so a worker passing 200 kB answers maps and faults them in again on every request
    (about 50 page faults each). Blocks under 16 MB come from the heap and up to 32 MB of freed
    memory stay at hand, as the embedded PostgreSQL is told (see models.database). Nothing
    happens where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_THRESHOLD, database.MALLOC_MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, database.MALLOC_TRIM_THRESHOLD)


def create_app(settings: Settings | None = None) -> Starlette:
    """The hub as an ASGI app; the database URL comes from settings (``DATABASE_URL``)."""
    settings = settings or Settings()
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (bilim serve sets it for its workers)")

    class State:
        pass

    state: Any = State()
    state.settings = settings
    state.compiler = None
    if settings.compiled_queries:
        from schema import LIMIT_RULES, schema

        state.compiler = Compiler(schema, LIMIT_RULES, settings.max_tokens)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        assert settings.database_url
        engine = database.create_engine(
            settings.database_url,
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            statement_timeout_ms=settings.statement_timeout_ms,
            pgbouncer=settings.pgbouncer,
        )
        # Bookkeeping (budgets, keys, persisted queries) commits apart from the requests.
        bookkeeping = database.create_engine(
            settings.database_url,
            pool_size=settings.bookkeeping_pool_size,
            max_overflow=settings.bookkeeping_pool_size,
            statement_timeout_ms=2_000,
            application_name="bilim-hub-bookkeeping",
            pgbouncer=settings.pgbouncer,
        )
        # Query operations read from the replica when there is one; all else uses the primary.
        read_engine = None
        if settings.read_database_url:
            read_engine = database.create_engine(
                settings.read_database_url,
                pool_size=settings.pool_size,
                max_overflow=settings.pool_max_overflow,
                statement_timeout_ms=settings.statement_timeout_ms,
                application_name="bilim-hub-replica",
                pgbouncer=settings.pgbouncer,
                read_only=True,
            )
        state.engine = engine
        state.sessions = database.session_factory(engine)
        state.read_sessions = database.session_factory(read_engine) if read_engine else None
        state.keyring = KeyRing.load(settings)
        state.guard = Guard(settings, bookkeeping, load_pepper(settings))
        # The compiled path's single read statement runs outside a transaction; it reads from
        # the replica when there is one, as every query operation does.
        state.compiled_engine = read_engine or engine
        app.state.engine = engine
        app.state.bookkeeping_engine = bookkeeping
        app.state.read_engine = read_engine
        app.state.settings = settings
        app.state.compiler = state.compiler
        if settings.environment != "test":
            # What is loaded by now lives as long as the worker: the collector stops walking
            # it (a small query's p99 on the normal path: 96 -> 7 ms).
            gc.collect()
            gc.freeze()
            _keep_freed_memory()
        try:
            yield
        finally:
            await engine.dispose()
            await bookkeeping.dispose()
            if read_engine is not None:
                await read_engine.dispose()

    # Multipart uploads carry the test results file; bearer tokens (not cookies) authenticate,
    # so a cross-site form cannot act for a signed-in user.
    view = GraphQLView(
        state, graphql_ide="graphiql", allow_queries_via_get=True, multipart_uploads_enabled=True
    )
    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphiql/{name}", graphiql_asset),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY)
    return app


# --- command line --------------------------------------------------------------------------

cli = typer.Typer(
    help="Bilim Hub: one GraphQL graph over the education systems.",
    no_args_is_help=True,
    add_completion=False,
)
assets_cli = typer.Typer(help="Browser assets (GraphiQL).", no_args_is_help=True)
keys_cli = typer.Typer(help="Token signing keys.", no_args_is_help=True)
cli.add_typer(assets_cli, name="assets")
cli.add_typer(keys_cli, name="keys")
jobs_cli = typer.Typer(help="Scheduled jobs (run daily by cron or a timer).", no_args_is_help=True)
cli.add_typer(jobs_cli, name="jobs")
import_cli = typer.Typer(help="Load data files from partner systems.", no_args_is_help=True)
cli.add_typer(import_cli, name="import")

DataDir = typer.Option(None, "--data-dir", help="Data folder (default: the user's data folder).")


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir.expanduser().resolve()
    return settings


class Database:
    """The database the command works on: ``DATABASE_URL``, or the embedded server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: database.EmbeddedPostgres | None = None
        self.url = settings.database_url or ""

    def __enter__(self) -> Database:
        if not self.url:
            self.embedded = database.EmbeddedPostgres(self.settings.data_dir)
            server = self.embedded.start()
            asyncio.run(database.ensure_database(server, database.EMBEDDED_DATABASE))
            self.url = self.embedded.url()
            typer.echo(f"Embedded PostgreSQL running, data in {self.embedded.pgdata}", err=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.embedded is not None:
            self.embedded.stop()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load demo data into an empty database."),
    workers: int = typer.Option(1, help="Worker processes."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="Log requests."),
    data_dir: Path | None = DataDir,
) -> None:
    """Run the hub: embedded PostgreSQL unless DATABASE_URL is set, migrations, then HTTP."""
    import uvicorn

    settings = _settings(data_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with Database(settings) as db:
        database.migrate(db.url)
        if demo:
            _load_demo(db.url)
        if settings.fetch_assets and not assets.installed(settings.data_dir):
            try:
                assets.install(settings.data_dir, timeout=20)
                typer.echo("GraphiQL assets installed into the data folder", err=True)
            except Exception as err:  # offline: the page falls back to the CDN and says so
                typer.echo(
                    f"GraphiQL assets not installed ({type(err).__name__}); "
                    "run `bilim assets install` when online",
                    err=True,
                )
        load_pepper(settings)  # likewise the API-key pepper
        KeyRing.load(settings)  # create the signing key before workers race to
        os.environ["DATABASE_URL"] = db.url
        os.environ["BILIM_DATA_DIR"] = str(settings.data_dir)
        typer.echo(
            f"Bilim Hub on http://{host}:{port}/graphql "
            f"(token: bilim token --role ministry --data-dir {settings.data_dir})",
            err=True,
        )
        uvicorn.run(
            "app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            log_level="info",
            loop="auto",
            http="auto",
        )


def _load_demo(url: str) -> None:
    from bench import dataset

    loaded = asyncio.run(dataset.is_loaded(url))
    if loaded:
        typer.echo("Demo data: the database already holds data, nothing loaded", err=True)
        return
    asyncio.run(dataset.load(url, scale=dataset.DEMO_SCALE, seed=1, progress=True))


@cli.command()
def migrate(data_dir: Path | None = DataDir) -> None:
    """Apply pending migrations."""
    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        typer.echo("Migrations at head", err=True)


@cli.command()
def seed(
    scale: float = typer.Option(0.005, help="1.0 is the whole country (1.4 million pupils)."),
    seed: int = typer.Option(1, "--seed", help="Random seed; the same seed gives the same data."),
    institutions: int | None = typer.Option(
        None, help="Institutions to make (default: the country's number times the scale)."
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Load a deterministic synthetic dataset (bulk COPY) at the given scale."""
    from bench import dataset

    if not 0 < scale <= 2:
        raise typer.BadParameter("scale is above 0 and at most 2")
    if institutions is not None and not 10 <= institutions <= 20_000:
        raise typer.BadParameter("institutions is between 10 and 20,000")
    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        stats = asyncio.run(
            dataset.load(db.url, scale=scale, seed=seed, progress=True, institutions=institutions)
        )
        typer.echo(", ".join(f"{k}: {v:,}" for k, v in stats.items()), err=True)


@cli.command("export-schema")
def export_schema(
    output: Path | None = typer.Option(None, help="File to write (default stdout)."),
) -> None:
    """Print the GraphQL schema (SDL)."""
    from schema import schema

    sdl = schema.as_str() + "\n"
    if output is None:
        sys.stdout.write(sdl)
    else:
        output.write_text(sdl)


@cli.command()
def token(
    role: Role = typer.Option(..., help="Role of the token."),
    scope: list[str] = typer.Option([], help="region:ID, district:ID or institution:ID (repeat)."),
    person: int | None = typer.Option(None, help="Person id (guardians and pupils)."),
    ttl: int | None = typer.Option(None, help="Minutes until the token expires."),
    data_dir: Path | None = DataDir,
) -> None:
    """Print a bearer token signed with the key of the data folder the server uses."""
    settings = _settings(data_dir)
    ring = KeyRing.load(settings)
    if role == Role.ANONYMOUS:
        raise typer.BadParameter("anonymous callers need no token")
    value = issue_token(
        ring, settings, role=role, person_id=person, scopes=list(scope), ttl_minutes=ttl
    )
    try:
        principal_from_token(value, ring, settings)
    except RequestError as err:
        raise typer.BadParameter(err.message) from None
    sys.stdout.write(value + "\n")


@assets_cli.command("install")
def assets_install(data_dir: Path | None = DataDir) -> None:
    """Fetch GraphiQL and React from the npm registry into the data folder."""
    folder = assets.install(_settings(data_dir).data_dir)
    typer.echo(f"GraphiQL assets in {folder}", err=True)


@keys_cli.command("rotate")
def keys_rotate(data_dir: Path | None = DataDir) -> None:
    """Add a new active signing key; tokens signed with older keys stay valid."""
    settings = _settings(data_dir)
    ring = KeyRing.load(settings)
    kid = ring.rotate(settings.data_dir / "signing-keys.json")
    typer.echo(f"Active signing key is now {kid}; restart the hub to use it", err=True)


@jobs_cli.command("run")
def jobs_run(data_dir: Path | None = DataDir) -> None:
    """Run the scheduled jobs once (cron this daily): expire kindergarten offers past their
    deadline under each season's decline rule, and expire licences and accreditations."""
    from resolvers import jobs

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        done = asyncio.run(jobs.run_all(db.url))
        typer.echo(", ".join(f"{k}: {v}" for k, v in done.items()), err=True)


@import_cli.command("test-results")
def import_test_results(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    data_dir: Path | None = DataDir,
) -> None:
    """Load the testing centre's national test results (CSV; columns in the README)."""
    from resolvers.admission.cli import ImportRefused, import_file

    with Database(_settings(data_dir)) as db:
        database.migrate(db.url)
        try:
            report = asyncio.run(import_file(db.url, file))
        except ImportRefused as err:
            typer.echo(f"The file was refused: {err}", err=True)
            raise typer.Exit(1) from None
    for problem in report.problems:
        typer.echo(f"line {problem.line}: {problem.code.value}: {problem.message}", err=True)
    if report.already_imported:
        typer.echo("This file was imported before; nothing changed", err=True)
    typer.echo(
        f"rows: {report.rows_total}, loaded: {report.rows_loaded}, "
        f"unchanged: {report.rows_unchanged}, rejected: {report.rows_rejected}"
    )


@keys_cli.command("create-partner")
def keys_create_partner(
    name: str = typer.Option(..., help="The partner and purpose."),
    field: list[str] = typer.Option(..., help="Type.field or Type.* in its subgraph (repeat)."),
    personal: bool = typer.Option(False, "--personal-data", help="Grant personal fields."),
    region: list[int] = typer.Option([], help="Region id whose rows it reads (repeat)."),
    points: int = typer.Option(5000, help="Hourly budget in points."),
    days: int = typer.Option(365, help="Days until the key expires."),
    data_dir: Path | None = DataDir,
) -> None:
    """Create a data partner's API key and print it (shown once; only its hash is kept)."""
    from resolvers.access.fields import unknown_fields
    from resolvers.access.keys import create_api_key
    from resolvers.errors import DomainError
    from schema import schema

    settings = _settings(data_dir)
    principal = Principal(subject="cli:ministry", role=Role.MINISTRY)

    async def create(url: str) -> str:
        engine = database.create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with database.session_factory(engine)() as session:
                new = await create_api_key(
                    session,
                    principal,
                    pepper=load_pepper(settings),
                    name=name,
                    allowed_fields=list(field),
                    personal_data=personal,
                    region_ids=list(region),
                    points_per_hour=points,
                    ttl_days=days,
                    unknown=unknown_fields(schema._schema, field),
                )
                await session.commit()
                return new.key
        finally:
            await engine.dispose()

    with Database(settings) as db:
        database.migrate(db.url)
        try:
            key = asyncio.run(create(db.url))
        except DomainError as err:
            raise typer.BadParameter(err.problems[0].message) from None
    sys.stdout.write(key + "\n")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

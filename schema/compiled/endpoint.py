"""The compiled path over HTTP: a JSON POST it can answer is answered here, before the
normal path; every other request returns None and goes on to the resolvers.

Before anything is spent or run, every reason to take the normal path is known; from the
budget on, this path answers, errors included."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from models import database
from resolvers import security
from resolvers.access import Principal
from resolvers.audit import redact_variables
from resolvers.context import Context
from resolvers.errors import ErrorCode, RequestError
from resolvers.faults import RETRY_AFTER_SECONDS, is_unavailable, unavailable_error
from resolvers.inputs import refusal as input_refusal
from resolvers.safety import operation_name_of
from resolvers.telemetry import note_result
from schema.compiled.cache import Compiler
from schema.compiled.links import sign_links
from schema.compiled.plan import Plan, Unsupported
from schema.compiled.sql import seal_cursors
from schema.http import kept, media
from schema.http.limits import request_json

if TYPE_CHECKING:
    from schema.http.view import GraphQLView

log = logging.getLogger("bilim")


@dataclass(frozen=True)
class _Operation:
    """What a JSON POST asks for, the query not yet resolved (it may be a persisted one)."""

    query: Any
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None


@dataclass(frozen=True)
class _Statement:
    """A request the compiled path answers: its caller, plan and SQL."""

    principal: Principal
    plan: Plan
    query: str
    operation: _Operation
    sql: str
    args: tuple[Any, ...]


async def answer(view: GraphQLView, request: Request) -> Response | None:
    """Answer a hot read query with one SQL statement, or None when the request takes the
    normal path."""
    compiler: Compiler | None = view.state.compiler
    if compiler is None:
        return None
    operation = await _operation(request)
    if operation is None:
        return None
    statement = await _statement(view, compiler, request, operation)
    if statement is None:
        return None
    # Worked out once: the span (with tracing on) and the context both carry it.
    name = operation_name_of(statement.plan.document, statement.operation.operation_name)
    tracer = view.state.tracer
    if tracer is None:
        return await _run(view, compiler, request, statement, name)
    # Tracing on: the operation's span, as strawberry's extension gives the normal path.
    attributes = {"graphql.operation.type": "query", "bilim.compiled": True}
    with tracer.start_as_current_span(
        f"GraphQL {name}" if name else "GraphQL Query",
        attributes=attributes | ({"graphql.operation.name": name} if name else {}),
    ):
        return await _run(view, compiler, request, statement, name)


async def _fetch(state: Any, statement: _Statement) -> bytes | None:
    """The statement's JSON; with tracing on, in a span of its own (its text with placeholders,
    never its arguments), as SQLAlchemy's instrumentation gives the normal path's statements."""
    if state.tracer is None:
        return await _fetch_bytes(state, statement)
    from opentelemetry.trace import SpanKind

    with state.tracer.start_as_current_span(
        "SELECT",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "db.statement": statement.sql,
            "bilim.compiled": True,
        },
    ):
        return await _fetch_bytes(state, statement)


async def _fetch_bytes(state: Any, statement: _Statement) -> bytes | None:
    """On the compiled path's own pool (app.py); on the engine's when a hub is put together
    without one."""
    pool = getattr(state, "compiled_pool", None)
    if pool is not None:
        return await pool.fetch_bytes(statement.sql, statement.args)
    return await database.fetch_bytes(state.compiled_engine, statement.sql, statement.args)


async def _operation(request: Request) -> _Operation | None:
    """The operation of a JSON POST whose parts have the types GraphQL over HTTP gives them."""
    if request.method != "POST":
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        data = await request_json(request)
    except (ValueError, HTTPException):
        return None  # the normal path answers it 400
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
    return _Operation(query, variables, operation_name, extensions)


async def _statement(
    view: GraphQLView, compiler: Compiler, request: Request, operation: _Operation
) -> _Statement | None:
    """The statement answering the request, or None for any reason to take the normal path:
    a credential it refuses, a persisted query it does not know, a document or arguments the
    compiled path does not answer."""
    principal, auth_error = await view.authenticate(request)
    if auth_error is not None:
        return None
    try:
        query = await view.state.guard.resolve_query(
            principal, operation.query, operation.extensions
        )
    except RequestError:
        return None
    if not isinstance(query, str):
        return None
    plan = compiler.plan(query, operation.operation_name)
    if plan is None:
        return None
    if input_refusal(compiler.gql, plan.document, operation.operation_name, operation.variables):
        return None  # the normal path refuses it with the same check
    try:
        sql, args = compiler.prepared(
            plan, principal, operation.variables, view.state.keyring.cursors
        )
    except Unsupported:
        return None
    return _Statement(principal, plan, query, operation, sql, args)


async def _run(
    view: GraphQLView,
    compiler: Compiler,
    request: Request,
    statement: _Statement,
    operation_name: str | None,
) -> Response:
    """Admit the operation (budget, subgraph, audit), run the statement and send its JSON."""
    state = view.state
    operation = statement.operation
    response = Response(media_type="application/json")
    ctx = view.context_for(request, response, statement.principal)
    request_id = ctx.request_id
    ctx.operation_name = operation_name
    ctx.operation_type = "query"
    ctx.variables = operation.variables
    ctx.persist = state.guard.registration(
        statement.principal, operation.query, operation.extensions
    )
    if statement.principal.grant is not None:  # audited if it reads personal fields
        ctx.variables = redact_variables(compiler.gql, statement.plan.document, ctx.variables)
    try:
        await state.guard.admit(
            ctx,
            compiler.gql,
            statement.plan.document,
            operation.operation_name,
            operation.variables,
            statement.query,
        )
    except RequestError as err:
        # A partner leaving its subgraph is a security event on this path too.
        _, action = security.action_of(statement.plan.document, operation.operation_name)
        await security.note_refusals(ctx, [err], writes=False, action=action)
        return _response(response, ctx, None, [err.formatted])
    try:
        answer = await _fetch(state, statement)
        if answer is None:
            raise RuntimeError("the compiled statement returned no row")
        answer = seal_cursors(answer, state.keyring.cursors)
        answer = sign_links(answer, state.keyring, state.settings.file_link_ttl_seconds)
    except Exception as err:
        if is_unavailable(err):
            # Load balancers and clients retry a 503; the audit cannot be written either.
            response.status_code = 503
            response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
            return _response(response, ctx, None, [unavailable_error(request_id).formatted])
        log.exception("graphql.compiled_failed", extra={"request_id": request_id})
        failure = GraphQLError(
            "Unexpected error; quote the request id when you report it",
            extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
        )
        if ctx.personal_read:  # audited as the resolvers' path audits it: rejected
            await state.guard.audit_personal_read(ctx, ExecutionResult(data=None, errors=[failure]))
        return _response(response, ctx, None, [failure.formatted])
    if ctx.personal_read:
        await state.guard.audit_personal_read(ctx, ExecutionResult(data=None, errors=None))
    kept.remember_json(request, ctx, answer)
    return _response(response, ctx, answer, None)


def _response(
    response: Response, ctx: Context, data: bytes | None, errors: list[Any] | None
) -> Response:
    """The answer's JSON, written around the statement's bytes without decoding them.
    Refused before the statement ran, for a client accepting GraphQL over HTTP's own media
    type: no data entry, and a 4xx (schema/http/media.py)."""
    note_result(errors, compiled=True)
    if data is None and errors and media.media_of(ctx.request.scope) == media.GRAPHQL_RESPONSE:
        if response.status_code < 400:
            codes = [(e.get("extensions") or {}).get("code") for e in errors]
            response.status_code = media.request_error_status(codes)
        parts = [b'{"errors":', orjson.dumps(errors)]
    else:
        parts = [b'{"data":', data if data is not None else b"null"]
        if errors:
            parts += [b',"errors":', orjson.dumps(errors)]
    if ctx.cost is not None:
        parts += [b',"extensions":', orjson.dumps({"cost": ctx.cost.as_extension()})]
    parts.append(b"}")
    response.body = b"".join(parts)
    response.headers["content-length"] = str(len(response.body))
    return response

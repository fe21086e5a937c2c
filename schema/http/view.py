"""``/graphql``: who the caller is, one session and one transaction per request, the errors'
codes, and the GraphiQL page with its assets."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import uuid
from datetime import timedelta
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from resolvers import assets, security
from resolvers.access import ANONYMOUS, Principal, principal_from_token
from resolvers.access.keys import looks_like_key
from resolvers.context import Context
from resolvers.errors import ErrorCode, RequestError
from resolvers.events.subscriptions import LiveContext
from resolvers.faults import RETRY_AFTER_SECONDS, is_unavailable, unavailable_error
from resolvers.mutations import fault_code, record_rolled_back
from schema import TOO_COMPLEX, schema
from schema.compiled import endpoint as compiled_endpoint
from schema.http import graphiql, kept, limits, live, media
from schema.http.limits import error_body
from schema.http.live import LiveHandler

log = logging.getLogger("bilim")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# A JSON text is an object or a list (a batch, refused) when it starts with one of these.
JSON_CONTAINER = re.compile(rb"[ \t\r\n]*[{\[]")
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

# What /graphql answers to: every method, and those that may run a mutation (POST only).
ALLOW = "GET, POST, OPTIONS"
ALLOW_MUTATION = "POST"

# Request ids: a random prefix per process and a counter (unique without a system call each).
_REQUEST_PREFIX = uuid.uuid4().hex[:16]
_request_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_REQUEST_PREFIX}{next(_request_numbers):016x}"


def code_of(error: GraphQLError) -> ErrorCode:
    """The code of an error raised before execution (parse and validation)."""
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

    # graphql-transport-ws only (the legacy graphql-ws protocol is not offered).
    graphql_transport_ws_handler_class = LiveHandler

    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        settings = app_state.settings
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=settings.ws_subscriptions_per_connection,
            connection_init_wait_timeout=timedelta(seconds=10),
            **kwargs,
        )
        self.state = app_state

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return limits.decode_json(data)

    async def parse_http_body(self, request: Any) -> Any:
        """A JSON body must be an object (strawberry takes ``null`` for one and fails with a
        500); the rest is strawberry's."""
        if (
            request.method == "POST"
            and "json" in (request.content_type or "")
            and not JSON_CONTAINER.match(await request.get_body())
        ):
            raise HTTPException(400, "A GraphQL request is a JSON object")
        return await super().parse_http_body(request)

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """Multipart ``operations`` must be an object too."""
        operations = await super().parse_multipart(request)
        if not isinstance(operations, dict):
            raise HTTPException(400, "Multipart operations are a JSON object")
        return operations

    async def get_context(self, request: Any, response: Any) -> Context:
        if self.is_websocket_request(request):
            # The caller is known at connection_init (on_ws_connect), not at the handshake.
            return LiveContext(
                principal=ANONYMOUS,
                sessions=self.state.sessions,
                request_id=new_request_id(),
                cursors=self.state.keyring.cursors,
                request=request,
                guard=self.state.guard,
                graphql_schema=getattr(self.schema, "_schema", None),
                events=getattr(self.state, "events", None),
            )
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
            cursors=self.state.keyring.cursors,
            request=request,
            response=response,
            guard=self.state.guard,
            graphql_schema=getattr(self.schema, "_schema", None),
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
        except Exception as err:
            # A partner's key is checked in the database: without it, no answer yet.
            if not is_unavailable(err):
                raise
            return ANONYMOUS, RequestError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The database cannot be reached; try again shortly",
                retryAfter=RETRY_AFTER_SECONDS,
            )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, LiveContext)
        return await live.accept(self, context)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        result = await self._execute(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        scope = getattr(request, "scope", {})
        if media.media_of(scope) == media.GRAPHQL_RESPONSE and media.is_request_error(
            result.data, result.errors
        ):
            # GraphQL over HTTP: failed before execution, so no data entry and a 4xx.
            scope[media.REQUEST_ERROR_KEY] = True
            if not sub_response.status_code or sub_response.status_code < 400:
                codes = [(e.extensions or {}).get("code") for e in result.errors or ()]
                sub_response.status_code = media.request_error_status(codes)
        return result

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        answer = await super().process_result(request, result)
        if getattr(request, "scope", {}).get(media.REQUEST_ERROR_KEY):
            answer.pop("data", None)
        return answer

    async def _execute(
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
            return await self._refuse_credential(context, sub_response, auth_error, request_data)
        try:
            try:
                query = await self.state.guard.resolve_query(
                    context.principal, request_data.query, request_data.extensions
                )
            except RequestError as err:
                return await self._refused(ExecutionResult(data=None, errors=[err]), context)
            except Exception as err:
                if not is_unavailable(err):
                    raise
                return self._unavailable(sub_response, [unavailable_error(context.request_id)])
            context.persist = self.state.guard.registration(
                context.principal, request_data.query, request_data.extensions
            )
            if query is not request_data.query:
                request_data = dataclasses.replace(request_data, query=query)
            try:
                result = await super().execute_single(
                    request=request,
                    request_adapter=request_adapter,
                    sub_response=sub_response,
                    context=context,
                    root_value=root_value,
                    request_data=request_data,
                )
            except HTTPException as err:
                if isinstance(err.__cause__, InvalidOperationTypeError):
                    # A mutation sent by GET (a cross-site link, a crawler): refused, recorded,
                    # and answered 405 as GraphQL over HTTP says (the view adds ``Allow``).
                    await security.note(
                        context,
                        reason=ErrorCode.BAD_REQUEST,
                        why="mutation_over_get",
                        action=f"{err.__cause__.operation_type.value} over GET",
                    )
                    raise HTTPException(405, err.reason) from err.__cause__
                raise
            self._code_errors(result, context)
            if result.errors and context.cost is None:
                # Refused before the guard weighed it (parse, validation, input): not free.
                result = await self._refused(result, context)
            ended = await self._end(context, sub_response, result)
            kept.remember(request, context, ended.data, ended.errors, sub_response.status_code)
            return ended
        finally:
            try:
                await context.close(commit=False)
            except Exception:
                log.warning("graphql.close_failed", extra={"request_id": context.request_id})

    async def _refuse_credential(
        self, context: Context, sub_response: Any, error: GraphQLError, request_data: Any
    ) -> ExecutionResult:
        """A refused token or key: 401 and a security event; 503 when the key could not be
        checked for want of the database."""
        if (error.extensions or {}).get("code") == ErrorCode.SERVICE_UNAVAILABLE:
            error.extensions = {**(error.extensions or {}), "requestId": context.request_id}
            return self._unavailable(sub_response, [error])
        sub_response.status_code = 401
        writes = security.looks_like_mutation(getattr(request_data, "query", None))
        await security.note_credential_refused(
            context, error, action="mutation" if writes else "request"
        )
        return ExecutionResult(data=None, errors=[error])

    async def _end(
        self, context: Context, sub_response: Any, result: ExecutionResult
    ) -> ExecutionResult:
        """Commit what the operation settled, or roll it all back: a response without data, or
        one whose attempts were not all settled and had errors, keeps nothing (its attempts are
        audited apart). 503 when the database could not serve it."""
        commit = (
            result.data is not None
            and not context.failed
            and (context.settled or not result.errors)
        )
        codes = sorted({str((e.extensions or {}).get("code")) for e in result.errors or ()})
        try:
            await context.close(commit=commit)
        except Exception as err:
            log.exception("graphql.commit_failed", extra={"request_id": context.request_id})
            await record_rolled_back(context, [fault_code(err).value])
            if is_unavailable(err):
                return self._unavailable(sub_response, [unavailable_error(context.request_id)])
            error = GraphQLError(
                "The change could not be saved; try again",
                extensions={
                    "code": ErrorCode.INTERNAL_ERROR.value,
                    "requestId": context.request_id,
                },
            )
            return ExecutionResult(data=None, errors=[error])
        if not commit:
            await record_rolled_back(context, codes)
        if ErrorCode.SERVICE_UNAVAILABLE.value in codes:
            self._unavailable(sub_response, [])
        return result

    def _unavailable(self, sub_response: Any, errors: list[GraphQLError]) -> ExecutionResult:
        """HTTP 503 with ``Retry-After``: load balancers and clients retry on it."""
        sub_response.status_code = 503
        sub_response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return ExecutionResult(data=None, errors=errors)

    async def _refused(self, result: ExecutionResult, context: Context) -> ExecutionResult:
        """A refused request spends a point of its caller's budget (at least one, as every
        request does); past the budget it is answered RATE_LIMITED."""
        over = await self.state.guard.charge_refusal(context)
        return result if over is None else ExecutionResult(data=None, errors=[over])

    def _code_errors(self, result: ExecutionResult, context: Context) -> None:
        """Give every error its code, and take the field suggestions out of the errors of a
        caller who may not see the schema."""
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

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted query is an operation, not a visit to the IDE.
        return bool(super().should_render_graphql_ide(request)) and (
            "extensions" not in request.query_params
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        settings = self.state.settings
        return HTMLResponse(
            graphiql.page(
                local=assets.installed(settings.data_dir),
                demo=graphiql.demo_tokens_served(settings),
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        if request.method == "OPTIONS":
            # A plain OPTIONS (a CORS preflight never gets here: the CORS middleware answers it).
            await Response(status_code=204, headers={"allow": ALLOW})(scope, receive, send)
            return
        scope[media.MEDIA_KEY] = media.negotiate(request.headers.get("accept"))
        try:
            response = (
                await kept.answer(self, request)
                or await compiled_endpoint.answer(self, request)
                or await self.run(request)
            )
        except HTTPException as e:
            # GraphQL over HTTP: a malformed request still gets a JSON error body.
            response = Response(
                error_body(ErrorCode.BAD_REQUEST, e.reason),
                status_code=e.status_code,
                media_type="application/json",
                headers={"allow": ALLOW_MUTATION} if e.status_code == 405 else None,
            )
        except Exception as e:
            # The database went away where no error path expected it: still a 503, not a 500.
            if not is_unavailable(e):
                raise
            log.warning("graphql.database_unavailable", extra={"event": "graphql.unavailable"})
            response = Response(
                error_body(ErrorCode.SERVICE_UNAVAILABLE, "The database cannot be reached"),
                status_code=503,
                headers={"retry-after": str(RETRY_AFTER_SECONDS)},
                media_type="application/json",
            )
        if scope[media.MEDIA_KEY] == media.GRAPHQL_RESPONSE and response.headers.get(
            "content-type", ""
        ).startswith(media.JSON):
            response.headers["content-type"] = f"{media.GRAPHQL_RESPONSE}; charset=utf-8"
        await response(scope, receive, send)


async def graphiql_asset(request: Request) -> Response:
    """``/graphiql/{name}``: the IDE page's scripts and styles from the data folder."""
    name = request.path_params["name"]
    if name not in assets.FILES:
        return JSONResponse({"error": "not found"}, status_code=404)
    path = assets.assets_dir(request.app.state.settings.data_dir) / name
    if not path.is_file():
        return JSONResponse({"error": "run `bilim assets install`"}, status_code=404)
    return FileResponse(path, headers={"cache-control": "public, max-age=86400"})

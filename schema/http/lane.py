"""The hot path's own way in: ``POST /graphql``, most of what the hub serves, goes from the
server straight to the view through one short stack, not through Starlette's general one.

Starlette's stack is seven layers for every request (its error and exception middleware, the
request's record, CORS, the body guard, the router, the route), and CORS alone wraps every
response to add ``Vary: Origin``; together about a tenth of a small query's CPU (issue 21).
The lane keeps what each of them does for this one route, in the same order: the 500 of an
unexpected fault (Starlette's own middleware), the request's id, record, log line and metrics
(:class:`Observe`), CORS for a browser's request (Starlette's middleware, when the request
names an ``Origin``; else only the ``Vary`` header it would add), the trusted proxies' client
address, the body guard, then the view. A subscription's websocket on ``/graphql`` takes a
lane of its own (:func:`socket_lane`: only the trusted proxies' address applies to it).
Every other request (another path or method, a preflight, the lifespan) takes Starlette's
stack as before, and with tracing on every request does (the trace's span wraps the whole
stack there)."""

from __future__ import annotations

from typing import Any, cast

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from schema.http.limits import BodyLimit
from schema.http.observability import GRAPHQL_PATH, Observe

_ORIGIN = b"origin"
_VARY = (b"vary", b"Origin")


class Hub(Starlette):
    """The hub's app: Starlette, with ``POST /graphql`` taking :attr:`lane` and the
    subscriptions' websockets on ``/graphql`` taking :attr:`socket_lane` when they are set."""

    lane: ASGIApp | None = None
    socket_lane: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.lane
        if lane is not None and scope["type"] != "lifespan" and scope["path"] == GRAPHQL_PATH:
            if scope["type"] == "http" and scope["method"] == "POST":
                scope["app"] = self
                scope["router"] = self.router
                await lane(scope, receive, send)
                return
            if scope["type"] == "websocket" and self.socket_lane is not None:
                scope["app"] = self
                scope["router"] = self.router
                await self.socket_lane(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def socket_lane(view: ASGIApp, *, trusted_proxies: str | None) -> ASGIApp:
    """A subscription's websocket from the server to ``view``: of Starlette's stack only the
    trusted proxies' client address applies to a websocket (its error middleware, the
    request record, CORS and the body guard pass websockets through), but each layer's frame
    and closures lived as long as the socket: ~5 kB of each of 2,000 sockets (issue 18)."""
    if not trusted_proxies:
        return view
    proxies: Any = ProxyHeadersMiddleware  # typed for asgiref's scopes, not Starlette's
    return cast(ASGIApp, proxies(view, trusted_hosts=trusted_proxies))


class GraphQLLane:
    """``POST /graphql`` from the server to ``view``, doing what Starlette's stack does for it."""

    def __init__(
        self,
        view: ASGIApp,
        *,
        cors: dict[str, Any],
        body: dict[str, Any],
        trusted_proxies: str | None,
    ) -> None:
        inner: ASGIApp = BodyLimit(view, **body)
        if trusted_proxies:
            proxies: Any = ProxyHeadersMiddleware  # typed for asgiref's scopes, not Starlette's
            inner = proxies(inner, trusted_hosts=trusted_proxies)
        self.inner = inner
        self.cors = CORSMiddleware(inner, **cors)
        self.stack = ServerErrorMiddleware(Observe(self._origin))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stack(scope, receive, send)

    async def _origin(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A browser's request (it names its Origin) gets CORS's answer; any other only the
        ``Vary: Origin`` CORS adds to every response (caches must not share it across
        origins)."""
        for name, _ in scope["headers"]:
            if name == _ORIGIN:
                await self.cors(scope, receive, send)
                return

        async def vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers") or []
                message["headers"] = _with_vary(headers)
            await send(message)

        await self.inner(scope, receive, vary)


def _with_vary(headers: Any) -> list[tuple[bytes, bytes]]:
    """The response's headers with ``Origin`` among what it varies by, as CORS writes it."""
    out = list(headers)
    found = [v for k, v in out if k.lower() == b"vary"]
    if not found:
        out.append(_VARY)
        return out
    out = [(k, v) for k, v in out if k.lower() != b"vary"]
    out.append((b"vary", b", ".join([*found, b"Origin"])))
    return out

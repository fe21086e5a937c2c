"""GraphQL subscriptions over graphql-transport-ws on ``/graphql``: the caller is
authenticated from ``connection_init`` exactly as an HTTP request is from its headers (a
bearer token or a partner's key), each operation runs with a context of its own (its own
session, opened per event and closed after), and the socket closes when the token expires,
after an idle spell, or past the limits of connections per caller."""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.datastructures import Headers
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from resolvers.access.keys import looks_like_key
from resolvers.events.subscriptions import LiveContext

# The context of the operation the current task runs (unset in the connection's own task).
_OPERATION: ContextVar[LiveContext | None] = ContextVar("bilim_ws_operation", default=None)
WATCH_SECONDS = 1.0
KEY_RECHECK_SECONDS = 300.0
CLOSE_EXPIRED = 4401
CLOSE_IDLE = 4408


@dataclass(frozen=True)
class Handshake:
    """What ``connection_init`` carries, as the HTTP view reads a request: its headers."""

    headers: Headers


def handshake_of(params: dict[str, Any] | None) -> Handshake:
    """``{"Authorization": "Bearer ..."}`` or ``{"X-Api-Key": "bk_..."}`` (any case), or
    ``{"authToken": "..."}`` as some clients send it."""
    params = params or {}
    found: dict[str, str] = {}
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        name = key.lower().replace("_", "-")
        if name in ("authorization", "x-api-key"):
            found[name] = value
        elif name in ("authtoken", "auth-token", "token") and "authorization" not in found:
            found["authorization"] = value if " " in value else f"Bearer {value}"
    return Handshake(Headers(found))


def token_expiry(handshake: Handshake) -> float | None:
    """When the (already verified) bearer token expires; None for API keys."""
    scheme, _, credential = handshake.headers.get("authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or looks_like_key(credential):
        return None
    claims = jwt.decode(credential, options={"verify_signature": False})
    return float(claims["exp"])


async def accept(view: Any, context: LiveContext) -> dict[str, object] | None:
    """Authenticate a connection from its ``connection_init`` (as HTTP requests are, by
    the view's ``authenticate``), and admit it within the caller's connection limit."""
    handshake = handshake_of(context.connection_params)
    principal, error = await view.authenticate(handshake)
    if error is not None or principal.is_anonymous:
        raise ConnectionRejectionError()
    runtime = context.events
    if runtime is None or not runtime.limits.admit(principal.subject):
        raise ConnectionRejectionError()
    context.principal = principal
    context.admitted = True
    context.expires_at = token_expiry(handshake)
    context.credential = handshake
    return None if context.expires_at is None else {"expiresAt": int(context.expires_at)}


class LiveHandler(BaseGraphQLTransportWSHandler[Any, None]):
    """Strawberry's graphql-transport-ws handler with the hub's connection rules."""

    @property
    def context(self) -> Any:
        return _OPERATION.get() or self._connection

    @context.setter
    def context(self, value: Any) -> None:
        self._connection = value

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self.last_active = time.monotonic()
        self.watchdog = asyncio.create_task(self._watch())

    async def handle_message(self, message: Message) -> None:
        self.last_active = time.monotonic()
        await super().handle_message(message)

    async def run_operation(self, operation: Operation[Any, None]) -> None:
        own = self._connection.for_operation()
        _OPERATION.set(own)  # this task's own copy: other operations do not see it
        try:
            await super().run_operation(operation)
        finally:
            await own.close(commit=False)

    async def _watch(self) -> None:
        """Close the socket when the token expires, when no operation has run for the idle
        spell, or when the partner's key was revoked."""
        ctx: LiveContext = self._connection
        settings = self.view.state.settings  # type: ignore[attr-defined]
        checked = time.monotonic()
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if ctx.expires_at is not None and time.time() >= ctx.expires_at:
                await self.websocket.close(CLOSE_EXPIRED, "The token has expired")
                return
            idle = time.monotonic() - self.last_active
            if not self.operations and idle > settings.ws_idle_seconds:
                await self.websocket.close(CLOSE_IDLE, "Idle")
                return
            if ctx.principal.grant is not None and time.monotonic() - checked > KEY_RECHECK_SECONDS:
                checked = time.monotonic()
                _, error = await self.view.authenticate(ctx.credential)  # type: ignore[attr-defined]
                if error is not None:
                    await self.websocket.close(CLOSE_EXPIRED, "The API key is no longer valid")
                    return

    async def shutdown(self) -> None:
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watchdog
        try:
            await super().shutdown()
        finally:
            ctx: LiveContext = self._connection
            if ctx.admitted and ctx.events is not None:
                ctx.events.limits.leave(ctx.principal.subject)
                ctx.admitted = False

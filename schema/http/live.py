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
        self.key_checked = time.monotonic()
        self.closing = False
        self.sweeper.watch(self)

    @property
    def sweeper(self) -> Sweeper:
        """The view's one timer for all its sockets (made on first use, in its loop)."""
        found = getattr(self.view, "bilim_sweeper", None)
        if found is None:
            found = Sweeper()
            self.view.bilim_sweeper = found  # type: ignore[attr-defined]
        return found

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

    def due_to_close(self, now: float, wall: float) -> tuple[int, str] | None:
        """Why this socket should close now, if it should: the token expired, or no
        operation ran for the idle spell."""
        ctx: LiveContext = self._connection
        if ctx.expires_at is not None and wall >= ctx.expires_at:
            return CLOSE_EXPIRED, "The token has expired"
        settings = self.view.state.settings  # type: ignore[attr-defined]
        if not self.operations and now - self.last_active > settings.ws_idle_seconds:
            return CLOSE_IDLE, "Idle"
        return None

    def key_due(self, now: float) -> bool:
        """Is it time to check a partner's key again?"""
        ctx: LiveContext = self._connection
        return ctx.principal.grant is not None and now - self.key_checked > KEY_RECHECK_SECONDS

    async def close_with(self, code: int, reason: str) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.websocket.close(code, reason)

    async def recheck_key(self) -> None:
        """Close the socket when the partner's key was revoked or expired."""
        self.key_checked = time.monotonic()
        ctx: LiveContext = self._connection
        _, error = await self.view.authenticate(ctx.credential)  # type: ignore[attr-defined]
        if error is not None:
            await self.close_with(CLOSE_EXPIRED, "The API key is no longer valid")

    async def shutdown(self) -> None:
        self.sweeper.forget(self)
        try:
            await super().shutdown()
        finally:
            ctx: LiveContext = self._connection
            if ctx.admitted and ctx.events is not None:
                ctx.events.limits.leave(ctx.principal.subject)
                ctx.admitted = False


class Sweeper:
    """One timer per worker for every socket's expiry, idle spell and key check (a task per
    socket cost each of 2,000 sockets a wake-up a second and a task's memory)."""

    def __init__(self) -> None:
        self.handlers: set[LiveHandler] = set()
        self.task: asyncio.Task[None] | None = None
        self.pending: set[asyncio.Task[None]] = set()

    def watch(self, handler: LiveHandler) -> None:
        self.handlers.add(handler)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._sweep(), name="ws-sweeper")

    def forget(self, handler: LiveHandler) -> None:
        self.handlers.discard(handler)

    async def _sweep(self) -> None:
        while self.handlers:
            await asyncio.sleep(WATCH_SECONDS)
            now, wall = time.monotonic(), time.time()
            for handler in list(self.handlers):
                if handler.closing:
                    continue
                due = handler.due_to_close(now, wall)
                if due is not None:
                    self._spawn(handler.close_with(*due))
                elif handler.key_due(now):
                    handler.key_checked = now
                    self._spawn(handler.recheck_key())

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

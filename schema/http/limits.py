"""Request bodies the hub refuses before anything parses them, the JSON it takes from them,
and the JSON error body of a request refused over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.errors import ErrorCode

MAX_BODY = 1_000_000
# The deepest JSON a request may carry: the schema's inputs nest a few levels; the hub's own
# walks of variables (cost, scope, audit, the compiled path) recurse, and Python's stack does
# not take 1,000 levels (issue 22.3: 5,000 levels answered 500).
MAX_JSON_DEPTH = 32
# File uploads (the national test results file) may be larger than a JSON request.
MAX_UPLOAD_BODY = 17 * 1024 * 1024


def decode_json(data: str | bytes) -> Any:
    """JSON from a request (a body, GET's ``variables`` and ``extensions``, multipart
    ``operations``): 400 for invalid UTF-8 or nesting deeper than :data:`MAX_JSON_DEPTH`.

    A lone surrogate escape (``"\\ud800"``) is valid JSON text but no Unicode: it is kept, and
    the operation's input check refuses it with a typed error like a NUL."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        if "surrogate" not in str(err):
            raise
        value = _with_surrogates(data)
    if _brackets(data) > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise HTTPException(400, f"The JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def _brackets(data: str | bytes) -> int:
    """Opening brackets in JSON text, those inside strings too: each level of nesting opens
    with one, so text with no more than the limit cannot nest deeper and its decoded value
    need not be walked (a small query's body: ~1% of its CPU)."""
    if isinstance(data, str):
        return data.count("{") + data.count("[")
    return data.count(b"{") + data.count(b"[")


# Where a request's decoded JSON body is kept for the rest of the request.
JSON_BODY_KEY = "bilim.json_body"
_NOT_READ = object()


async def request_json(request: Request) -> Any:
    """The request's body decoded by :func:`decode_json`, once per request: the kept answers
    and the compiled path each look at it before the view runs (decoded twice before, with
    its depth walked twice, on the hub's most frequent request). Raises as
    :func:`decode_json` does; a body that does not decode is not kept."""
    found = request.scope.get(JSON_BODY_KEY, _NOT_READ)
    if found is _NOT_READ:
        found = request.scope[JSON_BODY_KEY] = decode_json(await request.body())
    return found


def _with_surrogates(data: str | bytes) -> Any:
    """The standard library's decoder keeps lone surrogate escapes that orjson refuses; text
    that is not UTF-8 and NaN or Infinity are still refused."""

    def constant(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not JSON", name, 0)

    try:
        text = data.decode() if isinstance(data, bytes) else data
        return json.loads(text, parse_constant=constant)
    except (UnicodeDecodeError, RecursionError) as err:
        raise json.JSONDecodeError("Not UTF-8 JSON", "", 0) from err


def _deeper_than(value: Any, limit: int) -> bool:
    """Does a decoded JSON value nest deeper than ``limit``? (Walked without recursion.)"""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def error_body(code: ErrorCode, message: str) -> bytes:
    """A GraphQL-over-HTTP error answer: one error with its code."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code.value}}]})


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes before anything parses them (413), and bodies
    that stop arriving: no byte for ``idle_timeout`` seconds, or not all of it within
    ``timeout`` seconds (408). A request that declares a body and never sends it would hold
    its connection and the worker's attention for as long as the client likes (issue 22.10);
    the server's keep-alive timeout does not cover a request being read."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY,
        upload_limit: int = MAX_UPLOAD_BODY,
        idle_timeout: float = 10.0,
        timeout: float = 120.0,
    ) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit
        self.idle_timeout, self.timeout = idle_timeout, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit
        length = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type" and value.startswith(b"multipart/form-data"):
                limit = self.upload_limit
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send, 413, f"The request body is over {limit} bytes")
            return
        watch = _Watch(self.idle_timeout, self.timeout)
        seen = 0
        complete = False

        async def limited() -> Any:
            nonlocal seen, complete
            if complete:
                return await receive()  # the body is read: the app waits for a disconnect
            watch.waiting()
            try:
                message = await receive()
            except asyncio.CancelledError:
                if not watch.expired:
                    raise
                _uncancel()
                raise _TooSlow from None
            watch.arrived()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            if complete:
                watch.stop()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send, 413, f"The request body is over {limit} bytes")
        except _TooSlow:
            await self._refuse(send, 408, "The request body did not arrive in time")
        except asyncio.CancelledError:
            # The body was awaited in a task of the app's own: the cancel reached us here.
            if not watch.expired:
                raise
            _uncancel()
            await self._refuse(send, 408, "The request body did not arrive in time")
        finally:
            watch.stop()

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        body = error_body(ErrorCode.BAD_REQUEST, message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _Watch:
    """One request's body timers as a single timer of the event loop, set when the body is
    first awaited and dropped once it is read: a small body costs one timer, where a timeout
    around every ``receive`` cost one per message and a context manager each (about 3% of a
    small query's CPU). When it fires while the body is awaited past the idle or the total
    limit, it cancels the request's task, which the guard turns into a 408."""

    __slots__ = ("busy", "deadline", "expired", "handle", "idle", "since", "task", "total")

    def __init__(self, idle: float, total: float) -> None:
        self.idle, self.total = idle, total
        self.deadline = 0.0
        self.since = 0.0
        self.handle: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[Any] | None = None
        self.expired = False
        self.busy = False

    def waiting(self) -> None:
        """The app awaits the next part of the body."""
        loop = asyncio.get_running_loop()
        self.since = now = loop.time()
        if self.task is None:
            self.task = asyncio.current_task()
            self.deadline = now + self.total
        elif now >= self.deadline:
            raise _TooSlow
        self.busy = True
        if self.handle is None:
            self.handle = loop.call_at(min(now + self.idle, self.deadline), self._check)

    def arrived(self) -> None:
        self.busy = False

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _check(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        # While the app works between two parts, only the total limit runs.
        due = min(self.since + self.idle if self.busy else now + self.idle, self.deadline)
        if now < due:
            self.handle = loop.call_at(due, self._check)
            return
        self.handle = None
        if self.busy and self.task is not None:
            self.expired = True
            self.task.cancel()


def _uncancel() -> None:
    """The watch's cancel is answered (a 408): the task goes on as if it had not come."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        task.uncancel()


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass

"""Request bodies the hub refuses before anything parses them, the JSON it takes from them,
and the JSON error body of a request refused over HTTP."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from cross_web import HTTPException
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
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise HTTPException(400, f"The JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value


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
        headers = dict(scope["headers"])
        limit = self.limit
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            limit = self.upload_limit
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(send, 413, f"The request body is over {limit} bytes")
            return
        seen = 0
        complete = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def limited() -> Any:
            nonlocal seen, complete
            if complete:
                return await receive()  # the body is read: the app waits for a disconnect
            left = deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(min(self.idle_timeout, left)):
                    message = await receive()
            except TimeoutError:
                raise _TooSlow from None
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send, 413, f"The request body is over {limit} bytes")
        except _TooSlow:
            await self._refuse(send, 408, "The request body did not arrive in time")

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


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass

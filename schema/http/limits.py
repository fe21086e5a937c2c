"""Request bodies the hub refuses before anything parses them, and the JSON error body of a
request refused over HTTP."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.errors import ErrorCode

MAX_BODY = 1_000_000
# File uploads (the national test results file) may be larger than a JSON request.
MAX_UPLOAD_BODY = 17 * 1024 * 1024


def error_body(code: ErrorCode, message: str) -> bytes:
    """A GraphQL-over-HTTP error answer: one error with its code."""
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
        body = error_body(ErrorCode.BAD_REQUEST, f"The request body is over {limit} bytes")
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

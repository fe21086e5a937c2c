"""``GET /files/{sha256}``: stored files, for whoever holds a link the graph handed out
(resolvers/files: signed, short-lived, with range requests)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from resolvers.files import file_store, serve_file


async def files(request: Request) -> Response:
    state = request.app.state
    return await serve_file(request, store=file_store(state.settings), ring=state.keyring)

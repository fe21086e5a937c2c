"""``GET /files/{sha256}``: serve a stored file to whoever holds a valid link, with HTTP range
requests (RFC 9110 section 14) so a slow or broken download resumes where it stopped."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from resolvers.errors import AnyCode, ErrorCode, RequestError
from resolvers.files.links import verify_link
from resolvers.files.store import FileStore, is_sha256

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Content never changes under its hash: caches may keep it as long as the link is valid.
IMMUTABLE = "private, max-age=3600, immutable"


def _error(status: int, code: AnyCode, message: str) -> Response:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code.value}}]})
    return Response(body, status_code=status, media_type="application/json")


def _disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """The inclusive byte range a ``Range`` header asks for: None for the whole file, False
    when it cannot be satisfied. One range only (a download manager's resume)."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None:
        return None  # unknown units or several ranges: the whole file, as RFC 9110 allows
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return False
    return start, end


async def serve_file(request: Request, *, store: FileStore, ring: Any) -> Response:
    """Answer a download: 200 with the file, 206 with the asked range, 416 for a range past
    the end, 403 for a link that is not valid, 404 for a file the store no longer holds."""
    sha256 = request.path_params["sha256"]
    if not is_sha256(sha256):
        return _error(404, ErrorCode.NOT_FOUND, "No such file")
    try:
        link = verify_link(ring, sha256, dict(request.query_params))
    except RequestError as err:
        return _error(403, err.code, err.message)
    headers = {
        "content-disposition": _disposition(link.name or sha256),
        "cache-control": IMMUTABLE,
        "etag": f'"{sha256}"',
        "accept-ranges": "bytes",
    }
    local = store.local_path(sha256)
    if local is not None:
        # Starlette answers Range and If-Range itself for files on disk.
        return FileResponse(local, media_type=link.media_type, headers=headers)
    size = await store.size(sha256)
    if size is None:
        return _error(404, ErrorCode.NOT_FOUND, "No such file")
    wanted = byte_range(request.headers.get("range"), size)
    if wanted is False:
        return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
    if wanted is None or not isinstance(wanted, tuple):
        headers["content-length"] = str(size)
        return StreamingResponse(store.read(sha256), media_type=link.media_type, headers=headers)
    start, end = wanted
    headers["content-range"] = f"bytes {start}-{end}/{size}"
    headers["content-length"] = str(end - start + 1)
    return StreamingResponse(
        store.read(sha256, start, end),
        status_code=206,
        media_type=link.media_type,
        headers=headers,
    )

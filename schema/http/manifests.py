"""``/persisted-queries/{portal}.json``: each portal's operations as Apollo's persisted query
manifest, published by the hub from the very folder its allow-list reads, so a manifest never
disagrees with what allow-list mode accepts. A portal team builds against it
(docs/http.md, "Allow-list mode")."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers import persisted


@cache
def _manifest(folder: Path, portal: str) -> dict[str, Any] | None:
    if portal not in persisted.portals(folder):
        return None
    return persisted.manifest(folder / portal)


async def portal_manifest(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    folder = (settings.portals_dir or persisted.PORTALS_DIR).resolve()
    found = _manifest(folder, request.path_params["portal"])
    if found is None:
        return JSONResponse({"error": "no such portal"}, status_code=404)
    return JSONResponse(found, headers={"cache-control": "public, max-age=300"})

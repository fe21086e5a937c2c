"""``/healthz`` (the process answers) and ``/readyz`` (the database, its migrations and the
read replica are ready)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from models import database

log = logging.getLogger("bilim")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    engine = request.app.state.engine
    try:
        current = await database.current_revisions(engine)
    except Exception:
        log.warning("readyz.database_unreachable")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    heads = database.head_revisions()
    if current != heads:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": "pending",
                "current": sorted(current),
                "head": sorted(heads),
            },
            status_code=503,
        )
    body = {"status": "ok", "database": "ok", "migrations": "at head"}
    replica = await _replica_status(request.app.state.read_engine, heads)
    if replica is None:
        return JSONResponse(body)
    if replica != "ok":
        return JSONResponse({**body, "status": "unavailable", "replica": replica}, status_code=503)
    return JSONResponse({**body, "replica": replica})


async def _replica_status(engine: Any, heads: set[str]) -> str | None:
    """The read replica's state for /readyz: None without one, else ok, unreachable or
    behind (its migrations are not yet the primary's)."""
    if engine is None:
        return None
    try:
        current = await database.current_revisions(engine)
    except Exception:
        log.warning("readyz.replica_unreachable")
        return "unreachable"
    return "ok" if current == heads else "behind"

"""``/metrics``: the hub's Prometheus metrics (resolvers/telemetry/metrics.py), every worker's
summed under ``bilim serve``, with the outbox consumers' backlog and lag read at each scrape."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from resolvers.events import status as events_status
from resolvers.telemetry.metrics import COMPILED, CONTENT_TYPE, exposition, note_outbox

__all__ = ["COMPILED", "metrics"]

log = logging.getLogger("bilim.metrics")


async def metrics(request: Request) -> Response:
    engine = getattr(request.app.state, "bookkeeping_engine", None)
    if engine is not None:
        try:
            note_outbox(await events_status.lag(engine))
        except Exception:  # the other metrics are still worth serving
            log.warning("metrics.outbox_unreadable", exc_info=True)
    return Response(exposition(), media_type=CONTENT_TYPE)

"""``/oai``: the OAI-PMH 2.0 data provider over the one catalogue (resolvers/library/oai.py),
GET or POST (form-encoded) as the protocol allows; the answer streams as it is written."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from models import database


async def oai(request: Request) -> Response:
    # lxml is imported with the first harvest: ~5 MB of a worker that serves none (issue 18).
    from resolvers.library.oai import answer

    state = request.app.state
    if request.method == "POST":
        form = await request.form()
        args = {key: [str(v) for v in form.getlist(key)] for key in form}
    else:
        args = {key: request.query_params.getlist(key) for key in request.query_params}
    sessions = getattr(state, "oai_sessions", None)
    if sessions is None:
        # Harvests read, so they go to the replica when there is one.
        sessions = database.session_factory(state.read_engine or state.engine)
        state.oai_sessions = sessions
    base_url = str(request.url.replace(query=""))

    async def body() -> AsyncIterator[bytes]:
        async with sessions() as session:
            async for piece in answer(session, base_url, args):
                yield piece

    return StreamingResponse(body(), media_type="text/xml; charset=utf-8")

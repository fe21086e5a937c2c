"""The OneRoster 1.2 REST endpoints (issue 15): ``/ims/oneroster/rostering/v1p2/<collection>``
and ``/ims/oneroster/gradebook/v1p2/results``, each also by sourcedId. Paged answers carry
``X-Total-Count`` and a ``Link`` header (next, last), as the specification's REST binding
says; errors carry its status info (``imsx_codeMajor`` and a code minor). The data and the
rules are in resolvers/lms/oneroster."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from resolvers.access import Principal
from resolvers.access.keys import load_pepper, principal_from_key
from resolvers.errors import RequestError
from resolvers.lms import oneroster

ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"


def _failure(refused: oneroster.Refused) -> JSONResponse:
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": refused.description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": refused.code_minor}
            ]
        },
    }  # fmt: skip
    return JSONResponse(body, status_code=refused.status)


def _credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


async def _principal(request: Request, conn: Any) -> Principal:
    credential = _credential(request)
    if not credential:
        raise oneroster.Refused(401, "unauthorisedrequest", "Send a partner's API key")
    settings = request.app.state.settings
    try:
        return await principal_from_key(conn, load_pepper(settings), credential)
    except RequestError as exc:
        raise oneroster.Refused(401, "unauthorisedrequest", str(exc)) from exc


def _links(request: Request, listing: oneroster.Listing) -> str:
    def at(offset: int) -> str:
        return f"<{request.url.include_query_params(offset=offset, limit=listing.limit)}>"

    links = []
    if listing.offset + listing.limit < listing.total:
        links.append(f'{at(listing.offset + listing.limit)}; rel="next"')
    last = max(0, (listing.total - 1) // listing.limit * listing.limit)
    links.append(f'{at(last)}; rel="last"')
    return ", ".join(links)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def collection(name: str) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        engine = request.app.state.read_engine or request.app.state.engine
        try:
            async with engine.connect() as conn:
                principal = await _principal(request, conn)
                sourced_id = request.path_params.get("sourced_id")
                query = dict(request.query_params)
                if sourced_id is not None:
                    one = await oneroster.read_one(
                        conn, principal, name, sourced_id, query, _base_url(request)
                    )
                    return JSONResponse(one)
                listing = await oneroster.read_collection(
                    conn, principal, name, query, _base_url(request)
                )
        except oneroster.Refused as refused:
            return _failure(refused)
        headers = {"X-Total-Count": str(listing.total), "Link": _links(request, listing)}
        return JSONResponse(listing.body, headers=headers)

    return endpoint


def _routes() -> list[Route]:
    routes = []
    for name, each in oneroster.COLLECTIONS.items():
        prefix = GRADEBOOK if each.service == "gradebook" else ROSTERING
        endpoint = collection(name)
        routes.append(Route(f"{prefix}/{name}", endpoint, methods=["GET"]))
        routes.append(Route(f"{prefix}/{name}/{{sourced_id}}", endpoint, methods=["GET"]))
    return routes


oneroster_routes = _routes()

"""The OneRoster 1.2 REST endpoints (issue 15): every path of the rostering and gradebook
services' REST bindings the hub serves (resolvers/lms/oneroster/collections.py lists them)
under ``/ims/oneroster/rostering/v1p2/`` and ``/ims/oneroster/gradebook/v1p2/``. Each request
spends from the key's hourly budget as the graph's requests do (a page by its ``limit``).
Paged answers carry ``X-Total-Count`` and a ``Link`` header (next, last), as the
specification's REST binding says; errors carry its status info (``imsx_codeMajor`` and a code
minor). The data and the rules are in resolvers/lms/oneroster."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from models import database
from resolvers.access import Principal
from resolvers.access.fields import personal_fields
from resolvers.access.keys import load_pepper, principal_from_key
from resolvers.errors import RequestError
from resolvers.lms import oneroster
from resolvers.lms.oneroster import bulk, writes

ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
BULK = "/ims/oneroster/v1p2/csv"
# A bulk export reads every collection the key may read: it costs as ten pages of 1,000.
BULK_POINTS = 100


def _failure(refused: oneroster.Refused) -> JSONResponse:
    body = {
        "imsx_codeMajor": refused.code_major,
        "imsx_severity": "error",
        "imsx_description": refused.description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": refused.code_minor}
            ]
        },
    }  # fmt: skip
    return JSONResponse(body, status_code=refused.status, headers=refused.headers)


def _fault(exc: Exception) -> JSONResponse:
    """A database fault met outside a write's own handling (the key's look-up, a read, an
    export, an audit row) as the specification's status info: 503 ``server_busy`` with
    ``Retry-After`` when the database cannot be reached or is saturated, as the graph answers
    (resolvers/faults.py); any other exception is the hub's own fault and propagates (500)."""
    answer = writes.fault_answer(exc)
    if answer is None:
        raise exc
    return _failure(answer)


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
    """``next`` and ``last``, as offsets (the specification's paging); ``next`` also carries
    the hub's keyset (``after``: the page's last sourcedId) when the listing is sorted by
    sourcedId, so a client following the links reads a deep page by an index seek."""
    url = request.url.remove_query_params("after")

    def at(offset: int, **keyset: str) -> str:
        return f"<{url.include_query_params(offset=offset, limit=listing.limit, **keyset)}>"

    links = []
    if listing.offset + listing.limit < listing.total:
        keyset = {"after": listing.last_id} if listing.last_id is not None else {}
        links.append(f'{at(listing.offset + listing.limit, **keyset)}; rel="next"')
    last = max(0, (listing.total - 1) // listing.limit * listing.limit)
    links.append(f'{at(last)}; rel="last"')
    return ", ".join(links)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _personal(request: Request) -> frozenset[str]:
    """The graph's personal fields, as the field classifier decides them (the app keeps the
    graph's schema in its state: this domain does not import the schema package)."""
    return personal_fields(request.app.state.graph._schema)


async def _charge(request: Request, principal: Principal, points: int) -> Any:
    """Spend the request's points of the key's hourly budget (the graph's ledger); None when
    the app runs without its guard (no budget to spend from)."""
    guard = getattr(request.app.state, "guard", None)
    if guard is None:
        return None
    subject, limit = guard.budget_of(principal, request)
    charged = await guard.ledger.charge(subject=subject, points=points, limit=limit)
    if not charged.granted:
        wait = (charged.reset_at - datetime.now(UTC)).total_seconds()
        raise oneroster.Refused(
            429,
            "server_busy",
            f"This request costs {points} points; {charged.remaining} of {charged.limit}"
            f" remain until {charged.reset_at.isoformat()}",
            headers={"Retry-After": str(max(1, int(wait)))},
        )
    return charged


def _budget_headers(charged: Any) -> dict[str, str]:
    if charged is None:
        return {}
    return {
        "X-RateLimit-Limit": str(charged.limit),
        "X-RateLimit-Remaining": str(charged.remaining),
        "X-RateLimit-Reset": str(int(charged.reset_at.timestamp())),
    }


async def _audit_personal_read(
    request: Request, principal: Principal, view: oneroster.View, personal: frozenset[str]
) -> None:
    """A partner read personal data: the audit row the graph writes for it
    (``access.personal_read``: who, which key, which fields), named by the path read. The
    query parameters are not kept: a filter can hold a name."""
    collection = oneroster.COLLECTIONS[view.collection]
    fields = set(collection.graph) if collection.personal else set(collection.graph) & personal
    fields |= set(view.reads)
    if collection.plural == "users" and oneroster.shows_agents(principal):
        fields.add(oneroster.GUARDIANS)
    guard = getattr(request.app.state, "guard", None)
    if not fields or guard is None:
        return
    ctx = SimpleNamespace(
        request_id=request.headers.get("x-request-id"),
        principal=principal,
        operation_name=f"oneroster {view.service}/{view.path}"[:120],
        variables={},
        personal_read=frozenset(fields),
    )
    await guard.audit_personal_read(ctx, None)


def endpoint_of(view: oneroster.View) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        engine = request.app.state.read_engine or request.app.state.engine
        query = dict(request.query_params)
        try:
            async with engine.connect() as conn:
                principal = await _principal(request, conn)
                if principal.grant is None:
                    raise oneroster.Refused(401, "unauthorisedrequest", "Send a partner's API key")
                charged = await _charge(request, principal, oneroster.page_points(view, query))
                personal = _personal(request)
                found = await oneroster.read(
                    conn,
                    principal,
                    view,
                    dict(request.path_params),
                    query,
                    _base_url(request),
                    personal,
                )
            await _audit_personal_read(request, principal, view, personal)
        except oneroster.Refused as refused:
            return _failure(refused)
        except Exception as exc:
            return _fault(exc)
        headers = _budget_headers(charged)
        if not isinstance(found, oneroster.Listing):
            return JSONResponse(found, headers=headers)
        headers |= {"X-Total-Count": str(found.total), "Link": _links(request, found)}
        if found.estimated:
            headers["X-Total-Count-Estimated"] = "true"
        return JSONResponse(found.body, headers=headers)

    return endpoint


async def _audit_bulk_read(
    request: Request, principal: Principal, collections: list[str], personal: frozenset[str]
) -> None:
    """The audit row of a bulk export holding personal data, as for a page of it."""
    fields: set[str] = set()
    for plural in collections:
        collection = oneroster.COLLECTIONS[plural]
        fields |= set(collection.graph) if collection.personal else set(collection.graph) & personal
    guard = getattr(request.app.state, "guard", None)
    if not fields or guard is None:
        return
    ctx = SimpleNamespace(
        request_id=request.headers.get("x-request-id"),
        principal=principal,
        operation_name="oneroster csv",
        variables={},
        personal_read=frozenset(fields),
    )
    await guard.audit_personal_read(ctx, None)


async def bulk_export(request: Request) -> Response:
    """The OneRoster 1.2 CSV binding's zip of what the key may read: the country, or one
    school (``?school=<sourcedId>``), streamed as it is read (resolvers/lms/oneroster/bulk)."""
    engine = request.app.state.read_engine or request.app.state.engine
    school = request.query_params.get("school")
    try:
        conn = await engine.connect()
    except Exception as exc:
        return _fault(exc)
    try:
        principal = await _principal(request, conn)
        if principal.grant is None:
            raise oneroster.Refused(401, "unauthorisedrequest", "Send a partner's API key")
        personal = _personal(request)
        collections = bulk.readable(principal, personal)
        if not collections:
            raise oneroster.Refused(403, "forbidden", "The key reads no OneRoster collection")
        if school is not None:
            # 404 unless the school exists for this key (the single-object path's rule).
            view = next(v for v in oneroster.VIEWS if v.path == "schools/{id}")
            await oneroster.read(conn, principal, view, {"id": school}, {}, _base_url(request))
        charged = await _charge(request, principal, BULK_POINTS)
        await _audit_bulk_read(request, principal, collections, personal)
    except oneroster.Refused as refused:
        await conn.close()
        return _failure(refused)
    except Exception as exc:
        await conn.close()
        return _fault(exc)
    except BaseException:
        await conn.close()
        raise

    async def body() -> Any:
        try:
            async for chunk in bulk.zip_chunks(
                conn,
                principal,
                scope=bulk.Scope(school),
                base_url=_base_url(request),
                personal=personal,
            ):
                yield chunk
        finally:
            await conn.close()

    headers = _budget_headers(charged) | {
        "Content-Disposition": 'attachment; filename="oneroster.zip"'
    }
    return StreamingResponse(body(), media_type="application/zip", headers=headers)


def _sessions(request: Request) -> Any:
    """Sessions on the primary database for the gradebook writes, made once per app."""
    sessions = getattr(request.app.state, "oneroster_sessions", None)
    if sessions is None:
        sessions = database.session_factory(request.app.state.engine)
        request.app.state.oneroster_sessions = sessions
    return sessions


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise oneroster.Refused(400, "invaliddata", "The body is not JSON") from exc


Step = Callable[[Any], Awaitable[writes.Written]]
Write = Callable[[Request, Principal, Any], Step]


def _put_result(request: Request, principal: Principal, body: Any) -> Step:
    sourced = request.path_params["id"]
    return lambda session: writes.put_result(session, principal, sourced, body)


def _delete_result(request: Request, principal: Principal, body: Any) -> Step:
    sourced = request.path_params["id"]
    reason = request.query_params.get("correctionReason")
    return lambda session: writes.delete_result(session, principal, sourced, reason)


def _post_results(request: Request, principal: Principal, body: Any) -> Step:
    line_item = request.path_params["lineItem"]
    return lambda session: writes.post_results(session, principal, line_item, body)


async def _rendered(request: Request, principal: Principal, sourced_id: str) -> Any:
    """A written result as the read service renders it (read on the primary: it was just
    written); its sourcedId alone when the key's regions do not let it read the school."""
    async with request.app.state.engine.connect() as conn:
        try:
            return await oneroster.read(
                conn,
                principal,
                RESULT_VIEW,
                {"id": sourced_id},
                {},
                _base_url(request),
                _personal(request),
            )
        except oneroster.Refused:
            return {"result": {"sourcedId": sourced_id}}


def write_endpoint(path: str, operation: str, step_of: Write, *, reads_body: bool) -> Any:
    """A gradebook write (resolvers/lms/oneroster/writes): the key, a point of its budget, one
    transaction with its audit row; the written result answered as the read service renders
    it (a PUT), the allocated sourcedIds (a POST) or no content (a DELETE)."""

    async def endpoint(request: Request) -> Response:
        try:
            async with request.app.state.engine.connect() as conn:
                principal = await _principal(request, conn)
            if principal.grant is None:
                raise oneroster.Refused(401, "unauthorisedrequest", "Send a partner's API key")
            charged = await _charge(request, principal, 1)
            body = await _body(request) if reads_body else None
            written = await writes.run_write(
                _sessions(request),
                principal,
                operation=operation,
                operation_name=f"oneroster gradebook/{path}",
                request_id=request.headers.get("x-request-id"),
                step=step_of(request, principal, body),
            )
            answer = written.body
            if answer is not None and "result" in answer:
                answer = await _rendered(request, principal, answer["result"]["sourcedId"])
        except oneroster.Refused as refused:
            return _failure(refused)
        except Exception as exc:
            return _fault(exc)
        headers = _budget_headers(charged)
        if answer is None:
            return Response(status_code=written.status, headers=headers)
        return JSONResponse(answer, status_code=written.status, headers=headers)

    return endpoint


RESULT_VIEW = next(v for v in oneroster.VIEWS if v.path == "results/{id}")
WRITES: list[tuple[str, str, str, Write, bool]] = [
    ("results/{id}", "PUT", "lms.oneroster_put_result", _put_result, True),
    ("results/{id}", "DELETE", "lms.oneroster_delete_result", _delete_result, False),
    ("lineItems/{lineItem}/results", "POST", "lms.oneroster_post_results", _post_results, True),
]

# Why a OneRoster path does not take a method (405): what partners write is results, through
# the marking workflow; everything else is made elsewhere in the hub and only read.
NOT_WRITTEN = {
    "lineItems": "a lineItem is a column of a lesson's marks, made by the teacher's recordLesson"
    " and the lesson's first mark of that kind; partners give marks in it by POST"
    " /lineItems/{id}/results and do not create, change or delete lineItems",
    "categories": "categories are the kinds of mark, national policy set by the ministry;"
    " partners read them",
    "scoreScales": "score scales are the assessment schemes of the grades (S2), national policy"
    " set by the ministry's assessment rules; partners read them",
    "results": "results are written by PUT and DELETE /results/{id} and by POST"
    " /lineItems/{id}/results",
    "assessmentLineItems": "the national test's scores come only from the testing centre's"
    " files; partners read them",
    "assessmentResults": "the national test's scores come only from the testing centre's"
    " files; partners read them",
}
ROSTER_NOT_WRITTEN = (
    "the roster (orgs, sessions, courses, classes, users, enrollments) is the registry's, kept"
    " by the schools and the ministry through the graph; partners read it"
)
BULK_NOT_WRITTEN = "the CSV binding is an export of what the key reads; partners read it by GET"
# The OneRoster write path that has no read: its results are read under their class.
READ_ELSEWHERE = {
    "lineItems/{lineItem}/results": "this path takes the results given in a lineItem (POST);"
    " read them at /classes/{class}/lineItems/{lineItem}/results",
}
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")
# The methods a OneRoster path answers itself (a route of a function endpoint takes only GET
# unless told): the REST methods, OPTIONS and PATCH.
ROUTED = [*METHOD_ORDER, "PATCH"]
Endpoint = Callable[[Request], Awaitable[Response]]


def not_taken(service: str, path: str, collection: str) -> str:
    """Why a path refuses the methods it does not take (the 405's description)."""
    if path in READ_ELSEWHERE:
        return READ_ELSEWHERE[path]
    if service == "rostering":
        return ROSTER_NOT_WRITTEN
    return NOT_WRITTEN[collection]


def resource(methods: dict[str, Endpoint], why: str) -> Endpoint:
    """One OneRoster path with every method it takes: GET (and HEAD) for a read, PUT, POST or
    DELETE for a write; OPTIONS answers ``Allow``; any other method is 405 in the status-info
    shape (code major ``failure``, code minor ``forbidden``: the 1.2 vocabulary has no value
    for a method a path does not take) saying why, with ``Allow``. Answered before the key
    is read: which methods a path takes is the same for every caller."""
    taken = set(methods) | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}
    allow = ", ".join(m for m in METHOD_ORDER if m in taken)

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        answer = methods.get(method)
        if answer is not None:
            return await answer(request)
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": allow})
        described = f"{request.method} is not taken on this path: {why}"
        return _failure(
            oneroster.Refused(405, "forbidden", described, {"Allow": allow}, "unsupported")
        )

    return endpoint


async def unknown_path(request: Request) -> Response:
    """A path under the OneRoster prefix that neither service has: 404 in the status-info shape
    (not a bare page), whatever the method."""
    return _failure(
        oneroster.Refused(404, "unknownobject", f"No OneRoster path {request.url.path[:200]}")
    )


def _routes() -> list[Route]:
    """One route per path, taking all its methods (so a method it does not take is answered by
    :func:`resource`, not by the router's plain-text 405), then the prefix's unknown paths."""
    paths: dict[str, tuple[dict[str, Endpoint], str]] = {}

    def add(url: str, method: str, answer: Endpoint, why: str) -> None:
        methods, _ = paths.setdefault(url, ({}, why))
        assert method not in methods, f"{method} {url} twice"
        methods[method] = answer

    add(BULK, "GET", bulk_export, BULK_NOT_WRITTEN)
    for view in oneroster.VIEWS:
        prefix = GRADEBOOK if view.service == "gradebook" else ROSTERING
        why = not_taken(view.service, view.path, view.collection)
        add(f"{prefix}/{view.path}", "GET", endpoint_of(view), why)
    for path, method, operation, step_of, reads_body in WRITES:
        answer = write_endpoint(path, operation, step_of, reads_body=reads_body)
        add(f"{GRADEBOOK}/{path}", method, answer, not_taken("gradebook", path, "results"))
    shapes = [re.sub(r"\{[^}]+\}", "{}", url) for url in paths]
    assert len(set(shapes)) == len(shapes), "one path spelled with two parameter names"
    routes = [
        Route(url, resource(methods, why), methods=ROUTED) for url, (methods, why) in paths.items()
    ]
    routes.append(Route("/ims/oneroster/{rest:path}", unknown_path, methods=ROUTED))
    return routes


oneroster_routes = _routes()

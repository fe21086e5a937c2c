"""OneRoster 1.2 (issue 15): the rostering and gradebook collections partners' LMS and
analytics tools read, as the specification's REST binding defines them (paging, filtering,
sorting, field selection, ``dateLastModified`` for changes since a time), by every path the
binding lists for them (collections, single objects, typed collections, nested paths).

Who may read: a data partner's API key (resolvers/access/keys) whose subgraph names
``ClassGroup`` (the roster scope: orgs, sessions, courses, classes, enrollments) or ``Mark``
(the gradebook); a collection exporting fields of the graph (users: a person's names;
demographics: birth date and sex; results: marks) needs them in the key's subgraph, and the
key's personal data grant when the field classifier (resolvers/access/fields) counts any of
them as personal (results always: marks of identified pupils). A key limited to regions reads
those regions' schools, classes, people and marks (the republic, academic sessions, courses
and the kinds of mark are national)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.access import Principal, among
from resolvers.access.fields import field_allowed
from resolvers.lms.oneroster.collections import (
    COLLECTIONS,
    GUARDIANS,
    VIEWS,
    Collection,
    View,
)
from resolvers.lms.oneroster.query import Refused, page, params, where
from resolvers.lms.oneroster.shape import references

# Up to this many objects a listing's total is counted; past it, estimated.
COUNT_CAP = 50_000

__all__ = [
    "COLLECTIONS",
    "GUARDIANS",
    "VIEWS",
    "Listing",
    "Refused",
    "View",
    "page_points",
    "read",
    "readable_statement",
    "rendering",
    "shows_agents",
]


@dataclass(frozen=True)
class Listing:
    """One page of a collection and the number of rows of all its pages."""

    body: dict[str, Any]
    total: int
    limit: int
    offset: int
    # The last object's sourcedId when the page is sorted by it (the next page's keyset).
    last_id: str | None = None
    # The total is the planner's estimate (past COUNT_CAP rows), not a count.
    estimated: bool = False


def page_points(view: View, query: dict[str, str]) -> int:
    """What a request costs of the key's hourly budget, as the graph counts a connection: a
    point per 100 objects a page may hold (its ``limit``), at least one."""
    if view.one is not None:
        return 1
    try:
        limit = int(query.get("limit", 100))
    except ValueError:
        return 1
    return max(1, round(min(max(limit, 1), 1000) / 100))


def authorize(
    principal: Principal,
    collection: Collection,
    personal: Iterable[str],
    reads: tuple[str, ...] = (),
) -> None:
    """May this key read the collection (and the personal fields ``reads`` a path adds)? 401
    without a partner's key, 403 (never data) outside the key's scope or without the personal
    data grant the collection's fields need."""
    grant = principal.grant
    if grant is None:
        raise Refused(401, "unauthorisedrequest", "Send a partner's API key")
    scope = collection.scope or ("Mark" if collection.service == "gradebook" else "ClassGroup")
    if not grant.names_type(scope):
        raise Refused(403, "forbidden", f"The key's scope does not include {scope}")
    outside = [f for f in (*collection.graph, *reads) if not field_allowed(f, grant.fields)]
    if outside:
        raise Refused(403, "forbidden", "Outside the key's scope: " + ", ".join(outside))
    is_personal = collection.personal or bool(reads) or bool(set(collection.graph) & set(personal))
    if is_personal and not grant.personal_data:
        raise Refused(403, "forbidden", "The key does not grant personal data")


def shows_agents(principal: Principal) -> bool:
    """Does a user object show its ``agents`` (guardians) to this key? Only with the graph's
    guardianships in its subgraph and the personal-data grant."""
    grant = principal.grant
    return grant is not None and grant.personal_data and field_allowed(GUARDIANS, grant.fields)


def rendering(principal: Principal, collection: Collection) -> Any:
    """How the collection's rows are rendered for this key: a user without its ``agents``
    when the key may not read guardianships."""
    if collection.plural != "users" or shows_agents(principal):
        return collection.render

    def render(row: Any, ref: Any) -> dict[str, Any]:
        out = collection.render(row, ref)
        out.pop("agents", None)
        return out

    return render


def readable_statement(principal: Principal, collection: Collection) -> tuple[Any, Any]:
    """The collection's statement under the key's row rules, and its columns."""
    stmt = collection.statement()
    cols = stmt.selected_columns
    if principal.region_ids:
        region = cols["region_id"]
        stmt = stmt.where(or_(region.is_(None), among(region, principal.region_ids)))
    return stmt, cols


def _narrowed(principal: Principal, view: View, path: dict[str, str]) -> tuple[Any, Any]:
    stmt, cols = readable_statement(principal, COLLECTIONS[view.collection])
    conditions = [cols[c] == v for c, v in view.fixed]
    if view.within is not None:
        conditions += view.within(cols, path)
    return (stmt.where(*conditions) if conditions else stmt), cols


async def _check_parents(
    conn: AsyncConnection, principal: Principal, view: View, path: dict[str, str]
) -> None:
    """404 ``unknownobject`` unless every object the path names exists for this key: one
    statement for all of them."""
    if not view.parents:
        return
    checks = []
    for parent in view.parents:
        stmt, cols = readable_statement(principal, COLLECTIONS[parent.collection])
        conditions = [cols["sourced_id"] == path[parent.param]]
        conditions += [cols[c] == v for c, v in parent.fixed]
        conditions += [cols[c] == path[p] for c, p in parent.links]
        checks.append(exists(stmt.where(*conditions)))
    found = (await conn.execute(select(*checks))).one()
    for parent, ok in zip(view.parents, found, strict=True):
        if not ok:
            singular = COLLECTIONS[parent.collection].singular
            raise Refused(404, "unknownobject", f"No {singular} {path[parent.param][:80]}")


def _select(rendered: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    return rendered if fields is None else {k: v for k, v in rendered.items() if k in fields}


async def read(
    conn: AsyncConnection,
    principal: Principal,
    view: View,
    path: dict[str, str],
    query: dict[str, str],
    base_url: str,
    personal: Iterable[str] = (),
) -> Listing | dict[str, Any]:
    """A page of a view's collection (a Listing), or the one object a single-object view
    names (``{singular: object}``), filtered, sorted and selected as the request asks."""
    collection = COLLECTIONS[view.collection]
    authorize(principal, collection, personal, view.reads)
    ref = references(base_url)
    render = rendering(principal, collection)
    if view.one is not None:
        p = params({k: v for k, v in query.items() if k == "fields"}, set(collection.fields))
        stmt, cols = _narrowed(principal, view, path)
        row = (
            await conn.execute(stmt.where(cols["sourced_id"] == path[view.one]).limit(1))
        ).first()
        if row is None:
            raise Refused(404, "unknownobject", f"No {collection.singular} {path[view.one][:80]}")
        return {collection.singular: _select(render(row, ref), p.fields)}
    p = params(query, set(collection.fields))
    await _check_parents(conn, principal, view, path)
    stmt, cols = _narrowed(principal, view, path)
    columns = {name: cols[column] for name, column in collection.fields.items()}
    if p.filter:
        stmt = stmt.where(where(p.filter, columns))
    total, estimated = await _total(conn, stmt)
    rows = (await conn.execute(page(stmt, p, columns))).all()
    items = [_select(render(row, ref), p.fields) for row in rows]
    last = rows[-1].sourced_id if rows and p.sort == "sourcedId" else None
    body = {view.wrapper or collection.plural: items}
    return Listing(body, total, p.limit, p.offset, last, estimated)


async def _total(conn: AsyncConnection, stmt: Any) -> tuple[int, bool]:
    """The number of objects a listing holds: counted up to COUNT_CAP (an index range of a
    school, a class or a user), past it the planner's estimate from the table's statistics
    (the country's enrollments), so a total never costs a scan of the country."""
    counted = await conn.scalar(
        select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery())
    )
    if (counted or 0) <= COUNT_CAP:
        return counted or 0, False
    # The filter's values are rendered as SQL literals (quotes doubled by the dialect): an
    # EXPLAIN takes no parameters through the driver's text path.
    sql = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    plan = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}")
    document = plan.scalar_one()
    if isinstance(document, str):
        document = json.loads(document)
    estimate = int(document[0]["Plan"]["Plan Rows"])
    return max(estimate, COUNT_CAP + 1), True

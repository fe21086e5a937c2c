"""OneRoster 1.2 (issue 15): the rostering and gradebook collections partners' LMS and
analytics tools read, as the specification's REST binding defines them (paging, filtering,
sorting, field selection, ``dateLastModified`` for changes since a time).

Who may read: a data partner's API key (resolvers/access/keys) whose subgraph names
``ClassGroup`` (the roster scope: orgs, sessions, courses, classes, enrollments); users and
results also need the key's personal data grant, results a subgraph naming ``Mark``; a key
limited to regions reads those regions' schools, classes, people and marks (the republic,
academic sessions and courses are national)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.access import Principal
from resolvers.lms.oneroster.collections import COLLECTIONS, Collection
from resolvers.lms.oneroster.query import Refused, page, params, where

__all__ = ["COLLECTIONS", "Listing", "Refused", "read_collection", "read_one"]


@dataclass(frozen=True)
class Listing:
    """One page of a collection and the number of rows of all its pages."""

    body: dict[str, Any]
    total: int
    limit: int
    offset: int


def authorize(principal: Principal, collection: Collection) -> None:
    grant = principal.grant
    if grant is None:
        raise Refused(401, "unauthorisedrequest", "Send a partner's API key")
    scope = "Mark" if collection.service == "gradebook" else "ClassGroup"
    if not grant.names_type(scope):
        raise Refused(403, "forbidden", f"The key's scope does not include {scope}")
    if collection.personal and not grant.personal_data:
        raise Refused(403, "forbidden", "The key does not grant personal data")


def _statement(principal: Principal, collection: Collection) -> tuple[Any, dict[str, Any]]:
    stmt = collection.statement()
    inner = stmt.selected_columns
    columns = {name: inner[column] for name, column in collection.fields.items()}
    if principal.region_ids:
        region = inner["region_id"]
        stmt = stmt.where(or_(region.is_(None), region.in_(sorted(principal.region_ids))))
    return stmt, columns


def _ref(base_url: str) -> Any:
    def ref(plural: str, sourced_id: str | None, kind: str) -> dict[str, str] | None:
        if sourced_id is None:
            return None
        service = "gradebook" if plural in ("lineItems", "results") else "rostering"
        return {
            "href": f"{base_url}/ims/oneroster/{service}/v1p2/{plural}/{sourced_id}",
            "sourcedId": sourced_id,
            "type": kind,
        }

    return ref


def _select(rendered: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    return rendered if fields is None else {k: v for k, v in rendered.items() if k in fields}


async def read_collection(
    conn: AsyncConnection,
    principal: Principal,
    name: str,
    query: dict[str, str],
    base_url: str,
) -> Listing:
    """A page of a collection, filtered and sorted as the request asks."""
    collection = COLLECTIONS[name]
    authorize(principal, collection)
    p = params(query, set(collection.fields))
    stmt, columns = _statement(principal, collection)
    if p.filter:
        stmt = stmt.where(where(p.filter, columns))
    total = await conn.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await conn.execute(page(stmt, p, columns))).all()
    ref = _ref(base_url)
    items = [_select(collection.render(row, ref), p.fields) for row in rows]
    return Listing({collection.plural: items}, total or 0, p.limit, p.offset)


async def read_one(
    conn: AsyncConnection,
    principal: Principal,
    name: str,
    sourced_id: str,
    query: dict[str, str],
    base_url: str,
) -> dict[str, Any]:
    """One object of a collection by its sourcedId (404 ``unknownobject`` when none)."""
    collection = COLLECTIONS[name]
    authorize(principal, collection)
    p = params({k: v for k, v in query.items() if k == "fields"}, set(collection.fields))
    stmt, columns = _statement(principal, collection)
    row = (await conn.execute(stmt.where(columns["sourcedId"] == sourced_id).limit(1))).first()
    if row is None:
        raise Refused(404, "unknownobject", f"No {collection.singular} {sourced_id[:80]}")
    return {collection.singular: _select(collection.render(row, _ref(base_url)), p.fields)}

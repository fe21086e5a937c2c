"""OneRoster 1.2's query parameters on a collection (REST binding, section 3.4 of the
rostering service): ``limit``/``offset`` paging, ``sort``/``orderBy``, ``fields`` selection and
``filter`` (``field op 'value'`` predicates joined by one logical operator, ``AND`` or ``OR``;
``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=`` and ``~`` for contains), turned into SQL over a
collection's columns. Bad parameters are a ``Refused`` with the specification's code minor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, DateTime, Select, String, and_, cast, or_

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
PREDICATE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*(>=|<=|!=|=|>|<|~)\s*'((?:[^']|'')*)'\s*")
JOIN = re.compile(r"\s+(AND|OR)\s+")


class Refused(Exception):
    """A request OneRoster answers with an error status and an ``imsx_codeMinor``."""

    def __init__(
        self,
        status: int,
        code_minor: str,
        description: str,
        headers: dict[str, str] | None = None,
        code_major: str = "failure",
    ) -> None:
        super().__init__(description)
        self.status = status
        # ``failure``, or ``unsupported`` for an operation the service does not offer (the
        # imsx status vocabulary: "the request is not supported by the service provider").
        self.code_major = code_major
        self.code_minor = code_minor
        self.description = description
        self.headers = headers


@dataclass(frozen=True)
class Params:
    limit: int
    offset: int
    sort: str
    descending: bool
    fields: tuple[str, ...] | None
    filter: str | None
    # The hub's keyset extension: the page after this sourcedId (sorted by sourcedId), which
    # the Link header's next URL carries so that a deep page is an index seek, not an offset.
    after: str | None = None


def params(query: dict[str, str], known: set[str]) -> Params:
    """The paging, sorting, selection and filter parameters of a request, checked."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError as exc:
        raise Refused(400, "invaliddata", "limit and offset are whole numbers") from exc
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise Refused(400, "invaliddata", f"limit is 1 to {MAX_LIMIT}, offset 0 or more")
    sort = query.get("sort", "sourcedId")
    if sort not in known:
        # 1.1's invalid_sort_field is not in the 1.2 rostering and gradebook bindings' code
        # minor vocabulary (imsx_CodeMinorFieldDType): a sort by no field is invalid data.
        raise Refused(400, "invaliddata", f"Cannot sort by {sort[:60]}")
    order = query.get("orderBy", "asc")
    if order not in ("asc", "desc"):
        raise Refused(400, "invaliddata", "orderBy is asc or desc")
    fields = None
    if "fields" in query:
        fields = tuple(f.strip() for f in query["fields"].split(",") if f.strip())
        unknown = [f for f in fields if f not in known]
        if unknown or not fields:
            raise Refused(400, "invalid_selection_field", f"Unknown fields: {unknown[:5]}")
    after = query.get("after") if sort == "sourcedId" else None
    return Params(limit, offset, sort, order == "desc", fields, query.get("filter"), after)


def where(text: str, columns: dict[str, Any]) -> ColumnElement[bool]:
    """The SQL condition of a OneRoster ``filter``."""
    predicates: list[ColumnElement[bool]] = []
    joins: set[str] = set()
    position = 0
    while True:
        match = PREDICATE.match(text, position)
        if match is None:
            raise Refused(400, "invalid_filter_field", "A filter is field op 'value' ...")
        name, op, raw = match.groups()
        if name not in columns:
            raise Refused(400, "invalid_filter_field", f"Cannot filter by {name[:60]}")
        predicates.append(_predicate(columns[name], op, raw.replace("''", "'")))
        position = match.end()
        if position == len(text):
            break
        join = JOIN.match(text, position - 1) or JOIN.match(text, position)
        if join is None:
            raise Refused(400, "invalid_filter_field", "Join predicates with AND or OR")
        joins.add(join.group(1))
        position = join.end()
    if len(joins) > 1:
        # The specification allows one kind of logical operator in a filter.
        raise Refused(400, "invalid_filter_field", "Use AND or OR in a filter, not both")
    return or_(*predicates) if joins == {"OR"} else and_(*predicates)


def _predicate(column: Any, op: str, raw: str) -> ColumnElement[bool]:
    value: Any = raw
    if isinstance(column.type, DateTime):
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Refused(400, "invalid_filter_field", "Dates are ISO 8601") from exc
    elif isinstance(column.type, Date):
        try:
            value = date.fromisoformat(raw[:10])
        except ValueError as exc:
            raise Refused(400, "invalid_filter_field", "Dates are ISO 8601") from exc
    else:
        column = cast(column, String)
    if op == "~":
        escaped = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.ilike(f"%{escaped}%", escape="\\")
    operations = {
        "=": column.__eq__,
        "!=": column.__ne__,
        ">": column.__gt__,
        ">=": column.__ge__,
        "<": column.__lt__,
        "<=": column.__le__,
    }
    return operations[op](value)


def page(stmt: Select[Any], p: Params, columns: dict[str, Any]) -> Select[Any]:
    """The statement of one page, sorted (then by sourcedId, so pages are stable); after a
    sourcedId (the keyset) when the request names one, else at its offset."""
    key = columns[p.sort]
    ordering = [key.desc() if p.descending else key.asc()]
    if p.sort != "sourcedId":
        ordering.append(columns["sourcedId"].asc())
    stmt = stmt.order_by(*ordering).limit(p.limit)
    if p.after is not None:
        return stmt.where(key < p.after if p.descending else key > p.after)
    return stmt.offset(p.offset)

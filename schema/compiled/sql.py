"""Small SQL pieces of the compiled path: PostgreSQL writes the answer's JSON text (objects,
lists, strings, enums) and its global IDs, as the resolvers would write them."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    LargeBinary,
    Text,
    case,
    cast,
    extract,
    func,
    literal_column,
    type_coerce,
)
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.types import TypeDecorator

from resolvers.relay import CursorKeys, Ordering


def lit(value: str) -> ColumnElement[Any]:
    """A SQL string literal written into the statement (part of its cached shape)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


def b64url(raw: ColumnElement[Any]) -> ColumnElement[Any]:
    """Unpadded base64url of a text, as :func:`resolvers.relay.encode_id` makes it."""
    encoded = func.encode(func.convert_to(raw, lit("UTF8")), lit("base64"))
    return func.rtrim(func.translate(encoded, literal_column("E'+/\\n'"), lit("-_")), lit("="))


def global_id(type_name: str, pk: ColumnElement[Any]) -> ColumnElement[Any]:
    """``encode_id`` in SQL. The text is ASCII (a type name, a colon, digits), so a cast makes
    its bytes (half the cost of ``convert_to``), and under 58 bytes base64 has no line breaks."""
    if len(type_name) + 1 + 19 > 57:
        return b64url(lit(type_name + ":").op("||")(cast(pk, Text)))
    raw = cast(lit(type_name + ":").op("||")(cast(pk, Text)), LargeBinary)
    return func.rtrim(
        func.translate(func.encode(raw, lit("base64")), lit("+/"), lit("-_")), lit("=")
    )


class JsonText(TypeDecorator[str]):
    """Marks an expression whose text is JSON already (an object, a list, ``null``)."""

    impl = Text
    cache_ok = True


JSON_TEXT = JsonText()
NULL_JSON: ColumnElement[Any] = type_coerce(literal_column("'null'"), JSON_TEXT)


def json_text(expr: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(expr, JSON_TEXT)


def json_raw(text_: str) -> ColumnElement[Any]:
    """JSON text written into the statement as it is."""
    return json_text(lit(text_))


def json_string(value: str) -> ColumnElement[Any]:
    """A constant string written into the statement as its JSON text."""
    return json_raw(json.dumps(value, ensure_ascii=False))


def decimal_json(name: str) -> Callable[[FromClause], ColumnElement[Any]]:
    """The column ``name``, a ``numeric``, as strawberry's Decimal writes it: a string of
    PostgreSQL's digits (what asyncpg's ``Decimal`` prints), or ``null``."""
    return lambda src: json_text(
        case(
            (src.c[name].is_(None), lit("null")),
            else_=cast(func.to_json(cast(src.c[name], Text)), Text),
        )
    )


def json_value(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """The JSON text of a value: nested JSON as it is, a SQL value by ``to_json`` (the
    encoding ``json_build_object`` gives it), SQL NULL as ``null``."""
    if not isinstance(value.type, JsonText):
        value = cast(func.to_json(value), Text)
    return func.coalesce(value, NULL_JSON)


def _concat(parts: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    """``a || b || ...`` as a balanced tree (an object of many fields stays shallow for the
    SQL compiler's recursion)."""
    if len(parts) == 1:
        return json_text(parts[0])
    half = len(parts) // 2
    return json_text(_concat(parts[:half]).op("||")(_concat(parts[half:])))


def json_object(pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
    """``{"key":value,...}`` by text concatenation: PostgreSQL's ``json_build_object``
    spends a quarter more time per object (it looks up every argument's type on every call),
    and writes ``"key" : value`` where the resolvers write ``"key":value``."""
    if not pairs:
        return json_raw("{}")
    parts: list[ColumnElement[Any]] = []
    prefix = "{"
    for key, value in pairs:
        parts.append(json_raw(prefix + json.dumps(key) + ":"))
        parts.append(json_value(value))
        prefix = ","
    parts.append(json_raw("}"))
    return _concat(parts)


# A cursor in the statement's answer, between markers no JSON text holds raw (PostgreSQL
# escapes control characters inside strings): START, the list's digest in hex, the values'
# JSON text, END. The endpoint seals each before the answer leaves the hub.
CURSOR_START, CURSOR_END = b"\x01", b"\x02"
_UNSEALED = re.compile(CURSOR_START + rb"([0-9a-f]{8})([^\x02]*)" + CURSOR_END)


def unsealed_cursor(digest: bytes, text: ColumnElement[Any]) -> ColumnElement[Any]:
    """A cursor's digest and plain text, marked for :func:`seal_cursors`."""
    start = literal_column("E'\\x01" + digest.hex() + "'", Text)
    return json_text(start.op("||")(text).op("||")(literal_column("E'\\x02'", Text)))


def seal_cursors(answer: bytes, keys: CursorKeys) -> bytes:
    """The statement's answer with every marked cursor sealed (a JSON string)."""
    if CURSOR_START not in answer:
        return answer
    return _UNSEALED.sub(
        lambda m: b'"' + keys.seal(bytes.fromhex(m[1].decode()), m[2]).encode() + b'"', answer
    )


def json_list(
    element: ColumnElement[Any], *order: Any, where: ColumnElement[bool] | None = None
) -> ColumnElement[Any]:
    """``[element,...]`` over an aggregate's rows in ``order`` (those ``where`` holds for, when
    given: PostgreSQL evaluates the element of those rows only); ``[]`` over no rows."""
    agg: Any = func.string_agg(element, aggregate_order_by(lit(","), *order))
    if where is not None:
        agg = agg.filter(where)
    joined = func.coalesce(agg, lit(""))
    return _concat([json_raw("["), joined, json_raw("]")])


def iso_timestamp(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``timestamptz``'s text as Python's ``isoformat`` writes what asyncpg reads: six
    digits of microseconds unless they are zero, the session's offset as +HH:MM."""
    fraction = case(
        (extract("microseconds", col) % 1000000 == 0, lit("")),
        else_=func.to_char(col, lit(".US")),
    )
    return func.concat(
        func.to_char(col, lit('YYYY-MM-DD"T"HH24:MI:SS')),
        fraction,
        func.to_char(col, lit("TZH:TZM")),
    )


def timestamp_value(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``timestamptz`` as the resolvers' JSON writes it (a string, or null)."""
    return json_text(
        case((col.is_(None), lit("null")), else_=cast(func.to_json(iso_timestamp(col)), Text))
    )


def enum_json(enum_cls: type[enum.Enum], col: ColumnElement[Any]) -> ColumnElement[Any]:
    """A stored enum value as its GraphQL name."""
    members = list(enum_cls)
    if all(m.name == str(m.value).upper() for m in members):
        return func.upper(col)
    return case({lit(str(m.value)): lit(m.name) for m in members}, value=col)


def cast_enum(value: Any) -> type[enum.Enum]:
    if not (isinstance(value, type) and issubclass(value, enum.Enum)):
        raise TypeError(value)
    return value


def adapt(expr: Any, alias: FromClause) -> Any:
    """Rewrite an expression over a base table onto an alias of it."""
    return ClauseAdapter(alias).traverse(expr)


def adapt_ordering(ordering: Ordering, alias: FromClause) -> Ordering:
    return Ordering(tuple((alias.c[col.key], desc) for col, desc in ordering.keys))


def aggregate_order_by(expr: Any, *order: Any) -> Any:
    from sqlalchemy.dialects.postgresql import aggregate_order_by as pg_order_by

    return pg_order_by(expr, *order)

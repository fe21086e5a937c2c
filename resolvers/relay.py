"""Relay plumbing: opaque global IDs, sealed cursors and keyset pagination.

Every list is a cursor connection with a required bound (``first`` or ``last``, at most 100).
Pages are cut by keyset (``WHERE (sort keys) > cursor``), never by OFFSET, so deep pages cost
the same as the first one. A cursor carries its sort keys' values encrypted (:class:`CursorKeys`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select
from sqlalchemy.sql import Alias
from sqlalchemy.sql.elements import UnaryExpression

from resolvers.errors import ErrorCode, RequestError
from resolvers.inputs import text_problem

MAX_PAGE = 100


# --- global IDs ----------------------------------------------------------------------------


def encode_id(type_name: str, pk: int) -> str:
    """The opaque global ID of a row: base64 of ``Type:pk``."""
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


INT4_MAX = 2**31 - 1


@functools.cache
def _int4_keyed() -> frozenset[str]:
    """Names of the models whose primary key is a 32-bit integer (most of them): no ID of
    theirs can name a larger key."""
    from sqlalchemy import BigInteger, Integer

    from models import Base

    names = set()
    for mapper in Base.registry.mappers:
        keys = mapper.primary_key
        kind = keys[0].type if len(keys) == 1 else None
        if isinstance(kind, Integer) and not isinstance(kind, BigInteger):
            names.add(mapper.class_.__name__)
    return frozenset(names)


def decode_id(global_id: str, *, expected: str | None = None) -> tuple[str, int]:
    """Split a global ID into its type name and primary key, or raise INVALID_ID."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        value = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise RequestError(ErrorCode.INVALID_ID, f"{global_id!r} is not a valid ID") from None
    if not type_name or value <= 0 or value > 2**63 - 1:
        raise RequestError(ErrorCode.INVALID_ID, f"{global_id!r} is not a valid ID")
    if value > INT4_MAX and type_name in _int4_keyed():
        raise RequestError(ErrorCode.INVALID_ID, f"{global_id!r} is not a valid ID")
    if expected is not None and type_name != expected:
        raise RequestError(
            ErrorCode.INVALID_ID, f"{global_id!r} is the ID of a {type_name}, not a {expected}"
        )
    return type_name, value


# --- cursors and page arguments ------------------------------------------------------------
#
# A cursor names a row's place in a list by the values of the list's sort keys, and those may
# be personal (a last name, a birth date): so a cursor is sealed, never readable. Its plain
# text is the list's digest and the values' JSON; it is encrypted with AES-SIV (RFC 5297:
# deterministic authenticated encryption, so no nonce can repeat however many cursors a key
# makes, and the same place of the same list gets the same cursor on both paths), under a key
# derived from each of the hub's signing keys: cursors rotate with them, and one sealed under a
# key the hub still keeps still opens. A forged, altered or foreign cursor fails to open:
# INVALID_PAGINATION.

CURSOR_MAX = 2_000  # characters: a sealed cursor of the longest names is a few hundred
_PAD = 32  # plain text is padded to this many bytes, so a cursor's length hides the names'
_TAG = 4  # bytes naming the key a cursor was sealed with
_DIGEST = 4  # bytes naming the list a cursor belongs to


def _invalid_cursor(message: str = "The cursor is not valid") -> RequestError:
    return RequestError(ErrorCode.INVALID_PAGINATION, message)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return {"$d": value.isoformat()}
    return value


def _from_json(value: Any) -> Any:
    """A cursor's value: a string, an integer, a boolean (the kindergarten queue's first key,
    benefit verified, K4) or a date; anything else is not a cursor."""
    if isinstance(value, dict) and set(value) == {"$d"} and isinstance(value["$d"], str):
        text = value["$d"]
        try:
            return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
        except ValueError:
            raise _invalid_cursor() from None
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int):
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise _invalid_cursor()
        # A forged cursor must not carry into SQL what the arguments' check refuses (a NUL).
        if isinstance(value, str) and text_problem(value) is not None:
            raise _invalid_cursor()
        return value
    raise _invalid_cursor()


def cursor_text(values: Sequence[Any]) -> bytes:
    """The plain text of a cursor's values. Written as PostgreSQL writes ``jsonb`` text, so
    the compiled path (schema/compiled/) makes the same text in SQL."""
    return json.dumps([_jsonable(v) for v in values], ensure_ascii=False).encode()


def cursor_values(text: bytes) -> list[Any]:
    """The values of a cursor's plain text."""
    try:
        values = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _invalid_cursor() from None
    if not isinstance(values, list):
        raise _invalid_cursor()
    return [_from_json(v) for v in values]


def _derive(secret: str) -> tuple[bytes, AESSIV]:
    """The cursor key of one signing key, and the tag that names it in a cursor."""
    material = HKDF(
        algorithm=hashes.SHA256(), length=_TAG + 64, salt=b"bilim-hub", info=b"cursor-key"
    ).derive(secret.encode())
    return material[:_TAG], AESSIV(material[_TAG:])


class CursorKeys:
    """The hub's cursor keys: one per signing key (:class:`resolvers.access.KeyRing`), the
    active one sealing, every kept one opening."""

    def __init__(self, secrets: Mapping[str, str], active: str) -> None:
        self._keys = dict(_derive(secret) for secret in secrets.values())
        self._tag, self._active = _derive(secrets[active])

    def seal(self, digest: bytes, text: bytes) -> str:
        """The cursor of ``text`` (values' JSON) in the list of ``digest``."""
        plain = digest + text
        plain += b"\0" * (-len(plain) % _PAD)  # JSON text holds no raw NUL
        sealed = self._tag + self._active.encrypt(plain, None)
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, cursor: str) -> tuple[bytes, bytes]:
        """The list digest and the values' JSON of a cursor this hub sealed."""
        if len(cursor) > CURSOR_MAX:
            raise _invalid_cursor()
        try:
            # Strict: a character outside base64url (a NUL, a space) is not skipped over.
            sealed = base64.b64decode(cursor + "=" * (-len(cursor) % 4), b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise _invalid_cursor() from None
        key = self._keys.get(sealed[:_TAG])
        if key is None:
            raise _invalid_cursor()
        try:
            plain = key.decrypt(sealed[_TAG:], None)
        except (InvalidTag, ValueError):
            raise _invalid_cursor() from None
        plain = plain.rstrip(b"\0")
        return plain[:_DIGEST], plain[_DIGEST:]

    def values(self, cursor: str) -> tuple[bytes, list[Any]]:
        """The list digest and the values of a cursor, whatever list it belongs to."""
        digest, text = self.open(cursor)
        return digest, cursor_values(text)


@dataclass(frozen=True)
class PageArgs:
    """Validated page arguments: exactly one of ``first``/``last``, 1..100."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def size(self) -> int:
        return self.first if self.first is not None else self.last or 0

    @property
    def backwards(self) -> bool:
        return self.last is not None


def page_args(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    """Check a connection's bounds, GitHub's rule: ``first`` or ``last`` is required, at most
    100, and they are not combined."""
    if first is None and last is None:
        raise RequestError(
            ErrorCode.INVALID_PAGINATION,
            f"Pass `first` or `last` (at most {MAX_PAGE}) to page through this list",
        )
    if first is not None and last is not None:
        raise RequestError(ErrorCode.INVALID_PAGINATION, "Pass `first` or `last`, not both")
    bound = first if first is not None else last
    assert bound is not None
    if bound < 0 or bound > MAX_PAGE:
        raise RequestError(
            ErrorCode.INVALID_PAGINATION,
            f"`{'first' if first is not None else 'last'}` must be between 0 and {MAX_PAGE}",
        )
    if first is not None and before is not None:
        raise RequestError(ErrorCode.INVALID_PAGINATION, "Use `before` with `last`")
    if last is not None and after is not None:
        raise RequestError(ErrorCode.INVALID_PAGINATION, "Use `after` with `first`")
    return PageArgs(first=first, after=after, last=last, before=before)


# --- keyset ordering -----------------------------------------------------------------------


def _fits(value: Any, kind: Any) -> bool:
    """Can ``value`` be compared with a column of type ``kind``?"""
    from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, String

    if isinstance(kind, Boolean) or isinstance(value, bool):
        return isinstance(kind, Boolean) and isinstance(value, bool)
    if isinstance(kind, Integer):
        limit = 2**63 - 1 if isinstance(kind, BigInteger) else INT4_MAX
        return (
            isinstance(value, int) and not isinstance(value, bool) and -limit - 1 <= value <= limit
        )
    if isinstance(kind, DateTime):
        return isinstance(value, datetime)
    if isinstance(kind, Date):
        return isinstance(value, date) and not isinstance(value, datetime)
    if isinstance(kind, String):
        return isinstance(value, str)
    return True


def _source(col: Any) -> str:
    """``table.column`` of a sort key, an alias read as the table it aliases."""
    expr = getattr(col, "expression", col)
    table = getattr(expr, "table", None)
    if isinstance(table, Alias):
        table = table.element
    return f"{getattr(table, 'name', '')}.{expr.key}"


@dataclass(frozen=True)
class Ordering:
    """Sort keys of a list, most significant first; the last key must be unique (the id).

    ``personal`` names the personal fields (``Type.field``) the order reveals: a caller who may
    not read them may not order by them (:func:`resolvers.access.fields.check_ordering`)."""

    keys: tuple[tuple[Any, bool], ...]  # (column expression, descending)
    personal: frozenset[str] = frozenset()

    @functools.cached_property
    def digest(self) -> bytes:
        """Names this list's order inside its cursors: a cursor of another order does not fit."""
        name = ",".join(f"{_source(col)}{'-' if desc else '+'}" for col, desc in self.keys)
        return hashlib.sha256(name.encode()).digest()[:_DIGEST]

    def clauses(self, *, reverse: bool = False) -> list[UnaryExpression[Any]]:
        return [(col.asc() if desc == reverse else col.desc()) for col, desc in self.keys]

    def after(self, values: Sequence[Any], *, reverse: bool = False) -> ColumnElement[bool]:
        """Rows strictly after ``values`` in this order (or before, when ``reverse``).

        The alternatives (first key ahead, or equal and the second ahead, ...) imply the first
        key's bound, stated on its own as well: PostgreSQL starts an index scan at that bound
        instead of filtering every row before the cursor, so deep pages cost what the first
        one does."""
        # SQLAlchemy compares a column with a Python boolean only by ``=``: bound as values of
        # the column's type, ``benefit_verified < true`` is PostgreSQL's ordinary comparison.
        values = [
            literal(v, col.type) if isinstance(v, bool) else v
            for v, (col, _) in zip(values, self.keys, strict=True)
        ]
        alternatives = []
        for i, (col, desc) in enumerate(self.keys):
            ahead = (col < values[i]) if (desc != reverse) else (col > values[i])
            alternatives.append(
                and_(*[c == values[j] for j, (c, _) in enumerate(self.keys[:i])], ahead)
            )
        if len(self.keys) == 1:
            return alternatives[0]
        first, desc = self.keys[0]
        bound = (first <= values[0]) if (desc != reverse) else (first >= values[0])
        return and_(bound, or_(*alternatives))

    def decode(self, cursor: str, keys: CursorKeys) -> list[Any]:
        """A cursor of this list: sealed by this hub for this order, as many values as keys,
        each of its key's type and range (a cursor of another list, or a forged one, is
        INVALID_PAGINATION, not a database error)."""
        digest, values = keys.values(cursor)
        if digest != self.digest or len(values) != len(self.keys):
            raise _invalid_cursor("The cursor does not fit this list")
        for value, (col, _) in zip(values, self.keys, strict=True):
            if not _fits(value, col.type):
                raise _invalid_cursor("The cursor does not fit this list")
        return values

    def cursor_of(self, row: Any, keys: CursorKeys) -> str:
        return keys.seal(self.digest, cursor_text([row._mapping[col.key] for col, _ in self.keys]))


@dataclass
class Page:
    """One page of rows with its cursors and neighbours."""

    rows: list[Any]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def slice_rows(rows: list[Any], args: PageArgs, ordering: Ordering, keys: CursorKeys) -> Page:
    """Turn ``size + 1`` fetched rows into a page (the extra row only says there is more)."""
    more = len(rows) > args.size
    rows = rows[: args.size]
    if args.backwards:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[ordering.cursor_of(r, keys) for r in rows],
        has_next_page=more if not args.backwards else args.before is not None,
        has_previous_page=more if args.backwards else args.after is not None,
    )


def paged(stmt: Select[Any], args: PageArgs, ordering: Ordering, keys: CursorKeys) -> Select[Any]:
    """Apply cursor, order and limit (one extra row) to a top-level list query."""
    if args.after is not None:
        stmt = stmt.where(ordering.after(ordering.decode(args.after, keys)))
    if args.before is not None:
        stmt = stmt.where(ordering.after(ordering.decode(args.before, keys), reverse=True))
    return stmt.order_by(*ordering.clauses(reverse=args.backwards)).limit(args.size + 1)


def paged_per_parent(
    stmt: Select[Any],
    parent: ColumnElement[Any],
    args: PageArgs,
    ordering: Ordering,
    keys: CursorKeys,
) -> Select[Any]:
    """One page per parent in a single statement: a window function numbers each parent's rows
    and the outer query keeps ``size + 1`` of each. ``stmt`` selects the columns the page needs
    (the parent column and the ordering keys among them)."""
    if args.after is not None:
        stmt = stmt.where(ordering.after(ordering.decode(args.after, keys)))
    if args.before is not None:
        stmt = stmt.where(ordering.after(ordering.decode(args.before, keys), reverse=True))
    rn = func.row_number().over(
        partition_by=parent, order_by=ordering.clauses(reverse=args.backwards)
    )
    inner = stmt.add_columns(rn.label("_rn")).subquery()
    return (
        select(*[c for c in inner.c if c.key != "_rn"])
        .where(inner.c._rn <= args.size + 1)
        .order_by(
            inner.c[str(parent.key)],
            inner.c._rn,
        )
    )

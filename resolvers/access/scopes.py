"""A principal's scope in SQL: the row rules' one way of putting a set of ids into a statement.

A scope (the regions, districts or institutions of an officer's or staff member's role) goes
into SQL as one array argument, ``column = ANY(:ids)``, never as ``IN (:id_1, :id_2, ...)``:
the statement's text is then the same whatever the number of ids, so the compiled path
(``schema/compiled/cache.py``) keeps one statement per role for every caller of that role and
PostgreSQL reuses its prepared plan. A rule may still decide in Python whether a scope is empty
(the compiled path keys its statements by that), but never on the ids themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, all_, any_, bindparam, literal_column
from sqlalchemy.dialects.postgresql import ARRAY

_IDS = ARRAY(Integer)


def scope_ids(ids: Iterable[int]) -> Any:
    """The ids as one array argument."""
    return bindparam(None, sorted(ids), type_=_IDS, unique=True)


def among(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column = ANY(:ids)``: is the column's value one of ``ids``? (False for no ids.)"""
    return column == any_(scope_ids(ids))


def outside(column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column <> ALL(:ids)``: is the column's value none of ``ids``? (True for no ids.)"""
    return column != all_(scope_ids(ids))


def no_rows() -> ColumnElement[bool]:
    """The rule of a caller who reads no row: ``false`` as SQL text, not SQLAlchemy's
    ``false()``, which folds a statement's other conditions away (``WHERE false``) and with them
    the request's own arguments (a filter's id, a cursor's values): the compiled path would
    then build that caller's statement per request. PostgreSQL still plans it as one."""
    return literal_column("false", Boolean)

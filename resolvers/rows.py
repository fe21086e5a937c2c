"""One row locked, or written, by its primary key with a statement made once: a workflow step
that locks a row, changes a column or two and moves on.

The ORM's ``session.get(model, pk, with_for_update=True)`` builds its query anew on every
call, and a flush runs the unit of work (change history, dependency sort, a statement built for
the row): for one row the two cost a mutation ~0.3 and ~0.4 ms of CPU, against ~0.2 and
~0.15 ms for a statement made once, kept compiled by SQLAlchemy, and less again sent through the
driver on the session's connection (:mod:`resolvers.driver`), the row's new values given to the
loaded object as they are now in the database (issue 21). The object stays in
the session as if it had been loaded with those values; what the database sets on an update
(``onupdate`` columns such as ``updated_at``, computed columns) is read back by the same
statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Table,
    Update,
    bindparam,
    inspect,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from resolvers import driver

T = TypeVar("T")

PK = "row_pk"
# Statements made for each model's set of written columns (writes): a few dozen at most, made
# as steps first need them.
_WRITES: dict[tuple[type, tuple[str, ...], str], _Write] = {}
_MANY: dict[tuple[tuple[type, tuple[str, ...]], ...], driver.Made] = {}


def _key(mapper: Mapper[Any]) -> ColumnElement[Any]:
    (key,) = mapper.primary_key
    return key


async def locked_row(session: AsyncSession, model: type[T], pk: int) -> T | None:
    """Row ``pk`` of ``model`` locked ``FOR UPDATE`` and loaded as the database has it now
    (what ``session.get(model, pk, with_for_update=True, populate_existing=True)`` does), or
    None when there is none, read through the driver (:func:`resolvers.driver.locked_object`).
    The caller has checked that its caller may reach the row."""
    return await driver.locked_object(session, model, pk)


class _Write(NamedTuple):
    """The UPDATE of one row's columns, and what it reads back: the names of the columns the
    database sets on an update, and their attributes."""

    stmt: Update
    made: driver.Made
    columns: tuple[str, ...]
    attributes: tuple[str, ...]


def _write_of(model: type, names: tuple[str, ...], prefix: str = "") -> _Write:
    """The UPDATE of ``names`` of one row of ``model``, its key a bind parameter named
    ``<prefix>row_pk`` and each value one named ``<prefix>new_<attribute>``, returning what the
    database sets on an update."""
    made = _WRITES.get((model, names, prefix))
    if made is not None:
        return made
    mapper: Mapper[Any] = inspect(model)
    table = cast(Table, mapper.local_table)
    columns = {name: mapper.columns[name] for name in names}
    written = set(columns.values())
    refreshed: Sequence[Column[Any]] = [
        c
        for c in table.columns
        if c not in written
        and (c.onupdate is not None or c.server_onupdate is not None or c.computed is not None)
    ]
    new = {c: bindparam(f"{prefix}new_{name}", type_=c.type) for name, c in columns.items()}
    stmt = update(table).where(_key(mapper) == bindparam(f"{prefix}{PK}")).values(new)
    if refreshed:
        stmt = stmt.returning(*refreshed)
    made = _Write(
        stmt,
        driver.Made(stmt),
        tuple(c.name for c in refreshed),
        tuple(mapper.get_property_by_column(c).key for c in refreshed),
    )
    _WRITES[(model, names, prefix)] = made
    return made


def _writes_of(shapes: tuple[tuple[type, tuple[str, ...]], ...]) -> driver.Made:
    """One statement writing a row of each shape (model, names): each UPDATE a CTE returning
    what the database sets and the row's key, the statement one row of all of these."""
    made = _MANY.get(shapes)
    if made is not None:
        return made
    joined: Any = None
    columns: list[Any] = []
    for n, (model, names) in enumerate(shapes):
        write = _write_of(model, names, f"w{n}_")
        key = _key(inspect(model)).label(f"w{n}_key")
        cte = write.stmt.returning(key).cte(f"write_{n}")
        columns.extend(cte.c[name] for name in write.columns)
        columns.append(cte.c[f"w{n}_key"])
        joined = cte if joined is None else joined.join(cte, true())
    made = driver.Made(select(*columns).select_from(joined))
    _MANY[shapes] = made
    return made


def _checked(obj: Any, values: dict[str, Any]) -> Any:
    """The loaded object's state; a new object or an SQL expression among the values is
    refused before any statement."""
    state = inspect(obj)
    if not state.persistent:
        raise ValueError("write_row writes a row loaded in the session, not a new object")
    for name, value in values.items():
        if isinstance(value, ClauseElement):
            raise TypeError(f"write_row takes plain values; {name} is an SQL expression")
    return state


async def write_row(session: AsyncSession, obj: Any, **values: Any) -> None:
    """Write ``values`` (attribute name: plain value) to the row of the loaded ``obj`` in one
    UPDATE made once per model and set of names, and keep them on ``obj`` as loaded (nothing
    left for a flush), with the columns the database set on the update read back. The row is
    one the step holds locked (:func:`locked_row`)."""
    state = _checked(obj, values)
    write = _write_of(state.mapper.class_, tuple(sorted(values)))
    (pk,) = state.identity
    params = {PK: pk, **{f"new_{n}": v for n, v in values.items()}}
    if write.columns:
        _keep(obj, values, write.attributes, await driver.one(session, write.made, params))
    else:
        await driver.execute(session, write.made, params)
        _keep(obj, values, write.attributes, ())


async def write_rows(session: AsyncSession, *writes: tuple[Any, dict[str, Any]]) -> None:
    """:func:`write_row` for several rows in one statement (one round trip), each ``(obj,
    values)``: rows whose UPDATEs do not depend on each other (PostgreSQL runs the UPDATEs of
    one statement in no set order), each one the step holds locked."""
    states = [_checked(obj, values) for obj, values in writes]
    shapes = tuple(
        (state.mapper.class_, tuple(sorted(values)))
        for state, (_, values) in zip(states, writes, strict=True)
    )
    params: dict[str, Any] = {}
    for n, (state, (_, values)) in enumerate(zip(states, writes, strict=True)):
        (params[f"w{n}_{PK}"],) = state.identity
        params.update({f"w{n}_new_{name}": value for name, value in values.items()})
    row = await driver.one(session, _writes_of(shapes), params)
    at = 0
    for n, ((obj, values), (model, names)) in enumerate(zip(writes, shapes, strict=True)):
        write = _write_of(model, names, f"w{n}_")
        width = len(write.columns)
        _keep(obj, values, write.attributes, tuple(row[at : at + width]))
        at += width + 1  # and the row's key


def _keep(obj: Any, values: dict[str, Any], refreshed: tuple[str, ...], read: Any) -> None:
    """The written values, and those the database set, kept on ``obj`` as loaded."""
    for name, value in values.items():
        set_committed_value(obj, name, value)
    for name, value in zip(refreshed, read, strict=True):
        set_committed_value(obj, name, value)

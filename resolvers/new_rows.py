"""A new row inserted by a statement made once and sent through the driver on the session's
connection (:mod:`resolvers.driver`), the session's object for it made from what the INSERT
returns: ``session.add(obj)`` and ``flush()`` without the unit of work.

A flush of one new object runs the unit of work (change history, the mapper's INSERT built
and compiled from its cache, the server defaults fetched back) for ~0.4 ms of a mutation's
CPU; the same INSERT made once, its values bind parameters and every column of the model
returned (server defaults, the computed global ID), costs a third of that through the driver
(issue 21). The object is in the session as if it had been loaded: persistent, nothing left
for a flush."""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.dml import ReturningInsert

from models import Enrollment
from resolvers import driver

T = TypeVar("T")


class Insert(NamedTuple):
    """The INSERT of one row of ``entity``'s model with the columns ``names`` (attribute
    names, each a bind parameter ``new_<name>``), returning every column the entity loads."""

    entity: driver.Entity
    names: tuple[str, ...]
    made: driver.Made


def insert_statement(model: type, *names: str) -> ReturningInsert[Any]:
    """The INSERT of one row of ``model`` with these attributes, each a bind parameter
    ``new_<name>`` (:func:`new_params`), returning every column the model loads: the Core
    statement, for a step that makes it part of a larger one (made at import, module level)."""
    mapper: Mapper[Any] = inspect(model)
    table = cast(Table, mapper.local_table)
    unset = [
        p.key
        for p in mapper.column_attrs
        if p.columns[0].default is not None and p.key not in names
    ]
    if unset:
        # The unit of work computes a Python-side default as it inserts; a statement made once
        # would be sent without it, so such a column is named (and given) by the step.
        raise ValueError(f"name the columns with Python-side defaults too: {unset}")
    values = {mapper.columns[n]: bindparam(f"new_{n}", type_=mapper.columns[n].type) for n in names}
    return insert(table).values(values).returning(*driver.entity(model).columns)


def new_params(names: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    """The bind parameters of :func:`insert_statement`'s ``names`` from ``values``, which give
    every one of them (None for NULL) and nothing else."""
    if values.keys() != set(names):
        raise ValueError(f"the new row takes exactly {sorted(names)}")
    return {f"new_{name}": value for name, value in values.items()}


def insert_of(model: type, *names: str) -> Insert:
    """The made-once INSERT of ``model`` with these attributes (made at import, module level)."""
    stmt = insert_statement(model, *names)
    return Insert(driver.entity(model), tuple(names), driver.Made(stmt))


async def insert_row(session: AsyncSession, made: Insert, **values: Any) -> Any:
    """Insert one row with ``values`` (every attribute ``made`` names, None for NULL) and give
    the session's object for it, persistent as if loaded with what the database wrote."""
    row = await driver.one(session, made.made, new_params(made.names, values))
    return driver.object_of(session, made.entity, row)


# Every attribute an enrollment is opened with (None for NULL): a transfer's continuation
# (resolvers/enrollments) and a kindergarten admission (resolvers/preschool) insert the same row.
ENROLLMENT_ATTRIBUTES = (
    "person_id",
    "institution_id",
    "sector",
    "entry_date",
    "exit_date",
    "exit_reason",
    "grade_level",
    "programme",
    "class_group",
    "previous_enrollment_id",
    "age_decision",
)
NEW_ENROLLMENT = insert_of(Enrollment, *ENROLLMENT_ATTRIBUTES)

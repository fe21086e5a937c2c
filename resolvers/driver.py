"""A workflow step's statements made once and sent on the request's own connection straight
through asyncpg, in the session's transaction.

``session.execute`` of a statement made once (kept compiled by SQLAlchemy) still costs ~0.2 ms
of the hub's CPU a statement: the session's and connection's execution contexts, the bind
parameters built again, the cursor adapter and the result objects; asyncpg itself ~0.05 ms
(issue 21: a mutation sends eight to ten statements, and one worker answers 250 a second only
below ~4 ms of CPU each). :class:`Made` compiles a Core statement once for the dialect: its SQL
text with ``$n`` placeholders, the order of its parameters, SQLAlchemy's own bind and result
processors for its columns' types (an enum column comes back as the enum, a JSON one decoded),
so a row reads as SQLAlchemy would give it; :func:`rows` and friends send it on the driver
connection of the session's transaction (started first if it has not been), after the engine's
``before_cursor_execute`` listeners have seen it (statement counts and telemetry hold), and a
database error reaches the caller as SQLAlchemy's (``IntegrityError`` with its constraint,
``DBAPIError`` with its SQLSTATE), so a step's refusals, retries and audit work as before.

:func:`locked_object` does the same for the ORM's ``session.get(model, pk,
with_for_update=True, populate_existing=True)``: the row locked and read through the driver,
the object in the session's identity map given the row's values as loaded (a new one made
persistent when the session had none)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, bindparam, inspect, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Executable

T = TypeVar("T")

Processor = Callable[[Any], Any] | None


class _Compiled(NamedTuple):
    sql: str
    # Per ``$n``: the parameter's name, its value when the statement carries one (a literal
    # such as ``sector = 'school'``), and SQLAlchemy's bind processor for its type.
    names: tuple[str, ...]
    defaults: dict[str, Any]
    binds: tuple[Processor, ...]
    keys: tuple[str, ...]
    types: tuple[Any, ...]


class Made:
    """A Core statement made once (at module level), sent through :func:`rows`, :func:`one`,
    :func:`scalar` or :func:`execute` with its parameters by name. A statement whose parameters
    expand when sent (``IN`` of a list: use ``= ANY(array)``) is refused when first compiled."""

    __slots__ = ("_compiled", "_results", "stmt")

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._compiled: _Compiled | None = None
        # The result processors, known once the statement's columns' types have been read.
        self._results: tuple[Processor, ...] | None = None

    def compiled(self, dialect: Dialect) -> _Compiled:
        made = self._compiled
        if made is None:
            made = self._compiled = _compile(self.stmt, dialect)
        return made


def _compile(stmt: Executable, dialect: Dialect) -> _Compiled:
    compiled: Any = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    if compiled.post_compile_params or compiled.literal_execute_params:
        raise ValueError("a statement made once takes no expanding parameters: use = ANY(array)")
    names = tuple(compiled.positiontup or ())
    processors = compiled._bind_processors
    defaults = {}
    for name in names:
        bind = compiled.binds[name]
        if bind.callable is None and bind.value is not None:
            defaults[name] = bind.value
    columns = compiled._result_columns
    return _Compiled(
        str(compiled),
        names,
        defaults,
        tuple(processors.get(n) for n in names),
        tuple(column[0] for column in columns),
        tuple(column[3] for column in columns),
    )


class _Link(NamedTuple):
    """The session's transaction and its connection: the driver's, SQLAlchemy's adapter of it
    (which starts the transaction and translates errors), the engine's listeners."""

    transaction: Any
    driver: Any
    adapted: Any
    dialect: Dialect
    engine: Any


_LINK = "bilim.driver_link"


async def _link(session: AsyncSession) -> _Link:
    transaction = session.sync_session.get_transaction()
    link: _Link | None = session.info.get(_LINK)
    if link is not None and transaction is not None and link.transaction is transaction:
        return link
    connection = await session.connection()
    sync = connection.sync_connection
    assert sync is not None
    fairy: Any = sync.connection
    link = _Link(
        session.sync_session.get_transaction(),
        fairy.driver_connection,
        fairy.dbapi_connection,
        sync.dialect,
        sync.engine,
    )
    session.info[_LINK] = link
    return link


def _args(made: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    args = []
    for name, process in zip(made.names, made.binds, strict=True):
        value = params[name] if name in params else made.defaults[name]
        args.append(value if process is None or value is None else process(value))
    return args


async def _send(
    session: AsyncSession, made: Made, params: Mapping[str, Any], fetch: bool
) -> tuple[_Link, _Compiled, Any]:
    link = await _link(session)
    compiled = made.compiled(link.dialect)
    try:
        args = _args(compiled, params)
    except KeyError as missing:
        raise ValueError(f"no value for the statement's parameter {missing}") from None
    dispatch = link.engine.dispatch.before_cursor_execute
    if dispatch:
        dispatch(None, None, compiled.sql, tuple(args), None, False)
    adapted = link.adapted
    async with adapted._execute_mutex:
        try:
            if adapted._transaction is None:
                await adapted._start_transaction()
            if fetch and made._results is None:
                made._results = await _results_of(link, compiled)
            if fetch:
                return link, compiled, await link.driver.fetch(compiled.sql, *args)
            return link, compiled, await link.driver.execute(compiled.sql, *args)
        except Exception as error:
            raise _translated(link, compiled, args, error) from error


async def _results_of(link: _Link, compiled: _Compiled) -> tuple[Processor, ...]:
    """SQLAlchemy's result processors for the statement's columns, given the types the database
    says its columns have (read once, when the statement is first sent)."""
    statement = await link.driver.prepare(compiled.sql)
    oids = [attribute.type.oid for attribute in statement.get_attributes()]
    return tuple(
        type_._cached_result_processor(link.dialect, oid)
        for type_, oid in zip(compiled.types, oids, strict=True)
    )


def _translated(link: _Link, compiled: _Compiled, args: list[Any], error: Exception) -> Exception:
    """The driver's error as SQLAlchemy raises it (its DBAPI error class chosen by the
    SQLSTATE, the asyncpg error as its cause); the parameters are not shown (personal data)."""
    try:
        link.adapted._handle_exception(error)
    except Exception as dbapi_error:  # the adapter always raises
        translated: Any = dbapi_error
    else:  # pragma: no cover - _handle_exception returns only by raising
        translated = error
    dbapi_base = link.dialect.loaded_dbapi.Error
    if not isinstance(translated, dbapi_base):
        return translated  # not the database's (cancelled, a bug): as it is
    return DBAPIError.instance(
        compiled.sql,
        None,
        translated,
        dbapi_base,
        hide_parameters=True,
        connection_invalidated=bool(link.driver.is_closed()),
        dialect=link.dialect,
    )


async def rows(
    session: AsyncSession, made: Made, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row the statement returns, each a tuple of its columns as SQLAlchemy gives them."""
    _, _, records = await _send(session, made, params, True)
    processors = made._results or ()
    if not any(processors):
        return [tuple(record) for record in records]
    return [
        tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(record, processors, strict=True)
        )
        for record in records
    ]


async def one_or_none(
    session: AsyncSession, made: Made, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The statement's one row, or None when it returns none (more than one is a bug)."""
    found = await rows(session, made, params)
    if len(found) > 1:
        raise ValueError("the statement returned more than one row")
    return found[0] if found else None


async def one(session: AsyncSession, made: Made, params: Mapping[str, Any]) -> tuple[Any, ...]:
    """The statement's one row (none is a bug)."""
    found = await one_or_none(session, made, params)
    if found is None:
        raise ValueError("the statement returned no row")
    return found


async def scalar(session: AsyncSession, made: Made, params: Mapping[str, Any]) -> Any:
    """The first column of the statement's first row, or None when it returns none."""
    found = await rows(session, made, params)
    return found[0][0] if found else None


async def execute(session: AsyncSession, made: Made, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows; the number of rows it changed."""
    _, _, status = await _send(session, made, params, False)
    tail = str(status).rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


# --- ORM objects ---------------------------------------------------------------------------

PK = "row_pk"


class Entity(NamedTuple):
    """A model's columns as a statement made once selects them, and the attributes they load:
    ``select(..., *entity.columns)`` and :func:`object_of` on the row's slice of them give the
    session's object as the ORM would load it."""

    model: type
    columns: tuple[ColumnElement[Any], ...]
    attributes: tuple[str, ...]
    # Where the primary key is among the columns.
    key_at: int


_ENTITIES: weakref.WeakKeyDictionary[type, Entity | None] = weakref.WeakKeyDictionary()


def loadable(model: type) -> Entity | None:
    """``model``'s :class:`Entity`, or None for a model this path does not load (inheritance,
    a composite key, a relationship the ORM loads with the row)."""
    if model in _ENTITIES:
        return _ENTITIES[model]
    mapper: Mapper[Any] = inspect(model)
    made: Entity | None = None
    eager = any(
        r.lazy not in ("select", "raise", "raise_on_sql", "noload") for r in mapper.relationships
    )
    if (
        mapper.inherits is None
        and mapper.polymorphic_on is None
        and len(mapper.primary_key) == 1
        and not eager
    ):
        props = [p for p in mapper.column_attrs if len(p.columns) == 1 and not p.deferred]
        columns = tuple(p.columns[0] for p in props)
        made = Entity(
            model,
            columns,
            tuple(p.key for p in props),
            next(n for n, c in enumerate(columns) if c is mapper.primary_key[0]),
        )
    _ENTITIES[model] = made
    return made


def entity(model: type) -> Entity:
    """:func:`loadable`, for a model known to be loadable (a statement made at import)."""
    made = loadable(model)
    if made is None:
        raise ValueError(f"{model.__name__} is not loaded through the driver")
    return made


def held(session: AsyncSession, model: type, pk: Any) -> Any | None:
    """The session's object for row ``pk`` of ``model`` when its identity map holds one (no
    statement), else None."""
    mapper: Mapper[Any] = inspect(model)
    return session.sync_session.identity_map.get(mapper.identity_key_from_primary_key((pk,)))


def object_of(
    session: AsyncSession, entity: Entity, values: Sequence[Any], *, populate: bool = False
) -> Any:
    """The session's object for the row whose ``entity`` columns hold ``values``: the one in
    its identity map (given these values when ``populate``, as ``populate_existing`` does; as
    it is otherwise, as the ORM's query leaves it) or a new one, persistent as if loaded."""
    obj: Any = held(session, entity.model, values[entity.key_at])
    if obj is not None and not populate:
        return obj
    fresh = obj is None
    if fresh:
        mapper: Mapper[Any] = inspect(entity.model)
        obj = mapper.class_manager.new_instance()
    for name, value in zip(entity.attributes, values, strict=True):
        set_committed_value(obj, name, value)
    if fresh:
        make_transient_to_detached(obj)
        session.sync_session.add(obj)
    return obj


# The statements reading a model's row by its key, made once per model: plain, and locked.
_BY_KEY: dict[bool, weakref.WeakKeyDictionary[type, Made]] = {
    False: weakref.WeakKeyDictionary(),
    True: weakref.WeakKeyDictionary(),
}


async def _row_by_key(
    session: AsyncSession, loaded: Entity, pk: Any, *, lock: bool
) -> tuple[Any, ...] | None:
    """Row ``pk`` of ``loaded``'s model (its columns), ``FOR UPDATE`` when ``lock``."""
    made = _BY_KEY[lock].get(loaded.model)
    if made is None:
        mapper: Mapper[Any] = inspect(loaded.model)
        (key,) = mapper.primary_key
        stmt = select(*loaded.columns).where(key == bindparam(PK))
        made = _BY_KEY[lock][loaded.model] = Made(stmt.with_for_update() if lock else stmt)
    return await one_or_none(session, made, {PK: pk})


async def locked_object(session: AsyncSession, model: type[T], pk: int) -> T | None:
    """Row ``pk`` of ``model`` locked ``FOR UPDATE`` and read as the database has it now, given
    to the session's object for it (made when the session has none), or None when there is no
    such row: ``session.get(model, pk, with_for_update=True, populate_existing=True)`` without
    the ORM's query. A model this path does not load goes through the ORM."""
    loaded = loadable(model)
    if loaded is None:
        return await session.get(model, pk, with_for_update=True, populate_existing=True)
    row = await _row_by_key(session, loaded, pk, lock=True)
    if row is None:
        return None
    found: T = object_of(session, loaded, row, populate=True)
    return found


async def get_object(session: AsyncSession, model: type[T], pk: int) -> T | None:
    """Row ``pk`` of ``model`` as ``session.get(model, pk)`` gives it, without the ORM's query:
    the session's object when its identity map holds it loaded (no statement), else the row
    read through the driver into the session's object (made when the session has none), or
    None when there is no such row. A model this path does not load goes through the ORM."""
    loaded = loadable(model)
    if loaded is None:
        return await session.get(model, pk)
    holding: Any = held(session, model, pk)
    if holding is not None and not inspect(holding).expired_attributes:
        found_held: T = holding
        return found_held
    row = await _row_by_key(session, loaded, pk, lock=False)
    if row is None:
        return None
    found: T = object_of(session, loaded, row, populate=True)
    return found

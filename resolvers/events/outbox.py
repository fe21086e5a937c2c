"""The transactional outbox: writing an event in the workflow's transaction, and reading
events in transaction order without ever skipping one.

Order and the horizon: an ``id`` from a sequence is taken when a row is inserted, not when
its transaction commits, so a reader that walked ids could pass an id whose transaction
commits later and lose it. Each event carries its transaction's id (``txid``, xid8 as a
number); readers take events ordered by ``(txid, id)`` and only those whose transaction is
older than the oldest transaction still running (``pg_snapshot_xmin``). Every transaction
below that horizon has ended, so nothing can appear behind a reader's position. The price:
a long transaction still running holds delivery back until it ends (docs/domains/events.md).
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    Insert,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

from models import OutboxEvent

log = logging.getLogger("bilim.events")

# The oldest transaction still running: every transaction below it has ended.
HORIZON_SQL = "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
MAX_ID = 2**63 - 1


# session.info key of the open trail (:func:`open_trail`): the inserts a mutation's step leaves
# for its audit row to carry.
TRAIL = "bilim.trail"


@dataclass
class Trail:
    """What a mutation's step appends without reading back (its outbox events, its status
    history), held until the step's audit row is written: :func:`resolvers.events.write_audit`
    sends them all as CTEs of that one INSERT, so the audit row, the events and the history
    cost one statement (issue 21: at most 10 a mutation). Rows are appended in the step's
    savepoint either way: a step that fails leaves none of them.

    ``bound`` holds inserts made once (module-level statements whose bind parameters have
    names of their own) with this step's values for them (:func:`append_bound`): the audit
    statement carrying them is then built once per shape and reused (issue 21: a mutation's
    statements were built anew on every call); ``inserts`` hold those built per call."""

    events: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[Insert] = field(default_factory=list)
    bound: list[tuple[Insert, dict[str, Any]]] = field(default_factory=list)

    def ctes(self) -> tuple[list[Any], dict[str, Any]]:
        """The trail as CTEs of one statement, with the values of their bind parameters: the
        events in one INSERT (:data:`EVENTS_INSERT`: their ids follow the order they were
        emitted in), then each other insert (a bound insert met a second time gets its values
        in the statement)."""
        ctes: list[Any] = []
        values: dict[str, Any] = {}
        if self.events:
            ctes.append(EVENTS_INSERT.cte("trail_events"))
            values[EVENTS_PARAM] = list(self.events)
        ctes.extend(stmt.cte(f"trail_{n}") for n, stmt in enumerate(self.inserts, 1))
        seen: set[int] = set()
        for n, (stmt, bound) in enumerate(self.bound, 1):
            if id(stmt) in seen:
                stmt = with_values(stmt, bound)
            else:
                seen.add(id(stmt))
                values.update(bound)
            ctes.append(stmt.cte(f"trail_bound_{n}"))
        return ctes, values


def with_values(statement: Insert, values: dict[str, Any]) -> Insert:
    """A copy of an insert made with named bind parameters, each named one holding its value
    from ``values`` under a name of its own (the same insert may then appear twice in one
    statement)."""

    def bound(element: ExternallyTraversible, **_: Any) -> ExternallyTraversible | None:
        if isinstance(element, BindParameter) and element.key in values:
            return bindparam(None, values[element.key], type_=element.type)
        return None

    return cast(Insert, replacement_traverse(statement, {}, bound))


def open_trail(session: AsyncSession) -> Trail:
    """Hold the session's trail inserts from now until :func:`take_trail` (one mutation step)."""
    trail = Trail()
    session.info[TRAIL] = trail
    return trail


def take_trail(session: AsyncSession) -> Trail | None:
    """The session's open trail, closed: later inserts are sent at once again."""
    trail: Trail | None = session.info.pop(TRAIL, None)
    return trail


def trail_of(session: AsyncSession) -> Trail | None:
    """The session's open trail, if a mutation step is running."""
    trail: Trail | None = session.info.get(TRAIL)
    return trail


async def append(session: AsyncSession, statement: Insert) -> None:
    """Send an insert nobody reads back within the step: held on the open trail (one statement
    with the audit row), or sent at once outside a mutation step (jobs, the CLI)."""
    trail = trail_of(session)
    if trail is None:
        await session.execute(statement)
    else:
        trail.inserts.append(statement)


async def append_bound(session: AsyncSession, statement: Insert, values: dict[str, Any]) -> None:
    """:func:`append` for an insert made once with named bind parameters (``values`` fill
    them): held on the open trail, or sent at once outside a mutation step."""
    trail = trail_of(session)
    if trail is None:
        await session.execute(statement, values)
    else:
        trail.bound.append((statement, values))


# The columns :func:`emit` writes. A trail's events go to the outbox in one INSERT ... SELECT
# from a JSON array of them, bound as one parameter (``trail_events_json``): one statement for
# any number of events, so SQLAlchemy keeps it compiled (a multi-row VALUES insert it never
# caches, and compiled it again on every mutation: issue 21). ``ORDER BY`` the array's
# ordinality gives the events their ids in the order they were emitted: PostgreSQL takes an
# INSERT ... SELECT's serial values in the order of its rows (the form SQLAlchemy's own
# "insertmanyvalues" relies on to match ids to parameter sets).
EVENT_KEYS = ("topic", "aggregate_type", "aggregate_id", "payload")
EVENTS_PARAM = "trail_events_json"
EVENTS_INSERT: Insert = insert(cast(Table, OutboxEvent.__table__)).from_select(
    list(EVENT_KEYS),
    text(
        "SELECT e.value ->> 'topic', e.value ->> 'aggregate_type',"
        " (e.value ->> 'aggregate_id')::bigint, e.value -> 'payload'"
        f" FROM jsonb_array_elements(:{EVENTS_PARAM}) WITH ORDINALITY AS e(value, n)"
        " ORDER BY e.n"
    )
    .bindparams(bindparam(EVENTS_PARAM, type_=JSONB))
    .columns(),
)


def event_params(events: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The bind values of :data:`EVENTS_INSERT` for these events, or None when one of them
    does not have exactly the columns :func:`emit` writes."""
    for event in events:
        if len(event) != len(EVENT_KEYS) or not all(key in event for key in EVENT_KEYS):
            return None
    return {EVENTS_PARAM: list(events)}


async def emit(
    session: AsyncSession,
    *,
    topic: str,
    aggregate_type: str,
    aggregate_id: int,
    payload: dict[str, Any] | None = None,
) -> None:
    """Queue a domain event (``domain.event_name``) in the current transaction: it exists if
    and only if the change it describes was committed. The payload holds ids and codes only.
    Within a mutation step it rides on the step's audit row (:class:`Trail`)."""
    values = {
        "topic": topic,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "payload": payload or {},
    }
    trail = trail_of(session)
    if trail is None:
        await session.execute(insert(OutboxEvent).values(values))
    else:
        trail.events.append(values)
    log.info("%s", topic, extra={"event": topic, "aggregate_id": aggregate_id})


class Position(NamedTuple):
    """A place in the outbox's order: after the event ``(txid, id)``."""

    txid: int
    id: int

    def encode(self) -> str:
        """The opaque cursor a partner keeps (the change feed)."""
        return base64.urlsafe_b64encode(f"o1:{self.txid}:{self.id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position | None:
        """The position of a cursor, or None when it is not one."""
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
            tag, txid, pk = raw.split(":")
            position = cls(int(txid), int(pk))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if tag != "o1" or not (0 <= position.txid <= MAX_ID and 0 <= position.id <= MAX_ID):
            return None
        return position


@dataclass(frozen=True)
class Event:
    """One outbox event as readers see it."""

    id: int
    txid: int
    at: datetime
    topic: str
    aggregate_type: str
    aggregate_id: int
    payload: dict[str, Any]

    @property
    def position(self) -> Position:
        return Position(self.txid, self.id)

    @property
    def domain(self) -> str:
        return self.topic.partition(".")[0]


EVENT_COLUMNS = (
    OutboxEvent.id,
    OutboxEvent.txid,
    OutboxEvent.at,
    OutboxEvent.topic,
    OutboxEvent.aggregate_type,
    OutboxEvent.aggregate_id,
    OutboxEvent.payload,
)


def event_of(row: Any) -> Event:
    return Event(
        id=row.id,
        txid=row.txid,
        at=row.at,
        topic=row.topic,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        payload=row.payload or {},
    )


# The same read as :func:`read_after` for the dispatcher's own statements
# (:mod:`resolvers.events.direct`): the columns of :class:`Event`, in its order, of ``outbox o``.
EVENT_SQL = "o.id, o.txid, o.at, o.topic, o.aggregate_type, o.aggregate_id, o.payload"
READ_AFTER_SQL = (
    f"SELECT {EVENT_SQL} FROM outbox o WHERE (o.txid, o.id) > ($1, $2) "
    f"AND o.txid < {HORIZON_SQL} ORDER BY o.txid, o.id LIMIT $3"
)


def event_of_record(record: Any, offset: int = 0) -> Event:
    """The event in a driver's row whose columns from ``offset`` on are ``EVENT_SQL``'s."""
    (pk, txid, at, topic, aggregate_type, aggregate_id, payload) = tuple(record)[
        offset : offset + 7
    ]
    return Event(
        id=pk,
        txid=txid,
        at=at,
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload or {},
    )


def after(position: Position) -> Any:
    """Events after ``position`` in outbox order."""
    return tuple_(OutboxEvent.txid, OutboxEvent.id) > tuple_(
        literal(position.txid), literal(position.id)
    )


def settled() -> Any:
    """Events whose transaction has ended (committed: they are visible; else they are gone)."""
    return OutboxEvent.txid < text(HORIZON_SQL)


async def read_after(
    conn: AsyncConnection | AsyncSession,
    position: Position,
    limit: int,
    *,
    aggregate_types: Sequence[str] | None = None,
) -> list[Event]:
    """Up to ``limit`` settled events after ``position``, in outbox order."""
    stmt = (
        select(*EVENT_COLUMNS)
        .where(after(position), settled())
        .order_by(OutboxEvent.txid, OutboxEvent.id)
        .limit(limit)
    )
    if aggregate_types is not None:
        stmt = stmt.where(OutboxEvent.aggregate_type.in_(list(aggregate_types)))
    rows = await conn.execute(stmt)
    return [event_of(r) for r in rows]


async def head(conn: AsyncConnection | AsyncSession) -> Position:
    """Where a new reader starts: after every settled event (those still settling come)."""
    horizon = int((await conn.execute(text(f"SELECT {HORIZON_SQL}"))).scalar_one())
    return Position(horizon - 1, MAX_ID)


def between(low: Position, high: Position) -> Any:
    """Events after ``low`` and up to ``high``."""
    return and_(
        after(low),
        or_(
            OutboxEvent.txid < high.txid,
            and_(OutboxEvent.txid == high.txid, OutboxEvent.id <= high.id),
        ),
    )


async def count_after(conn: AsyncConnection | AsyncSession, position: Position) -> int:
    """Settled events after ``position`` (a consumer's backlog)."""
    stmt = select(func.count()).select_from(OutboxEvent).where(after(position), settled())
    return int((await conn.execute(stmt)).scalar_one())

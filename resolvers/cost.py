"""What a request may cost, decided before it runs.

The estimate follows GitHub's GraphQL limits: every connection multiplies the objects below
it by its ``first``/``last`` (``nodes(ids:)`` by the number of ids, an unbounded list by a
fixed guess); the *node count* must stay under a per-request limit, and the request's
*points* (one per 100 connection fetches, at least one; a mutation field costs ten) are
charged to an hourly budget kept in PostgreSQL, so every worker spends from the same one;
each worker leases points from it in chunks and spends them in memory (:class:`Ledger`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLNullableType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import database
from resolvers.relay import MAX_PAGE

# Unbounded list fields (a person's guardians, a region's districts) are assumed this long.
LIST_GUESS = 10
MUTATION_POINTS = 10
PAGE_FIELDS = {"edges", "nodes"}


@dataclass(frozen=True)
class Estimate:
    """What an operation asks for: objects (node count), page fetches and mutation fields."""

    nodes: int
    fetches: int
    mutations: int

    @property
    def points(self) -> int:
        return max(1, round(self.fetches / 100)) + MUTATION_POINTS * self.mutations


def _unwrap(gtype: GraphQLOutputType) -> tuple[GraphQLNullableType, bool]:
    is_list = False
    while isinstance(gtype, GraphQLNonNull | GraphQLList):
        if isinstance(gtype, GraphQLList):
            is_list = True
        gtype = gtype.of_type
    return gtype, is_list


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.nodes = 0
        self.fetches = 0
        self.mutations = 0
        # A fragment's counts at multiplier 1, by (name, inside a page): the walk is linear in
        # its multiplier, so each fragment is walked once however often it is spread (a
        # document of nested fragments would otherwise be walked exponentially often).
        self.fragment_counts: dict[tuple[str, bool], tuple[int, int, int]] = {}

    def _int(self, node: FieldNode, name: str) -> int | None:
        for arg in node.arguments or ():
            if arg.name.value != name:
                continue
            value = arg.value
            if isinstance(value, VariableNode):
                raw = self.variables.get(value.name.value)
                return raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if isinstance(value, IntValueNode):
                try:
                    return int(value.value)
                except ValueError:
                    return None
        return None

    def _ids(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value == "ids":
                value = arg.value
                if isinstance(value, VariableNode):
                    raw = self.variables.get(value.name.value)
                    return len(raw) if isinstance(raw, list) else 1
                if isinstance(value, ListValueNode):
                    return len(value.values)
                return 1
        return 1

    def walk(
        self,
        parent: Any,
        selection_set: SelectionSetNode | None,
        multiplier: int,
        seen: frozenset[str] = frozenset(),
        in_page: bool = False,
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(parent, selection, multiplier, seen, in_page)
            elif isinstance(selection, InlineFragmentNode):
                cond = selection.type_condition
                target = self.schema.get_type(cond.name.value) if cond else parent
                self.walk(target, selection.selection_set, multiplier, seen, in_page)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in seen:  # cycles are refused by validation too
                    continue
                counts = self._fragment(name, seen, in_page)
                self.nodes += multiplier * counts[0]
                self.fetches += multiplier * counts[1]
                self.mutations += multiplier * counts[2]

    def _fragment(self, name: str, seen: frozenset[str], in_page: bool) -> tuple[int, int, int]:
        """A fragment's nodes, fetches and mutation fields at multiplier 1, walked once."""
        found = self.fragment_counts.get((name, in_page))
        if found is not None:
            return found
        fragment = self.fragments.get(name)
        if fragment is None:
            return (0, 0, 0)
        walker = _Walker(self.schema, self.fragments, self.variables)
        walker.fragment_counts = self.fragment_counts
        target = self.schema.get_type(fragment.type_condition.name.value)
        walker.walk(target, fragment.selection_set, 1, seen | {name}, in_page)
        counts = (walker.nodes, walker.fetches, walker.mutations)
        self.fragment_counts[(name, in_page)] = counts
        return counts

    def _field(
        self, parent: Any, node: FieldNode, multiplier: int, seen: frozenset[str], in_page: bool
    ) -> None:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return
        if parent is self.schema.mutation_type:
            self.mutations += 1
        rtype, is_list = _unwrap(fields[name].type)
        named = get_named_type(rtype)
        child_fields = getattr(named, "fields", None)
        if child_fields is None:
            return  # a scalar or enum
        if in_page and name in PAGE_FIELDS:
            self.walk(named, node.selection_set, multiplier, seen)
            return
        if "edges" in child_fields and "pageInfo" in child_fields:
            size = self._int(node, "first")
            if size is None:
                size = self._int(node, "last")
            size = MAX_PAGE if size is None else max(0, min(size, MAX_PAGE))
            self.fetches += multiplier
            self.nodes += multiplier * size
            self.walk(named, node.selection_set, multiplier * size, seen, in_page=True)
            return
        if is_list:
            size = (
                self._ids(node)
                if name == "nodes" and parent is self.schema.query_type
                else LIST_GUESS
            )
            self.fetches += multiplier
            self.nodes += multiplier * size
            self.walk(named, node.selection_set, multiplier * size, seen)
            return
        self.walk(named, node.selection_set, multiplier, seen)


ESTIMATES_KEPT = 2048
# (document id, operation, the variables the walk reads) -> (document, estimate). The document
# is kept with its estimate, so its id cannot be reused while the entry lives.
_estimates: OrderedDict[tuple[Any, ...], tuple[DocumentNode, Estimate]] = OrderedDict()


def _walked(value: Any) -> Any:
    """What the walk reads of a variable: an integer, or a list's length."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list):
        return ("list", len(value))
    return None


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Estimate:
    """The cost of the operation the request runs, from its document and variables
    (remembered per parsed document and the integers and list lengths among its variables)."""
    key = (
        id(schema),
        id(document),
        operation_name,
        tuple(sorted((k, _walked(v)) for k, v in (variables or {}).items())),
    )
    found = _estimates.get(key)
    if found is not None and found[0] is document:
        _estimates.move_to_end(key)
        return found[1]
    result = _estimate(schema, document, operation_name, variables)
    _estimates[key] = (document, result)
    if len(_estimates) > ESTIMATES_KEPT:
        _estimates.popitem(last=False)
    return result


def _estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Estimate:
    operation: OperationDefinitionNode | None = get_operation_ast(document, operation_name)
    if operation is None:
        return Estimate(nodes=0, fetches=0, mutations=0)
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments, variables or {})
    walker.walk(root, operation.selection_set, 1)
    return Estimate(nodes=walker.nodes, fetches=walker.fetches, mutations=walker.mutations)


# --- the hourly budget: leases ------------------------------------------------------------

# A worker takes points from the shared row in leases of at least this share of the limit
# (and at least MIN_LEASE points), then spends them in memory.
LEASE_SHARE = 0.02
MIN_LEASE = 20
# Callers whose leases a worker keeps; the least recently seen is dropped first (its unspent
# points stay counted as spent).
MAX_SUBJECTS = 10_000


def lease_size(limit: int) -> int:
    """How many points a worker leases at a time from a budget of ``limit``."""
    return max(MIN_LEASE, math.ceil(limit * LEASE_SHARE))


@dataclass(frozen=True)
class Charge:
    """The outcome of charging a request to its caller's budget."""

    granted: bool
    remaining: int
    limit: int
    reset_at: datetime


@dataclass
class _Lease:
    """One caller's lease in this worker: points taken from the shared row and not spent yet."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    window: datetime | None = None
    reset_at: datetime | None = None
    # When the window ends, on this worker's monotonic clock (immune to wall-clock changes).
    expires: float = 0.0
    left: int = 0
    # The shared row's points as this worker last saw them, its own leases included.
    used: int = 0

    def report(self, *, granted: bool, limit: int) -> Charge:
        assert self.reset_at is not None
        remaining = max(0, limit - self.used + self.left)
        return Charge(granted=granted, remaining=remaining, limit=limit, reset_at=self.reset_at)


# A lease in one statement, outside any transaction (one round trip: a caller's first request
# paid four, issue 21): the window's row is created holding the lease, or grows by it, only
# while it stays within the limit; the lease is the request's need beyond what this worker
# holds of the row's window (``kept``, $3, when the row's window is the worker's lease's, $2;
# ``new``, $4, otherwise), at least a lease's size; $5 is the limit. No row comes back when the
# lease does not fit: then LOCK and LEASE decide in a transaction (lease exactly what the
# request needs, or refuse). Sent straight through asyncpg (models.database.fetch_row).
QUICK_LEASE = """
    INSERT INTO cost_budget AS b (subject, window_start, used)
    SELECT $1::varchar, w.start, w.lease
    FROM (
        SELECT date_trunc('hour', now()) AS start,
            CASE WHEN date_trunc('hour', now()) = $2::timestamptz
                THEN $3::bigint ELSE $4::bigint END AS lease
    ) AS w
    WHERE w.lease <= $5::bigint
    ON CONFLICT (subject, window_start) DO UPDATE
    SET used = b.used
        + CASE WHEN b.window_start = $2::timestamptz THEN $3::bigint ELSE $4::bigint END
    WHERE b.used
        + CASE WHEN b.window_start = $2::timestamptz THEN $3::bigint ELSE $4::bigint END
        <= $5::bigint
    RETURNING used, window_start, window_start + interval '1 hour' AS reset_at, now() AS now
"""
# Creates the window's row if needed and locks it until the lease commits; returns the points
# leased so far by every worker.
LOCK = text(
    """
    INSERT INTO cost_budget AS b (subject, window_start, used)
    VALUES (CAST(:subject AS varchar), date_trunc('hour', now()), 0)
    ON CONFLICT (subject, window_start) DO UPDATE SET used = b.used
    RETURNING used, window_start, window_start + interval '1 hour' AS reset_at, now() AS now
    """
)
LEASE = text(
    """
    UPDATE cost_budget SET used = used + CAST(:points AS bigint)
    WHERE subject = CAST(:subject AS varchar) AND window_start = :window
    """
)
FORGET = text("DELETE FROM cost_budget WHERE window_start < now() - interval '1 day'")


class Ledger:
    """One worker's leases on its callers' hourly budgets.

    The budget lives in PostgreSQL (``cost_budget``, one row per caller and hour), shared by
    every worker. A worker does not charge each request there: it leases points in chunks
    (:func:`lease_size`), counted as spent in the row at once, and spends them in memory. The
    row never passes the limit, so neither do all workers together; a caller is refused only
    when the row cannot give what the request needs beyond the worker's lease. Points a worker
    leased and did not spend are lost to the caller (the limit is reached a little earlier,
    never exceeded); near the end of a budget a worker leases only what the request needs, so
    the caller can spend the last points on any worker.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_subjects: int = MAX_SUBJECTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.max_subjects = max_subjects
        self.clock = clock
        self._leases: OrderedDict[str, _Lease] = OrderedDict()

    def _lease_of(self, subject: str) -> _Lease:
        lease = self._leases.get(subject)
        if lease is not None:
            self._leases.move_to_end(subject)
            return lease
        lease = self._leases[subject] = _Lease()
        if len(self._leases) > self.max_subjects:
            self._leases.popitem(last=False)
        return lease

    async def charge(self, *, subject: str, points: int, limit: int) -> Charge:
        """Spend ``points`` of ``subject``'s hourly budget of ``limit``; refused when they do not
        fit. Spent points stay spent when the request rolls back."""
        lease = self._lease_of(subject)
        async with lease.lock:
            if self.clock() >= lease.expires:
                # A new window (or none yet): the old lease is dropped.
                lease.window, lease.left, lease.used = None, 0, 0
            elif points <= lease.left:
                lease.left -= points
                return lease.report(granted=True, limit=limit)
            elif points - lease.left > limit - lease.used:
                # The row only grows within its window: what it lacked then, it lacks now.
                return lease.report(granted=False, limit=limit)
            return await self._take(lease, subject=subject, points=points, limit=limit)

    async def _take(self, lease: _Lease, *, subject: str, points: int, limit: int) -> Charge:
        """Lease what the request needs beyond the worker's lease (at least a lease's size),
        in one statement while the row has room for that (:data:`QUICK_LEASE`)."""
        size = lease_size(limit)
        kept = max(points - lease.left, size)
        new = max(points, size)
        args = (subject, lease.window, kept, new, limit)
        row = await database.fetch_row(self.engine, QUICK_LEASE, args)
        if row is None:
            return await self._take_exactly(lease, subject=subject, points=points, limit=limit)
        same = row["window_start"] == lease.window
        left, taken = (lease.left, kept) if same else (0, new)
        lease.window, lease.reset_at = row["window_start"], row["reset_at"]
        lease.expires = self.clock() + (row["reset_at"] - row["now"]).total_seconds()
        lease.used = int(row["used"])
        lease.left = left + taken - points
        return lease.report(granted=True, limit=limit)

    async def _take_exactly(
        self, lease: _Lease, *, subject: str, points: int, limit: int
    ) -> Charge:
        """Lease what the request needs beyond the worker's lease, or refuse it: near the
        budget's end, where a lease of the usual size no longer fits."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(LOCK, {"subject": subject})).one()
            left = lease.left if row.window_start == lease.window else 0
            shared = limit - int(row.used)
            need = points - left
            granted = need <= shared
            taken = 0
            if granted:
                want = max(need, lease_size(limit))
                taken = want if want <= shared else need
                await conn.execute(
                    LEASE, {"subject": subject, "points": taken, "window": row.window_start}
                )
        lease.window, lease.reset_at = row.window_start, row.reset_at
        lease.expires = self.clock() + (row.reset_at - row.now).total_seconds()
        lease.used = int(row.used) + taken
        lease.left = left + taken - points if granted else left
        return lease.report(granted=granted, limit=limit)


async def forget_old_windows(engine: AsyncEngine) -> int:
    """Drop budget rows of windows that ended over a day ago."""
    async with engine.begin() as conn:
        result = await conn.execute(FORGET)
    return int(getattr(result, "rowcount", 0) or 0)

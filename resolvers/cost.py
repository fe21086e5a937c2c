"""What a request may cost, decided before it runs.

The estimate follows GitHub's GraphQL limits: every connection multiplies the objects below
it by its ``first``/``last`` (``nodes(ids:)`` by the number of ids, an unbounded list by a
fixed guess); the *node count* must stay under a per-request limit, and the request's
*points* (one per 100 connection fetches, at least one; a mutation field costs ten) are
charged to an hourly budget kept in PostgreSQL, so every worker spends from the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
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
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # cycles are refused by validation too
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                self.walk(target, fragment.selection_set, multiplier, seen | {name}, in_page)

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


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Estimate:
    """The cost of the operation the request runs, from its document and variables."""
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


# --- the hourly budget ---------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """The outcome of charging a request to its caller's budget."""

    granted: bool
    used: int
    limit: int
    reset_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


# One statement: add the points if they fit under the limit; the row is locked for the
# instant of the update, so concurrent requests of every worker see each other's spending.
CHARGE = text(
    """
    INSERT INTO cost_budget AS b (subject, window_start, used)
    SELECT CAST(:subject AS varchar), date_trunc('hour', now()), CAST(:points AS bigint)
    WHERE CAST(:points AS bigint) <= CAST(:limit AS bigint)
    ON CONFLICT (subject, window_start)
    DO UPDATE SET used = b.used + EXCLUDED.used
    WHERE b.used + EXCLUDED.used <= CAST(:limit AS bigint)
    RETURNING used, window_start + interval '1 hour' AS reset_at
    """
)
SPENT = text(
    """
    SELECT coalesce(max(used), 0) AS used, date_trunc('hour', now()) + interval '1 hour'
      AS reset_at
    FROM cost_budget WHERE subject = :subject AND window_start = date_trunc('hour', now())
    """
)
FORGET = text("DELETE FROM cost_budget WHERE window_start < now() - interval '1 day'")


async def charge(engine: AsyncEngine, *, subject: str, points: int, limit: int) -> Charge:
    """Spend ``points`` of ``subject``'s hourly budget, in its own transaction (a request that
    rolls back has still spent them). Refused when they do not fit."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(CHARGE, {"subject": subject, "points": points, "limit": limit})
        ).first()
        if row is not None:
            return Charge(granted=True, used=int(row.used), limit=limit, reset_at=row.reset_at)
        spent = (await conn.execute(SPENT, {"subject": subject})).one()
        return Charge(granted=False, used=int(spent.used), limit=limit, reset_at=spent.reset_at)


async def spent(engine: AsyncEngine, *, subject: str, limit: int) -> Charge:
    """The budget as it stands, without spending any."""
    async with engine.connect() as conn:
        row = (await conn.execute(SPENT, {"subject": subject})).one()
    return Charge(granted=True, used=int(row.used), limit=limit, reset_at=row.reset_at)


async def forget_old_windows(engine: AsyncEngine) -> int:
    """Drop budget rows of windows that ended over a day ago."""
    async with engine.begin() as conn:
        result = await conn.execute(FORGET)
    return int(getattr(result, "rowcount", 0) or 0)

"""Per-request DataLoaders: every relation of the graph resolves through one of these, so the
number of SQL statements grows with the depth of a query, never with its rows.

Each domain declares its loaders in its own ``loaders`` module, one class per loader, named
``<Target>By<Key>Loader`` (Saleor's convention). Calling the class with the request's context
returns that request's one instance, made on first use::

    row = await PersonByIdLoader(info.context).load(pk)

The bases here hold the mechanism: :class:`ById`, :class:`ByParent` and
:class:`PagesByParent` need only their columns, key and (if any) row rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from resolvers.relay import Ordering, Page, PageArgs, paged_per_parent, slice_rows

if TYPE_CHECKING:
    from resolvers.access import Principal
    from resolvers.context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


async def _execute(session: AsyncSession, *, stmt: Any) -> Any:
    return await session.execute(stmt)


class RequestLoader:
    """A loader kept once per request: ``XByYLoader(ctx)`` makes it on first use and returns
    the same instance after, so every resolver of the request shares its batches. A mutation
    empties the request's loaders (``Context.forget_loaders``): later reads see its writes."""

    ctx: Context

    def __new__(cls, ctx: Context) -> Self:
        found = ctx.loader_cache.get(cls)
        if found is None:
            found = super().__new__(cls)
            found.ctx = ctx
            found.setup()
            ctx.loader_cache[cls] = found
        return found

    def __init__(self, ctx: Context) -> None:
        """Made once in ``__new__``; calling the class again returns that instance."""

    def setup(self) -> None:
        """Build the request's DataLoader(s); runs once per request."""

    @property
    def principal(self) -> Principal:
        return self.ctx.principal


class KeyedLoader(RequestLoader, Generic[K, V]):
    """A loader of one value per key, batched by ``batch``."""

    loader: DataLoader[K, V]

    def setup(self) -> None:
        self.loader = DataLoader(load_fn=self.batch)

    async def batch(self, keys: list[K]) -> list[V]:
        raise NotImplementedError

    async def load(self, key: K) -> V:
        return await self.loader.load(key)

    async def load_many(self, keys: Sequence[K]) -> list[V]:
        return list(await self.loader.load_many(keys))

    def prime(self, key: K, value: V) -> None:
        """Give the loader a value a mutation's step just wrote (its payload then reads it
        without a statement); the value must be what the caller may read, in the shape
        :meth:`batch` returns (a row, or a mapped object with the same attribute names)."""
        self.loader.prime(key, value)


async def plain_rows(session: AsyncSession, stmt: Any) -> Any:
    """Rows of columns read on the session's connection and transaction (the hub's sessions
    do not autoflush, so this reads what the session's own execute would). A row read through
    the session keeps the ORM's query context (the statement, its cache key, the session) for
    as long as the row lives: a node kept beyond its request (the live feed's router keeps
    the last 20,000 it read for the subscribers) kept ~15 kB with it."""
    conn = await session.connection()
    return await conn.execute(stmt)


class ById(KeyedLoader[Any, Any]):
    """Rows of one table by their key (the primary key, or another unique column): ``None``
    for a missing or unreadable one, restricted by the domain's row rule when it declares one."""

    columns: ClassVar[Sequence[Any]]
    key: ClassVar[Any]

    def rule(self) -> ColumnElement[bool] | None:
        """The rows this request's caller may read (every row when ``None``)."""
        return None

    async def batch(self, keys: list[Any]) -> list[Any]:
        key = type(self).key  # read on the class: a mapped attribute is a descriptor
        stmt = select(*self.columns).where(key.in_(keys))
        rule = self.rule()
        if rule is not None:
            stmt = stmt.where(rule)
        rows = await self.ctx.run(lambda s: plain_rows(s, stmt))
        found = {row._mapping[key.key]: row for row in rows}
        return [found.get(k) for k in keys]


class ByParent(KeyedLoader[int, list[Any]]):
    """All rows that belong to a parent (for small, naturally bounded lists)."""

    columns: ClassVar[Sequence[Any]]
    parent: ClassVar[Any]
    order_by: ClassVar[Sequence[Any]]

    def where(self) -> Sequence[ColumnElement[bool]]:
        """Further conditions: the row rule and the list's own restriction."""
        return ()

    async def batch(self, keys: list[int]) -> list[list[Any]]:
        parent = type(self).parent  # read on the class: a mapped attribute is a descriptor
        stmt = select(*self.columns).where(parent.in_(keys), *self.where()).order_by(*self.order_by)
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[row._mapping[parent.key]].append(row)
        return [grouped.get(pid, []) for pid in keys]


class PagesByParent(RequestLoader):
    """One connection page per parent, all parents of a request level in one statement
    (a window function cuts each parent's page), plus grouped counts for ``totalCount``."""

    columns: ClassVar[Sequence[Any]]
    parent: ClassVar[Any]

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        """The row rule and the list's filter ``flt``."""
        return []

    def setup(self) -> None:
        self.pages: DataLoader[tuple[int, PageArgs, Hashable, Ordering], Page] = DataLoader(
            load_fn=self._load_pages
        )
        self.counts: DataLoader[tuple[int, Hashable], int] = DataLoader(load_fn=self._load_counts)

    async def page(self, parent_id: int, args: PageArgs, flt: Hashable, ordering: Ordering) -> Page:
        return await self.pages.load((parent_id, args, flt, ordering))

    async def count(self, parent_id: int, flt: Hashable) -> int:
        return await self.counts.load((parent_id, flt))

    async def _load_pages(self, keys: list[tuple[int, PageArgs, Hashable, Ordering]]) -> list[Page]:
        groups: dict[tuple[PageArgs, Hashable, Ordering], list[int]] = defaultdict(list)
        for parent_id, args, flt, ordering in keys:
            groups[(args, flt, ordering)].append(parent_id)
        result: dict[tuple[int, PageArgs, Hashable, Ordering], Page] = {}
        parent = type(self).parent  # read on the class: a mapped attribute is a descriptor
        for (args, flt, ordering), parent_ids in groups.items():
            base = select(*self.columns).where(parent.in_(parent_ids), *self.where(flt))
            stmt = paged_per_parent(base, parent, args, ordering, self.ctx.cursors)
            rows = await self.ctx.run(partial(_execute, stmt=stmt))
            by_parent: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                by_parent[row._mapping[parent.key]].append(row)
            for pid in parent_ids:
                result[(pid, args, flt, ordering)] = slice_rows(
                    by_parent.get(pid, []), args, ordering, self.ctx.cursors
                )
        return [result[k] for k in keys]

    async def _load_counts(self, keys: list[tuple[int, Hashable]]) -> list[int]:
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for parent_id, flt in keys:
            groups[flt].append(parent_id)
        counts: dict[tuple[int, Hashable], int] = {}
        parent = type(self).parent
        for flt, parent_ids in groups.items():
            stmt = (
                select(parent, func.count())
                .where(parent.in_(parent_ids), *self.where(flt))
                .group_by(parent)
            )
            rows = await self.ctx.run(partial(_execute, stmt=stmt))
            found = {row[0]: row[1] for row in rows}
            for pid in parent_ids:
                counts[(pid, flt)] = found.get(pid, 0)
        return [counts[k] for k in keys]

"""A search's window, read once and kept per catalogue version.

A catalogue search reads at most ``search.WINDOW`` matching records (resolvers/library/search.py).
Its page by relevance, its ``totalCount`` and its facet counts all come from that window,
so it is read in one narrow statement (id, score and the five facet columns; no titles or
authors) and kept:

* for the request: the page and the facets of one search share one read (two statements
  that each built the GIN bitmap of every match before);
* for the worker, per catalogue version: the catalogue is public and its searches repeat (a
  portal's visitors type the same few thousand words), so the window of a search already
  read is served from memory. The key is the search as the statement sees it (whitespace
  collapsed, the filter) and the catalogue's version, a value every write to its records or
  approvals changes (a statement trigger, migration 0036): one indexed read of one row per
  request tells whether what is kept still holds. A write in any worker changes the version
  for all; a worker's kept windows of older versions are simply never asked for again and
  fall out of the least-recently-used end.

A kept window is the records' ids in rank order (8 bytes each) and the facet counts: at most
about 16 KB, so ``KEPT`` windows cost at most ``KEPT`` x 16 KB of a worker's memory (most
searches match far fewer than 2,001 records)."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, case, cast, column, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import BigInteger

from models import BibRecord, LibraryCatalogueVersion
from resolvers.library import search
from resolvers.library.search import (
    FACETS,
    RECORD_COLUMNS,
    CatalogueFilter,
    FacetCounts,
    filter_clauses,
    match,
)
from resolvers.relay import Ordering

KEPT = 1024
# The version as the HTTP view's kept answers read it (schema/http/kept.py): one primary-key
# read on the compiled path's pool, its value as bytes.
CATALOGUE_VERSION_SQL = "SELECT int8send(version) FROM library_catalogue_version WHERE id = 1"
# Where the view leaves the version it read in the request's scope (read once per request).
CATALOGUE_VERSION_KEY = "bilim.catalogue_version"


@dataclass(frozen=True)
class SearchKey:
    """A search as the statement sees it."""

    text: str | None
    flt: CatalogueFilter

    @classmethod
    def of(cls, text: str | None, flt: CatalogueFilter) -> SearchKey:
        words = " ".join(text.split()) if text else ""
        return cls(words or None, flt)


@dataclass(frozen=True)
class Window:
    """The records a search reads, best first (by score, then id, both descending: the
    relevance order), and their facet counts."""

    ids: array[int]
    facets: FacetCounts


@dataclass
class WindowCache:
    """The worker's kept windows, least recently used first."""

    kept: OrderedDict[tuple[int, SearchKey], Window]
    hits: int = 0
    misses: int = 0

    def get(self, version: int, key: SearchKey) -> Window | None:
        found = self.kept.get((version, key))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.kept.move_to_end((version, key))
        return found

    def put(self, version: int, key: SearchKey, window: Window) -> None:
        self.kept[(version, key)] = window
        while len(self.kept) > KEPT:
            self.kept.popitem(last=False)


CACHE = WindowCache(OrderedDict())


def version_read(request: Any) -> int | None:
    """The catalogue's version the HTTP view read for this request, if it read it."""
    found = (getattr(request, "scope", None) or {}).get(CATALOGUE_VERSION_KEY)
    return found if isinstance(found, int) else None


async def catalogue_version(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(
                select(LibraryCatalogueVersion.version).where(LibraryCatalogueVersion.id == 1)
            )
        ).scalar_one()
    )


def window_stmt(key: SearchKey) -> Select[Any]:
    """The search's window in one statement that sends back a few rows: the first ``WINDOW``
    matches found (one GIN index scan for a text) with their relevance and facet columns,
    grouped by each facet (grouping sets); the row of the empty grouping set carries the
    window's ids in rank order (by score, then id, descending). Neither titles nor 2,001 rows
    travel to the hub."""
    found = match(key.text) if key.text else None
    clauses = filter_clauses(key.flt)
    score: Any = cast(literal(0.0), Float)
    if found is not None:
        clauses.append(found.where)
        score = found.score
    window = (
        select(BibRecord.id, score.label("score"), *[BibRecord.__table__.c[f] for f in FACETS])
        .where(*clauses)
        .limit(search.WINDOW)
        .cte("found")
        .prefix_with("MATERIALIZED")
    )
    columns = [window.c[name] for name in FACETS]
    ranked = func.array_agg(
        aggregate_order_by(window.c.id, window.c.score.desc(), window.c.id.desc())
    )
    return select(
        *columns,
        func.grouping(*columns).label("g"),
        func.count().label("n"),
        case((func.grouping(*columns) == (1 << len(FACETS)) - 1, ranked)).label("ids"),
    ).group_by(func.grouping_sets(*[tuple_(c) for c in columns], tuple_()))


def _window(rows: list[Any]) -> Window:
    """The window from its statement's rows: one per facet value, and the whole window's."""
    counts: dict[str, list[tuple[Any, int]]] = {name: [] for name in FACETS}
    width = len(FACETS)
    ids: list[int] = []
    counted = 0
    for row in rows:
        if row.g == (1 << width) - 1:  # the empty grouping set: every record of the window
            counted, ids = int(row.n), list(row.ids or [])
            continue
        # grouping() sets a bit for each column left out; the one column kept has its bit 0.
        for i, name in enumerate(FACETS):
            if not row.g & (1 << (width - 1 - i)):
                value = row[i]
                if value is not None:
                    counts[name].append((value, int(row.n)))
    for name in FACETS:
        counts[name].sort(key=lambda pair: (-pair[1], str(pair[0])))
    return Window(ids=array("q", ids), facets=FacetCounts(values=counts, counted=counted))


async def read_window(session: AsyncSession, key: SearchKey, version: int) -> Window:
    """The search's window for this catalogue version: kept, or read and kept."""
    window = CACHE.get(version, key)
    if window is None:
        window = _window(list((await session.execute(window_stmt(key))).all()))
        CACHE.put(version, key, window)
    return window


def page_stmt(window: Window) -> tuple[Select[Any], Ordering]:
    """The page statement of a relevance search over its read window: the records by primary
    key, in the window's rank order. The connection's order and cursor apply to the window's
    positions before the records are joined, so a page reads only its own records. A cursor
    holds the position (an integer: cursors carry no floating-point score); a catalogue write
    between two pages makes a new window, and the next page continues from the same position
    in it."""
    ranked = (
        func.unnest(cast(list(window.ids), ARRAY(BigInteger)))
        .table_valued(column("id", BigInteger), with_ordinality="position")
        .render_derived("ranked")
    )
    inner = select(*RECORD_COLUMNS, ranked.c.position.label("position")).join_from(
        ranked, BibRecord, BibRecord.id == ranked.c.id
    )
    found = inner.subquery("found")
    return select(*found.c), Ordering(((found.c.position, False),))

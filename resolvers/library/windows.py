"""A search's window, read once and kept per catalogue version.

A catalogue search by relevance reads at most ``search.WINDOW`` matching records, walked in
the catalogue's standing order (resolvers/library/search.py). Its page by relevance, its
``totalCount`` and its facet counts all come from that window (estimated from a sample when
the window is full), so it is read in one narrow statement (ids and the five facet columns; no
titles or authors) and kept:

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
about 2 KB, so ``KEPT`` windows cost at most ``KEPT`` x 2 KB of a worker's memory."""

from __future__ import annotations

from array import array
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    null,
    select,
    tablesample,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.types import BigInteger

from models import BibRecord, LibraryCatalogueVersion
from resolvers.library import search
from resolvers.library.search import (
    FACETS,
    RECORD_COLUMNS,
    CatalogueFilter,
    FacetCounts,
    constant_match,
    filter_clauses,
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


def window_stmt(key: SearchKey, folded: str | None) -> CompoundSelect[Any]:
    """The search's window in one statement that sends back a few rows.

    * ``sampled``: about ``SAMPLE_ROWS`` records of the catalogue (whole pages,
      ``TABLESAMPLE SYSTEM``, the same pages for the same catalogue), with whether each matches
      the search and its filter: how common the search is, for the choice below and for the
      estimates above the window.
    * ``walk``, when the sample says the window fills within ``WALK`` records of the standing
      order: those records walked backwards on ``ix_bib_record_rank``, stopping at the
      ``WINDOW``-th match.
    * ``gin``, only when the walk was not taken or did not fill (a rare search, or one whose
      matches the standing order puts late): every match from the GIN index, the first
      ``WINDOW`` in the standing order (the order is an expression, so the planner cannot
      turn it into an unbounded walk).
    * ``found``: the one of the two that holds the window; grouped by each facet (grouping
      sets), the row of the empty grouping set carrying the window's ids ranked (``ts_rank``,
      then the standing order). The sample's matches are grouped the same way, with how many
      records were sampled out of how many the catalogue holds (``pg_class.reltuples``, kept
      by ANALYZE), for the estimates.

    Either way the window is the first ``WINDOW`` matches in the standing order. ``folded`` is
    the search's folded words as tsquery text (``search.folded_query``), None for a search by
    filter alone. Neither titles nor the window's rows travel to the hub."""
    clauses = filter_clauses(key.flt)
    found_match = constant_match(key.text, folded) if key.text and folded else None
    if found_match is not None:
        clauses.append(found_match.where)
    columns = (
        BibRecord.id,
        BibRecord.rank_key,
        BibRecord.search_vector,
        *[BibRecord.__table__.c[f] for f in FACETS],
    )
    sampled = _sampled(clauses)
    found = _found(columns, clauses, sampled)
    score: Any = (
        func.ts_rank(found.c.search_vector, found_match.query)
        if found_match is not None
        else literal(0.0)
    )
    ranked = func.array_agg(
        aggregate_order_by(found.c.id, score.desc(), found.c.rank_key.desc(), found.c.id.desc())
    )
    return union_all(
        _grouped(found, literal(0), case((_whole(found), ranked)), null(), null()),
        _grouped(
            sampled,
            literal(1),
            null(),
            case((_whole(sampled), _count(sampled))),
            case((_whole(sampled), RELTUPLES)),
        ).where(sampled.c.hit),
    )


def _sampled(clauses: list[ColumnElement[bool]]) -> Any:
    """About ``SAMPLE_ROWS`` records of the catalogue, whole pages, each with whether it
    matches (``hit``) and its facet columns."""
    sample = tablesample(
        BibRecord.__table__,
        func.system(func.least(100, 100.0 * search.SAMPLE_ROWS / func.greatest(RELTUPLES, 1))),
        name="sample",
        seed=literal_column("0"),
    )
    hit = ClauseAdapter(sample).traverse(and_(true(), *clauses))
    return _kept(select(hit.label("hit"), *[sample.c[f] for f in FACETS]), "sampled")


def _found(columns: tuple[Any, ...], clauses: list[ColumnElement[bool]], sampled: Any) -> Any:
    """The window: walked when the sample says it is common, else (or when the bounded walk
    did not fill) from the GIN index; each branch behind a one-time filter."""
    hits = select(func.count()).select_from(sampled).where(sampled.c.hit).scalar_subquery()
    dense = hits * search.WALK >= _count(sampled) * search.WINDOW
    prefix = (
        select(*columns)
        .order_by(BibRecord.rank_key.desc(), BibRecord.id.desc())
        .limit(_inline(search.WALK))
        .subquery("prefix")
    )
    walk = _kept(
        select(*prefix.c)
        .where(ClauseAdapter(prefix).traverse(and_(true(), *clauses)), dense)
        .order_by(prefix.c.rank_key.desc(), prefix.c.id.desc())
        .limit(_inline(search.WINDOW)),
        "walk",
    )
    every = (
        select(*columns)
        .where(*clauses)
        .order_by((BibRecord.rank_key + 0).desc(), (BibRecord.id + 0).desc())
        .limit(_inline(search.WINDOW))
        .subquery("every")
    )
    # The condition stays outside the LIMIT: a one-time filter above the whole read, so a
    # search the walk answered starts nothing of it (not even parallel workers).
    gin = _kept(select(*every.c).where(_count(walk) < search.WINDOW), "gin")
    walked = select(*walk.c).where(_count(walk) == search.WINDOW)
    return union_all(walked, select(*gin.c)).cte("found")


def _kept(stmt: Select[Any], name: str) -> Any:
    """``stmt`` as a CTE computed once (the statement reads it more than once)."""
    return stmt.cte(name).prefix_with("MATERIALIZED")


def _count(rows: Any) -> Any:
    return select(func.count()).select_from(rows).scalar_subquery()


def _inline(value: int) -> Any:
    """A number written into the statement (a LIMIT the planner sees)."""
    return bindparam(None, value, literal_execute=True)


# How many records the catalogue holds, as ANALYZE (autovacuum) last counted them.
RELTUPLES: ColumnElement[float] = literal_column(
    "(SELECT reltuples FROM pg_class WHERE oid = 'bib_record'::regclass)"
)


def _whole(rows: Any) -> ColumnElement[bool]:
    """True on the row of the empty grouping set: every row of ``rows``."""
    return func.grouping(*[rows.c[f] for f in FACETS]) == ALL_LEFT_OUT


def _grouped(rows: Any, source: Any, ids: Any, sampled: Any, population: Any) -> Select[Any]:
    columns = [rows.c[name] for name in FACETS]
    return select(
        source.label("source"),
        *columns,
        func.grouping(*columns).label("g"),
        func.count().label("n"),
        ids.label("ids"),
        sampled.label("sampled"),
        population.label("population"),
    ).group_by(func.grouping_sets(*[tuple_(c) for c in columns], tuple_()))


# grouping() sets a bit for each column left out of the row's grouping set.
ALL_LEFT_OUT = (1 << len(FACETS)) - 1


@dataclass
class _Counts:
    """One side of the window statement: its counts per facet value and in all."""

    values: dict[str, dict[Any, int]]
    total: int = 0
    ids: list[int] | None = None
    sampled: int = 0
    population: float = 0.0


def _counts(rows: list[Any], source: int) -> _Counts:
    counts = _Counts(values={name: {} for name in FACETS})
    width = len(FACETS)
    for row in rows:
        if row.source != source:
            continue
        if row.g == ALL_LEFT_OUT:
            counts.total, counts.ids = int(row.n), list(row.ids or [])
            counts.sampled, counts.population = int(row.sampled or 0), float(row.population or 0)
            continue
        # The one column kept in the row's grouping set has its bit 0.
        for i, name in enumerate(FACETS):
            if not row.g & (1 << (width - 1 - i)) and row[i + 1] is not None:
                counts.values[name][row[i + 1]] = int(row.n)
    return counts


def _window(rows: list[Any]) -> Window:
    """The window from its statement's rows: exact counts when the window did not fill, else
    estimates. An estimate is the sample's matches scaled by the catalogue's records over the
    records sampled, never below what the window itself counted (a lower bound)."""
    found = _counts(rows, 0)
    values = found.values
    counted, exact = found.total, found.total <= search.CAP
    if not exact:
        sample = _counts(rows, 1)
        scale = max(sample.population, sample.sampled) / sample.sampled if sample.sampled else 0
        counted = max(found.total, round(sample.total * scale))
        values = {
            name: {
                value: max(
                    values[name].get(value, 0), round(sample.values[name].get(value, 0) * scale)
                )
                for value in values[name].keys() | sample.values[name].keys()
            }
            for name in FACETS
        }
    listed = {
        name: sorted(values[name].items(), key=lambda pair: (-pair[1], str(pair[0])))
        for name in FACETS
    }
    return Window(
        ids=array("q", found.ids or []),
        facets=FacetCounts(values=listed, counted=counted, exact=exact),
    )


async def _read(session: AsyncSession, key: SearchKey) -> Window:
    """Read a search's window. Its words are spelled as typed (each a prefix); a search that
    finds nothing so is read again with each word no catalogue word starts with widened to the
    catalogue's words closest to it (one statement to look them up: typos are rare, and a
    search that found something needs none)."""
    words = search.search_words(key.text) if key.text else []
    folded = search.folded_query(words, {}) if words else None
    window = _window(list((await session.execute(window_stmt(key, folded))).all()))
    if window.facets.counted == 0 and words:
        neighbours = await search.typo_neighbours(session, words)
        if neighbours:
            folded = search.folded_query(words, neighbours)
            window = _window(list((await session.execute(window_stmt(key, folded))).all()))
    return window


async def read_window(session: AsyncSession, key: SearchKey, version: int) -> Window:
    """The search's window for this catalogue version: kept, or read and kept."""
    window = CACHE.get(version, key)
    if window is None:
        window = await _read(session, key)
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

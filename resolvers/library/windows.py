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
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    false,
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
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG, aggregate_order_by
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.types import BigInteger

from models import BibRecord, LibraryCatalogueVersion, LibraryWord, TextbookApproval
from resolvers.library import search
from resolvers.library.search import (
    FACETS,
    RECORD_COLUMNS,
    CatalogueFilter,
    FacetCounts,
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


def window_stmt(
    key: SearchKey, words: list[str], neighbours: dict[str, list[str]] | None = None
) -> CompoundSelect[Any]:
    """The search's window statement with its values bound (``window_query``'s, for reading
    it whole: EXPLAIN, tests)."""
    stmt, params = window_query(key, words, neighbours or {})
    return stmt.params(params)


def window_query(
    key: SearchKey, words: list[str], neighbours: dict[str, list[str]]
) -> tuple[CompoundSelect[Any], dict[str, Any]]:
    """The search's window in one statement that sends back a few rows, and its values.

    * ``query``: the full-text query, once (``search.tsquery``): each folded word (a prefix)
      as the catalogue's lexemes it begins, exact entries of the GIN index
      (``library_prefix_query``, migration 0043), or as the prefix when it begins none or more
      than ``search.EXPAND``; a word with typo neighbours (``neighbours``) with them too. It
      finds the records the words as typed find (``ts_rank`` below scores with the search as
      typed, so the order is the same too).
    * ``sampled``: about ``SAMPLE_ROWS`` records of the catalogue (whole pages,
      ``TABLESAMPLE SYSTEM``, the same pages for the same catalogue), with whether each matches
      the search and its filter: how common the search is, for the choice below and for the
      estimates above the window.
    * ``walk``, when the sample says the window fills within ``WALK`` records of the standing
      order: those records walked backwards on ``ix_bib_record_rank``, stopping at the
      ``WINDOW``-th match. A filter on open access walks only that part of the order (the
      records anyone may read come first), and the sample judges the density there.
    * ``gin``, only when the walk was not taken or did not fill (a rare search, or one whose
      matches the standing order puts late): every match from the GIN index, with the
      language, kind and open access filters read from it too, the first ``WINDOW`` in the
      standing order (the order is an expression, so the planner cannot turn it into an
      unbounded walk).
    * ``found``: the one of the two that holds the window; grouped by each facet (grouping
      sets), the row of the empty grouping set carrying the window's ids ranked (``ts_rank``,
      then the standing order). The sample's matches are grouped the same way, with how many
      records were sampled out of how many the catalogue holds (``pg_class.reltuples``, kept
      by ANALYZE), for the estimates.

    Either way the window is the first ``WINDOW`` matches in the standing order. ``words`` are
    the search's folded words (``search.search_words``), none for a search by filter alone.
    Neither titles nor the window's rows travel to the hub.

    The statement is built once per shape (the filters given, the number of words, which have
    neighbours) and kept: a new search only binds its values, which are written into the
    statement as constants (``literal_execute``: each part is planned for them)."""
    flt = key.flt
    words = words if key.text else []
    given = tuple(name for name in FILTERS if getattr(flt, name) is not None)
    widened = tuple(bool(neighbours.get(w)) for w in words)
    shape = _Shape(given, flt.open_access, len(words), widened)
    params: dict[str, Any] = {f"f_{name}": getattr(flt, name) for name in given}
    if words and key.text:
        params["written"] = search.written(key.text)
        params["folded"] = search.folded_query(words, neighbours)
        for i, word in enumerate(words):
            params[f"w{i}"] = word
            if widened[i]:
                params[f"n{i}"] = " | ".join(neighbours[word])
    limits = (search.SAMPLE_ROWS, search.WALK, search.WINDOW, search.EXPAND)
    return _template(shape, limits), params


# The filter fields of a search, in the order of ``CatalogueFilter``.
FILTERS = ("language", "kind", "grade", "school_subject", "open_access", "approved_for")


@dataclass(frozen=True)
class _Shape:
    """What a window statement's text depends on besides its values."""

    filters: tuple[str, ...]
    open_access: bool | None
    words: int
    widened: tuple[bool, ...]


@lru_cache(maxsize=512)
def _template(shape: _Shape, limits: tuple[int, int, int, int]) -> CompoundSelect[Any]:
    clauses = _filter_template(shape.filters)
    indexed = list(clauses)
    score: Any = literal(0.0)
    if shape.words:
        # The sample and the walk test each record they pass against the search as typed (a
        # constant the planner estimates); the GIN index is read for the same records by the
        # lexemes the words begin, computed once (an InitPlan, only when a GIN branch runs).
        written, folded = _param("written", Text()), _param("folded", Text())
        typed = search.tsquery(written, func.to_tsquery(SIMPLE, folded))
        clauses.append(BibRecord.search_vector.bool_op("@@")(typed))
        query = _kept(select(_expanded(written, shape).label("q")), "query")
        indexed.append(BibRecord.search_vector.bool_op("@@")(select(query.c.q).scalar_subquery()))
    columns = (
        BibRecord.id,
        BibRecord.rank_key,
        BibRecord.search_vector,
        *[BibRecord.__table__.c[f] for f in FACETS],
    )
    sampled = _sampled(clauses)
    found = _found(columns, clauses, indexed, sampled, shape.open_access)
    if shape.words:
        score = func.ts_rank(found.c.search_vector, typed)
    ranked = func.array_agg(
        aggregate_order_by(found.c.id, score.desc(), found.c.rank_key.desc(), found.c.id.desc())
    )
    # When nothing matches: the words no catalogue word starts with, the only ones a typo
    # neighbour is looked up for (``_read``); a search of known words asks for none.
    unknown = case((and_(_whole(found), func.count() == 0), _unknown_words(shape)))
    return union_all(
        _grouped(found, literal(0), case((_whole(found), ranked)), null(), null(), unknown),
        _grouped(
            sampled,
            literal(1),
            null(),
            case((_whole(sampled), _count(sampled))),
            case((_whole(sampled), RELTUPLES)),
            null(),
        ).where(sampled.c.hit),
    )


def _unknown_words(shape: _Shape) -> Any:
    """The search's words long enough to judge (``search.TYPO_MIN_LENGTH``) that no catalogue
    word starts with (``library_word``), as ``search.typo_neighbours`` judges them: a text
    array, empty when every word is known. Evaluated only when the window is empty."""
    judged = []
    for i in range(shape.words):
        word = _param(f"w{i}", Text())
        # A folded word is [0-9a-z]+: nothing in it is a LIKE wildcard.
        known = select(LibraryWord.word).where(LibraryWord.word.startswith(word))
        judged.append(
            case(
                (
                    and_(func.length(word) >= search.TYPO_MIN_LENGTH, ~known.exists()),
                    cast(word, Text()),
                )
            )
        )
    if not judged:
        return cast(literal_column("'{}'"), ARRAY(Text()))
    return func.array_remove(pg_array(judged), None)


SIMPLE = cast(literal_column("'simple'"), REGCONFIG)


def _param(name: str, kind: Any) -> Any:
    """A value of the search, written into the statement when it runs."""
    return bindparam(name, type_=kind, literal_execute=True)


def _expanded(written: Any, shape: _Shape) -> Any:
    """The full-text query the records are found by: the search's words stemmed as Russian
    and English, or its folded words, each as the lexemes it begins (or the prefix), with its
    typo neighbours when it has them."""
    folded = None
    for i in range(shape.words):
        word: Any = func.library_prefix_query(_param(f"w{i}", Text()), search.EXPAND)
        if shape.widened[i]:
            word = word.op("||")(func.to_tsquery(SIMPLE, _param(f"n{i}", Text())))
        folded = word if folded is None else folded.op("&&")(word)
    return search.tsquery(written, folded)


def _filter_template(given: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """``search.filter_clauses`` for the filters given, their values bound when run."""
    table = BibRecord.__table__
    clauses: list[ColumnElement[bool]] = []
    for name in given:
        if name == "approved_for":
            year = _param("f_approved_for", TextbookApproval.school_year.type)
            clauses.append(
                select(TextbookApproval.id)
                .where(
                    TextbookApproval.record_id == BibRecord.id,
                    TextbookApproval.school_year == year,
                )
                .exists()
            )
        else:
            # ``=`` (open access too: the column is never null), so that the GIN index's
            # btree_gin columns take the language, kind and open access filters.
            clauses.append(table.c[name] == _param(f"f_{name}", table.c[name].type))
    return clauses


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


def _found(
    columns: tuple[Any, ...],
    clauses: list[ColumnElement[bool]],
    indexed: list[ColumnElement[bool]],
    sampled: Any,
    open_access: bool | None,
) -> Any:
    """The window: walked when the sample says it is common (testing each record passed
    against ``clauses``), else (or when the bounded walk did not fill) from the GIN index (by
    ``indexed``: the same records); each branch behind a one-time filter. A filter on open
    access walks that part of the standing order only, judged by the sample's records there."""
    hits = select(func.count()).select_from(sampled).where(sampled.c.hit).scalar_subquery()
    walked_part = select(func.count()).select_from(sampled)
    head = select(*columns)
    if open_access is not None:
        walked_part = walked_part.where(sampled.c.open_access == open_access)
        opened = BibRecord.rank_key >= search.OPEN_RANK
        head = head.where(opened if open_access else ~opened)
    dense = hits * search.WALK >= walked_part.scalar_subquery() * search.WINDOW
    prefix = (
        head.order_by(BibRecord.rank_key.desc(), BibRecord.id.desc())
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
    # The conditions stay outside the LIMITs: one-time filters above the whole read, so a
    # search the walk answered starts nothing of it (not even parallel workers).
    unwalked = _count(walk) < search.WINDOW
    if open_access is not None:
        gin = _kept(select(*_every(columns, indexed, "every").c).where(unwalked), "gin")
    else:
        # The records anyone may read come first in the standing order: when at least a
        # window of matches is open to all, it is the window, and the rest are never read.
        opened = _kept(
            select(*_every(columns, [*indexed, BibRecord.open_access == true()], "open").c).where(
                unwalked
            ),
            "gin_open",
        )
        shut = _kept(
            select(*_every(columns, [*indexed, BibRecord.open_access == false()], "shut").c).where(
                unwalked, _count(opened) < search.WINDOW
            ),
            "gin_shut",
        )
        both = union_all(select(*opened.c), select(*shut.c)).subquery("both")
        gin = _kept(
            select(*both.c)
            .order_by(both.c.rank_key.desc(), both.c.id.desc())
            .limit(_inline(search.WINDOW)),
            "gin",
        )
    walked = select(*walk.c).where(_count(walk) == search.WINDOW)
    return union_all(walked, select(*gin.c)).cte("found")


def _every(columns: tuple[Any, ...], clauses: list[ColumnElement[bool]], name: str) -> Any:
    """The first ``WINDOW`` matches in the standing order, read from the GIN index (the order
    is an expression, so the planner cannot turn it into an unbounded walk)."""
    return (
        select(*columns)
        .where(*clauses)
        .order_by((BibRecord.rank_key + 0).desc(), (BibRecord.id + 0).desc())
        .limit(_inline(search.WINDOW))
        .subquery(name)
    )


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


def _grouped(
    rows: Any, source: Any, ids: Any, sampled: Any, population: Any, unknown: Any
) -> Select[Any]:
    columns = [rows.c[name] for name in FACETS]
    return select(
        source.label("source"),
        *columns,
        func.grouping(*columns).label("g"),
        func.count().label("n"),
        ids.label("ids"),
        sampled.label("sampled"),
        population.label("population"),
        unknown.label("unknown"),
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


def _unknown(rows: list[Any]) -> list[str]:
    """The words of an empty window no catalogue word starts with (``_unknown_words``)."""
    for row in rows:
        if row.source == 0 and row.g == ALL_LEFT_OUT:
            return list(row.unknown or [])
    return []


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
    search that found something, or whose words the catalogue all knows, needs none: the
    window statement names the unknown words of an empty window)."""
    words = search.search_words(key.text) if key.text else []
    rows = list((await session.execute(*window_query(key, words, {}))).all())
    window = _window(rows)
    unknown = _unknown(rows) if window.facets.counted == 0 else []
    if unknown:
        neighbours = await search.typo_neighbours(session, unknown)
        if neighbours:
            stmt, params = window_query(key, words, neighbours)
            window = _window(list((await session.execute(stmt, params)).all()))
    return window


async def read_window(session: AsyncSession, key: SearchKey, version: int) -> Window:
    """The search's window for this catalogue version: kept, or read and kept."""
    window = CACHE.get(version, key)
    if window is None:
        window = await _read(session, key)
        CACHE.put(version, key, window)
    return window


# The page statement of a relevance search, built once: the window's ids are bound when it
# runs (``page_stmt``); building it per request (a subquery's column proxies for every record
# column) was a tenth of a new search's Python.
_RANKED = (
    func.unnest(bindparam("window_ids", type_=ARRAY(BigInteger)))
    .table_valued(column("id", BigInteger), with_ordinality="position")
    .render_derived("ranked")
)
_FOUND = (
    select(*RECORD_COLUMNS, _RANKED.c.position.label("position"))
    .join_from(_RANKED, BibRecord, BibRecord.id == _RANKED.c.id)
    .subquery("found")
)
_PAGE = select(*_FOUND.c)
_PAGE_ORDER = Ordering(((_FOUND.c.position, False),))


def page_stmt(window: Window) -> tuple[Select[Any], Ordering, dict[str, Any]]:
    """The page statement of a relevance search over its read window, and its parameters: the
    records by primary key, in the window's rank order. The connection's order and cursor apply
    to the window's positions before the records are joined, so a page reads only its own
    records. A cursor holds the position (an integer: cursors carry no floating-point score); a
    catalogue write between two pages makes a new window, and the next page continues from the
    same position in it."""
    return _PAGE, _PAGE_ORDER, {"window_ids": list(window.ids)}

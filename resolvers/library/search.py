"""Searching the one catalogue: full text in Russian and English with PostgreSQL's stemmers,
the folded Latin spelling for Kyrgyz (and every language) matched by prefix, trigram
similarity for typos (resolvers/library/text.py says why), filters, and counts per filter
value (facets).

**Relevance** (docs/domains/library.md, "Search"). A new search takes the first ``WINDOW``
matches (201) in the catalogue's standing order (``bib_record.rank_key``, then ``id``, both
descending: open to all first, then the textbooks approved for the latest school year, then
the newest edition; migration 0042) and ranks those among themselves by how well the words
match (``ts_rank``, the standing order breaking ties). For a common search the window is read
by walking the b-tree ``ix_bib_record_rank`` backwards and stopping at the window, so it costs
its window, not the GIN bitmap of every one of its matches (30,000 for "история"); a rare one
reads its few matches from the GIN index. Which one is decided from a small sample of the
catalogue read first (``SAMPLE_ROWS``): the planner's own estimate assumes the matches spread
evenly along the standing order, and a word whose records the order puts last (the edition
note of every textbook) would be walked across the whole catalogue. The search's words are
written into the statement (``constant``), so each part is planned for them; the typo
neighbours are looked up before it, in a statement of their own, only when the search found
nothing as typed.

**Counts.** When there are at most ``CAP`` (200) matches, ``totalCount`` and the facet counts
are exact. Above, they are **estimated** from the sample and flagged
``CatalogueFacets.exact`` false: a portal says "about 30,000" and invites narrowing. Pages by
relevance cover the window.

By **title** or **newest** a search lists the first ``LIST_WINDOW`` (2,001) matches in that
order, as before: ``totalCount`` stops at 2,001 (more than 2,000)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Select,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibKind, BibRecord, Language, LibraryWord, TextbookApproval
from resolvers.library.text import folded_words
from resolvers.relay import Ordering

RECORD_COLUMNS = tuple(
    c
    for c in BibRecord.__table__.c
    if c.key not in ("search_vector", "words", "folded", "approved_year", "rank_key")
)
MAX_QUERY = 200
MAX_WORDS = 8
# Words this short are matched as typed (their trigrams say little).
TYPO_MIN_LENGTH = 4
# A misspelt word stands for at most this many of the catalogue's words.
TYPO_CANDIDATES = 3
# Matches of a search by relevance counted exactly; its walk reads at most one more (WINDOW)
# to know there are more. The walk's cost is linear in it: ten pages of 20.
CAP = 200
WINDOW = CAP + 1
# A search walks the standing order only when its sample says the window fills within this many
# records (a share of the catalogue of at least WINDOW / WALK, 2%); a rarer one reads the GIN
# index, whose cost grows with the matches: at about 2% the two cost alike (about 10 ms of CPU
# at 500,000 records). A walk that does not fill by then (matches the order puts late) gives
# way to the GIN index too, so no search walks more than this.
WALK = 10_000
# Every new search reads about this many records of the catalogue first, whole pages (0.4% of
# 500,000 records: 1-2 ms of CPU): how common it is (walk or GIN) and, above the window, its
# estimated counts. A catalogue this small is read whole, so its estimates are its counts.
SAMPLE_ROWS = 2000
# A folded search word is read from the GIN index as the catalogue's lexemes it begins when
# there are at most this many (exact entries, which the index intersects cheaply), else as a
# prefix (a scan of every lexeme it begins into a bitmap): migration 0043.
EXPAND = 64
# The standing order's records anyone may read: ``rank_key`` from here up (migration 0042).
OPEN_RANK = 1 << 24
# A search by title or newest lists at most this many matches (one more to know there are more).
LIST_CAP = 2000
LIST_WINDOW = LIST_CAP + 1


@dataclass(frozen=True)
class CatalogueFilter:
    """Narrow the catalogue; every value given must hold."""

    language: Language | None = None
    kind: BibKind | None = None
    grade: int | None = None
    school_subject: str | None = None
    open_access: bool | None = None
    approved_for: int | None = None  # a school year the ministry approved the textbook for


def filter_clauses(flt: CatalogueFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.language is not None:
        clauses.append(BibRecord.language == flt.language)
    if flt.kind is not None:
        clauses.append(BibRecord.kind == flt.kind)
    if flt.grade is not None:
        clauses.append(BibRecord.grade == flt.grade)
    if flt.school_subject is not None:
        clauses.append(BibRecord.school_subject == flt.school_subject)
    if flt.open_access is not None:
        clauses.append(BibRecord.open_access.is_(flt.open_access))
    if flt.approved_for is not None:
        clauses.append(
            select(TextbookApproval.id)
            .where(
                TextbookApproval.record_id == BibRecord.id,
                TextbookApproval.school_year == flt.approved_for,
            )
            .exists()
        )
    return clauses


@dataclass(frozen=True)
class Match:
    """What a search text matches, and how well."""

    where: ColumnElement[bool]
    score: ColumnElement[float]
    query: Any  # the full-text query (tsquery)


def _spellings(word: str) -> Any:
    """``word`` as a prefix, and, when no word of the catalogue starts with it (a typo:
    "aitmatof"), the catalogue's words closest to it by trigrams, as tsquery text, e.g.
    ``(aitmatof:* | aitmatov)``. The word table is asked for neighbours only then: the CASE is
    evaluated once per statement, its branch's subquery only when taken."""
    if len(word) < TYPO_MIN_LENGTH:
        return literal(f"{word}:*")
    close = (
        select(LibraryWord.word)
        .where(LibraryWord.word.bool_op("%")(word), LibraryWord.word != word)
        .order_by(LibraryWord.word.op("<->")(word))
        .limit(TYPO_CANDIDATES)
        .subquery()
    )
    candidates = select(func.string_agg(close.c.word, literal(" | "))).scalar_subquery()
    known = select(LibraryWord.word).where(LibraryWord.word.startswith(word, autoescape=True))
    return case(
        (known.exists(), literal(f"{word}:*")),
        else_=func.concat(f"({word}:*", func.coalesce(literal(" | ").concat(candidates), ""), ")"),
    )


def has_words(text: str | None) -> bool:
    """Does ``text`` hold a word to search by (else a search lists the catalogue)?"""
    return text is not None and bool(folded_words(text[:MAX_QUERY]))


def search_words(text: str) -> list[str]:
    """The folded words a search is made of (at most ``MAX_WORDS``)."""
    return folded_words(text[:MAX_QUERY])[:MAX_WORDS]


def match(text: str) -> Match | None:
    """The records ``text`` finds, for the lists by title or newest: its words stemmed as
    Russian or English, or its folded words as prefixes or, for a word no catalogue word starts
    with, as the catalogue's words closest to it (typos, looked up inside the statement). One
    full-text query, so one GIN index scan finds the records, whatever the spelling. None when
    ``text`` has no words."""
    words = search_words(text)
    if not words:
        return None
    folded = func.to_tsquery(
        cast(literal("simple"), REGCONFIG), func.concat_ws(" & ", *[_spellings(w) for w in words])
    )
    return _match(written(text), folded)


def written(text: str) -> str:
    """The search as typed, whitespace collapsed, for PostgreSQL's stemmers."""
    return " ".join(text[:MAX_QUERY].split())


def tsquery(raw: Any, folded: Any) -> Any:
    """The full-text query of a search: ``raw`` (as typed) stemmed as Russian or English, or
    ``folded`` (a tsquery of its folded words)."""
    return or_tsquery(
        func.websearch_to_tsquery(cast(constant("russian"), REGCONFIG), raw),
        func.websearch_to_tsquery(cast(constant("english"), REGCONFIG), raw),
        folded,
    )


def _match(raw: Any, folded: Any) -> Match:
    query = tsquery(raw, folded)
    found = BibRecord.search_vector.bool_op("@@")(query)
    score = cast(func.ts_rank(BibRecord.search_vector, query), Float)
    return Match(where=found, score=score, query=query)


def constant(value: str) -> BindParameter[str]:
    """``value`` written into the statement's text rather than sent as a parameter: the
    planner estimates how many records a full-text query matches only from a constant, and a
    prepared statement's generic plan (after five runs) would otherwise plan every word alike,
    walking the whole standing order for a rare one."""
    return bindparam(None, value, type_=Text, literal_execute=True)


def folded_query(words: list[str], neighbours: dict[str, list[str]]) -> str:
    """The folded words as tsquery text, each a prefix, a misspelt one with the catalogue's
    words closest to it: ``kitep:* & (aitmatof:* | aitmatov)``. Folded words are ``[0-9a-z]``
    only (resolvers/library/text.py), so nothing in them is tsquery syntax."""
    parts = []
    for word in words:
        close = neighbours.get(word)
        parts.append(f"({' | '.join([f'{word}:*', *close])})" if close else f"{word}:*")
    return " & ".join(parts)


def constant_match(text: str, folded: str) -> Match:
    """The records ``text`` finds, its folded words spelled as ``folded`` (``folded_query``),
    as one constant full-text query (see ``constant``)."""
    simple = func.to_tsquery(cast(constant("simple"), REGCONFIG), constant(folded))
    return _match(constant(written(text)), simple)


def neighbours_stmt(words: list[str]) -> Select[Any]:
    """One row: for each of ``words``, when no catalogue word starts with it, the catalogue's
    words closest to it by trigrams, ``|``-separated (null otherwise, or when none is close).
    The trigram branch runs only for a word the catalogue does not know."""
    columns = []
    for word in words:
        close = (
            select(LibraryWord.word)
            .where(LibraryWord.word.bool_op("%")(word), LibraryWord.word != word)
            .order_by(LibraryWord.word.op("<->")(word))
            .limit(TYPO_CANDIDATES)
            .subquery()
        )
        candidates = select(func.string_agg(close.c.word, literal(" | "))).scalar_subquery()
        known = select(LibraryWord.word).where(LibraryWord.word.startswith(word, autoescape=True))
        columns.append(case((known.exists(), None), else_=candidates))
    return select(*columns)


async def typo_neighbours(session: AsyncSession, words: list[str]) -> dict[str, list[str]]:
    """For each word of ``words`` long enough to judge (``TYPO_MIN_LENGTH``) that no catalogue
    word starts with, the catalogue's closest words (at most ``TYPO_CANDIDATES``): one
    statement."""
    judged = [w for w in dict.fromkeys(words) if len(w) >= TYPO_MIN_LENGTH]
    if not judged:
        return {}
    row = (await session.execute(neighbours_stmt(judged))).one()
    return {w: str(close).split(" | ") for w, close in zip(judged, row, strict=True) if close}


def or_tsquery(*queries: Any) -> Any:
    combined = queries[0]
    for each in queries[1:]:
        combined = combined.op("||")(each)
    return combined


SCORE_ORDERING_KEYS = ("score", "id")
ORDERINGS_BY_NAME = ("RELEVANCE", "NEWEST", "TITLE")


def catalogue_query(
    text: str | None, flt: CatalogueFilter, order: str
) -> tuple[Select[Any], Ordering]:
    """The page statement and order of a catalogue search (by relevance when there is text,
    else as ``order`` says): by relevance, the first ``WINDOW`` matches in the standing order,
    ranked; by title or newest the first ``LIST_WINDOW`` in that order. The catalogue field
    pages a relevance search from its kept window instead (``windows.page_stmt``, which also
    forgives typos); the relevance statement here is the order that page is tested against."""
    clauses = filter_clauses(flt)
    if text and order == "RELEVANCE" and has_words(text):
        found = constant_match(text, folded_query(search_words(text), {}))
        window = (
            select(*RECORD_COLUMNS, BibRecord.rank_key, found.score.label("score"))
            .where(*clauses, found.where)
            .order_by(BibRecord.rank_key.desc(), BibRecord.id.desc())
            .limit(WINDOW)
            .subquery("found")
        )
        ranked = ((window.c.score, True), (window.c.rank_key, True), (window.c.id, True))
        return select(*window.c), Ordering(ranked)
    listed = match(text) if text else None
    if listed is not None:
        clauses.append(listed.where)
    if order == "TITLE":
        inner = select(*RECORD_COLUMNS).where(*clauses).order_by(BibRecord.title, BibRecord.id)
        window = inner.limit(LIST_WINDOW).subquery("found")
        return select(*window.c), Ordering(((window.c.title, False), (window.c.id, False)))
    inner = select(*RECORD_COLUMNS).where(*clauses).order_by(BibRecord.id.desc())
    window = inner.limit(LIST_WINDOW).subquery("found")
    return select(*window.c), Ordering(((window.c.id, True),))


FACETS = ("language", "kind", "grade", "school_subject", "open_access")


@dataclass(frozen=True)
class FacetCounts:
    """Counts per facet value of a search's ``counted`` matches: counted one by one when
    ``exact`` (at most ``CAP`` matches), else estimated (``windows.window_stmt``)."""

    values: dict[str, list[tuple[Any, int]]]
    counted: int
    exact: bool = True

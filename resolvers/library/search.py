"""Searching the one catalogue: full text in Russian and English with PostgreSQL's stemmers,
the folded Latin spelling for Kyrgyz (and every language) matched by prefix, trigram
similarity for typos (resolvers/library/text.py says why), filters, and counts per filter
value (facets).

A search reads at most ``WINDOW`` matching records (2,001): its pages, its ``totalCount`` and
its facet counts are taken from them, so a common word ("история", 45,000 records) costs a
window's heap pages instead of all of them (docs/domains/library.md: 0.6-2 s to a few ms).
More than ``CAP`` matches is said as such (``CatalogueFacets.exact`` false, ``totalCount``
2,001): the reader narrows the search. By relevance, the window is the first matches the
GIN index yields, ranked among themselves: stock PostgreSQL has no index that returns
full-text matches in rank order (the RUM extension has; the embedded server lacks it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import REGCONFIG

from models import BibKind, BibRecord, Language, LibraryWord, TextbookApproval
from resolvers.library.text import folded_words
from resolvers.relay import Ordering

RECORD_COLUMNS = tuple(
    c for c in BibRecord.__table__.c if c.key not in ("search_vector", "words", "folded")
)
MAX_QUERY = 200
MAX_WORDS = 8
# Words this short are matched as typed (their trigrams say little).
TYPO_MIN_LENGTH = 4
# A misspelt word stands for at most this many of the catalogue's words.
TYPO_CANDIDATES = 3
# Matches counted exactly; a search reads at most one more (WINDOW) to know there are more.
CAP = 2000
WINDOW = CAP + 1


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


def match(text: str) -> Match | None:
    """The records ``text`` finds: its words stemmed as Russian or English, or its folded
    words as prefixes or, for a word no catalogue word starts with, as the catalogue's words
    closest to it (typos). One full-text query, so one GIN index scan finds the records,
    whatever the spelling. None when ``text`` has no words."""
    words = folded_words(text[:MAX_QUERY])[:MAX_WORDS]
    if not words:
        return None
    raw = " ".join(text[:MAX_QUERY].split())
    folded = func.to_tsquery(
        cast(literal("simple"), REGCONFIG), func.concat_ws(" & ", *[_spellings(w) for w in words])
    )
    query = or_tsquery(
        func.websearch_to_tsquery(cast(literal("russian"), REGCONFIG), raw),
        func.websearch_to_tsquery(cast(literal("english"), REGCONFIG), raw),
        folded,
    )
    found = BibRecord.search_vector.bool_op("@@")(query)
    return Match(where=found, score=cast(func.ts_rank(BibRecord.search_vector, query), Float))


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
    else as ``order`` says), over its window of at most ``WINDOW`` records: by relevance the
    first matches found, ranked; by title or newest the first in that order. The catalogue
    field pages a relevance search from its kept window instead (``windows.page_stmt``); the
    relevance statement here is the order that page is tested against."""
    found = match(text) if text else None
    clauses = filter_clauses(flt)
    if found is not None:
        clauses.append(found.where)
    if found is not None and order == "RELEVANCE":
        window = (
            select(*RECORD_COLUMNS, found.score.label("score"))
            .where(*clauses)
            .limit(WINDOW)
            .subquery("found")
        )
        return select(*window.c), Ordering(((window.c.score, True), (window.c.id, True)))
    if order == "TITLE":
        inner = select(*RECORD_COLUMNS).where(*clauses).order_by(BibRecord.title, BibRecord.id)
        window = inner.limit(WINDOW).subquery("found")
        return select(*window.c), Ordering(((window.c.title, False), (window.c.id, False)))
    inner = select(*RECORD_COLUMNS).where(*clauses).order_by(BibRecord.id.desc())
    window = inner.limit(WINDOW).subquery("found")
    return select(*window.c), Ordering(((window.c.id, True),))


FACETS = ("language", "kind", "grade", "school_subject", "open_access")


@dataclass(frozen=True)
class FacetCounts:
    """Counts per facet value among ``counted`` matching records; ``exact`` when those are
    all the matches (at most ``CAP``), else they are the first ``WINDOW`` found."""

    values: dict[str, list[tuple[Any, int]]]
    counted: int

    @property
    def exact(self) -> bool:
        return self.counted <= CAP

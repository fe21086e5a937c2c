"""Searching the one catalogue: full text in Russian and English with PostgreSQL's stemmers,
the folded Latin spelling for Kyrgyz (and every language) matched by prefix, trigram
similarity for typos (resolvers/library/text.py says why), filters, and counts per filter
value (facets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, cast, func, literal, select, tuple_
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
    """``word`` as a prefix, or one of the catalogue's words closest to it by trigrams (a
    typo: "aitmatof" finds "aitmatov"), as tsquery text, e.g. ``(aitmatof:* | aitmatov)``."""
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
    return func.concat(f"({word}:*", func.coalesce(literal(" | ").concat(candidates), ""), ")")


def match(text: str) -> Match | None:
    """The records ``text`` finds: its words stemmed as Russian or English, or its folded
    words as prefixes or as the catalogue's words closest to them (typos). One full-text
    query, so one GIN index scan finds the records, whatever the spelling. None when
    ``text`` has no words."""
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
    else as ``order`` says)."""
    found = match(text) if text else None
    clauses = filter_clauses(flt)
    if found is not None and order == "RELEVANCE":
        inner = (
            select(*RECORD_COLUMNS, found.score.label("score"))
            .where(found.where, *clauses)
            .subquery("found")
        )
        stmt = select(*inner.c)
        return stmt, Ordering(((inner.c.score, True), (inner.c.id, True)))
    stmt = select(*RECORD_COLUMNS).where(*clauses)
    if found is not None:
        stmt = stmt.where(found.where)
    if order == "TITLE":
        return stmt, Ordering(((BibRecord.title, False), (BibRecord.id, False)))
    return stmt, Ordering(((BibRecord.id, True),))


FACETS = ("language", "kind", "grade", "school_subject", "open_access")


async def facet_counts(
    session: Any, text: str | None, flt: CatalogueFilter
) -> dict[str, list[tuple[Any, int]]]:
    """How many records of the search have each value of each facet (one statement, grouping
    sets): the counts a portal shows beside its filters."""
    found = match(text) if text else None
    clauses = filter_clauses(flt)
    if found is not None:
        clauses.append(found.where)
    columns = [
        BibRecord.language,
        BibRecord.kind,
        BibRecord.grade,
        BibRecord.school_subject,
        BibRecord.open_access,
    ]
    grouping = func.grouping_sets(*[tuple_(c) for c in columns])
    stmt = (
        select(
            *columns,
            func.grouping(*columns).label("g"),
            func.count().label("n"),
        )
        .where(*clauses)
        .group_by(grouping)
    )
    rows = (await session.execute(stmt)).all()
    counts: dict[str, list[tuple[Any, int]]] = {name: [] for name in FACETS}
    width = len(columns)
    for row in rows:
        # grouping() sets a bit for each column left out; the one column kept has its bit 0.
        for i, name in enumerate(FACETS):
            if not row.g & (1 << (width - 1 - i)):
                value = row[i]
                if value is not None:
                    counts[name].append((value, int(row.n)))
    for name in FACETS:
        counts[name].sort(key=lambda pair: (-pair[1], str(pair[0])))
    return counts

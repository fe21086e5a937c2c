"""Full-text search of published lessons in Kyrgyz and Russian, whichever script the reader
types (issue 16).

PostgreSQL has no Kyrgyz stemmer (nor does any maintained library we could add), so:

* every lesson's title and summary are folded by ``content_fold`` (the migration's SQL
  function; :func:`fold` is its Python twin) to one plain Latin form: Cyrillic and the Latin
  spellings people type ("бөлчөк", "bölchök", "bolchok") become the same word;
* the folded words are indexed unstemmed (the ``simple`` configuration) and each word of the
  query is matched as a prefix of at most :data:`PREFIX` letters, which catches the suffixes
  Kyrgyz adds to a root ("бөлчөктөрдү" finds "Бөлчөктөр");
* Russian lessons are also indexed with PostgreSQL's Russian stemmer, and the query is stemmed
  the same way;
* ``pg_trgm``'s word similarity of the folded query against the folded title and summary
  catches typos, and ranks the hits together with the text-search rank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, cast, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import REGCONFIG

from models import Lesson, LessonStatus
from resolvers.content.errors import ContentCode
from resolvers.content.queries import LESSON_COLUMNS, LessonFilter, lesson_filter_clauses
from resolvers.errors import DomainError

# A query word is matched as a prefix of at most this many folded letters.
PREFIX = 6
MAX_QUERY = 200
MAX_HITS = 50

_UPPER = "АБВГДЕЁЖЗИЙКЛМНҢОӨПРСТУҮФХЦЧШЩЪЫЬЭЮЯ"
_LOWER = "абвгдеёжзийклмнңоөпрстуүфхцчшщъыьэюя"
_PAIRS = (
    ("щ", "sh"),
    ("ш", "sh"),
    ("ч", "ch"),
    ("ц", "ts"),
    ("ю", "yu"),
    ("я", "ya"),
    ("ё", "yo"),
    ("ң", "ng"),
    ("х", "h"),
    ("zh", "j"),
    ("kh", "h"),
    ("ñ", "ng"),
    ("ş", "sh"),
    ("ç", "ch"),
)
_SINGLE = str.maketrans("абвгдежзийклмноөпрстуүфыэöüqéı", "abvgdejziyklmnooprstuufyeoukei", "ъь")
_CASE = str.maketrans(_UPPER, _LOWER)
_WORD = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """``content_fold`` in Python: Kyrgyz and Russian Cyrillic and the Latin spellings people
    type, folded to one plain Latin form."""
    value = text.translate(_CASE).lower()
    for old, new in _PAIRS:
        value = value.replace(old, new)
    return value.translate(_SINGLE)


def prefix_query(text: str) -> str:
    """The folded words of a query as a ``to_tsquery('simple', ...)`` text: each word a prefix
    of at most :data:`PREFIX` letters, all of them required."""
    words = _WORD.findall(fold(text))
    return " & ".join(f"{w[:PREFIX]}:*" for w in words)


@dataclass(frozen=True)
class SearchQuery:
    """A reader's query, checked: the raw text (for the Russian stemmer), its folded form and
    its prefix query."""

    raw: str
    folded: str
    prefixes: str


def search_query(text: str) -> SearchQuery:
    """Check a query: at least two letters or digits, at most :data:`MAX_QUERY` characters."""
    raw = " ".join(text.split())[:MAX_QUERY]
    prefixes = prefix_query(raw)
    if len("".join(_WORD.findall(fold(raw)))) < 2:
        raise DomainError(
            ContentCode.SEARCH_QUERY_TOO_SHORT,
            "Type at least two letters or digits",
            field="query",
        )
    return SearchQuery(raw=raw, folded=" ".join(_WORD.findall(fold(raw))), prefixes=prefixes)


def search_statement(query: SearchQuery, flt: LessonFilter, limit: int) -> Select[Any]:
    """Published lessons matching the query (text search, or trigram similarity for typos),
    the best first, with their rank."""
    tsquery = func.to_tsquery(literal("simple", REGCONFIG), query.prefixes).op("||")(
        func.plainto_tsquery(literal("russian", REGCONFIG), query.raw)
    )
    folded = literal(query.folded)
    similarity = func.word_similarity(folded, Lesson.search_folded)
    rank = cast(func.ts_rank(Lesson.search_vector, tsquery), Float) + similarity
    stmt = (
        select(*LESSON_COLUMNS, type_coerce(rank, Float).label("rank"))
        .where(
            Lesson.status == LessonStatus.PUBLISHED,
            or_(Lesson.search_vector.op("@@")(tsquery), folded.op("<%")(Lesson.search_folded)),
            *lesson_filter_clauses(flt),
        )
        .order_by(rank.desc(), Lesson.id)
        .limit(min(limit, MAX_HITS))
    )
    return stmt

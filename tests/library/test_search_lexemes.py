"""A new search reads the GIN index cheaply (resolvers/library/windows.py, migration 0046;
docs/domains/library.md "Search"; S6: one catalogue searched by anyone): its words as the
catalogue's lexemes they begin, its language, kind and open-access filters from the index, the
records anyone may read first, and the statement built once per shape. Each finds exactly the
records the search as typed finds, in the same order."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibKind, BibRecord, Language, LibraryLexeme
from resolvers.library import CatalogueFilter, SearchKey, catalogue_query, search, windows
from resolvers.library.text import fold
from tests.conftest import Hub
from tests.library.factories import make_record
from tests.library.test_search_walk import executed, scans, subplan

SEARCH = """
query($search: String, $filter: CatalogueFilterInput, $first: Int) {
  catalogue(search: $search, filter: $filter, first: $first) { nodes { title } }
  catalogueFacets(search: $search, filter: $filter) { counted exact }
}"""
# Books over thirty years; "Китеп" (a book) in every title, then one of a few words, two sharing
# its beginning ("kitep", "kitepkana", "kiteptin": one prefix, three lexemes), two English with
# their stems ("stories", "story"), and "тарых" (history). Open to all: every "китепкана" record
# (240) and one "тарых" record in five (48 of 240).
WORDS = ("китепкана", "китептин", "stories", "story", "тарых")
RECORDS = 1200
SEED = """
INSERT INTO bib_record (kind, title, language, words, folded, year, open_access)
SELECT 'book', t.title, CASE WHEN t.n % 3 = 0 THEN 'ru' ELSE 'ky' END, t.title, t.folded,
       1990 + t.n % 30, t.n % 5 = 1 OR t.n % 25 = 0
FROM unnest(CAST(:titles AS text[]), CAST(:folded AS text[])) WITH ORDINALITY AS t(title, folded, n)
"""


async def seed_catalogue(session: AsyncSession, records: int = RECORDS) -> None:
    titles = [f"Китеп {WORDS[n % len(WORDS)]} {n}" for n in range(records)]
    await session.execute(
        text(SEED), {"titles": titles, "folded": [fold(title) for title in titles]}
    )
    await session.commit()
    await session.execute(text("ANALYZE bib_record"))
    await session.commit()


async def read(session: AsyncSession, words: str, flt: CatalogueFilter | None = None) -> Any:
    return await windows._read(session, SearchKey.of(words, flt or CatalogueFilter()))


async def typed_order(session: AsyncSession, words: str, flt: CatalogueFilter) -> list[int]:
    """The first window of the search as typed, ranked: the relevance statement every page is
    tested against (``catalogue_query``: one constant prefix query, no lexemes)."""
    stmt, ordering = catalogue_query(words, flt, "RELEVANCE")
    return [row.id for row in (await session.execute(stmt.order_by(*ordering.clauses()))).all()]


async def plan_of(session: AsyncSession, words: str, flt: CatalogueFilter) -> dict[str, Any]:
    key = SearchKey.of(words, flt)
    stmt = windows.window_stmt(key, search.search_words(words))
    sql = str(stmt.compile(session.bind, compile_kwargs={"literal_binds": True}))
    plan = await session.scalar(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))
    return plan[0]["Plan"]


class TestLexemes:
    async def test_the_catalogues_lexemes_follow_its_records(self, session: AsyncSession) -> None:
        # given a record in Kyrgyz and English words
        record = await make_record(session, title="Жомоктор stories", authors=())
        await session.commit()
        lexemes = set(await session.scalars(select(LibraryLexeme.lexeme)))
        # then its folded words and the English stem are kept; no Cyrillic lexeme (a folded
        # search word is [0-9a-z]: it never begins one)
        assert {"jomoktor", "stories", "stori"} <= lexemes
        assert not any(
            lexeme[0] not in "0123456789abcdefghijklmnopqrstuvwxyz" for lexeme in lexemes
        )
        # when its words change, the new ones are kept too
        await session.execute(
            update(BibRecord)
            .where(BibRecord.id == record.id)
            .values(words="Жомоктор Манас", folded=fold("Жомоктор Манас"))
        )
        await session.commit()
        assert "manas" in set(await session.scalars(select(LibraryLexeme.lexeme)))

    async def test_a_prefix_is_read_as_the_lexemes_it_begins_up_to_a_bound(
        self, session: AsyncSession
    ) -> None:
        # given records whose words begin with "kitep" (three lexemes)
        await seed_catalogue(session, records=50)

        async def query(word: str, most: int) -> str:
            found = await session.scalar(
                text("SELECT CAST(library_prefix_query(:w, :m) AS text)"), {"w": word, "m": most}
            )
            return str(found)

        # then "kitep" is those three lexemes, exact; past the bound, or beginning none, the
        # prefix itself
        assert await query("kitep", 64) == "'kitep' | 'kitepkana' | 'kiteptin'"
        assert await query("kitep", 2) == "'kitep':*"
        assert await query("zzz", 64) == "'zzz':*"
        # (English stems are lexemes too: "story" and "stories" are stemmed, and folded, to
        # "stori")
        assert await query("stor", 64) == "'stori' | 'stories'"

    @pytest.mark.parametrize(
        ("words", "flt"),
        [
            ("китеп", CatalogueFilter()),
            ("kitep", CatalogueFilter(language=Language.RU)),
            ("Китеп тарых", CatalogueFilter()),
            ("stor", CatalogueFilter(open_access=False)),
            ("китеп", CatalogueFilter(open_access=True)),
            ("stories китеп", CatalogueFilter(open_access=False)),
            ("кит", CatalogueFilter(kind=BibKind.BOOK, language=Language.KY)),
        ],
    )
    async def test_the_window_is_the_search_as_typed_whichever_way_it_is_read(
        self,
        session: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
        words: str,
        flt: CatalogueFilter,
    ) -> None:
        # given the catalogue
        await seed_catalogue(session)
        expected = await typed_order(session, words, flt)
        assert expected
        # when the window is read walking the order, from the GIN index by lexemes, and from
        # the GIN index by the prefix (a bound of one lexeme)
        read_by = {}
        for name, walk, expand in (("walk", 10_000, 64), ("gin", 1, 64), ("prefix", 1, 1)):
            monkeypatch.setattr(search, "WALK", walk)
            monkeypatch.setattr(search, "EXPAND", expand)
            read_by[name] = list((await read(session, words, flt)).ids)
        # then each is the first window of the search as typed, in its rank order
        assert read_by == {"walk": expected, "gin": expected, "prefix": expected}


class TestTheIndexReadsTheFilters:
    async def test_a_word_with_a_rare_filter_reads_only_the_records_with_both(
        self, session: AsyncSession
    ) -> None:
        # given the catalogue, every record a book, and one textbook about history
        await seed_catalogue(session)
        await make_record(session, title="Тарых", kind=BibKind.TEXTBOOK, grade=5,
                          school_subject="Тарых", authors=())  # fmt: skip
        await session.commit()
        # when history is searched among textbooks (too rare in the sample to walk), the index
        # preferred to reading the table as it would be for a catalogue of any size
        await session.execute(text("SET enable_seqscan = off"))
        plan = await plan_of(session, "тарых", CatalogueFilter(kind=BibKind.TEXTBOOK))
        await session.execute(text("RESET enable_seqscan"))
        # then the GIN index gives the one record with both, the kind read from the index
        read = [s for s in scans(plan) if s.get("Index Name") == "ix_bib_record_search"]
        assert read
        assert all("kind" in s["Index Cond"] for s in read)
        assert sum(s["Actual Rows"] for s in read) == 1
        assert not any(s["Node Type"] == "Seq Scan" and executed(s) for s in scans(plan)
                       if s.get("Relation Name") == "bib_record")  # fmt: skip


async def gin_parts(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, word: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seeded catalogue searched for ``word`` from the GIN index (a walk bound of one
    record): the plans of its open and its closed part."""
    await seed_catalogue(session)
    monkeypatch.setattr(search, "WALK", 1)
    plan = await plan_of(session, word, CatalogueFilter())
    opened, shut = subplan(plan, "CTE gin_open"), subplan(plan, "CTE gin_shut")
    assert opened is not None
    assert shut is not None
    return opened, shut


class TestOpenRecordsFirst:
    async def test_the_closed_records_are_not_read_when_open_ones_fill_the_window(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given the catalogue (288 records open to all, every one with "китеп"), and the GIN
        # index chosen, when "китеп" is searched
        opened, shut = await gin_parts(session, monkeypatch, "китеп")
        # then the open records give the window, and the rest are never read
        assert opened["Actual Rows"] == search.WINDOW
        assert not any(s.get("Relation Name") == "bib_record" for s in scans(shut))

    async def test_a_window_the_open_records_do_not_fill_continues_with_the_rest(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given the catalogue, where "тарых" is in 240 records, 48 of them open to all, when
        # searched from the GIN index
        opened, shut = await gin_parts(session, monkeypatch, "тарых")
        # then the open ones come first (48) and the closed ones (192) complete the window
        assert opened["Actual Rows"] == 48
        assert shut["Actual Rows"] == 192
        window = await read(session, "тарых")
        assert list(window.ids) == await typed_order(session, "тарых", CatalogueFilter())

    async def test_an_open_access_filter_walks_only_its_part_of_the_order(
        self, session: AsyncSession
    ) -> None:
        # given the catalogue, a fifth of it open to all (first in the standing order)
        await seed_catalogue(session)
        # when a common word is searched among the records not open to all
        plan = await plan_of(session, "китеп", CatalogueFilter(open_access=False))
        # then the walk starts past the open records instead of passing them
        walk = subplan(plan, "CTE walk")
        assert walk is not None
        [walked] = [s for s in scans(walk) if s.get("Index Name") == "ix_bib_record_rank"]
        assert str(search.OPEN_RANK) in walked["Index Cond"]
        assert walked["Actual Rows"] == search.WINDOW


class TestStatements:
    async def test_a_search_of_known_words_that_finds_nothing_asks_for_no_neighbours(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a book by Aitmatov, no textbook
        await make_record(session, title="Жамиля", authors=("Чыңгыз Айтматов",))
        await session.commit()
        # when his name is searched among textbooks: nothing, and every word is the
        # catalogue's
        hub.counter.reset()
        data = await hub.data(
            SEARCH, {"search": "Айтматов", "filter": {"kind": "TEXTBOOK"}, "first": 5}
        )
        # then the version, the window and the page: no typo neighbours looked up
        assert data["catalogue"]["nodes"] == []
        assert data["catalogueFacets"] == {"counted": 0, "exact": True}
        assert hub.counter.count == 3

    async def test_the_window_statement_is_built_once_per_shape(
        self, session: AsyncSession
    ) -> None:
        # given two searches of one shape (one word, a language) and one of another
        await seed_catalogue(session, records=20)
        windows._template.cache_clear()
        await read(session, "китеп", CatalogueFilter(language=Language.KY))
        await read(session, "тарых", CatalogueFilter(language=Language.RU))
        await read(session, "китеп тарых", CatalogueFilter(language=Language.RU))
        # then the statement was built twice: the second search only bound its values
        info = windows._template.cache_info()
        assert (info.misses, info.hits) == (2, 1)

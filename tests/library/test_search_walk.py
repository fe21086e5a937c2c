"""A new search by relevance walks the catalogue's standing order and stops at its window
(resolvers/library/search.py, docs/domains/library.md "Search"; S6: one catalogue searched by
anyone): the plan is a backward walk of the rank key's b-tree, the counts are exact below the
window and estimated (and said so) above it, typos are still forgiven, and the rank key
follows the records and the ministry's approvals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibRecord, TextbookApproval
from resolvers.library import CatalogueFilter, SearchKey, search
from resolvers.library.text import fold
from resolvers.library.windows import window_stmt
from tests.conftest import Hub
from tests.factories import gid
from tests.library.factories import make_record, make_textbook

SEARCH = """
query($search: String, $filter: CatalogueFilterInput, $first: Int) {
  catalogue(search: $search, filter: $filter, first: $first) { totalCount nodes { title } }
  catalogueFacets(search: $search, filter: $filter) {
    counted exact language { value count } openAccess { value count }
  }
}"""
APPROVE = """
mutation($input: ApproveTextbookInput!) {
  approveTextbook(input: $input) { record { approvedFor } userErrors { code } }
}"""
# A catalogue of a few thousand records, one in three about history ("тарых"), one in ten
# open to all, over thirty years: seeded in one statement.
RECORDS = 3000
SEED = """
INSERT INTO bib_record (kind, title, language, words, folded, year, open_access)
SELECT 'book', t.title, 'ky', t.title, t.folded, 1990 + t.n % 30, t.n % 10 = 0
FROM unnest(CAST(:titles AS text[]), CAST(:folded AS text[])) WITH ORDINALITY AS t(title, folded, n)
"""


async def seed_catalogue(session: AsyncSession) -> None:
    titles = [f"Тарых {n}" if n % 3 == 0 else f"Китеп {n}" for n in range(RECORDS)]
    await session.execute(
        text(SEED), {"titles": titles, "folded": [fold(title) for title in titles]}
    )
    await session.commit()
    await session.execute(text("ANALYZE bib_record"))
    await session.commit()


async def window_plan(session: AsyncSession, words: str) -> dict[str, Any]:
    """The executed plan of a new search's window statement, as the hub sends it."""
    key = SearchKey.of(words, CatalogueFilter())
    stmt = window_stmt(key, search.search_words(words))
    sql = str(stmt.compile(session.bind, compile_kwargs={"literal_binds": True}))
    plan = await session.scalar(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"))
    return plan[0]["Plan"]


def subplan(node: dict[str, Any], name: str) -> dict[str, Any] | None:
    if node.get("Subplan Name") == name:
        return node
    for child in node.get("Plans", []):
        found = subplan(child, name)
        if found is not None:
            return found
    return None


async def search_data(hub: Hub, words: str, **variables: Any) -> dict[str, Any]:
    return await hub.data(SEARCH, {"search": words, "first": 10, **variables})


def executed(node: dict[str, Any]) -> bool:
    return node.get("Actual Loops", 0) > 0


def scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The scans of a plan's subtree that ran."""
    found = [node] if "Scan" in node["Node Type"] and executed(node) else []
    for child in node.get("Plans", []):
        found += scans(child)
    return found


class TestTheWalkStopsAtTheWindow:
    async def test_a_common_word_is_planned_as_a_walk_of_the_standing_order(
        self, session: AsyncSession
    ) -> None:
        # given a few thousand records, a thousand of them about history
        await seed_catalogue(session)
        # when a reader searches the common word
        plan = await window_plan(session, "тарых")
        # then the window is the b-tree of the rank key walked backwards, stopping once it
        # holds the window: it passes a few hundred records, not the catalogue
        walk = subplan(plan, "CTE walk")
        assert walk is not None
        [walked] = [s for s in scans(walk) if s["Node Type"] == "Index Scan"]
        assert walked["Index Name"] == "ix_bib_record_rank"
        assert walked["Scan Direction"] == "Backward"
        assert search.WINDOW <= walked["Actual Rows"] < RECORDS / 2
        # and the GIN index (the bitmap of every match) is never read
        gin = subplan(plan, "CTE gin")
        assert gin is not None
        assert not any(s.get("Index Name") == "ix_bib_record_search" for s in scans(plan))
        assert [s for s in scans(gin) if s.get("Relation Name") == "bib_record"] == []

    async def test_a_rare_word_is_read_from_the_gin_index_not_walked(
        self, session: AsyncSession
    ) -> None:
        # given the catalogue and a word a single record has
        await seed_catalogue(session)
        await make_record(session, title="Жамиля", authors=())
        await session.commit()
        await session.execute(text("ANALYZE bib_record"))
        await session.commit()
        # when it is searched, the sample says it is rare: the walk never runs, the GIN
        # index finds the one record
        plan = await window_plan(session, "жамиля")
        walk = subplan(plan, "CTE walk")
        assert walk is not None
        assert not any(s["Node Type"] == "Index Scan" for s in scans(walk))
        gin = subplan(plan, "CTE gin")
        assert gin is not None
        assert gin["Actual Rows"] == 1

    async def test_matches_the_standing_order_puts_last_are_not_walked_for(
        self, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given the catalogue, and 1,000 new editions about astronomy that the standing order
        # puts after every other record (no year, not open), and a walk bounded at 1,000
        # records (the hub's: 10,000)
        await seed_catalogue(session)
        titles = [f"Астрономия {n}" for n in range(1000)]
        await session.execute(
            text(
                "INSERT INTO bib_record (kind, title, language, words, folded) "
                "SELECT 'book', t, 'ru', t, f FROM unnest(CAST(:t AS text[]), CAST(:f AS text[])) "
                "AS x(t, f)"
            ),
            {"t": titles, "f": [fold(t) for t in titles]},
        )
        await session.commit()
        monkeypatch.setattr(search, "WALK", 1000)
        await session.execute(text("ANALYZE bib_record"))
        await session.commit()
        # when searched, the sample finds it common enough to walk (a quarter of the
        # catalogue), the walk passes its bound without a match, and the GIN index gives the
        # window: the first 201 in the standing order all the same
        plan = await window_plan(session, "астрономия")
        walk = subplan(plan, "CTE walk")
        gin = subplan(plan, "CTE gin")
        assert walk is not None
        assert gin is not None
        read = [s["Actual Rows"] for s in scans(walk) if s.get("Relation Name") == "bib_record"]
        assert read == [1000]
        assert walk["Actual Rows"] == 0
        assert gin["Actual Rows"] == search.WINDOW


class TestCounts:
    async def test_below_the_window_totals_and_facets_are_counted(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given twelve tales, three of them open to all, and other books
        for n in range(12):
            record = await make_record(session, title=f"Жомоктор {n}", authors=())
            if n < 3:
                await session.execute(
                    update(BibRecord).where(BibRecord.id == record.id).values(open_access=True)
                )
        await make_record(session, title="Манас", authors=())
        await session.commit()
        # when searched, the walk ends before the window fills: every count is exact
        data = await search_data(hub, "жомок")
        assert data["catalogue"]["totalCount"] == 12
        facets = data["catalogueFacets"]
        assert (facets["counted"], facets["exact"]) == (12, True)
        assert {f["value"]: f["count"] for f in facets["openAccess"]} == {"false": 9, "true": 3}

    async def test_above_the_window_totals_and_facets_are_estimated_and_flagged(
        self, hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given a thousand records about history among three thousand, and a sample of a
        # tenth of the catalogue (the hub's: 5,000 records)
        await seed_catalogue(session)
        monkeypatch.setattr(search, "SAMPLE_ROWS", RECORDS // 10)
        # when a reader searches the common word
        data = await search_data(hub, "тарых")
        # then the pages cover the window, and the total and the facets are estimated from
        # the sample, flagged inexact
        facets = data["catalogueFacets"]
        assert facets["exact"] is False
        assert 800 <= facets["counted"] <= 1200
        assert data["catalogue"]["totalCount"] == facets["counted"]
        assert facets["language"] == [{"value": "KY", "count": facets["counted"]}]
        shares = {f["value"]: f["count"] for f in facets["openAccess"]}
        assert shares["false"] > shares["true"] >= 1
        # and an estimate is never below what the window itself counted
        assert facets["counted"] >= search.WINDOW


class TestTyposStillForgiven:
    async def test_a_misspelt_word_among_known_ones_finds_the_book(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given Aitmatov's Jamila and another book
        await make_record(session, title="Жамиля", authors=("Чыңгыз Айтматов",))
        await make_record(session, title="Манас", authors=("Саякбай Каралаев",))
        await session.commit()
        # when a reader misspells the author beside the title (the search finds nothing as
        # typed, so its unknown word is widened to the catalogue's closest words)
        hub.counter.reset()
        data = await search_data(hub, "Жамиля Айтматоф")
        # then the book is found: the version, the window as typed, the neighbours, the
        # window again and the page
        assert [n["title"] for n in data["catalogue"]["nodes"]] == ["Жамиля"]
        assert hub.counter.count == 5
        # and a search the catalogue knows sends no neighbour statement
        hub.counter.reset()
        known = await search_data(hub, "Айтматов")
        assert [n["title"] for n in known["catalogue"]["nodes"]] == ["Жамиля"]
        assert hub.counter.count == 3

    async def test_a_word_close_to_nothing_finds_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await make_record(session, title="Жамиля", authors=())
        await session.commit()
        data = await search_data(hub, "Qwxzvbn")
        assert data["catalogue"]["nodes"] == []
        assert data["catalogueFacets"]["counted"] == 0
        assert data["catalogueFacets"]["exact"] is True


async def rank_of(session: AsyncSession, record_id: int) -> tuple[int | None, int]:
    row = (
        await session.execute(
            select(BibRecord.approved_year, BibRecord.rank_key).where(BibRecord.id == record_id)
        )
    ).one()
    return row.approved_year, row.rank_key


class TestRankKey:
    async def test_the_rank_key_follows_open_access_and_the_edition_year(
        self, session: AsyncSession
    ) -> None:
        # given a book of 2001
        book = await make_record(session, title="Ак кеме", year=2001)
        await session.commit()
        assert await rank_of(session, book.id) == (None, 2001)
        # when a file open to all makes it open access, and its year is corrected
        await session.execute(
            update(BibRecord).where(BibRecord.id == book.id).values(open_access=True, year=2003)
        )
        await session.commit()
        # then its key puts it among the records anyone may read, by the new year
        assert await rank_of(session, book.id) == (None, (1 << 24) + 2003)

    async def test_the_rank_key_follows_the_ministrys_approvals(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a textbook of 2020, never approved
        book = await make_textbook(session, grade=5, subject="Математика", year=2020)
        await session.commit()
        # when the ministry approves it for 2025 (through the graph) and then for 2026
        for year in (2025, 2026):
            data = await hub.data(
                APPROVE,
                {"input": {"recordId": gid("BibRecord", book.id), "schoolYear": year}},
                token=ministry,
            )
            assert data["approveTextbook"]["userErrors"] == []
        # then its key carries the latest year it is approved for
        assert await rank_of(session, book.id) == (2026, 2026 * 4096 + 2020)
        # when the 2026 approval is withdrawn (deleted), the key falls back to 2025
        approval = await session.scalar(
            select(TextbookApproval).where(
                TextbookApproval.record_id == book.id, TextbookApproval.school_year == 2026
            )
        )
        assert approval is not None
        await session.delete(approval)
        await session.commit()
        assert await rank_of(session, book.id) == (2025, 2025 * 4096 + 2020)
        # and an approval moved to another year moves the key
        await session.execute(
            update(TextbookApproval)
            .where(TextbookApproval.record_id == book.id)
            .values(school_year=2027)
        )
        await session.commit()
        assert await rank_of(session, book.id) == (2027, 2027 * 4096 + 2020)

    async def test_relevance_puts_a_record_anyone_may_read_first_when_words_match_alike(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two editions of one title, the older one open to all
        await make_record(session, title="Жамиля", authors=(), year=2019)
        older = await make_record(session, title="Жамиля", authors=(), year=1990)
        await session.execute(
            update(BibRecord).where(BibRecord.id == older.id).values(open_access=True)
        )
        await session.commit()
        # when searched, the words match both alike: the standing order decides
        ranked = await hub.data(
            'query { catalogue(search: "Жамиля", first: 2) { nodes { year openAccess } } }'
        )
        assert ranked["catalogue"]["nodes"] == [
            {"year": 1990, "openAccess": True},
            {"year": 2019, "openAccess": False},
        ]

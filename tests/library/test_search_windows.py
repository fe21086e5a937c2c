"""A search's window read once and kept per catalogue version (resolvers/library/windows.py):
a repeated search is answered from the worker's memory, any write to the catalogue's records
or approvals makes the next search read again, and pages by relevance keep the rank order
across cursors (S6: one catalogue searched by anyone)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Language, LibraryCatalogueVersion, TextbookApproval
from resolvers.library import CatalogueFilter, catalogue_query
from tests.conftest import Hub
from tests.library.factories import make_record, make_textbook

SEARCH = """
query($search: String, $filter: CatalogueFilterInput, $first: Int, $after: String) {
  catalogue(search: $search, filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { title }
  }
  catalogueFacets(search: $search, filter: $filter) { counted exact language { value count } }
}"""
CREATE = """
mutation($input: CreateBibRecordInput!) {
  createBibRecord(input: $input) { record { id } userErrors { code } }
}"""


async def search(hub: Hub, text: str, **variables: Any) -> tuple[dict[str, Any], int]:
    hub.counter.reset()
    data = await hub.data(SEARCH, {"search": text, **variables})
    return data, hub.counter.count


def titles(data: dict[str, Any]) -> list[str]:
    return [n["title"] for n in data["catalogue"]["nodes"]]


class TestKeptWindows:
    async def test_a_repeated_search_is_answered_from_the_kept_window(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given three Kyrgyz tales and a Russian one
        for n in range(3):
            await make_record(session, title=f"Жомоктор {n}")
        await make_record(session, title="Жомоктор орусча", language=Language.RU)
        await session.commit()
        # when anyone searches twice
        first, first_statements = await search(hub, "жомок", first=10)
        again, again_statements = await search(hub, "  жомок ", first=10)
        # then the first search reads the version, the window and the page; the second (the
        # same words, spaced otherwise) only the version and the page, and answers the same
        assert first_statements == 3
        assert again_statements == 2
        assert again == first
        assert first["catalogueFacets"]["counted"] == 4
        assert {f["value"]: f["count"] for f in first["catalogueFacets"]["language"]} == {
            "KY": 3,
            "RU": 1,
        }

    async def test_a_new_record_is_found_by_a_search_answered_before(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a search answered once, its window kept
        await make_record(session, title="Манас")
        await session.commit()
        before, _ = await search(hub, "манас", first=10)
        assert titles(before) == ["Манас"]
        # when the ministry catalogues another edition
        created = await hub.data(
            CREATE,
            {"input": {"kind": "BOOK", "title": "Манас (эпос)", "language": "KY"}},
            token=ministry,
        )
        assert created["createBibRecord"]["userErrors"] == []
        # then the catalogue's version changed and the same search reads again and finds it
        after, statements = await search(hub, "манас", first=10)
        assert statements == 3
        assert sorted(titles(after)) == ["Манас", "Манас (эпос)"]
        assert after["catalogueFacets"]["counted"] == 2

    async def test_an_approval_changes_a_search_filtered_by_approval(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a textbook not yet approved, searched by approval
        book = await make_textbook(session, grade=5, subject="Математика")
        await session.commit()
        flt = {"approvedFor": 2026}
        empty, _ = await search(hub, "математика", filter=flt, first=10)
        assert titles(empty) == []
        version = await session.scalar(select(LibraryCatalogueVersion.version))
        # when the ministry approves it for the year
        session.add(TextbookApproval(record_id=book.id, school_year=2026, approved_by="test"))
        await session.commit()
        # then the version changed and the search finds it
        assert await session.scalar(select(LibraryCatalogueVersion.version)) != version
        found, _ = await search(hub, "математика", filter=flt, first=10)
        assert titles(found) == ["Математика 5"]

    async def test_pages_by_relevance_follow_the_rank_across_cursors(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given books whose titles and authors say "тарых" (history) more or less often
        await make_record(session, title="Тарых", authors=("Тарыхчы Тарыхов",))
        await make_record(session, title="Кыргыз тарыхы", authors=())
        await make_record(session, title="Тарых тарыхы: тарых жөнүндө", authors=())
        await make_record(session, title="Ата журт тарыхы жана жери", authors=("Тарыхов",))
        await make_record(session, title="Тоолор", authors=("Тарыхов",))
        await session.commit()
        # when a reader pages through the search two at a time
        seen: list[str] = []
        after = None
        while True:
            data, _ = await search(hub, "тарых", first=2, after=after)
            seen += titles(data)
            info = data["catalogue"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        # then the pages hold every match once, in the order the statement itself ranks them
        stmt, ordering = catalogue_query("тарых", CatalogueFilter(), "RELEVANCE")
        ranked = stmt.order_by(*ordering.clauses())
        expected = [r.title for r in (await session.execute(ranked)).all()]
        assert len(expected) == 5
        assert seen == expected
        total = await hub.data('query { catalogue(search: "тарых", first: 1) { totalCount } }')
        assert total["catalogue"]["totalCount"] == 5

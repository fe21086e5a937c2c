"""A repeated catalogue search is answered from the worker's kept answers before GraphQL runs
(schema/http/kept.py): one statement (the catalogue's version), never across caller classes,
never after a catalogue write, never for fields that depend on the caller, and within a
bounded memory (S6: one catalogue searched by anyone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Language
from resolvers.access import Role
from resolvers.access.keys import load_pepper
from resolvers.settings import Settings
from schema.http.kept import Kept, KeptAnswers
from tests.conftest import Hub
from tests.factories import make_api_key, make_person
from tests.library.factories import make_record

PORTAL_SEARCH = (
    Path(__file__).resolve().parents[2] / "portals" / "lib-kg" / "CatalogueSearch.graphql"
).read_text()
WITH_FILES = """
query($search: String) {
  catalogue(search: $search, first: 5) { nodes { title files { id } } }
}"""
CREATE = """
mutation($input: CreateBibRecordInput!) {
  createBibRecord(input: $input) { record { id } userErrors { code } }
}"""


async def search(
    hub: Hub, text: str, *, token: str | None = None, query: str = PORTAL_SEARCH
) -> tuple[dict[str, Any], int]:
    hub.counter.reset()
    body = await hub.gql(query, {"search": text}, token=token)
    assert "errors" not in body, body
    return body, hub.counter.count


def titles(body: dict[str, Any]) -> list[str]:
    return sorted(n["title"] for n in body["data"]["catalogue"]["nodes"])


async def tales(session: AsyncSession) -> None:
    for n in range(3):
        await make_record(session, title=f"Жомоктор {n}")
    await make_record(session, title="Жомоктор орусча", language=Language.RU)
    await session.commit()


class TestKeptAnswers:
    async def test_a_repeated_search_is_answered_before_graphql_runs(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a catalogue of tales searched once by an anonymous reader
        await tales(session)
        first, first_statements = await search(hub, "жомок")
        # when another anonymous reader sends the same search
        again, again_statements = await search(hub, "жомок")
        # then the first read the version, the window and the page; the second only the
        # version, and got the same data with its own cost report, its budget charged
        assert first_statements == 3
        assert again_statements == 1
        assert again["data"] == first["data"]
        assert len(first["data"]["catalogue"]["nodes"]) == 4
        cost, kept_cost = first["extensions"]["cost"], again["extensions"]["cost"]
        assert kept_cost["requested"] == cost["requested"]
        assert kept_cost["remaining"] == cost["remaining"] - cost["requested"]

    async def test_a_catalogue_write_makes_the_next_search_fresh(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a search answered and kept
        await tales(session)
        await search(hub, "жомок")
        _, kept_statements = await search(hub, "жомок")
        assert kept_statements == 1
        # when the ministry catalogues another tale (the trigger changes the version)
        created = await hub.data(
            CREATE,
            {"input": {"kind": "BOOK", "title": "Жомоктор жаңы", "language": "KY"}},
            token=ministry,
        )
        assert created["createBibRecord"]["userErrors"] == []
        # then the same search runs again and finds it, and is kept anew
        after, statements = await search(hub, "жомок")
        assert statements == 3
        assert "Жомоктор жаңы" in titles(after)
        _, again = await search(hub, "жомок")
        assert again == 1

    async def test_a_signed_in_reader_never_gets_an_anonymous_answer(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a search kept for anonymous callers
        await tales(session)
        anonymous, _ = await search(hub, "жомок")
        person = await make_person(session)
        await session.commit()
        reader = hub.token(Role.PUPIL, person_id=person.id)
        # when a signed-in pupil sends it, twice
        theirs, statements = await search(hub, "жомок", token=reader)
        _, again = await search(hub, "жомок", token=reader)
        # then the pupil's first search runs (its own class: the version and the page, the
        # search's window being the worker's already), the second is kept for readers
        assert statements == 2
        assert again == 1
        assert theirs["data"] == anonymous["data"]

    async def test_a_partner_key_always_runs_its_search(
        self, hub: Hub, session: AsyncSession, settings: Settings
    ) -> None:
        # given a search kept for anonymous callers, and a partner whose key may read the
        # catalogue
        await tales(session)
        await search(hub, "жомок")
        _, key = await make_api_key(
            session,
            pepper=load_pepper(settings),
            allowed_fields=[
                "Query.catalogue",
                "Query.catalogueFacets",
                "BibRecord.*",
                "CatalogueFacets.*",
                "FacetCount.*",
            ],
        )
        await session.commit()
        # when the partner sends the same search twice
        counts = []
        for _ in range(2):
            hub.counter.reset()
            response = await hub.client.post(
                "/graphql",
                json={"query": PORTAL_SEARCH, "variables": {"search": "жомок"}},
                headers={"X-Api-Key": key},
            )
            assert "errors" not in response.json(), response.text
            counts.append(hub.counter.count)
        # then both run (its grant, subgraph and audit are its own): never a kept answer
        assert min(counts) > 1

    async def test_fields_that_depend_on_the_caller_are_never_kept(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a search asking for each record's files (which depend on who asks)
        await tales(session)
        await search(hub, "жомок", query=WITH_FILES)
        # when it is sent again
        _, statements = await search(hub, "жомок", query=WITH_FILES)
        # then it runs again: only catalogue-only fields are kept
        assert statements > 1

    async def test_another_search_or_page_is_not_the_kept_one(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a kept search
        await tales(session)
        await search(hub, "жомок")
        # when the reader searches other words
        other, statements = await search(hub, "орусча")
        # then that search runs and answers its own records
        assert statements == 3
        assert titles(other) == ["Жомоктор орусча"]


class TestKeptAnswersAreBounded:
    def test_the_least_recently_used_answer_leaves_first(self) -> None:
        answers = KeptAnswers(max_answers=2, max_bytes=10_000)
        for n in range(3):
            answers.put(("k", n), Kept(b"{}", 1, 1, None))
        assert list(answers.kept) == [("k", 1), ("k", 2)]

    def test_kept_bytes_stay_under_the_bound(self) -> None:
        answers = KeptAnswers(max_answers=100, max_bytes=250)
        for n in range(5):
            answers.put(("k", n), Kept(b"x" * 100, 1, 1, None))
        assert answers.bytes <= 250
        assert list(answers.kept) == [("k", 3), ("k", 4)]
        # an answer larger than the whole bound is not kept at all
        answers.put(("big",), Kept(b"x" * 300, 1, 1, None))
        assert ("big",) not in answers.kept
        assert answers.bytes == 200

    def test_a_used_answer_is_kept_longer(self) -> None:
        answers = KeptAnswers(max_answers=2, max_bytes=10_000)
        answers.put(("a",), Kept(b"1", 1, 1, None))
        answers.put(("b",), Kept(b"2", 1, 1, None))
        assert answers.get(("a",)) is not None
        answers.put(("c",), Kept(b"3", 1, 1, None))
        assert set(answers.kept) == {("a",), ("c",)}

"""The one catalogue: records added by librarians and the ministry, searched by anyone in
Kyrgyz, Russian and English (Cyrillic or Latin, with typos), with counts per filter value;
digital files stored by content and read through signed links (S6: textbooks in Kyrgyz,
Russian, Uzbek and Tajik plus a general collection; S1: textbooks name a grade of the
12-year standard)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibFile, BibRecord, FileObject, Language
from resolvers.access import Role
from resolvers.library import search
from tests.conftest import Hub
from tests.factories import gid, make_enrollment, make_institution, make_person
from tests.library.factories import make_record, make_textbook

CREATE = """
mutation($input: CreateBibRecordInput!) {
  createBibRecord(input: $input) { record { id title isbn kind grade } userErrors { field code message } }
}"""
SEARCH = """
query($search: String, $filter: CatalogueFilterInput) {
  catalogue(search: $search, filter: $filter, first: 10) { totalCount nodes { title } }
}"""
FACETS = """
query($search: String) {
  catalogueFacets(search: $search) { language { value count } kind { value count } openAccess { value count } }
}"""
COUNTED = """
query($search: String, $filter: CatalogueFilterInput) {
  catalogueFacets(search: $search, filter: $filter) { counted exact language { value count } }
}"""
ATTACH = """
mutation($input: AttachBibFileInput!) {
  attachBibFile(input: $input) { file { id format access downloadUrl } userErrors { field code } }
}"""
RECORD_FILES = """
query($id: ID!) { node(id: $id) { ... on BibRecord { openAccess files { id access downloadUrl } } } }
"""
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 200


async def titles(hub: Hub, search: str, **filters: object) -> list[str]:
    data = await hub.data(SEARCH, {"search": search, "filter": filters or None})
    return [n["title"] for n in data["catalogue"]["nodes"]]


async def upload(hub: Hub, token: str, variables: dict[str, object], content: bytes) -> dict:
    operations = json.dumps({"query": ATTACH, "variables": variables})
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("book.pdf", io.BytesIO(content), "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["attachBibFile"]


class TestCreateBibRecord:
    async def test_librarian_adds_a_textbook_to_the_catalogue(self, hub: Hub) -> None:
        # given a school librarian
        librarian = hub.token(Role.LIBRARIAN, scopes=["institution:1"])
        # when they add a textbook with a hyphenated ISBN-13
        data = await hub.data(
            CREATE,
            {
                "input": {
                    "kind": "TEXTBOOK",
                    "title": "Математика 5",
                    "language": "KY",
                    "isbn": "978-9967-00-123-7",
                    "grade": 5,
                    "schoolSubject": "Математика",
                    "curriculum": "TWELVE_YEAR",
                }
            },
            token=librarian,
        )
        # then it is in the catalogue, the ISBN without hyphens
        payload = data["createBibRecord"]
        assert payload["userErrors"] == []
        assert payload["record"]["isbn"] == "9789967001237"

    async def test_a_bad_isbn_is_refused_and_nothing_written(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        data = await hub.data(
            CREATE,
            {
                "input": {
                    "kind": "BOOK",
                    "title": "Жамиля",
                    "language": "KY",
                    "isbn": "978-0-00-000000-1",
                }
            },
            token=ministry,
        )
        assert data["createBibRecord"]["userErrors"][0]["code"] == "INVALID_ISBN"
        assert await session.scalar(select(func.count()).select_from(BibRecord)) == 0

    async def test_a_second_record_with_one_isbn_is_refused(self, hub: Hub, ministry: str) -> None:
        book = {"kind": "BOOK", "title": "Жамиля", "language": "KY", "isbn": "9785170900121"}
        ok = await hub.data(CREATE, {"input": book}, token=ministry)
        assert ok["createBibRecord"]["userErrors"] == []
        again = await hub.data(CREATE, {"input": book}, token=ministry)
        assert again["createBibRecord"]["userErrors"][0]["code"] == "DUPLICATE_ISBN"

    async def test_only_textbooks_have_a_grade(self, hub: Hub, ministry: str) -> None:
        data = await hub.data(
            CREATE,
            {"input": {"kind": "BOOK", "title": "Ак кеме", "language": "KY", "grade": 5}},
            token=ministry,
        )
        assert data["createBibRecord"]["userErrors"][0]["code"] == "NOT_A_TEXTBOOK"

    async def test_a_pupil_cannot_add_records(self, hub: Hub) -> None:
        pupil = hub.token(Role.PUPIL, person_id=1)
        data = await hub.data(
            CREATE, {"input": {"kind": "BOOK", "title": "x", "language": "KY"}}, token=pupil
        )
        assert data["createBibRecord"]["userErrors"][0]["code"] == "FORBIDDEN"


class TestSearch:
    async def test_russian_words_are_found_in_any_form(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a Russian book whose title says "книги" (plural)
        await make_record(
            session, title="Детские книги Кыргызстана", language=Language.RU, authors=()
        )
        await make_record(session, title="Алгебра", language=Language.RU, authors=())
        await session.commit()
        # when someone searches the singular, then the stemmer finds it
        assert await titles(hub, "книга") == ["Детские книги Кыргызстана"]

    async def test_english_words_are_stemmed(self, hub: Hub, session: AsyncSession) -> None:
        await make_record(session, title="Stories for children", language=Language.EN, authors=())
        await session.commit()
        assert await titles(hub, "child story") == ["Stories for children"]

    async def test_cyrillic_and_latin_spellings_of_kyrgyz_find_the_same_book(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given Aitmatov's novel catalogued in Kyrgyz Cyrillic
        await make_record(session, title="Кылым карытар бир күн", authors=("Чыңгыз Айтматов",))
        await make_record(session, title="Манас", authors=("Саякбай Каралаев",))
        await session.commit()
        # when readers type his name in Cyrillic or in either Latin spelling
        for spelling in ("Айтматов", "Chyngyz Aitmatov", "Chingiz Aytmatov", "kylym"):
            # then they find the same book
            assert await titles(hub, spelling) == ["Кылым карытар бир күн"], spelling

    async def test_kyrgyz_endings_do_not_hide_a_book(self, hub: Hub, session: AsyncSession) -> None:
        # given a title with a suffixed word ("китептер", books)
        await make_record(session, title="Балдар үчүн китептер", authors=())
        await session.commit()
        # when searched by the stem ("китеп", book) then the prefix match finds it
        assert await titles(hub, "китеп") == ["Балдар үчүн китептер"]

    async def test_a_typo_still_finds_the_book(self, hub: Hub, session: AsyncSession) -> None:
        await make_record(session, title="Жамиля", authors=("Чыңгыз Айтматов",))
        await session.commit()
        assert await titles(hub, "Айтматоф") == ["Жамиля"]

    async def test_filters_narrow_and_facets_count_per_value(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two Kyrgyz mathematics textbooks and a Russian one
        await make_textbook(session, grade=5, subject="Математика")
        await make_textbook(session, grade=6, subject="Математика")
        await make_textbook(
            session, grade=5, subject="Математика", language=Language.RU, title="Математика 5 класс"
        )
        await session.commit()
        # when filtered by language and grade
        assert await titles(hub, "математика", language="KY", grade=5) == ["Математика 5"]
        # then the facets count the whole search per value
        data = await hub.data(FACETS, {"search": "математика"})
        facets = data["catalogueFacets"]
        assert {f["value"]: f["count"] for f in facets["language"]} == {"KY": 2, "RU": 1}
        assert facets["kind"] == [{"value": "TEXTBOOK", "count": 3}]
        assert facets["openAccess"] == [{"value": "false", "count": 3}]

    async def test_past_the_window_a_search_estimates_its_counts_and_says_so(
        self, hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given a window of 3 matches (the hub's is 201) and five books on one subject
        monkeypatch.setattr(search, "CAP", 2)
        monkeypatch.setattr(search, "WINDOW", 3)
        for n in range(4):
            await make_record(session, title=f"Тарых {n}", language=Language.KY)
        await make_record(session, title="Тарых 4", language=Language.RU)
        await session.commit()
        # when anyone searches, the walk stops at the window: the pages cover its three
        # records, and the total and the facets are estimated from a sample of the catalogue,
        # flagged inexact (a catalogue this small is sampled whole: the estimate is the count)
        data = await hub.data(SEARCH, {"search": "тарых"})
        assert data["catalogue"]["totalCount"] == 5
        assert len(data["catalogue"]["nodes"]) == 3
        facets = (await hub.data(COUNTED, {"search": "тарых"}))["catalogueFacets"]
        assert (facets["counted"], facets["exact"]) == (5, False)
        assert {f["value"]: f["count"] for f in facets["language"]} == {"KY": 4, "RU": 1}
        # and narrowed to Russian, the one match is counted exactly
        narrowed = await hub.data(COUNTED, {"search": "тарых", "filter": {"language": "RU"}})
        assert narrowed["catalogueFacets"]["counted"] == 1
        assert narrowed["catalogueFacets"]["exact"] is True

    async def test_a_long_search_is_a_request_error(self, hub: Hub) -> None:
        body = await hub.gql(SEARCH, {"search": "x" * 500})
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


class TestDigitalFiles:
    async def test_an_open_pdf_makes_the_record_open_access_and_downloads_for_anyone(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a record
        record = await make_record(session, title="Алиппе")
        await session.commit()
        # when the ministry attaches a PDF open to all under CC BY
        payload = await upload(
            hub,
            ministry,
            {
                "input": {
                    "recordId": gid("BibRecord", record.id),
                    "access": "OPEN",
                    "licence": "CC BY 4.0",
                    "file": None,
                }
            },
            PDF,
        )
        # then it is stored by content, the record is open access ...
        assert payload["userErrors"] == []
        assert payload["file"]["format"] == "PDF"
        data = await hub.data(RECORD_FILES, {"id": gid("BibRecord", record.id)})
        assert data["node"]["openAccess"] is True
        # ... and an anonymous reader downloads it through the signed link
        link = data["node"]["files"][0]["downloadUrl"]
        response = await hub.client.get(link)
        assert response.status_code == 200
        assert response.content == PDF

    async def test_a_file_that_is_not_what_it_says_is_refused_and_nothing_written(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        record = await make_record(session, title="Алиппе")
        await session.commit()
        # when a zip that is not an EPUB (nor a PDF) is sent as a PDF
        fake = io.BytesIO()
        with zipfile.ZipFile(fake, "w") as archive:
            archive.writestr("readme.txt", "hello")
        payload = await upload(
            hub,
            ministry,
            {"input": {"recordId": gid("BibRecord", record.id), "access": "OPEN", "file": None}},
            b"MZ\x90\x00" + bytes(200),
        )
        # then INVALID_FILE, and no file row nor stored object
        assert payload["userErrors"][0]["code"] == "INVALID_FILE"
        assert await session.scalar(select(func.count()).select_from(BibFile)) == 0
        assert await session.scalar(select(func.count()).select_from(FileObject)) == 0

    async def test_an_institution_file_is_read_only_by_its_people(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a file restricted to one school, a pupil there and a pupil elsewhere
        school, other = await make_institution(session), await make_institution(session)
        inside, outside = await make_person(session), await make_person(session)
        await make_enrollment(session, person=inside, institution=school, grade_level=5)
        await make_enrollment(session, person=outside, institution=other, grade_level=5)
        record = await make_record(session, title="Физика 9")
        await session.commit()
        payload = await upload(
            hub,
            ministry,
            {
                "input": {
                    "recordId": gid("BibRecord", record.id),
                    "access": "INSTITUTION",
                    "institutionId": gid("Institution", school.id),
                    "file": None,
                }
            },
            PDF,
        )
        assert payload["userErrors"] == []

        # when each reads the record
        async def files_for(token: str | None) -> dict[str, Any]:
            return await hub.data(RECORD_FILES, {"id": gid("BibRecord", record.id)}, token=token)

        seen_inside = await files_for(hub.token(Role.PUPIL, person_id=inside.id))
        seen_outside = await files_for(hub.token(Role.PUPIL, person_id=outside.id))
        seen_anonymous = await files_for(None)
        # then only the school's pupil sees (and may download) the file
        assert len(seen_inside["node"]["files"]) == 1
        assert seen_outside["node"]["files"] == []
        assert seen_anonymous["node"]["files"] == []
        assert seen_inside["node"]["openAccess"] is False

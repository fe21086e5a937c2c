"""Every operation of the librarian's desk (portals/library) and the public e-library
(portals/lib-kg) succeeds within a pinned number of SQL statements, whatever the number of
rows it reads."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Language
from resolvers import clock
from resolvers.access import Role
from resolvers.library import school_year_of
from tests.conftest import Hub
from tests.factories import gid, make_enrollment, make_institution, make_person
from tests.library.factories import make_items, make_record, make_textbook

PORTALS = Path(__file__).resolve().parents[2] / "portals"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 100


def document(name: str) -> str:
    return (PORTALS / f"{name}.graphql").read_text()


# The most SQL statements each operation may send (mutations include their savepoint and
# audit row), however many rows it reads.
STATEMENT_BUDGET = {
    "library/CreateBibRecord": 5,
    "library/ApproveTextbook": 8,
    "library/AttachBibFile": 7,
    "library/AddLibraryItems": 7,
    "library/CheckOutItem": 6,
    "library/RenewLoan": 7,
    "library/PlaceHold": 12,
    "library/ReturnItem": 13,
    "library/CancelHold": 9,
    "library/IssueTextbooks": 12,
    "library/LibraryItems": 5,
    "library/Loans": 5,
    "library/Holds": 5,
    "library/TextbookProvision": 6,
    # The catalogue's version, the search's window and the page; a search already read for this
    # version of the catalogue sends 2 (tests/library/test_search_windows.py).
    "lib-kg/CatalogueSearch": 3,
    "lib-kg/BibRecordPage": 6,
}


async def run(hub: Hub, name: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    hub.counter.reset()
    body = await hub.gql(document(name), variables, token=token)
    assert "errors" not in body, (name, body)
    assert hub.counter.count <= STATEMENT_BUDGET[name], (
        name,
        hub.counter.count,
        hub.counter.statements,
    )
    for payload in body["data"].values():
        if isinstance(payload, dict) and "userErrors" in payload:
            assert payload["userErrors"] == [], (name, payload)
    return body["data"]


async def upload(hub: Hub, token: str, variables: dict[str, Any]) -> dict[str, Any]:
    hub.counter.reset()
    operations = json.dumps({"query": document("library/AttachBibFile"), "variables": variables})
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("alippe.pdf", io.BytesIO(PDF), "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert body["data"]["attachBibFile"]["userErrors"] == [], body
    assert hub.counter.count <= STATEMENT_BUDGET["library/AttachBibFile"], hub.counter.statements
    return body["data"]


async def test_every_library_portal_operation_within_its_statement_budget(
    hub: Hub, ministry: str, session: AsyncSession
) -> None:
    # given a school with a class of pupils, a stocked library and a busy catalogue
    year = school_year_of(clock.today())
    school = await make_institution(session, languages=["ky"])
    pupils = [await make_person(session) for _ in range(8)]
    for pupil in pupils:
        await make_enrollment(
            session, person=pupil, institution=school, grade_level=5, class_group="5А"
        )
    for i in range(12):
        record = await make_record(session, title=f"Жомок {i}", language=Language.KY)
        await make_items(session, record=record, institution=school, count=2)
    textbook = await make_textbook(
        session, approved_for=year, title="Кыргыз тили 5", subject="Кыргыз тили"
    )
    await make_items(session, record=textbook, institution=school, count=6)
    await session.commit()
    librarian = hub.token(Role.LIBRARIAN, scopes=[f"institution:{school.id}"])
    inst = gid("Institution", school.id)

    # the catalogue: a record, approved, with an open file, copies added
    created = await run(
        hub,
        "library/CreateBibRecord",
        {
            "input": {
                "kind": "TEXTBOOK",
                "title": "Алиппе",
                "language": "KY",
                "grade": 1,
                "schoolSubject": "Алиппе",
            }
        },
        ministry,
    )
    alippe = created["createBibRecord"]["record"]["id"]
    await run(
        hub,
        "library/ApproveTextbook",
        {"input": {"recordId": alippe, "schoolYear": year}},
        ministry,
    )
    await upload(
        hub,
        ministry,
        {"input": {"recordId": alippe, "access": "OPEN", "licence": "CC BY 4.0", "file": None}},
    )
    book = await make_record(session, title="Ак кеме", language=Language.KY)
    await session.commit()
    added = await run(
        hub,
        "library/AddLibraryItems",
        {
            "input": {
                "recordId": gid("BibRecord", book.id),
                "institutionId": inst,
                "barcodes": ["AK-1"],
            }
        },
        librarian,
    )
    assert added["addLibraryItems"]["items"][0]["status"] == "AVAILABLE"

    # the desk: lend, renew, another pupil waits, the book comes back, the hold is cancelled
    lent = await run(
        hub,
        "library/CheckOutItem",
        {
            "input": {
                "institutionId": inst,
                "barcode": "AK-1",
                "personId": gid("Person", pupils[0].id),
            }
        },
        librarian,
    )
    await run(
        hub,
        "library/RenewLoan",
        {"input": {"loanId": lent["checkOutItem"]["loan"]["id"]}},
        librarian,
    )
    held = await run(
        hub,
        "library/PlaceHold",
        {
            "input": {
                "recordId": gid("BibRecord", book.id),
                "institutionId": inst,
                "personId": gid("Person", pupils[1].id),
            }
        },
        librarian,
    )
    issued = await run(
        hub,
        "library/IssueTextbooks",
        {
            "input": {
                "institutionId": inst,
                "grade": 5,
                "classGroup": "5А",
                "recordIds": [gid("BibRecord", textbook.id)],
            }
        },
        librarian,
    )
    assert issued["issueTextbooks"]["issue"]["titles"][0]["short"] == 2

    # the lists the librarian reads, with rows on them
    items = await run(hub, "library/LibraryItems", {"institutionId": inst}, librarian)
    assert items["libraryItems"]["totalCount"] == 31
    loans = await run(hub, "library/Loans", {"institutionId": inst}, librarian)
    assert loans["loans"]["totalCount"] == 7
    holds = await run(hub, "library/Holds", {"institutionId": inst}, librarian)
    assert holds["holds"]["nodes"][0]["queuePosition"] == 1
    report = await run(
        hub,
        "library/TextbookProvision",
        {"filter": {"institutionId": inst}, "by": "TITLE"},
        librarian,
    )
    assert report["textbookProvision"]["total"]["needed"] == 8

    # the public e-library
    found = await run(hub, "lib-kg/CatalogueSearch", {"search": "жомок"}, None)
    assert found["catalogueFacets"]["counted"] == 12
    assert found["catalogueFacets"]["exact"] is True
    page = await run(hub, "lib-kg/BibRecordPage", {"recordId": alippe}, None)
    assert page["node"]["files"][0]["downloadUrl"]
    shelf = await run(
        hub, "lib-kg/BibRecordPage", {"recordId": gid("BibRecord", textbook.id)}, None
    )
    assert shelf["node"]["holdings"]["nodes"][0]["held"] == 6

    returned = await run(
        hub, "library/ReturnItem", {"input": {"institutionId": inst, "barcode": "AK-1"}}, librarian
    )
    assert returned["returnItem"]["loan"]["item"]["status"] == "ON_HOLD_SHELF"
    await run(
        hub, "library/CancelHold", {"input": {"holdId": held["placeHold"]["hold"]["id"]}}, librarian
    )

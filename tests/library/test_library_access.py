"""Loans, holds and a library's own digital files through ``node``/``nodes``: a stranger
(anonymous, another family, another school's pupil or librarian) finds none of them; the
borrower, their guardian and the library's staff find theirs (P3: a borrower is the one
person row, read only by that person, their guardian and the lending library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibFile, FileAccess, FileFormat, FileObject, Hold, Loan
from resolvers import clock
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_enrollment, make_family, make_institution
from tests.library.factories import make_items, make_record

NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


@dataclass
class Shelf:
    school: int
    other_school: int
    mother: int
    child: int
    other_mother: int
    other_child: int
    ids: dict[str, str]


@pytest.fixture
async def shelf(session: AsyncSession) -> Shelf:
    """A pupil's open loan and hold at their school, and a file only that school's people
    read; another family's child at another school."""
    school, other = await make_institution(session), await make_institution(session)
    mother, (child,) = await make_family(session)
    other_mother, (other_child,) = await make_family(session)
    await make_enrollment(session, person=child, institution=school, grade_level=5)
    await make_enrollment(session, person=other_child, institution=other, grade_level=5)
    lent = await make_record(session, title="Ак кеме")
    wanted = await make_record(session, title="Жамийла")
    (item,) = await make_items(session, record=lent, institution=school)
    loan = Loan(
        item_id=item.id,
        record_id=lent.id,
        institution_id=school.id,
        person_id=child.id,
        due_on=clock.today() + timedelta(days=14),
    )
    hold = Hold(record_id=wanted.id, institution_id=school.id, person_id=child.id)
    session.add(FileObject(sha256="ab" * 32, size_bytes=10, media_type="application/pdf"))
    await session.flush()
    file = BibFile(
        record_id=lent.id,
        sha256="ab" * 32,
        format=FileFormat.PDF,
        size_bytes=10,
        access=FileAccess.INSTITUTION,
        institution_id=school.id,
        filename="ak-keme.pdf",
    )
    session.add_all([loan, hold, file])
    await session.flush()
    await session.commit()
    return Shelf(
        school=school.id,
        other_school=other.id,
        mother=mother.id,
        child=child.id,
        other_mother=other_mother.id,
        other_child=other_child.id,
        ids={
            "Loan": gid("Loan", loan.id),
            "Hold": gid("Hold", hold.id),
            "BibFile": gid("BibFile", file.id),
        },
    )


async def found(hub: Hub, shelf: Shelf, token: str | None) -> tuple[dict, list]:
    by_node = {
        kind: (await hub.data(NODE, {"id": ident}, token=token))["node"]
        for kind, ident in shelf.ids.items()
    }
    by_nodes = (await hub.data(NODES, {"ids": list(shelf.ids.values())}, token=token))["nodes"]
    return by_node, by_nodes


class TestStrangersCannotReadLoansHoldsOrFiles:
    @pytest.mark.parametrize("stranger", ["anonymous", "other_family", "other_pupil", "other_lib"])
    async def test_node_and_nodes_answer_null(self, hub: Hub, shelf: Shelf, stranger: str) -> None:
        # given a caller with no tie to the borrower or the school
        token = {
            "anonymous": None,
            "other_family": hub.token(Role.GUARDIAN, person_id=shelf.other_mother),
            "other_pupil": hub.token(Role.PUPIL, person_id=shelf.other_child),
            "other_lib": hub.token(Role.LIBRARIAN, scopes=[f"institution:{shelf.other_school}"]),
        }[stranger]

        # when
        by_node, by_nodes = await found(hub, shelf, token)

        # then
        assert by_node == dict.fromkeys(shelf.ids)
        assert by_nodes == [None] * len(shelf.ids)

    @pytest.mark.parametrize("reader", ["guardian", "pupil", "librarian"])
    async def test_the_borrower_and_the_library_read_them(
        self, hub: Hub, shelf: Shelf, reader: str
    ) -> None:
        # given the borrower, their guardian or the school's librarian
        token = {
            "guardian": hub.token(Role.GUARDIAN, person_id=shelf.mother),
            "pupil": hub.token(Role.PUPIL, person_id=shelf.child),
            "librarian": hub.token(Role.LIBRARIAN, scopes=[f"institution:{shelf.school}"]),
        }[reader]

        # when
        by_node, by_nodes = await found(hub, shelf, token)

        # then the loan and hold are theirs; the school's file is the pupil's and the
        # librarian's (a guardian is not one of the school's people)
        readable = {"Loan", "Hold", "BibFile"} if reader != "guardian" else {"Loan", "Hold"}
        assert {k for k, v in by_node.items() if v is not None} == readable
        assert {n["id"] for n in by_nodes if n} == {shelf.ids[k] for k in readable}

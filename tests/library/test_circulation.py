"""A library's desk: lending copies to the institution's own people, taking them back,
renewals, holds with a queue per title, and the overdue and hold-expiry jobs (P3: a
borrower is the one person row, a pupil or a member of staff by their open enrollment or
post)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Hold,
    HoldStatus,
    ItemStatus,
    LibraryHolding,
    LibraryItem,
    LibraryPolicy,
    Loan,
)
from resolvers import clock
from resolvers.access import Role
from resolvers.library import run_library_jobs
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_enrollment,
    make_institution,
    make_person,
    make_staff_position,
)
from tests.library.factories import make_items, make_record

CHECK_OUT = """
mutation($input: CheckOutItemInput!) {
  checkOutItem(input: $input) { loan { id dueOn borrower { id } item { status } } userErrors { field code } }
}"""
RETURN = """
mutation($input: ReturnItemInput!) { returnItem(input: $input) { loan { returnedAt } userErrors { code } } }
"""
RENEW = """
mutation($input: RenewLoanInput!) { renewLoan(input: $input) { loan { dueOn renewals } userErrors { code } } }
"""
PLACE_HOLD = """
mutation($input: PlaceHoldInput!) { placeHold(input: $input) { hold { id status queuePosition } userErrors { code } } }
"""
CANCEL_HOLD = """
mutation($input: CancelHoldInput!) { cancelHold(input: $input) { hold { status } userErrors { code } } }
"""
LOANS = """
query($filter: LoanFilterInput) { loans(filter: $filter, first: 50) { totalCount nodes { id borrower { id } } } }
"""


@pytest.fixture
async def desk(session: AsyncSession) -> dict:
    """A school library with a title of one copy, a pupil and a teacher there, and a pupil
    of another school."""
    school, other = await make_institution(session), await make_institution(session)
    pupil, teacher, stranger = [await make_person(session) for _ in range(3)]
    await make_enrollment(session, person=pupil, institution=school, grade_level=5)
    await make_staff_position(session, person=teacher, institution=school)
    await make_enrollment(session, person=stranger, institution=other, grade_level=5)
    record = await make_record(session, title="Ак кеме", authors=("Чыңгыз Айтматов",))
    (item,) = await make_items(session, record=record, institution=school)
    await session.commit()
    return {
        "school": school,
        "pupil": pupil,
        "teacher": teacher,
        "stranger": stranger,
        "record": record,
        "item": item,
    }


def lend(desk: dict, person: object, barcode: str | None = None) -> dict:
    return {
        "input": {
            "institutionId": gid("Institution", desk["school"].id),
            "barcode": barcode or desk["item"].barcode,
            "personId": gid("Person", person.id),  # type: ignore[attr-defined]
        }
    }


def librarian_of(hub: Hub, desk: dict) -> str:
    return hub.token(Role.LIBRARIAN, scopes=[f"institution:{desk['school'].id}"])


async def open_loans(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Loan.returned_at.is_(None))) or 0)


class TestCheckOutItem:
    async def test_librarian_lends_a_copy_to_a_pupil_of_the_school(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        data = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=librarian_of(hub, desk))
        payload = data["checkOutItem"]
        assert payload["userErrors"] == []
        # the default policy lends for 14 days; the borrower is readable by the librarian
        assert payload["loan"]["dueOn"] == (clock.today() + timedelta(days=14)).isoformat()
        assert payload["loan"]["borrower"]["id"] == gid("Person", desk["pupil"].id)
        assert payload["loan"]["item"]["status"] == "ON_LOAN"
        counts = (
            await session.execute(
                select(LibraryHolding.held, LibraryHolding.on_loan, LibraryHolding.available)
            )
        ).one()
        assert tuple(counts) == (1, 1, 0)

    async def test_staff_borrow_too(self, hub: Hub, desk: dict) -> None:
        data = await hub.data(CHECK_OUT, lend(desk, desk["teacher"]), token=librarian_of(hub, desk))
        assert data["checkOutItem"]["userErrors"] == []

    async def test_an_unknown_barcode_is_refused(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        data = await hub.data(
            CHECK_OUT, lend(desk, desk["pupil"], "NOPE-1"), token=librarian_of(hub, desk)
        )
        assert data["checkOutItem"]["userErrors"] == [
            {"field": "barcode", "code": "UNKNOWN_BARCODE"}
        ]
        assert await open_loans(session) == 0

    async def test_someone_not_enrolled_there_cannot_borrow(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        data = await hub.data(
            CHECK_OUT, lend(desk, desk["stranger"]), token=librarian_of(hub, desk)
        )
        assert data["checkOutItem"]["userErrors"] == [
            {"field": "personId", "code": "BORROWER_NOT_ELIGIBLE"}
        ]
        assert await open_loans(session) == 0

    async def test_a_second_loan_of_one_copy_is_refused(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        data = await hub.data(CHECK_OUT, lend(desk, desk["teacher"]), token=token)
        assert data["checkOutItem"]["userErrors"][0]["code"] == "ITEM_ON_LOAN"
        assert await open_loans(session) == 1

    async def test_a_librarian_of_another_school_may_not_lend_here(
        self, hub: Hub, desk: dict
    ) -> None:
        other = hub.token(Role.LIBRARIAN, scopes=[f"institution:{desk['school'].id + 1000}"])
        data = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=other)
        assert data["checkOutItem"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_concurrent_checkouts_of_the_last_copy_exactly_one_wins(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        # given two desks lending the one copy at the same moment, in two transactions
        token = librarian_of(hub, desk)
        answers = await asyncio.gather(
            *(
                hub.data(CHECK_OUT, lend(desk, person), token=token)
                for person in (desk["pupil"], desk["teacher"]) * 3
            )
        )
        # then exactly one loan is open, and every other desk got ITEM_ON_LOAN
        codes = sorted(
            (a["checkOutItem"]["userErrors"] or [{"code": "OK"}])[0]["code"] for a in answers
        )
        assert codes == ["ITEM_ON_LOAN"] * 5 + ["OK"]
        assert await open_loans(session) == 1

    async def test_the_database_holds_one_open_loan_per_copy_without_the_lock(
        self, desk: dict, engine: object
    ) -> None:
        # given two transactions that skip the workflow (no row lock), both inserting a loan
        from sqlalchemy.exc import IntegrityError

        insert = text(
            "INSERT INTO loan (item_id, record_id, institution_id, person_id, due_on) "
            "VALUES (:item, :record, :school, :person, current_date + 14)"
        )
        values = {
            "item": desk["item"].id,
            "record": desk["record"].id,
            "school": desk["school"].id,
            "person": desk["pupil"].id,
        }
        async with engine.connect() as first, engine.connect() as second:  # type: ignore[attr-defined]
            await first.execute(insert, values)
            waiting = asyncio.ensure_future(second.execute(insert, values))
            await asyncio.sleep(0.2)
            await first.commit()
            # then the second fails on the partial unique index once the first commits
            with pytest.raises(IntegrityError, match="uq_loan_open_item"):
                await waiting


class TestCheckoutLimitAndStatements:
    """A checkout reads and locks what its rules ask in one statement and writes the loan in
    another (resolvers/library/checkout.py); the borrower's loan limit holds even when two
    desks lend to them at once."""

    async def limited(self, session: AsyncSession, desk: dict, *, max_loans: int) -> list[str]:
        """The school's policy lends ``max_loans`` books per borrower; three more copies."""
        session.add(
            LibraryPolicy(
                institution_id=desk["school"].id,
                loan_days=14,
                max_renewals=2,
                max_loans=max_loans,
                hold_pickup_days=3,
            )
        )
        items = await make_items(
            session, record=desk["record"], institution=desk["school"], count=3
        )
        await session.commit()
        return [item.barcode for item in items]

    async def test_a_checkout_sends_six_statements(self, hub: Hub, desk: dict) -> None:
        # when a librarian lends a copy (the desk's answer: loan, copy, record, borrower)
        hub.counter.reset()
        data = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=librarian_of(hub, desk))
        # then: the savepoint, the desk statement (rules and locks), the lending statement
        # (copy and loan), the audit row, the borrower for the answer, the release
        assert data["checkOutItem"]["userErrors"] == []
        assert hub.counter.count == 6, hub.counter.statements

    async def test_a_borrower_at_the_limit_is_refused(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        # given a library lending one book per borrower, and a pupil with one out
        barcodes = await self.limited(session, desk, max_loans=1)
        token = librarian_of(hub, desk)
        first = await hub.data(CHECK_OUT, lend(desk, desk["pupil"], barcodes[0]), token=token)
        assert first["checkOutItem"]["userErrors"] == []
        # when the desk lends them another
        second = await hub.data(CHECK_OUT, lend(desk, desk["pupil"], barcodes[1]), token=token)
        # then it is refused and nothing is written
        assert second["checkOutItem"]["userErrors"] == [
            {"field": "personId", "code": "LOAN_LIMIT_REACHED"}
        ]
        assert await open_loans(session) == 1

    async def test_concurrent_checkouts_to_one_borrower_stop_at_the_limit(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        # given a library lending two books per borrower, the pupil with one out
        barcodes = await self.limited(session, desk, max_loans=2)
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"], barcodes[0]), token=token)
        # when two desks lend the pupil the two other copies at the same moment
        answers = await asyncio.gather(
            *(hub.data(CHECK_OUT, lend(desk, desk["pupil"], b), token=token) for b in barcodes[1:])
        )
        # then exactly one is lent: the borrower's lock orders them, and the second desk's
        # lending statement counts the first's loan even if its reading started before it
        codes = sorted(
            (a["checkOutItem"]["userErrors"] or [{"code": "OK"}])[0]["code"] for a in answers
        )
        assert codes == ["LOAN_LIMIT_REACHED", "OK"]
        assert await open_loans(session) == 2

    async def test_a_loan_committed_while_the_desk_waits_counts_against_the_limit(
        self, hub: Hub, desk: dict, session: AsyncSession, engine: object
    ) -> None:
        # given a library lending one book per borrower, and another desk's transaction that
        # holds the pupil's lock and has lent them a copy, not yet committed
        barcodes = await self.limited(session, desk, max_loans=1)
        other = (
            await session.execute(select(LibraryItem).where(LibraryItem.barcode == barcodes[0]))
        ).scalar_one()
        async with engine.connect() as desk_two:  # type: ignore[attr-defined]
            await desk_two.execute(
                text("SELECT id FROM person WHERE id = :p FOR UPDATE"), {"p": desk["pupil"].id}
            )
            await desk_two.execute(
                text(
                    "INSERT INTO loan (item_id, record_id, institution_id, person_id, due_on) "
                    "VALUES (:item, :record, :school, :person, current_date + 14)"
                ),
                {
                    "item": other.id,
                    "record": desk["record"].id,
                    "school": desk["school"].id,
                    "person": desk["pupil"].id,
                },
            )
            # when this desk lends the pupil a copy: its reading waits for the pupil's lock,
            # with a snapshot taken before the other loan was committed
            token = librarian_of(hub, desk)
            waiting = asyncio.ensure_future(
                hub.data(CHECK_OUT, lend(desk, desk["pupil"], barcodes[1]), token=token)
            )
            await asyncio.sleep(0.3)
            await desk_two.commit()
            answer = await waiting
        # then the lending statement counts the committed loan and lends nothing
        assert answer["checkOutItem"]["userErrors"] == [
            {"field": "personId", "code": "LOAN_LIMIT_REACHED"}
        ]
        assert await open_loans(session) == 1


class TestReturnAndRenew:
    async def test_a_returned_copy_is_back_on_the_shelf(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        data = await hub.data(
            RETURN,
            {
                "input": {
                    "institutionId": gid("Institution", desk["school"].id),
                    "barcode": desk["item"].barcode,
                }
            },
            token=token,
        )
        assert data["returnItem"]["userErrors"] == []
        assert await open_loans(session) == 0
        status = await session.scalar(
            select(LibraryItem.status).where(LibraryItem.id == desk["item"].id)
        )
        assert status == ItemStatus.AVAILABLE

    async def test_returning_a_copy_on_the_shelf_is_refused(self, hub: Hub, desk: dict) -> None:
        data = await hub.data(
            RETURN,
            {
                "input": {
                    "institutionId": gid("Institution", desk["school"].id),
                    "barcode": desk["item"].barcode,
                }
            },
            token=librarian_of(hub, desk),
        )
        assert data["returnItem"]["userErrors"][0]["code"] == "LOAN_CLOSED"

    async def test_a_borrower_renews_up_to_the_policy_limit(self, hub: Hub, desk: dict) -> None:
        lent = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=librarian_of(hub, desk))
        loan = {"input": {"loanId": lent["checkOutItem"]["loan"]["id"]}}
        pupil = hub.token(Role.PUPIL, person_id=desk["pupil"].id)
        first = await hub.data(RENEW, loan, token=pupil)
        second = await hub.data(RENEW, loan, token=pupil)
        third = await hub.data(RENEW, loan, token=pupil)
        assert first["renewLoan"]["loan"]["renewals"] == 1
        assert (
            first["renewLoan"]["loan"]["dueOn"] == (clock.today() + timedelta(days=28)).isoformat()
        )
        assert second["renewLoan"]["userErrors"] == []
        assert third["renewLoan"]["userErrors"][0]["code"] == "RENEWAL_LIMIT_REACHED"

    async def test_another_pupil_cannot_renew_your_loan(self, hub: Hub, desk: dict) -> None:
        lent = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=librarian_of(hub, desk))
        other = hub.token(Role.PUPIL, person_id=desk["stranger"].id)
        data = await hub.data(
            RENEW, {"input": {"loanId": lent["checkOutItem"]["loan"]["id"]}}, token=other
        )
        assert data["renewLoan"]["userErrors"][0]["code"] == "NOT_FOUND"


class TestLeavers:
    async def test_a_pupil_who_left_cannot_borrow_and_their_loans_show_on_the_list(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        # given a pupil with a book out
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        (second,) = await make_items(session, record=desk["record"], institution=desk["school"])
        await session.commit()
        # when their enrollment ends
        await session.execute(
            text(
                "UPDATE enrollment SET exit_date = current_date, exit_reason = 'withdrawn' "
                "WHERE person_id = :p"
            ),
            {"p": desk["pupil"].id},
        )
        await session.commit()
        # then they cannot borrow again ...
        refused = await hub.data(CHECK_OUT, lend(desk, desk["pupil"], second.barcode), token=token)
        assert refused["checkOutItem"]["userErrors"][0]["code"] == "BORROWER_NOT_ELIGIBLE"
        # ... and their open loan is on the librarian's list of leavers
        listed = await hub.data(
            LOANS,
            {
                "filter": {
                    "institutionId": gid("Institution", desk["school"].id),
                    "borrowerLeft": True,
                }
            },
            token=token,
        )
        assert listed["loans"]["totalCount"] == 1
        assert listed["loans"]["nodes"][0]["borrower"]["id"] == gid("Person", desk["pupil"].id)


class TestHolds:
    async def test_a_hold_on_an_open_access_ebook_is_not_needed(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        await session.execute(
            text(
                "INSERT INTO file_object (sha256, size_bytes, media_type) VALUES (:s, 10, 'application/pdf');"
            ),
            {"s": "a" * 64},
        )
        await session.execute(
            text(
                "INSERT INTO bib_file (record_id, sha256, format, size_bytes, access, filename) "
                "VALUES (:r, :s, 'pdf', 10, 'open', 'a.pdf')"
            ),
            {"r": desk["record"].id, "s": "a" * 64},
        )
        await session.commit()
        pupil = hub.token(Role.PUPIL, person_id=desk["pupil"].id)
        data = await hub.data(
            PLACE_HOLD,
            {
                "input": {
                    "recordId": gid("BibRecord", desk["record"].id),
                    "institutionId": gid("Institution", desk["school"].id),
                }
            },
            token=pupil,
        )
        assert data["placeHold"]["userErrors"] == [{"code": "HOLD_NOT_NEEDED"}]
        assert await session.scalar(select(func.count()).select_from(Hold)) == 0

    async def test_a_returned_copy_goes_to_the_first_in_the_queue_then_expires(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        # given the one copy out with the pupil, and the teacher waiting for it
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        teacher = hub.token(
            Role.TEACHER, person_id=desk["teacher"].id, scopes=[f"institution:{desk['school'].id}"]
        )
        hold_input = {
            "input": {
                "recordId": gid("BibRecord", desk["record"].id),
                "institutionId": gid("Institution", desk["school"].id),
            }
        }
        placed = await hub.data(PLACE_HOLD, hold_input, token=teacher)
        assert placed["placeHold"]["hold"]["queuePosition"] == 1
        again = await hub.data(PLACE_HOLD, hold_input, token=teacher)
        assert again["placeHold"]["userErrors"][0]["code"] == "ALREADY_ON_HOLD"
        # the pupil cannot renew while someone waits
        loans = await hub.data(LOANS, {"filter": {"open": True}}, token=token)
        blocked = await hub.data(
            RENEW, {"input": {"loanId": loans["loans"]["nodes"][0]["id"]}}, token=token
        )
        assert blocked["renewLoan"]["userErrors"][0]["code"] == "RENEWAL_BLOCKED_BY_HOLD"
        # when the copy comes back, it is set aside for the teacher ...
        await hub.data(
            RETURN,
            {
                "input": {
                    "institutionId": gid("Institution", desk["school"].id),
                    "barcode": desk["item"].barcode,
                }
            },
            token=token,
        )
        assert await session.scalar(select(Hold.status)) == HoldStatus.READY
        # ... nobody else may take it ...
        taken = await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        assert taken["checkOutItem"]["userErrors"][0]["code"] == "ITEM_HELD_FOR_ANOTHER"
        # ... and when the teacher does not come by the pickup day, the job expires the hold
        await session.commit()
        report = await run_library_jobs(session, on=clock.today() + timedelta(days=30))
        await session.commit()
        assert report.expired_holds == 1
        status = await session.scalar(
            select(LibraryItem.status).where(LibraryItem.id == desk["item"].id)
        )
        assert status == ItemStatus.AVAILABLE

    async def test_a_ready_copy_is_lent_to_the_person_it_waits_for(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        hold_input = {
            "input": {
                "recordId": gid("BibRecord", desk["record"].id),
                "institutionId": gid("Institution", desk["school"].id),
                "personId": gid("Person", desk["teacher"].id),
            }
        }
        assert (await hub.data(PLACE_HOLD, hold_input, token=token))["placeHold"][
            "userErrors"
        ] == []
        await hub.data(
            RETURN,
            {
                "input": {
                    "institutionId": gid("Institution", desk["school"].id),
                    "barcode": desk["item"].barcode,
                }
            },
            token=token,
        )
        data = await hub.data(CHECK_OUT, lend(desk, desk["teacher"]), token=token)
        assert data["checkOutItem"]["userErrors"] == []
        assert await session.scalar(select(Hold.status)) == HoldStatus.FULFILLED

    async def test_a_hold_is_cancelled_by_its_person(self, hub: Hub, desk: dict) -> None:
        token = librarian_of(hub, desk)
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=token)
        teacher = hub.token(
            Role.TEACHER, person_id=desk["teacher"].id, scopes=[f"institution:{desk['school'].id}"]
        )
        placed = await hub.data(
            PLACE_HOLD,
            {
                "input": {
                    "recordId": gid("BibRecord", desk["record"].id),
                    "institutionId": gid("Institution", desk["school"].id),
                }
            },
            token=teacher,
        )
        hold_id = placed["placeHold"]["hold"]["id"]
        data = await hub.data(CANCEL_HOLD, {"input": {"holdId": hold_id}}, token=teacher)
        assert data["cancelHold"]["hold"]["status"] == "CANCELLED"
        again = await hub.data(CANCEL_HOLD, {"input": {"holdId": hold_id}}, token=teacher)
        assert again["cancelHold"]["userErrors"][0]["code"] == "HOLD_CLOSED"


class TestOverdueJob:
    async def test_loans_past_due_are_marked_once_with_an_event(
        self, hub: Hub, desk: dict, session: AsyncSession
    ) -> None:
        await hub.data(CHECK_OUT, lend(desk, desk["pupil"]), token=librarian_of(hub, desk))
        later = clock.today() + timedelta(days=20)
        first = await run_library_jobs(session, on=later)
        await session.commit()
        second = await run_library_jobs(session, on=later)
        await session.commit()
        assert (first.overdue_loans, second.overdue_loans) == (1, 0)
        events = await session.scalar(
            text("SELECT count(*) FROM outbox WHERE topic = 'library.loan_overdue'")
        )
        assert events == 1

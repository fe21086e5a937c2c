"""Circulation at a library's desk: check a copy out to one of the institution's people, take
it back, renew a loan; the loan lists; the overdue job."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, not_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import LibraryItem, Loan, Person
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import item_by_barcode, library_of, policy_for
from resolvers.library.holds import route_copy, waiting_for
from resolvers.library.rules import borrower_at, loan_readable, may_run_library
from resolvers.relay import Ordering

LOAN_COLUMNS = tuple(Loan.__table__.c)
LOAN_ORDERINGS = {
    "DUE": Ordering(((Loan.due_on, False), (Loan.id, False))),
    "NEWEST": Ordering(((Loan.id, True),)),
}


@dataclass(frozen=True)
class LoanFilter:
    institution_id: int | None = None
    person_id: int | None = None
    open: bool | None = None
    overdue: bool | None = None
    # Open loans of people no longer enrolled or employed at the lending institution.
    borrower_left: bool | None = None


def loan_filter_clauses(flt: LoanFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.institution_id is not None:
        clauses.append(Loan.institution_id == flt.institution_id)
    if flt.person_id is not None:
        clauses.append(Loan.person_id == flt.person_id)
    if flt.open is True:
        clauses.append(Loan.returned_at.is_(None))
    elif flt.open is False:
        clauses.append(Loan.returned_at.is_not(None))
    if flt.overdue is not None:
        late = Loan.returned_at.is_(None) & (Loan.due_on < today())
        clauses.append(late if flt.overdue else not_(late))
    if flt.borrower_left is not None:
        here = borrower_at(Loan.institution_id, Loan.person_id)
        clauses.append(Loan.returned_at.is_(None))
        clauses.append(not_(here) if flt.borrower_left else here)
    return clauses


def loans_query(principal: Principal, flt: LoanFilter) -> Select[Any]:
    return select(*LOAN_COLUMNS).where(loan_readable(principal), *loan_filter_clauses(flt))


@functools.cache
def _borrower_stmt() -> Select[Any]:
    """Built once, its values bound at each call: the borrower test restates the registry's
    enrollment clauses on an alias, which costs more of a checkout's CPU to build than the
    statement costs PostgreSQL to run (issue 17's checkout target)."""
    person_id = bindparam("person_id", type_=Integer)
    institution_id = bindparam("institution_id", type_=Integer)
    return (
        select(Person.id)
        .where(Person.id == person_id, borrower_at(institution_id, Person.id))
        .with_for_update(of=Person)
    )


async def require_borrower(session: AsyncSession, institution_id: int, person_id: int) -> None:
    """The person borrows at this institution today (an open enrollment or staff post there),
    locked so that one borrower's checkouts are counted one after the other; the same answer
    for an unknown person, so an id reveals nobody."""
    found = await session.scalar(
        _borrower_stmt(), {"person_id": person_id, "institution_id": institution_id}
    )
    if found is None:
        raise DomainError(
            LibraryCode.BORROWER_NOT_ELIGIBLE,
            "This person is not enrolled or employed at this institution",
            field="personId",
        )


@dataclass(frozen=True)
class Returned:
    """A return's closed loan and its copy (as the return left it: on the shelf or set aside)."""

    loan: Loan
    item: LibraryItem


async def return_item(
    session: AsyncSession, principal: Principal, *, institution_id: int, barcode: str
) -> Returned:
    """Take a copy back: its open loan closes, and the copy goes to the first person waiting
    for the title here, or back on the shelf (LOAN_CLOSED when it was not out)."""
    inst = await library_of(session, principal, institution_id)
    item = await item_by_barcode(session, inst.id, barcode)
    # The copy's lock serialises its returns; the open loan is closed and read back in one
    # statement (a locked read and an update before).
    loan = await session.scalar(
        update(Loan)
        .where(Loan.item_id == item.id, Loan.returned_at.is_(None))
        .values(returned_at=datetime.now().astimezone())
        .returning(Loan),
        execution_options={"synchronize_session": False},
    )
    if loan is None:
        raise DomainError(LibraryCode.LOAN_CLOSED, "This copy is not on loan", field="barcode")
    await route_copy(session, item, await policy_for(session, inst.id))
    return Returned(loan, item)


async def renew_loan(session: AsyncSession, principal: Principal, *, loan_id: int) -> Loan:
    """Lend a copy for another loan period from today (or from its due day, if later). Rules:
    the library's staff or the borrower; the loan is open (LOAN_CLOSED); renewals left under
    the policy (RENEWAL_LIMIT_REACHED); nobody waits for the title here
    (RENEWAL_BLOCKED_BY_HOLD)."""
    loan = await session.get(Loan, loan_id, with_for_update=True, populate_existing=True)
    if loan is None or not (
        may_run_library(principal, loan.institution_id) or principal.person_id == loan.person_id
    ):
        raise NotFound("The loan", field="loanId")
    if loan.returned_at is not None:
        raise DomainError(LibraryCode.LOAN_CLOSED, "The copy was returned", field="loanId")
    policy = await policy_for(session, loan.institution_id)
    if loan.renewals >= policy.max_renewals:
        raise DomainError(
            LibraryCode.RENEWAL_LIMIT_REACHED,
            f"A loan is renewed at most {policy.max_renewals} times",
            field="loanId",
        )
    if await waiting_for(session, loan.record_id, loan.institution_id):
        raise DomainError(
            LibraryCode.RENEWAL_BLOCKED_BY_HOLD,
            "Another reader waits for this title",
            field="loanId",
        )
    loan.due_on = max(today(), loan.due_on) + timedelta(days=policy.loan_days)
    loan.renewals += 1
    loan.overdue_since = None
    await session.flush()
    return loan


async def mark_overdue_loans(session: AsyncSession, *, on: date | None = None) -> int:
    """The job: open loans past their due day are marked overdue once (the day found), with
    an outbox event each so the borrower (or guardian) is notified."""
    day = on or today()
    marked = list(
        await session.scalars(
            update(Loan)
            .where(Loan.returned_at.is_(None), Loan.due_on < day, Loan.overdue_since.is_(None))
            .values(overdue_since=day)
            .returning(Loan.id)
        )
    )
    for loan_id in marked:
        await emit(
            session, topic="library.loan_overdue", aggregate_type="Loan", aggregate_id=loan_id
        )
    return len(marked)

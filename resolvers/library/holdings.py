"""The copies a library holds: added by barcode, found by barcode at the desk, and the
circulation policy rows each library (or the hub's default) sets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, overload

from sqlalchemy import ColumnElement, ScalarSelect, Select, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Institution, ItemStatus, LibraryItem, LibraryPolicy
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.library.catalogue import load_record
from resolvers.library.errors import LibraryCode
from resolvers.library.rules import may_run_library
from resolvers.relay import Ordering

ITEM_COLUMNS = tuple(LibraryItem.__table__.c)
ITEM_ORDERINGS = {
    "BARCODE": Ordering(((LibraryItem.barcode, False), (LibraryItem.id, False))),
    "NEWEST": Ordering(((LibraryItem.id, True),)),
}
BARCODE = re.compile(r"^[0-9A-Za-z-]{1,40}$")
MAX_ITEMS_AT_ONCE = 500


@dataclass(frozen=True)
class ItemFilter:
    institution_id: int | None = None
    record_id: int | None = None
    status: ItemStatus | None = None
    barcode: str | None = None


def items_query(flt: ItemFilter) -> Select[Any]:
    """Copies are public knowledge (what a library holds, whether it is in): no row rule."""
    clauses: list[ColumnElement[bool]] = []
    if flt.institution_id is not None:
        clauses.append(LibraryItem.institution_id == flt.institution_id)
    if flt.record_id is not None:
        clauses.append(LibraryItem.record_id == flt.record_id)
    if flt.status is not None:
        clauses.append(LibraryItem.status == flt.status)
    if flt.barcode is not None:
        clauses.append(LibraryItem.barcode == flt.barcode)
    return select(*ITEM_COLUMNS).where(*clauses)


async def library_of(
    session: AsyncSession,
    principal: Principal,
    institution_id: int,
    *,
    field: str = "institutionId",
) -> Institution:
    """The institution whose library the caller runs (NOT_FOUND, FORBIDDEN otherwise)."""
    inst = await session.get(Institution, institution_id)
    if inst is None:
        raise NotFound("The institution", field=field)
    require(may_run_library(principal, inst.id), "This library is outside your scope")
    return inst


def check_barcode(barcode: str, *, field: str = "barcode") -> str:
    value = barcode.strip()
    if not BARCODE.match(value):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A barcode is 1-40 letters, digits or hyphens", field=field
        )
    return value


async def add_library_items(
    session: AsyncSession,
    principal: Principal,
    *,
    record_id: int,
    institution_id: int,
    barcodes: list[str],
    shelf_mark: str | None,
    acquired_on: date | None,
) -> list[LibraryItem]:
    """Add copies of a record to a library, one per barcode. Rules: the caller runs the
    library; barcodes are well formed and new at that library (DUPLICATE_BARCODE; the unique
    index holds it under concurrency); at most 500 at once."""
    inst = await library_of(session, principal, institution_id)
    record = await load_record(session, record_id)
    if not 1 <= len(barcodes) <= MAX_ITEMS_AT_ONCE:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Add 1 to {MAX_ITEMS_AT_ONCE} copies at once",
            field="barcodes",
        )
    codes = [check_barcode(b, field="barcodes") for b in barcodes]
    if len(set(codes)) != len(codes):
        raise DomainError(LibraryCode.DUPLICATE_BARCODE, "A barcode is repeated", field="barcodes")
    taken = (
        await session.scalars(
            select(LibraryItem.barcode).where(
                LibraryItem.institution_id == inst.id, LibraryItem.barcode.in_(codes)
            )
        )
    ).first()
    if taken is not None:
        raise DomainError(
            LibraryCode.DUPLICATE_BARCODE,
            f"Barcode {taken} is already used at this library",
            field="barcodes",
        )
    rows = [
        {
            "record_id": record.id,
            "institution_id": inst.id,
            "barcode": code,
            "shelf_mark": (shelf_mark or "").strip()[:60] or None,
            "acquired_on": acquired_on,
        }
        for code in codes
    ]
    inserted = await session.scalars(insert(LibraryItem).values(rows).returning(LibraryItem))
    return list(inserted)


async def item_by_barcode(
    session: AsyncSession, institution_id: int, barcode: str, *, lock: bool = True
) -> LibraryItem:
    """The copy with this barcode at this library, locked (UNKNOWN_BARCODE otherwise)."""
    stmt = select(LibraryItem).where(
        LibraryItem.institution_id == institution_id,
        LibraryItem.barcode == check_barcode(barcode),
    )
    if lock:
        stmt = stmt.with_for_update()
    item = await session.scalar(stmt)
    if item is None:
        raise DomainError(
            LibraryCode.UNKNOWN_BARCODE, "No copy has this barcode at this library", field="barcode"
        )
    return item


@dataclass(frozen=True)
class Policy:
    loan_days: int
    max_renewals: int
    max_loans: int
    hold_pickup_days: int


@overload
async def policy_for(session: AsyncSession, institution_id: int) -> Policy: ...


@overload
async def policy_for(
    session: AsyncSession, institution_id: int, *, also: ScalarSelect[Any]
) -> tuple[Policy, int]: ...


async def policy_for(
    session: AsyncSession, institution_id: int, *, also: ScalarSelect[Any] | None = None
) -> Policy | tuple[Policy, int]:
    """The library's circulation policy row, or the hub's default one; with ``also``, that
    count read in the same statement."""
    columns: list[Any] = [
        LibraryPolicy.loan_days,
        LibraryPolicy.max_renewals,
        LibraryPolicy.max_loans,
        LibraryPolicy.hold_pickup_days,
    ]
    if also is not None:
        columns.append(also)
    row = (
        await session.execute(
            select(*columns)
            .where(
                (LibraryPolicy.institution_id == institution_id)
                | LibraryPolicy.institution_id.is_(None)
            )
            .order_by(LibraryPolicy.institution_id.is_(None))
            .limit(1)
        )
    ).one()
    policy = Policy(
        loan_days=row[0], max_renewals=row[1], max_loans=row[2], hold_pickup_days=row[3]
    )
    if also is None:
        return policy
    return policy, int(row[4] or 0)


async def set_library_policy(
    session: AsyncSession, principal: Principal, *, institution_id: int, policy: Policy
) -> LibraryPolicy:
    """A library sets its own circulation rules (loan days, renewals, loans per borrower,
    days to pick up a hold)."""
    await library_of(session, principal, institution_id)
    limits = {
        "loanDays": (policy.loan_days, 1, 400),
        "maxRenewals": (policy.max_renewals, 0, 20),
        "maxLoans": (policy.max_loans, 1, 500),
        "holdPickupDays": (policy.hold_pickup_days, 1, 60),
    }
    for field, (value, low, high) in limits.items():
        if not low <= value <= high:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{field} is {low} to {high}", field=field)
    values = {
        "loan_days": policy.loan_days,
        "max_renewals": policy.max_renewals,
        "max_loans": policy.max_loans,
        "hold_pickup_days": policy.hold_pickup_days,
    }
    row = await session.scalar(
        select(LibraryPolicy).where(LibraryPolicy.institution_id == institution_id)
    )
    if row is None:
        row = LibraryPolicy(institution_id=institution_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row

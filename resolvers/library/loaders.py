"""The library domain's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibFile, BibRecord, Hold, LibraryHolding, LibraryItem, Loan, TextbookApproval
from resolvers.library.circulation import LOAN_COLUMNS
from resolvers.library.holdings import ITEM_COLUMNS
from resolvers.library.holds import HOLD_COLUMNS, queue_position
from resolvers.library.rules import file_readable, hold_readable, loan_readable
from resolvers.library.search import RECORD_COLUMNS
from resolvers.library.windows import (
    SearchKey,
    Window,
    catalogue_version,
    read_window,
    version_read,
)
from resolvers.loaders import ById, ByParent, KeyedLoader, PagesByParent, RequestLoader


class SearchWindowByKeyLoader(RequestLoader):
    """A catalogue search's window (resolvers/library/windows.py): the catalogue's version is
    read once per request, the window is the worker's kept one for that version or read once
    and kept, so the page and the facets of one search share it."""

    def setup(self) -> None:
        # Read by the HTTP view already when the request is a keepable search.
        self.version: int | None = version_read(self.ctx.request)

    async def load(self, key: SearchKey) -> Window:
        async def work(session: AsyncSession) -> Window:
            if self.version is None:
                self.version = await catalogue_version(session)
            return await read_window(session, key, self.version)

        return await self.ctx.run(work)


class BibRecordByIdLoader(ById):
    columns = RECORD_COLUMNS
    key = BibRecord.id


class LibraryItemByIdLoader(ById):
    columns = ITEM_COLUMNS
    key = LibraryItem.id


class LoanByIdLoader(ById):
    columns = LOAN_COLUMNS
    key = Loan.id

    def rule(self) -> ColumnElement[bool]:
        return loan_readable(self.principal)


class OpenLoanByItemLoader(ById):
    """A copy's open loan (null when on the shelf, or when the caller may not read it)."""

    columns = LOAN_COLUMNS
    key = Loan.item_id

    def rule(self) -> ColumnElement[bool]:
        return and_(Loan.returned_at.is_(None), loan_readable(self.principal))


class HoldByIdLoader(ById):
    columns = HOLD_COLUMNS
    key = Hold.id

    def rule(self) -> ColumnElement[bool]:
        return hold_readable(self.principal)


class BibFileByIdLoader(ById):
    columns = tuple(BibFile.__table__.c)
    key = BibFile.id

    def rule(self) -> ColumnElement[bool]:
        return file_readable(self.principal)


class FilesByRecordLoader(ByParent):
    """The files of a record the caller may read."""

    columns = tuple(BibFile.__table__.c)
    parent = BibFile.record_id
    order_by = (BibFile.id,)

    def where(self) -> Sequence[ColumnElement[bool]]:
        return (file_readable(self.principal),)


class ApprovalsByRecordLoader(ByParent):
    columns = tuple(TextbookApproval.__table__.c)
    parent = TextbookApproval.record_id
    order_by = (TextbookApproval.school_year.desc(),)


class HoldingPagesByRecordLoader(PagesByParent):
    """The libraries holding copies of a record, a page per record."""

    columns = tuple(LibraryHolding.__table__.c)
    parent = LibraryHolding.record_id

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [LibraryHolding.held > 0]
        if flt is not None:
            clauses.append(LibraryHolding.institution_id == flt)
        return clauses


class QueuePositionByHoldLoader(KeyedLoader[int, int | None]):
    """A waiting hold's place in its queue (null once it is no longer waiting)."""

    async def batch(self, keys: list[int]) -> list[int | None]:
        stmt = select(Hold.id, queue_position().label("position")).where(
            Hold.id.in_(keys), Hold.status == "waiting"
        )
        rows = await self.ctx.run(lambda s: s.execute(stmt))
        found = {row.id: int(row.position) for row in rows}
        return [found.get(k) for k in keys]

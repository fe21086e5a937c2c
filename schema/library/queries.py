"""The libraries' root fields: the public catalogue and its facets, a library's copies, loans
and holds, and the textbook fund's provision report."""

from __future__ import annotations

import enum

import strawberry

from resolvers import library as library_service
from resolvers.context import Context, Info
from resolvers.errors import ErrorCode as Code
from resolvers.errors import RequestError
from resolvers.library.loaders import SearchWindowByKeyLoader
from resolvers.library.rules import may_read_provision
from schema.common import Connection
from schema.fields import Listing, connection
from schema.institutions import Language
from schema.library.types import (
    BibKind,
    BibRecord,
    CatalogueFacets,
    FacetCount,
    Hold,
    HoldStatus,
    ItemStatus,
    LibraryItem,
    Loan,
    ProvisionRow,
)
from schema.node import query_pk
from schema.permissions import signed_in

MAX_TEXT = 100


@strawberry.input(description="Narrow a catalogue search; every field given must hold.")
class CatalogueFilterInput:
    language: Language | None = strawberry.field(default=None, description="Only this language.")
    kind: BibKind | None = strawberry.field(default=None, description="Only this kind.")
    grade: int | None = strawberry.field(default=None, description="Only textbooks of this grade.")
    school_subject: str | None = strawberry.field(
        default=None, description="Only textbooks of this school subject."
    )
    open_access: bool | None = strawberry.field(
        default=None, description="Only records anyone may read online (true) or not (false)."
    )
    approved_for: int | None = strawberry.field(
        default=None, description="Only textbooks approved for this school year."
    )


@strawberry.enum(description="Orders of the catalogue.")
class CatalogueOrder(enum.Enum):
    RELEVANCE = "RELEVANCE"
    NEWEST = "NEWEST"
    TITLE = "TITLE"


def _text(value: str | None, name: str) -> str | None:
    if value is not None and len(value) > MAX_TEXT:
        raise RequestError(Code.INVALID_INPUT, f"`{name}` is at most {MAX_TEXT} characters")
    return value


def catalogue_filter(flt: CatalogueFilterInput | None) -> library_service.CatalogueFilter:
    if flt is None:
        return library_service.CatalogueFilter()
    return library_service.CatalogueFilter(
        language=flt.language,
        kind=flt.kind,
        grade=flt.grade,
        school_subject=_text(flt.school_subject, "schoolSubject"),
        open_access=flt.open_access,
        approved_for=flt.approved_for,
    )


@strawberry.input(description="Narrow a list of copies.")
class LibraryItemFilterInput:
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only at this institution's library."
    )
    record_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only copies of this record."
    )
    status: ItemStatus | None = strawberry.field(default=None, description="Only in this state.")
    barcode: str | None = strawberry.field(default=None, description="Only this barcode.")


@strawberry.enum(description="Orders of copy lists.")
class LibraryItemOrder(enum.Enum):
    BARCODE = "BARCODE"
    NEWEST = "NEWEST"


@strawberry.input(description="Narrow a loan list.")
class LoanFilterInput:
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only loans of this institution's library."
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this borrower's."
    )
    open: bool | None = strawberry.field(
        default=None, description="Only loans still out (true) or returned (false)."
    )
    overdue: bool | None = strawberry.field(
        default=None, description="Only loans past due (true) or not (false)."
    )
    borrower_left: bool | None = strawberry.field(
        default=None,
        description="Only open loans of people no longer enrolled or employed at the lending "
        "institution (true), or of those still there (false).",
    )


@strawberry.enum(description="Orders of loan lists.")
class LoanOrder(enum.Enum):
    DUE = "DUE"
    NEWEST = "NEWEST"


@strawberry.input(description="Narrow a hold list.")
class HoldFilterInput:
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only at this institution's library."
    )
    record_id: strawberry.ID | None = strawberry.field(default=None, description="Only this title.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this person's."
    )
    status: HoldStatus | None = strawberry.field(default=None, description="Only in this state.")


@strawberry.enum(description="Orders of hold lists.")
class HoldOrder(enum.Enum):
    QUEUE = "QUEUE"
    NEWEST = "NEWEST"


@strawberry.input(description="Where and what the textbook provision report covers.")
class TextbookProvisionFilterInput:
    region_id: strawberry.ID | None = strawberry.field(default=None, description="One region.")
    district_id: strawberry.ID | None = strawberry.field(default=None, description="One district.")
    institution_id: strawberry.ID | None = strawberry.field(default=None, description="One school.")
    grade: int | None = strawberry.field(default=None, description="One grade.")
    subject: str | None = strawberry.field(default=None, description="One school subject.")
    language: Language | None = strawberry.field(
        default=None, description="One language of instruction."
    )
    school_year: int | None = strawberry.field(
        default=None, description="The school year (the year it starts); default: the current one."
    )


ProvisionLevel = strawberry.enum(
    library_service.ProvisionLevel, name="ProvisionLevel", description="How a report is grouped."
)


@strawberry.type(description="Textbook provision: the need, the stock and what is issued.")
class TextbookProvision:
    flt: strawberry.Private[library_service.ProvisionFilter]
    school_year: int = strawberry.field(description="The school year (the year it starts).")
    total: ProvisionRow = strawberry.field(description="The whole of what the filter covers.")

    @strawberry.field(
        description="The same figures per region, district, school or school and title, the "
        "largest shortfall first (at most 100 rows)."
    )
    async def breakdown(
        self,
        info: Info,
        by: library_service.ProvisionLevel,
        first: int = 20,
        only_short: bool = False,
    ) -> list[ProvisionRow]:
        if not 0 <= first <= library_service.textbooks.MAX_BREAKDOWN:
            raise RequestError(Code.INVALID_PAGINATION, "`first` is 0 to 100")
        rows = await info.context.run(
            lambda s: library_service.textbook_provision(
                s, self.flt, level=by, limit=first, only_short=only_short
            )
        )
        return [ProvisionRow.from_row(r) for r in rows]


def _shown(value: object) -> str:
    """A facet value as the filter takes it: an enum's name, true/false, a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.name
    return str(value)


def _facets(counts: library_service.FacetCounts) -> CatalogueFacets:
    def listed(name: str) -> list[FacetCount]:
        return [FacetCount(value=_shown(v), count=n) for v, n in counts.values[name]]

    return CatalogueFacets(
        counted=counts.counted,
        exact=counts.exact,
        language=listed("language"),
        kind=listed("kind"),
        grade=listed("grade"),
        school_subject=listed("school_subject"),
        open_access=listed("open_access"),
    )


@strawberry.type
class Query:
    @connection(
        Connection[BibRecord],
        description="Search the one catalogue (anyone): words in Kyrgyz, Russian or English, "
        "Cyrillic or Latin; typos forgiven. By relevance, the first 201 matches in the "
        "catalogue's standing order (open to all first, then textbooks by their latest "
        "approval, then the newest edition) ranked by how well the words match; pages cover "
        "those, and `totalCount` is exact up to 200 matches, estimated above "
        "(`catalogueFacets.exact` false). By title or newest, the first 2,001 matches in that "
        "order (`totalCount` 2,001: more than 2,000). Narrow the search or filter to see others.",
    )
    async def catalogue(
        self,
        ctx: Context,
        search: str | None = None,
        filter: CatalogueFilterInput | None = None,
        order_by: CatalogueOrder = CatalogueOrder.RELEVANCE,
    ) -> Listing:
        text, flt = _text(search, "search"), catalogue_filter(filter)
        if order_by is CatalogueOrder.RELEVANCE and library_service.has_words(text):
            window = await SearchWindowByKeyLoader(ctx).load(
                library_service.SearchKey.of(text, flt)
            )
            stmt, ordering, params = library_service.page_stmt(window)
            return Listing(
                stmt, ordering, BibRecord.from_row, total=window.facets.counted, params=params
            )
        stmt, ordering = library_service.catalogue_query(text, flt, order_by.value)
        return Listing(stmt, ordering, BibRecord.from_row)

    @strawberry.field(
        description="How many records of a catalogue search have each filter value: exact up "
        "to 200 matches; past that, estimated from a sample of the catalogue (`exact` false)."
    )
    async def catalogue_facets(
        self,
        info: Info,
        search: str | None = None,
        filter: CatalogueFilterInput | None = None,
    ) -> CatalogueFacets:
        key = library_service.SearchKey.of(_text(search, "search"), catalogue_filter(filter))
        window = await SearchWindowByKeyLoader(info.context).load(key)
        return _facets(window.facets)

    @connection(
        Connection[LibraryItem],
        description="Copies held by the libraries.",
        permission_classes=[signed_in("Sign in to read a library's copies")],
    )
    def library_items(
        self,
        ctx: Context,
        filter: LibraryItemFilterInput | None = None,
        order_by: LibraryItemOrder = LibraryItemOrder.BARCODE,
    ) -> Listing:
        f = filter or LibraryItemFilterInput()
        stmt = library_service.items_query(
            library_service.ItemFilter(
                institution_id=query_pk(f.institution_id, "Institution")
                if f.institution_id
                else None,
                record_id=query_pk(f.record_id, "BibRecord") if f.record_id else None,
                status=f.status,
                barcode=_text(f.barcode, "barcode"),
            )
        )
        return Listing(stmt, library_service.ITEM_ORDERINGS[order_by.value], LibraryItem.from_row)

    @connection(
        Connection[Loan],
        description="Loans you may read: a library's (its staff), your own or your children's.",
        permission_classes=[signed_in("Sign in to read loans")],
    )
    def loans(
        self,
        ctx: Context,
        filter: LoanFilterInput | None = None,
        order_by: LoanOrder = LoanOrder.DUE,
    ) -> Listing:
        f = filter or LoanFilterInput()
        flt = library_service.LoanFilter(
            institution_id=query_pk(f.institution_id, "Institution") if f.institution_id else None,
            person_id=query_pk(f.person_id, "Person") if f.person_id else None,
            open=f.open,
            overdue=f.overdue,
            borrower_left=f.borrower_left,
        )
        stmt = library_service.loans_query(ctx.principal, flt)
        return Listing(stmt, library_service.LOAN_ORDERINGS[order_by.value], Loan.from_row)

    @connection(
        Connection[Hold],
        description="Holds you may read: a library's (its staff), your own or your children's.",
        permission_classes=[signed_in("Sign in to read holds")],
    )
    def holds(
        self,
        ctx: Context,
        filter: HoldFilterInput | None = None,
        order_by: HoldOrder = HoldOrder.QUEUE,
    ) -> Listing:
        f = filter or HoldFilterInput()
        flt = library_service.HoldFilter(
            institution_id=query_pk(f.institution_id, "Institution") if f.institution_id else None,
            record_id=query_pk(f.record_id, "BibRecord") if f.record_id else None,
            person_id=query_pk(f.person_id, "Person") if f.person_id else None,
            status=f.status,
        )
        stmt = library_service.holds_query(ctx.principal, flt)
        return Listing(stmt, library_service.HOLD_ORDERINGS[order_by.value], Hold.from_row)

    @strawberry.field(
        description="Textbooks needed (pupils by grade and language, from the registry), held "
        "and issued, and the provision rate: the country, a region, a district or a school "
        "(the ministry anywhere; officers and school staff within their scope).",
        permission_classes=[signed_in("Sign in to read textbook provision")],
    )
    async def textbook_provision(
        self, info: Info, filter: TextbookProvisionFilterInput | None = None
    ) -> TextbookProvision | None:
        f = filter or TextbookProvisionFilterInput()
        flt = library_service.ProvisionFilter(
            school_year=f.school_year
            or library_service.school_year_of(library_service.textbooks.today()),
            region_id=query_pk(f.region_id, "Region") if f.region_id else None,
            district_id=query_pk(f.district_id, "District") if f.district_id else None,
            institution_id=query_pk(f.institution_id, "Institution") if f.institution_id else None,
            grade=f.grade,
            school_subject=_text(f.subject, "subject"),
            language=f.language.value if f.language else None,
        )
        if not may_read_provision(info.context.principal, flt):
            raise RequestError(
                Code.FORBIDDEN, "Narrow the report to your region, district or school"
            )
        rows = await info.context.run(
            lambda s: library_service.textbook_provision(
                s, flt, level=library_service.ProvisionLevel.COUNTRY
            )
        )
        return TextbookProvision(
            flt=flt, school_year=flt.school_year, total=ProvisionRow.from_row(rows[0])
        )


# The catalogue search answers the same to every caller and changes only with the catalogue
# (records and approvals: their writes change its version), so the HTTP view keeps its answers
# per version (schema/http/kept.py). Only fields read from the catalogue alone are listed: a
# record's files depend on the caller, its holdings on the copies (which leave the version).
_KEPT = {
    "Query": "catalogue catalogueFacets",
    "BibRecordConnection": "edges nodes pageInfo totalCount",
    "BibRecordEdge": "cursor node",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
    "BibRecord": "id kind title subtitle authors isbn language publisher year subjects audience "
    "description schoolSubject grade curriculum openAccess updatedAt approvedFor",
    "CatalogueFacets": "counted exact language kind grade schoolSubject openAccess",
    "FacetCount": "value count",
}
KEPT_FIELDS = frozenset((kind, name) for kind, names in _KEPT.items() for name in names.split())
CATALOGUE_VERSION_SQL = library_service.CATALOGUE_VERSION_SQL
CATALOGUE_VERSION_KEY = library_service.CATALOGUE_VERSION_KEY

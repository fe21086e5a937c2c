"""The libraries' node types: catalogue records and their files, copies, loans, holds, and
the textbook fund's provision report."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any, TypeAlias

import strawberry

from models import Audience as AudienceEnum
from models import BibKind as BibKindEnum
from models import Curriculum as CurriculumEnum
from models import FileAccess as FileAccessEnum
from models import FileFormat as FileFormatEnum
from models import HoldStatus as HoldStatusEnum
from models import ItemStatus as ItemStatusEnum
from models import LibraryHolding as HoldingRow
from resolvers import library as library_service
from resolvers.clock import today
from resolvers.context import Context, Info
from resolvers.files import file_link
from resolvers.geography.loaders import DistrictByIdLoader, RegionByIdLoader
from resolvers.library.loaders import (
    ApprovalsByRecordLoader,
    BibFileByIdLoader,
    BibRecordByIdLoader,
    FilesByRecordLoader,
    HoldByIdLoader,
    HoldingPagesByRecordLoader,
    LibraryItemByIdLoader,
    LoanByIdLoader,
    OpenLoanByItemLoader,
    QueuePositionByHoldLoader,
)
from resolvers.library.marc import record_to_marc
from resolvers.people.loaders import PersonByIdLoader
from resolvers.relay import Ordering, encode_id
from schema.common import Connection, Node
from schema.fields import ChildPages, connection
from schema.geography import District, Region
from schema.institutions import Institution, Language, institution_of
from schema.node import fetched_by, loaded, query_pk
from schema.people import Person

strawberry.enum(BibKindEnum, name="BibKind", description="What a catalogue record describes.")
BibKind: TypeAlias = BibKindEnum
strawberry.enum(AudienceEnum, name="Audience", description="Who a book is written for.")
Audience: TypeAlias = AudienceEnum
strawberry.enum(
    CurriculumEnum, name="Curriculum", description="The school standard a textbook serves."
)
Curriculum: TypeAlias = CurriculumEnum
strawberry.enum(FileAccessEnum, name="FileAccess", description="Who may read a digital file.")
FileAccess: TypeAlias = FileAccessEnum
strawberry.enum(FileFormatEnum, name="FileFormat", description="A digital file's format.")
FileFormat: TypeAlias = FileFormatEnum
strawberry.enum(ItemStatusEnum, name="ItemStatus", description="Where a copy is.")
ItemStatus: TypeAlias = ItemStatusEnum
strawberry.enum(HoldStatusEnum, name="HoldStatus", description="Where a hold stands.")
HoldStatus: TypeAlias = HoldStatusEnum

HOLDING_ORDER = Ordering(((HoldingRow.institution_id, False),))


@fetched_by(BibFileByIdLoader)
@strawberry.type(description="A digital file (PDF, EPUB) of a catalogue record.")
class BibFile(Node):
    pk: strawberry.Private[int]
    record_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int | None]
    sha256: strawberry.Private[str]
    format: FileFormat = strawberry.field(description="PDF or EPUB.")
    size_bytes: int = strawberry.field(description="Size in bytes.")
    access: FileAccess = strawberry.field(description="Who may read it.")
    licence: str | None = strawberry.field(description="Its licence, e.g. CC BY 4.0.")
    filename: str = strawberry.field(description="The name it downloads under.")

    @classmethod
    def from_row(cls, row: Any) -> BibFile:
        return cls(
            id=strawberry.ID(encode_id("BibFile", row.id)),
            pk=row.id,
            record_pk=row.record_id,
            institution_pk=row.institution_id,
            sha256=row.sha256,
            format=row.format,
            size_bytes=row.size_bytes,
            access=row.access,
            licence=row.licence,
            filename=row.filename,
        )

    @strawberry.field(description="The institution whose people may read it (INSTITUTION files).")
    async def institution(self, info: Info) -> Institution | None:
        return (
            None if self.institution_pk is None else await institution_of(info, self.institution_pk)
        )

    @strawberry.field(
        description="A short-lived signed link that downloads the file (range requests resume "
        "a broken download); only files you may read are listed."
    )
    def download_url(self, info: Info) -> str | None:
        state = getattr(getattr(info.context.request, "app", None), "state", None)
        if state is None:
            return None
        media = "application/pdf" if self.format == FileFormatEnum.PDF else "application/epub+zip"
        return file_link(
            state.keyring,
            self.sha256,
            name=self.filename,
            media_type=media,
            ttl_seconds=state.settings.file_link_ttl_seconds,
        )


@strawberry.type(description="How many copies of a record a library holds.")
class LibraryHolding:
    institution_pk: strawberry.Private[int]
    held: int = strawberry.field(description="Copies held (not lost or withdrawn).")
    on_loan: int = strawberry.field(description="Copies out on loan.")
    available: int = strawberry.field(description="Copies on the shelf now.")

    @classmethod
    def from_row(cls, row: Any) -> LibraryHolding:
        return cls(
            institution_pk=row.institution_id,
            held=row.held,
            on_loan=row.on_loan,
            available=row.available,
        )

    @strawberry.field(description="The library's institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)


@fetched_by(BibRecordByIdLoader)
@strawberry.type(description="A work at edition level in the one catalogue.")
class BibRecord(Node):
    pk: strawberry.Private[int]
    kind: BibKind = strawberry.field(description="Book, textbook, periodical ...")
    title: str = strawberry.field(description="Title.")
    subtitle: str | None = strawberry.field(description="Subtitle.")
    authors: list[str] = strawberry.field(description="Authors, as written.")
    isbn: str | None = strawberry.field(description="ISBN-10 or ISBN-13, without hyphens.")
    language: Language = strawberry.field(description="Language of the text.")
    publisher: str | None = strawberry.field(description="Publisher.")
    year: int | None = strawberry.field(description="Year of publication.")
    subjects: list[str] = strawberry.field(description="Subject headings.")
    audience: Audience | None = strawberry.field(description="Who it is written for.")
    description: str | None = strawberry.field(description="Summary.")
    school_subject: str | None = strawberry.field(description="Textbooks: the school subject.")
    grade: int | None = strawberry.field(description="Textbooks: the grade (1-12).")
    curriculum: Curriculum | None = strawberry.field(description="Textbooks: the standard.")
    open_access: bool = strawberry.field(description="Anyone may read a file of it online.")
    updated_at: datetime = strawberry.field(description="Last change (the OAI-PMH datestamp).")
    row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> BibRecord:
        return cls(
            id=strawberry.ID(encode_id("BibRecord", row.id)),
            pk=row.id,
            kind=row.kind,
            title=row.title,
            subtitle=row.subtitle,
            authors=list(row.authors),
            isbn=row.isbn,
            language=row.language,
            publisher=row.publisher,
            year=row.year,
            subjects=list(row.subjects),
            audience=row.audience,
            description=row.description,
            school_subject=row.school_subject,
            grade=row.grade,
            curriculum=row.curriculum,
            open_access=row.open_access,
            updated_at=row.updated_at,
            row=row,
        )

    @strawberry.field(description="Its digital files that you may read.")
    async def files(self, info: Info) -> list[BibFile]:
        rows = await FilesByRecordLoader(info.context).load(self.pk)
        return [BibFile.from_row(r) for r in rows]

    @strawberry.field(description="School years the ministry approved this textbook for.")
    async def approved_for(self, info: Info) -> list[int]:
        rows = await ApprovalsByRecordLoader(info.context).load(self.pk)
        return [r.school_year for r in rows]

    @connection(Connection[LibraryHolding], description="Libraries holding copies of it.")
    def holdings(self, ctx: Context, institution_id: strawberry.ID | None = None) -> ChildPages:
        flt = query_pk(institution_id, "Institution") if institution_id else None
        return ChildPages(
            HoldingPagesByRecordLoader(ctx),
            self.pk,
            flt,
            HOLDING_ORDER,
            LibraryHolding.from_row,
        )

    @strawberry.field(description="The record as MARCXML (MARC 21 slim).")
    def marc_xml(self) -> str:
        return record_to_marc(self.row).xml

    @strawberry.field(description="The record as MARC 21 (ISO 2709), base64.")
    def marc21(self) -> str:
        return base64.b64encode(record_to_marc(self.row).iso2709).decode()


@fetched_by(LibraryItemByIdLoader)
@strawberry.type(description="One copy of a record at a library.")
class LibraryItem(Node):
    pk: strawberry.Private[int]
    record_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    barcode: str = strawberry.field(description="Its barcode at the library.")
    status: ItemStatus = strawberry.field(description="Where it is.")
    shelf_mark: str | None = strawberry.field(description="Where it stands on the shelves.")
    acquired_on: date | None = strawberry.field(description="When the library acquired it.")

    @classmethod
    def from_row(cls, row: Any) -> LibraryItem:
        return cls(
            id=strawberry.ID(encode_id("LibraryItem", row.id)),
            pk=row.id,
            record_pk=row.record_id,
            institution_pk=row.institution_id,
            barcode=row.barcode,
            status=row.status,
            shelf_mark=row.shelf_mark,
            acquired_on=row.acquired_on,
        )

    @strawberry.field(description="What it is a copy of.")
    async def record(self, info: Info) -> BibRecord:
        row = await BibRecordByIdLoader(info.context).load(self.record_pk)
        return BibRecord.from_row(row)

    @strawberry.field(description="The library's institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="Its open loan (null on the shelf, or if you may not read it).")
    async def current_loan(self, info: Info) -> Loan | None:
        return await loaded(OpenLoanByItemLoader(info.context), self.pk, Loan.from_row)


@fetched_by(LoanByIdLoader)
@strawberry.type(description="A copy lent to a person.")
class Loan(Node):
    pk: strawberry.Private[int]
    item_pk: strawberry.Private[int]
    record_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    loaned_at: datetime = strawberry.field(description="When it was lent.")
    due_on: date = strawberry.field(description="When it is due back.")
    returned_at: datetime | None = strawberry.field(description="When it came back.")
    renewals: int = strawberry.field(description="Times renewed.")
    overdue_since: date | None = strawberry.field(description="When the job found it overdue.")
    textbook_issue: bool = strawberry.field(description="Part of a class's textbook set.")

    @classmethod
    def from_row(cls, row: Any) -> Loan:
        return cls(
            id=strawberry.ID(encode_id("Loan", row.id)),
            pk=row.id,
            item_pk=row.item_id,
            record_pk=row.record_id,
            institution_pk=row.institution_id,
            person_pk=row.person_id,
            loaned_at=row.loaned_at,
            due_on=row.due_on,
            returned_at=row.returned_at,
            renewals=row.renewals,
            overdue_since=row.overdue_since,
            textbook_issue=row.textbook_issue,
        )

    @strawberry.field(description="True while the copy is out and past its due day.")
    def is_overdue(self) -> bool:
        return self.returned_at is None and self.due_on < today()

    @strawberry.field(description="The copy lent.")
    async def item(self, info: Info) -> LibraryItem:
        return LibraryItem.from_row(await LibraryItemByIdLoader(info.context).load(self.item_pk))

    @strawberry.field(description="What was lent.")
    async def record(self, info: Info) -> BibRecord:
        return BibRecord.from_row(await BibRecordByIdLoader(info.context).load(self.record_pk))

    @strawberry.field(description="The lending library's institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The borrower (null if you may not read them).")
    async def borrower(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.person_pk, Person.from_row)


@fetched_by(HoldByIdLoader)
@strawberry.type(description="A person waiting for a copy of a title at a library.")
class Hold(Node):
    pk: strawberry.Private[int]
    record_pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]
    person_pk: strawberry.Private[int]
    item_pk: strawberry.Private[int | None]
    status: HoldStatus = strawberry.field(description="Waiting, ready to pick up, or closed.")
    placed_at: datetime = strawberry.field(description="When the person joined the queue.")
    expires_on: date | None = strawberry.field(description="Last day to pick up a ready copy.")

    @classmethod
    def from_row(cls, row: Any) -> Hold:
        return cls(
            id=strawberry.ID(encode_id("Hold", row.id)),
            pk=row.id,
            record_pk=row.record_id,
            institution_pk=row.institution_id,
            person_pk=row.person_id,
            item_pk=row.item_id,
            status=row.status,
            placed_at=row.placed_at,
            expires_on=row.expires_on,
        )

    @strawberry.field(description="Place in the title's queue at the library (1 = next).")
    async def queue_position(self, info: Info) -> int | None:
        return await QueuePositionByHoldLoader(info.context).load(self.pk)

    @strawberry.field(description="The title waited for.")
    async def record(self, info: Info) -> BibRecord:
        return BibRecord.from_row(await BibRecordByIdLoader(info.context).load(self.record_pk))

    @strawberry.field(description="The library's institution.")
    async def institution(self, info: Info) -> Institution:
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The person waiting (null if you may not read them).")
    async def person(self, info: Info) -> Person | None:
        return await loaded(PersonByIdLoader(info.context), self.person_pk, Person.from_row)

    @strawberry.field(description="The copy set aside (ready holds).")
    async def item(self, info: Info) -> LibraryItem | None:
        return await loaded(LibraryItemByIdLoader(info.context), self.item_pk, LibraryItem.from_row)


@strawberry.type(description="Needed, held and issued textbooks at one place (or title).")
class ProvisionRow:
    region_pk: strawberry.Private[int | None]
    district_pk: strawberry.Private[int | None]
    institution_pk: strawberry.Private[int | None]
    record_pk: strawberry.Private[int | None]
    needed: int = strawberry.field(description="Copies the pupils need (one each per title).")
    held: int = strawberry.field(description="Copies the libraries hold.")
    issued: int = strawberry.field(description="Copies out with pupils.")
    shortfall: int = strawberry.field(
        description="Copies missing where they are needed (a surplus elsewhere does not count)."
    )
    rate: float = strawberry.field(description="Share of the need met, 0 to 1.")

    @classmethod
    def from_row(cls, row: library_service.ProvisionRow) -> ProvisionRow:
        return cls(
            region_pk=row.region_id,
            district_pk=row.district_id,
            institution_pk=row.institution_id,
            record_pk=row.record_id,
            needed=row.needed,
            held=row.held,
            issued=row.issued,
            shortfall=row.shortfall,
            rate=row.rate,
        )

    @strawberry.field(description="The region (REGION level and below).")
    async def region(self, info: Info) -> Region | None:
        return await loaded(RegionByIdLoader(info.context), self.region_pk, Region.from_row)

    @strawberry.field(description="The district (DISTRICT level and below).")
    async def district(self, info: Info) -> District | None:
        return await loaded(DistrictByIdLoader(info.context), self.district_pk, District.from_row)

    @strawberry.field(description="The school (INSTITUTION and TITLE levels).")
    async def institution(self, info: Info) -> Institution | None:
        if self.institution_pk is None:
            return None
        return await institution_of(info, self.institution_pk)

    @strawberry.field(description="The textbook (TITLE level).")
    async def record(self, info: Info) -> BibRecord | None:
        return await loaded(BibRecordByIdLoader(info.context), self.record_pk, BibRecord.from_row)


@strawberry.type(description="How many records of a search have one value of a filter.")
class FacetCount:
    value: str = strawberry.field(description="The value, as the filter takes it.")
    count: int = strawberry.field(description="Records with it.")


@strawberry.type(description="Counts per filter value of a catalogue search.")
class CatalogueFacets:
    counted: int = strawberry.field(
        description="How many records the search matches: counted when `exact`, else "
        "estimated (the search has more than 200)."
    )
    exact: bool = strawberry.field(
        description="Whether the counts were counted match by match (at most 200 matches), "
        "rather than estimated from a sample of the catalogue."
    )
    language: list[FacetCount] = strawberry.field(description="Per language.")
    kind: list[FacetCount] = strawberry.field(description="Per kind (BOOK, TEXTBOOK ...).")
    grade: list[FacetCount] = strawberry.field(description="Per grade (textbooks).")
    school_subject: list[FacetCount] = strawberry.field(description="Per school subject.")
    open_access: list[FacetCount] = strawberry.field(description="Open access or not.")


@strawberry.type(description="One title issued to a class.")
class TitleIssue:
    record_pk: strawberry.Private[int]
    pupils: int = strawberry.field(description="Pupils in the class.")
    issued: int = strawberry.field(description="Copies issued now.")
    already_had: int = strawberry.field(description="Pupils who had a copy already.")
    short: int = strawberry.field(description="Pupils left without a copy.")

    @strawberry.field(description="The textbook.")
    async def record(self, info: Info) -> BibRecord:
        return BibRecord.from_row(await BibRecordByIdLoader(info.context).load(self.record_pk))


@strawberry.type(description="What issuing a class its textbook set did.")
class TextbookIssue:
    grade: int = strawberry.field(description="The grade.")
    class_group: str | None = strawberry.field(description="The class, e.g. 5B.")
    school_year: int = strawberry.field(description="The school year (the year it starts).")
    titles: list[TitleIssue] = strawberry.field(description="Per title.")

    @classmethod
    def from_result(cls, issue: library_service.TextbookIssue) -> TextbookIssue:
        return cls(
            grade=issue.grade,
            class_group=issue.class_group,
            school_year=issue.school_year,
            titles=[
                TitleIssue(
                    record_pk=t.record_id,
                    pupils=t.pupils,
                    issued=t.issued,
                    already_had=t.already_had,
                    short=t.short,
                )
                for t in issue.titles
            ],
        )

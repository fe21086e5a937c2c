"""The libraries' mutations: the catalogue (records, approvals, files), copies and policy,
the desk (checkout, return, renewal), holds, and issuing textbook sets."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.file_uploads import Upload

from resolvers import library as library_service
from resolvers.context import Context
from resolvers.errors import DomainError
from resolvers.errors import ErrorCode as Code
from resolvers.files import file_store
from resolvers.library.loaders import BibRecordByIdLoader, LibraryItemByIdLoader
from resolvers.mutations import MutationResult
from schema.common import UserError, user_errors
from schema.fields import Payload, mutation
from schema.institutions import Language
from schema.library.types import (
    Audience,
    BibFile,
    BibKind,
    BibRecord,
    Curriculum,
    FileAccess,
    Hold,
    LibraryItem,
    Loan,
    TextbookIssue,
)
from schema.node import optional_pk, pk_of


@strawberry.input(description="A new catalogue record.")
class CreateBibRecordInput:
    kind: BibKind = strawberry.field(description="Book, textbook ...")
    title: str = strawberry.field(description="Title.")
    language: Language = strawberry.field(description="Language of the text.")
    subtitle: str | None = strawberry.field(default=None, description="Subtitle.")
    authors: list[str] = strawberry.field(default_factory=list, description="Authors (at most 20).")
    isbn: str | None = strawberry.field(default=None, description="ISBN-10 or ISBN-13.")
    publisher: str | None = strawberry.field(default=None, description="Publisher.")
    year: int | None = strawberry.field(default=None, description="Year of publication.")
    subjects: list[str] = strawberry.field(
        default_factory=list, description="Subject headings (at most 30)."
    )
    audience: Audience | None = strawberry.field(default=None, description="Who it is for.")
    description: str | None = strawberry.field(default=None, description="Summary.")
    school_subject: str | None = strawberry.field(default=None, description="Textbooks: subject.")
    grade: int | None = strawberry.field(default=None, description="Textbooks: grade 1-12.")
    curriculum: Curriculum | None = strawberry.field(default=None, description="Textbooks.")


@strawberry.type(description="Result of a catalogue mutation.")
class BibRecordPayload(Payload):
    record: BibRecord | None = strawberry.field(description="The record.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Approve a textbook for a school year (the ministry).")
class ApproveTextbookInput:
    record_id: strawberry.ID = strawberry.field(description="The textbook's record.")
    school_year: int = strawberry.field(description="The school year (the year it starts).")


@strawberry.input(description="Attach a digital file (PDF or EPUB) to a record.")
class AttachBibFileInput:
    record_id: strawberry.ID = strawberry.field(description="The record.")
    file: Upload = strawberry.field(description="The file (multipart), at most 300 MB.")
    access: FileAccess = strawberry.field(description="Who may read it.")
    institution_id: strawberry.ID | None = strawberry.field(
        default=None, description="The institution whose people may read it (INSTITUTION)."
    )
    licence: str | None = strawberry.field(default=None, description="Licence, e.g. CC BY 4.0.")


@strawberry.type(description="Result of attaching a file.")
class BibFilePayload(Payload):
    file: BibFile | None = strawberry.field(description="The file stored.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Add copies of a record to a library, one per barcode.")
class AddLibraryItemsInput:
    record_id: strawberry.ID = strawberry.field(description="The record.")
    institution_id: strawberry.ID = strawberry.field(description="The library's institution.")
    barcodes: list[str] = strawberry.field(description="Barcodes of the new copies (1-500).")
    shelf_mark: str | None = strawberry.field(default=None, description="Where they stand.")
    acquired_on: date | None = strawberry.field(default=None, description="When acquired.")


@strawberry.type(description="Result of adding copies.")
class LibraryItemsPayload(Payload):
    items: list[LibraryItem] = strawberry.field(description="The copies added.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Lend a copy to one of the institution's people.")
class CheckOutItemInput:
    institution_id: strawberry.ID = strawberry.field(description="The library's institution.")
    barcode: str = strawberry.field(description="The copy's barcode.")
    person_id: strawberry.ID = strawberry.field(description="The borrower (their library card).")


@strawberry.input(description="Take a copy back.")
class ReturnItemInput:
    institution_id: strawberry.ID = strawberry.field(description="The library's institution.")
    barcode: str = strawberry.field(description="The copy's barcode.")


@strawberry.input(description="Renew a loan.")
class RenewLoanInput:
    loan_id: strawberry.ID = strawberry.field(description="The open loan.")


@strawberry.type(description="Result of a circulation mutation.")
class LoanPayload(Payload):
    loan: Loan | None = strawberry.field(description="The loan.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Wait for a copy of a title at a library.")
class PlaceHoldInput:
    record_id: strawberry.ID = strawberry.field(description="The title.")
    institution_id: strawberry.ID = strawberry.field(description="The library's institution.")
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who waits (default: you)."
    )


@strawberry.input(description="Leave a title's queue.")
class CancelHoldInput:
    hold_id: strawberry.ID = strawberry.field(description="The open hold.")


@strawberry.type(description="Result of a hold mutation.")
class HoldPayload(Payload):
    hold: Hold | None = strawberry.field(description="The hold.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.input(description="Issue a class its textbook set.")
class IssueTextbooksInput:
    institution_id: strawberry.ID = strawberry.field(description="The school.")
    grade: int = strawberry.field(description="The class's grade.")
    class_group: str | None = strawberry.field(
        default=None, description="The class, e.g. 5B (default: the whole grade)."
    )
    record_ids: list[strawberry.ID] = strawberry.field(
        description="The textbooks (approved for this school year and grade; 1-40)."
    )
    due_on: date | None = strawberry.field(
        default=None, description="When they come back (default: 31 May)."
    )


@strawberry.type(description="Result of issuing textbooks.")
class IssueTextbooksPayload(Payload):
    issue: TextbookIssue | None = strawberry.field(description="What was issued, per title.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")

    @classmethod
    def from_result(cls, result: MutationResult[Any]) -> IssueTextbooksPayload:
        value = result.value
        return cls(
            issue=TextbookIssue.from_result(value) if value is not None else None,
            user_errors=user_errors(result.problems),
        )


def _person_id(ctx: Context, given: strawberry.ID | None) -> int:
    if given is not None:
        return pk_of(given, "Person", field="personId")
    if ctx.principal.person_id is None:
        raise DomainError(Code.INVALID_INPUT, "Name the person", field="personId")
    return ctx.principal.person_id


@strawberry.type
class Mutation:
    @mutation(
        "library.create_bib_record",
        BibRecordPayload,
        description="Add a record to the one catalogue (librarians, the ministry).",
    )
    async def create_bib_record(
        session: AsyncSession, ctx: Context, input: CreateBibRecordInput
    ) -> Any:
        draft = library_service.RecordDraft(
            kind=input.kind,
            title=input.title,
            language=input.language,
            subtitle=input.subtitle,
            authors=tuple(input.authors[:100]),
            isbn=input.isbn,
            publisher=input.publisher,
            year=input.year,
            subjects=tuple(input.subjects[:100]),
            audience=input.audience,
            description=input.description,
            school_subject=input.school_subject,
            grade=input.grade,
            curriculum=input.curriculum,
        )
        return await library_service.create_bib_record(session, ctx.principal, draft)

    @mutation(
        "library.approve_textbook",
        BibRecordPayload,
        description="Approve a textbook for a school year (the ministry).",
    )
    async def approve_textbook(
        session: AsyncSession, ctx: Context, input: ApproveTextbookInput
    ) -> Any:
        record_id = pk_of(input.record_id, "BibRecord", field="recordId")
        await library_service.approve_textbook(
            session, ctx.principal, record_id=record_id, school_year=input.school_year
        )
        return await library_service.catalogue.load_record(session, record_id)

    @mutation(
        "library.attach_bib_file",
        BibFilePayload,
        description="Store a record's PDF or EPUB and say who may read it.",
    )
    async def attach_bib_file(
        session: AsyncSession, ctx: Context, input: AttachBibFileInput
    ) -> Any:
        settings = ctx.request.app.state.settings
        draft = library_service.FileDraft(
            record_id=pk_of(input.record_id, "BibRecord", field="recordId"),
            access=input.access,
            institution_id=optional_pk(input.institution_id, "Institution", field="institutionId"),
            licence=input.licence,
            upload=input.file,
        )
        return await library_service.attach_bib_file(
            session,
            ctx.principal,
            draft,
            store=file_store(settings),
            spool_dir=Path(settings.data_dir) / "spool",
        )

    @mutation(
        "library.add_library_items",
        LibraryItemsPayload,
        description="Add copies of a record to your library, one per barcode.",
    )
    async def add_library_items(
        session: AsyncSession, ctx: Context, input: AddLibraryItemsInput
    ) -> Any:
        return await library_service.add_library_items(
            session,
            ctx.principal,
            record_id=pk_of(input.record_id, "BibRecord", field="recordId"),
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            barcodes=input.barcodes[: library_service.holdings.MAX_ITEMS_AT_ONCE + 1],
            shelf_mark=input.shelf_mark,
            acquired_on=input.acquired_on,
        )

    @mutation(
        "library.check_out_item",
        LoanPayload,
        description="Lend a copy to a pupil, student or staff member of the institution.",
    )
    async def check_out_item(session: AsyncSession, ctx: Context, input: CheckOutItemInput) -> Any:
        lent = await library_service.lend(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            barcode=input.barcode,
            person_id=pk_of(input.person_id, "Person", field="personId"),
        )
        # The answer's copy and record are what the step read (copies and records have no row
        # rule): given to the request's loaders, they are not read again.
        LibraryItemByIdLoader(ctx).loader.prime(lent.item.id, lent.item)
        BibRecordByIdLoader(ctx).loader.prime(lent.item.record_id, lent.record)
        return lent.loan

    @mutation("library.return_item", LoanPayload, description="Take a copy back at the desk.")
    async def return_item(session: AsyncSession, ctx: Context, input: ReturnItemInput) -> Any:
        returned = await library_service.return_item(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            barcode=input.barcode,
        )
        # The answer's copy is the one the step locked and routed (copies have no row rule).
        LibraryItemByIdLoader(ctx).prime(returned.item.id, returned.item)
        return returned.loan

    @mutation(
        "library.renew_loan",
        LoanPayload,
        description="Renew a loan (its library's staff, or the borrower).",
    )
    async def renew_loan(session: AsyncSession, ctx: Context, input: RenewLoanInput) -> Any:
        return await library_service.renew_loan(
            session, ctx.principal, loan_id=pk_of(input.loan_id, "Loan", field="loanId")
        )

    @mutation(
        "library.place_hold",
        HoldPayload,
        description="Wait for a copy of a title at a library (you, your child, or a borrower "
        "at your desk).",
    )
    async def place_hold(session: AsyncSession, ctx: Context, input: PlaceHoldInput) -> Any:
        placed = await library_service.place_hold(
            session,
            ctx.principal,
            record_id=pk_of(input.record_id, "BibRecord", field="recordId"),
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            person_id=_person_id(ctx, input.person_id),
            eligible=library_service.require_borrower,
        )
        # The answer's title is the record the step read (records have no row rule).
        BibRecordByIdLoader(ctx).prime(placed.record.id, placed.record)
        return placed.hold

    @mutation("library.cancel_hold", HoldPayload, description="Leave a title's queue.")
    async def cancel_hold(session: AsyncSession, ctx: Context, input: CancelHoldInput) -> Any:
        return await library_service.cancel_hold(
            session, ctx.principal, hold_id=pk_of(input.hold_id, "Hold", field="holdId")
        )

    @mutation(
        "library.issue_textbooks",
        IssueTextbooksPayload,
        description="Issue a class its textbook set: one copy of each title to every pupil "
        "without one (a shortfall is reported, not refused).",
    )
    async def issue_textbooks(
        session: AsyncSession, ctx: Context, input: IssueTextbooksInput
    ) -> Any:
        issued = await library_service.issue_textbooks(
            session,
            ctx.principal,
            institution_id=pk_of(input.institution_id, "Institution", field="institutionId"),
            grade=input.grade,
            class_group=input.class_group,
            record_ids=[
                pk_of(r, "BibRecord", field="recordIds")
                for r in input.record_ids[: library_service.textbooks.MAX_TITLES + 1]
            ],
            due_on=input.due_on,
        )
        # The titles are the records the step read (records have no row rule).
        records = BibRecordByIdLoader(ctx)
        for record in issued.records:
            records.prime(record.id, record)
        return issued

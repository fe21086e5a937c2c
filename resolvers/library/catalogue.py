"""The one catalogue: records (work and edition), the ministry's textbook approvals, and the
digital files of a record in the hub's file store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Audience,
    BibFile,
    BibKind,
    BibRecord,
    Curriculum,
    FileAccess,
    FileFormat,
    Institution,
    Language,
    TextbookApproval,
)
from resolvers.access import Principal, require
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit
from resolvers.files import FilePolicy, FileStore, receive_file
from resolvers.library.errors import LibraryCode
from resolvers.library.rules import may_approve_textbooks, may_manage_catalogue
from resolvers.library.text import record_words

# Books and textbooks: PDF or EPUB, up to 300 MB (a scanned textbook runs to 150 MB).
BOOK_FILES = FilePolicy(
    media_types=frozenset({"application/pdf", "application/epub+zip"}), max_bytes=300 << 20
)
FORMAT_OF = {"application/pdf": FileFormat.PDF, "application/epub+zip": FileFormat.EPUB}
MAX_AUTHORS = 20
MAX_SUBJECTS = 30


def normalize_isbn(raw: str | None, *, field: str = "isbn") -> str | None:
    """An ISBN-10 or ISBN-13 without hyphens or spaces, its check digit verified; None for
    an empty one; INVALID_ISBN otherwise."""
    if raw is None or not raw.strip():
        return None
    value = re.sub(r"[\s-]", "", raw.strip()).upper()
    if re.fullmatch(r"[0-9]{9}[0-9X]", value):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(value))
        if total % 11 == 0:
            return value
    elif re.fullmatch(r"97[89][0-9]{10}", value):
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(value))
        if total % 10 == 0:
            return value
    raise DomainError(
        LibraryCode.INVALID_ISBN, f"{raw.strip()[:20]!r} is not a valid ISBN", field=field
    )


@dataclass(frozen=True)
class RecordDraft:
    """A record as a librarian or an import describes it."""

    kind: BibKind
    title: str
    language: Language
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    isbn: str | None = None
    publisher: str | None = None
    year: int | None = None
    subjects: tuple[str, ...] = ()
    audience: Audience | None = None
    description: str | None = None
    school_subject: str | None = None
    grade: int | None = None
    curriculum: Curriculum | None = None
    source_id: str | None = None


def _clean(value: str | None, limit: int) -> str | None:
    cleaned = " ".join((value or "").split())
    return cleaned[:limit] or None


def check_draft(draft: RecordDraft) -> RecordDraft:
    """The draft with its text tidied, or the first problem with it."""
    title = _clean(draft.title, 500)
    if title is None:
        raise DomainError(ErrorCode.INVALID_INPUT, "A record has a title", field="title")
    if draft.year is not None and not 1000 <= draft.year <= 2200:
        raise DomainError(ErrorCode.INVALID_INPUT, "The year is not plausible", field="year")
    authors = tuple(a for a in (_clean(x, 200) for x in draft.authors) if a)
    subjects = tuple(s for s in (_clean(x, 200) for x in draft.subjects) if s)
    if len(authors) > MAX_AUTHORS or len(subjects) > MAX_SUBJECTS:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"At most {MAX_AUTHORS} authors and {MAX_SUBJECTS} subjects",
            field="authors",
        )
    textbook = draft.kind == BibKind.TEXTBOOK
    if textbook and (draft.grade is None or not draft.school_subject):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A textbook names its grade and school subject", field="grade"
        )
    if not textbook and (draft.grade is not None or draft.school_subject or draft.curriculum):
        raise DomainError(
            LibraryCode.NOT_A_TEXTBOOK, "Only textbooks have a grade and subject", field="grade"
        )
    if draft.grade is not None and not 1 <= draft.grade <= 12:
        raise DomainError(ErrorCode.INVALID_INPUT, "The grade is 1 to 12", field="grade")
    return RecordDraft(
        kind=draft.kind,
        title=title,
        language=draft.language,
        subtitle=_clean(draft.subtitle, 500),
        authors=authors,
        isbn=normalize_isbn(draft.isbn),
        publisher=_clean(draft.publisher, 300),
        year=draft.year,
        subjects=subjects,
        audience=draft.audience,
        description=(draft.description or "").strip()[:20_000] or None,
        school_subject=_clean(draft.school_subject, 100),
        grade=draft.grade,
        curriculum=draft.curriculum,
        source_id=_clean(draft.source_id, 100),
    )


def record_values(draft: RecordDraft) -> dict[str, Any]:
    """The columns of a checked draft, its search text included."""
    words, folded = record_words(
        title=draft.title,
        subtitle=draft.subtitle,
        authors=draft.authors,
        subjects=draft.subjects,
        publisher=draft.publisher,
        school_subject=draft.school_subject,
        isbn=draft.isbn,
    )
    return {
        "kind": draft.kind,
        "title": draft.title,
        "subtitle": draft.subtitle,
        "authors": list(draft.authors),
        "isbn": draft.isbn,
        "language": draft.language,
        "publisher": draft.publisher,
        "year": draft.year,
        "subjects": list(draft.subjects),
        "audience": draft.audience,
        "description": draft.description,
        "school_subject": draft.school_subject,
        "grade": draft.grade,
        "curriculum": draft.curriculum,
        "source_id": draft.source_id,
        "words": words,
        "folded": folded,
    }


async def isbn_owner(session: AsyncSession, isbn: str | None) -> int | None:
    if isbn is None:
        return None
    return await session.scalar(select(BibRecord.id).where(BibRecord.isbn == isbn))


async def create_bib_record(
    session: AsyncSession, principal: Principal, draft: RecordDraft
) -> BibRecord:
    """Add a record to the one catalogue. Rules: a title; a valid ISBN (check digit) that no
    other record has (DUPLICATE_ISBN; the unique index holds it under concurrency); textbooks,
    and only textbooks, name a grade 1-12 and a school subject."""
    require(may_manage_catalogue(principal), "Only librarians and the ministry add records")
    checked = check_draft(draft)
    if await isbn_owner(session, checked.isbn) is not None:
        raise DomainError(
            LibraryCode.DUPLICATE_ISBN, "A record with this ISBN is in the catalogue", field="isbn"
        )
    record = BibRecord(**record_values(checked))
    session.add(record)
    await session.flush()
    await emit(
        session,
        topic="library.record_created",
        aggregate_type="BibRecord",
        aggregate_id=record.id,
        payload={"kind": checked.kind.value, "language": checked.language.value},
    )
    return record


async def load_record(
    session: AsyncSession, record_id: int, *, field: str = "recordId"
) -> BibRecord:
    record = await session.get(BibRecord, record_id)
    if record is None:
        raise NotFound("The record", field=field)
    return record


async def approve_textbook(
    session: AsyncSession, principal: Principal, *, record_id: int, school_year: int
) -> TextbookApproval:
    """The ministry approves a textbook for a school year (the year it starts): only approved
    textbooks count in the textbook fund's provision for that year."""
    require(may_approve_textbooks(principal), "Only the ministry approves textbooks")
    record = await load_record(session, record_id)
    if record.kind != BibKind.TEXTBOOK:
        raise DomainError(
            LibraryCode.NOT_A_TEXTBOOK, "The record is not a textbook", field="recordId"
        )
    if not 2000 <= school_year <= 2100:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The school year is not plausible", field="schoolYear"
        )
    found = await session.scalar(
        select(TextbookApproval).where(
            TextbookApproval.record_id == record.id, TextbookApproval.school_year == school_year
        )
    )
    if found is not None:
        return found
    approval = TextbookApproval(
        record_id=record.id, school_year=school_year, approved_by=principal.subject[:200]
    )
    session.add(approval)
    await session.flush()
    return approval


@dataclass(frozen=True)
class FileDraft:
    record_id: int
    access: FileAccess
    institution_id: int | None
    licence: str | None
    upload: Any


async def attach_bib_file(
    session: AsyncSession,
    principal: Principal,
    draft: FileDraft,
    *,
    store: FileStore,
    spool_dir: Path,
) -> BibFile:
    """Store a record's digital file (PDF or EPUB, its type read from its bytes, not from
    what the client says: INVALID_FILE otherwise) with who may read it and its licence. A
    file open to all makes the record open access."""
    require(may_manage_catalogue(principal), "Only librarians and the ministry add files")
    record = await load_record(session, draft.record_id)
    if (draft.access == FileAccess.INSTITUTION) != (draft.institution_id is not None):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Name the institution for (and only for) a file restricted to one",
            field="institutionId",
        )
    if draft.institution_id is not None:
        inst = await session.get(Institution, draft.institution_id)
        if inst is None:
            raise NotFound("The institution", field="institutionId")
    stored = await receive_file(
        session, store, draft.upload, policy=BOOK_FILES, spool_dir=spool_dir, field="file"
    )
    fmt = FORMAT_OF[stored.media_type]
    name = _clean(getattr(draft.upload, "filename", None), 200) or f"{record.id}.{fmt.value}"
    bib_file = BibFile(
        record_id=record.id,
        sha256=stored.sha256,
        format=fmt,
        size_bytes=stored.size_bytes,
        access=draft.access,
        institution_id=draft.institution_id,
        licence=_clean(draft.licence, 100),
        filename=name,
    )
    session.add(bib_file)
    if draft.access == FileAccess.OPEN and not record.open_access:
        await session.execute(
            update(BibRecord).where(BibRecord.id == record.id).values(open_access=True)
        )
    await session.flush()
    return bib_file

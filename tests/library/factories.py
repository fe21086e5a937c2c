"""One factory per library model: rows arranged directly in the database."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import BibKind, BibRecord, Institution, Language, LibraryItem, TextbookApproval
from resolvers.library.catalogue import RecordDraft, check_draft, record_values

_serial = itertools.count(1)


async def make_record(
    session: AsyncSession,
    *,
    title: str = "Манас",
    language: Language = Language.KY,
    kind: BibKind = BibKind.BOOK,
    authors: tuple[str, ...] = ("Саякбай Каралаев",),
    **kwargs: Any,
) -> BibRecord:
    draft = check_draft(
        RecordDraft(kind=kind, title=title, language=language, authors=authors, **kwargs)
    )
    record = BibRecord(**record_values(draft))
    session.add(record)
    await session.flush()
    return record


async def make_textbook(
    session: AsyncSession,
    *,
    grade: int = 5,
    subject: str = "Математика",
    language: Language = Language.KY,
    approved_for: int | None = None,
    **kwargs: Any,
) -> BibRecord:
    record = await make_record(
        session,
        title=kwargs.pop("title", f"{subject} {grade}"),
        kind=BibKind.TEXTBOOK,
        language=language,
        grade=grade,
        school_subject=subject,
        **kwargs,
    )
    if approved_for is not None:
        session.add(
            TextbookApproval(record_id=record.id, school_year=approved_for, approved_by="test")
        )
        await session.flush()
    return record


async def make_items(
    session: AsyncSession, *, record: BibRecord, institution: Institution, count: int = 1
) -> list[LibraryItem]:
    items = [
        LibraryItem(
            record_id=record.id,
            institution_id=institution.id,
            barcode=f"B{next(_serial):07d}",
        )
        for _ in range(count)
    ]
    session.add_all(items)
    await session.flush()
    return items

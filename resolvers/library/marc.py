"""MARC 21: a library's existing catalogue imported (``bilim import marc FILE``), a record
exported (MARCXML and ISO 2709), both through ``pymarc``.

The file is cut into records at the ISO 2709 record terminator (0x1D), and ``pymarc`` parses
each: a malformed record is reported with its position (record number and byte offset) and a
code, and the records after it still load. Records whose ISBN the catalogue already has are
matched, not duplicated (one catalogue); copies named in Koha's holdings field (952 $p, the
barcode) are added to the library given."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Audience, BibKind, BibRecord, Language, LibraryItem
from resolvers.errors import AnyCode, DomainError
from resolvers.library.catalogue import RecordDraft, check_draft, record_values
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import BARCODE

if TYPE_CHECKING:
    # Imported where a record is read or written: ~3 MB a worker that never does not hold.
    import pymarc

TERMINATOR = b"\x1d"
BATCH = 500
# MARC language codes (041 $a, 008/35-37) of the catalogue's languages.
LANGUAGES = {
    "kir": Language.KY,
    "rus": Language.RU,
    "uzb": Language.UZ,
    "tgk": Language.TG,
    "eng": Language.EN,
}
MARC_CODE = {value: key for key, value in LANGUAGES.items()}
TEXTBOOK_GENRES = re.compile(r"textbook|учебник|окуу китеб", re.IGNORECASE)
ISBD_TAIL = re.compile(r"[\s/:;,.=]+$")


@dataclass(frozen=True)
class MarcProblem:
    """A record that was not loaded: its number in the file (from 1), byte offset, code."""

    position: int
    offset: int
    code: AnyCode
    message: str


@dataclass
class MarcImportReport:
    records: int = 0
    created: int = 0
    matched: int = 0
    items: int = 0
    problems: list[MarcProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedRecord:
    position: int
    offset: int
    draft: RecordDraft
    barcodes: tuple[str, ...]


def _chunks(blocks: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """The records of a file read block by block: (number, byte offset, bytes), each ending
    with its terminator. A file is never held whole."""
    number = offset = 0
    carry = b""
    for block in blocks:
        carry += block
        *whole, carry = carry.split(TERMINATOR)
        for chunk in whole:
            number += 1
            raw = chunk.strip(b"\r\n")
            if raw:
                yield number, offset, raw + TERMINATOR
            else:
                number -= 1
            offset += len(chunk) + 1
    if carry.strip(b"\r\n"):
        yield number + 1, offset, carry.strip(b"\r\n")


def _first(record: pymarc.Record, tag: str, code: str) -> str | None:
    for each in record.get_fields(tag):
        values = each.get_subfields(code)
        if values and values[0].strip():
            return ISBD_TAIL.sub("", values[0].strip())
    return None


def _all(record: pymarc.Record, tags: tuple[str, ...], code: str) -> tuple[str, ...]:
    found: list[str] = []
    for each in record.get_fields(*tags):
        found.extend(ISBD_TAIL.sub("", v.strip()) for v in each.get_subfields(code) if v.strip())
    return tuple(dict.fromkeys(f for f in found if f))


def _language(record: pymarc.Record) -> Language:
    code = (_first(record, "041", "a") or "")[:3].lower()
    if not code:
        fixed = record["008"]
        data = fixed.data if fixed is not None and fixed.data else ""
        code = data[35:38].lower() if len(data) >= 38 else ""
    if code not in LANGUAGES:
        raise DomainError(
            LibraryCode.UNKNOWN_LANGUAGE,
            f"Language {code or '(none)'!r} is not one of the catalogue's",
        )
    return LANGUAGES[code]


def _year(record: pymarc.Record) -> int | None:
    for tag in ("264", "260"):
        text = _first(record, tag, "c")
        found = re.search(r"\d{4}", text or "")
        if found:
            return int(found.group())
    return None


def draft_of(record: pymarc.Record) -> RecordDraft:
    """A catalogue draft from a MARC record (DomainError when it cannot be one)."""
    title = _first(record, "245", "a")
    if not title:
        raise DomainError(LibraryCode.MARC_TITLE_MISSING, "The record has no title (245 $a)")
    isbn_text = _first(record, "020", "a")
    # 020 $a may carry a qualifier after the number: "9785... (pbk.)".
    isbn_number = re.match(r"[0-9Xx-]+", isbn_text or "")
    isbn = isbn_number.group() if isbn_number else isbn_text
    grade_text = _first(record, "521", "a")
    grade = re.search(r"\b(1[0-2]|[1-9])\b", grade_text or "")
    genres = " ".join(_all(record, ("655",), "a"))
    school_subject = _first(record, "658", "a")
    textbook = bool(TEXTBOOK_GENRES.search(genres)) and grade is not None and bool(school_subject)
    control = record["001"]
    return check_draft(
        RecordDraft(
            kind=BibKind.TEXTBOOK if textbook else BibKind.BOOK,
            title=title,
            subtitle=_first(record, "245", "b"),
            authors=_all(record, ("100", "700"), "a"),
            isbn=isbn,
            language=_language(record),
            publisher=_first(record, "264", "b") or _first(record, "260", "b"),
            year=_year(record),
            subjects=_all(record, ("650", "651", "653"), "a"),
            audience=Audience.SCHOOL if textbook else None,
            description=_first(record, "520", "a"),
            school_subject=school_subject if textbook else None,
            grade=int(grade.group()) if textbook and grade else None,
            source_id=control.data if control is not None and control.data else None,
        )
    )


def parse_marc(blocks: Iterable[bytes]) -> Iterator[ParsedRecord | MarcProblem]:
    """Each record of an ISO 2709 file (given as blocks of bytes): parsed, or the problem
    that stopped it."""
    import pymarc

    for position, offset, chunk in _chunks(blocks):
        try:
            record = pymarc.Record(data=chunk, to_unicode=True, force_utf8=True)
        except Exception as err:  # pymarc raises its own and ValueError/IndexError alike
            yield MarcProblem(position, offset, LibraryCode.INVALID_MARC, _why(err))
            continue
        try:
            draft = draft_of(record)
        except DomainError as err:
            yield MarcProblem(position, offset, err.code, err.problems[0].message)
            continue
        barcodes = tuple(b for b in _all(record, ("952",), "p") if BARCODE.match(b))
        yield ParsedRecord(position, offset, draft, barcodes)


def _why(err: Exception) -> str:
    name = type(err).__name__
    text = str(err).splitlines()[0][:120] if str(err) else ""
    return f"Not a readable MARC 21 record ({name}{': ' + text if text else ''})"


async def import_marc(
    session: AsyncSession, blocks: Iterable[bytes], *, institution_id: int | None = None
) -> MarcImportReport:
    """Load a MARC file into the catalogue, ``BATCH`` records per statement; the caller
    commits. Bad records are reported and skipped; the rest load."""
    report = MarcImportReport()
    batch: list[ParsedRecord] = []
    for parsed in parse_marc(blocks):
        report.records += 1
        if isinstance(parsed, MarcProblem):
            report.problems.append(parsed)
            continue
        batch.append(parsed)
        if len(batch) >= BATCH:
            await _load(session, batch, report, institution_id)
            batch = []
    if batch:
        await _load(session, batch, report, institution_id)
    return report


async def _load(
    session: AsyncSession,
    batch: list[ParsedRecord],
    report: MarcImportReport,
    institution_id: int | None,
) -> None:
    isbns = [p.draft.isbn for p in batch if p.draft.isbn]
    known: dict[str, int] = {}
    if isbns:
        rows = await session.execute(
            select(BibRecord.isbn, BibRecord.id).where(BibRecord.isbn.in_(isbns))
        )
        known = {r.isbn: r.id for r in rows}
    new: list[ParsedRecord] = []
    for parsed in batch:
        isbn = parsed.draft.isbn
        if isbn in known or (isbn and any(n.draft.isbn == isbn for n in new)):
            report.matched += 1
        else:
            new.append(parsed)
    if new:
        ids = await session.scalars(
            insert(BibRecord).returning(BibRecord.id, sort_by_parameter_order=True),
            [record_values(p.draft) for p in new],
        )
        for parsed, record_id in zip(new, ids, strict=True):
            if parsed.draft.isbn:
                known[parsed.draft.isbn] = record_id
            known[f"#{parsed.position}"] = record_id
        report.created += len(new)
    if institution_id is not None:
        await _load_items(session, batch, known, report, institution_id)


async def _load_items(
    session: AsyncSession,
    batch: list[ParsedRecord],
    known: dict[str, int],
    report: MarcImportReport,
    institution_id: int,
) -> None:
    wanted = [(p, b) for p in batch for b in p.barcodes]
    if not wanted:
        return
    taken = set(
        await session.scalars(
            select(LibraryItem.barcode).where(
                LibraryItem.institution_id == institution_id,
                LibraryItem.barcode.in_([b for _, b in wanted]),
            )
        )
    )
    rows = []
    for parsed, barcode in wanted:
        record_id = known.get(parsed.draft.isbn or "") or known.get(f"#{parsed.position}")
        if barcode in taken or record_id is None:
            report.problems.append(
                MarcProblem(
                    parsed.position,
                    parsed.offset,
                    LibraryCode.DUPLICATE_BARCODE,
                    f"Barcode {barcode} is already used at this library",
                )
            )
            continue
        taken.add(barcode)
        rows.append({"record_id": record_id, "institution_id": institution_id, "barcode": barcode})
    if rows:
        await session.execute(insert(LibraryItem), rows)
        report.items += len(rows)


@dataclass(frozen=True)
class MarcExport:
    xml: str
    iso2709: bytes


def record_to_marc(row: Any) -> MarcExport:
    """A catalogue record as MARC 21 (UTF-8): 001 id, 020 ISBN, 041 language, 100/700
    authors, 245 title, 264 publication, 520 summary, 521 grade, 650 subjects, 655 genre and
    658 school subject for textbooks."""
    import pymarc

    record = pymarc.Record(force_utf8=True)
    record.add_field(pymarc.Field(tag="001", data=str(row.id)))
    language = MARC_CODE.get(Language(row.language), "und")
    record.add_field(pymarc.Field(tag="008", data=f"{'':35}{language}  "))
    if row.isbn:
        record.add_field(_data("020", [("a", row.isbn)]))
    record.add_field(_data("041", [("a", language)]))
    authors = list(row.authors)
    if authors:
        record.add_field(_data("100", [("a", authors[0])], "1"))
    title = [("a", row.title)] + ([("b", row.subtitle)] if row.subtitle else [])
    record.add_field(_data("245", title, "1" if authors else "0", "0"))
    publication = [("b", row.publisher)] if row.publisher else []
    publication += [("c", str(row.year))] if row.year else []
    if publication:
        record.add_field(_data("264", publication, " ", "1"))
    if row.description:
        record.add_field(_data("520", [("a", row.description[:9000])]))
    if row.grade:
        record.add_field(_data("521", [("a", f"Grade {row.grade}")]))
    for subject in row.subjects:
        record.add_field(_data("650", [("a", subject)], " ", "4"))
    if row.kind == BibKind.TEXTBOOK:
        record.add_field(_data("655", [("a", "Textbooks")], " ", "4"))
        if row.school_subject:
            record.add_field(_data("658", [("a", row.school_subject)]))
    for author in authors[1:]:
        record.add_field(_data("700", [("a", author)], "1"))
    xml = pymarc.record_to_xml(record, namespace=True).decode()
    return MarcExport(xml=xml, iso2709=record.as_marc())


def _data(
    tag: str, subfields: list[tuple[str, str]], first: str = " ", second: str = " "
) -> pymarc.Field:
    import pymarc

    return pymarc.Field(
        tag=tag,
        indicators=pymarc.Indicators(first, second),
        subfields=[pymarc.Subfield(code, value) for code, value in subfields],
    )

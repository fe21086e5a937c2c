"""National test (ORT) results: the testing centre's CSV file, checked row by row and loaded in
one transaction per file (domain.md, "University admission"; the columns are in
docs/domains/admission.md).

A bad row is reported with its line number and reason and the good rows load; the same file
loaded again changes nothing (files are recognised by their SHA-256, rows by certificate).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ARRAY, Integer, String, any_, bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdmissionSeason, Intake, NationalTestImport, NationalTestResult, Person
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.errors import AnyCode, DomainError, ErrorCode
from resolvers.events import emit

MAX_IMPORT_BYTES = 16 * 1024 * 1024
MAX_REPORTED_PROBLEMS = 1000
REQUIRED_COLUMNS = ("certificate_number", "year", "pin", "main_score", "state_language_score")
SUBJECT_PREFIX = "subject_"
CERTIFICATE = re.compile(r"^[A-Za-z0-9-]{4,20}$")
SUBJECT_CODE = re.compile(r"^[a-z0-9_]{1,40}$")
PIN_FORM = re.compile(r"^[0-9]{14}$")


@dataclass
class RowProblem:
    """Why one line of the file was not loaded."""

    line: int
    code: AnyCode
    message: str


@dataclass
class ImportReport:
    """What loading one file did."""

    id: int
    sha256: str
    rows_total: int
    rows_loaded: int
    rows_unchanged: int
    rows_rejected: int
    problems: list[RowProblem] = field(default_factory=list)
    already_imported: bool = False


@dataclass
class _Row:
    line: int
    certificate_number: str
    year: int
    pin: str
    main_score: int
    state_language_score: int
    subject_scores: dict[str, int]


def _stored_code(value: str) -> AnyCode:
    """A problem's code as stored with an import: the domain's own, or a hub-wide one."""
    return AdmissionCode(value) if value in AdmissionCode.__members__ else ErrorCode(value)


class _RowError(Exception):
    def __init__(self, code: AnyCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _int(value: str, column: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise _RowError(ErrorCode.INVALID_INPUT, f"{column} is not a whole number") from None


def _decode(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise DomainError(
            ErrorCode.FILE_TOO_LARGE, f"The file is over {MAX_IMPORT_BYTES} bytes", field="file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            ErrorCode.INVALID_FILE, "The file is not UTF-8 text", field="file"
        ) from None


def _header(reader: Any) -> tuple[list[str], list[str]]:
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise DomainError(ErrorCode.INVALID_FILE, "The file is empty", field="file") from None
    except csv.Error as err:
        raise DomainError(ErrorCode.INVALID_FILE, f"Not a CSV file: {err}", field="file") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DomainError(
            ErrorCode.INVALID_FILE,
            f"The header lacks the columns {', '.join(missing)}",
            field="file",
        )
    subjects = [h for h in header if h.startswith(SUBJECT_PREFIX)]
    for s in subjects:
        if not SUBJECT_CODE.match(s[len(SUBJECT_PREFIX) :]):
            raise DomainError(ErrorCode.INVALID_FILE, f"Bad subject column {s!r}", field="file")
    if len(set(header)) != len(header):
        raise DomainError(ErrorCode.INVALID_FILE, "The header repeats a column", field="file")
    return header, subjects


def _parse_row(line: int, values: dict[str, str], subjects: list[str]) -> _Row:
    certificate = values["certificate_number"].strip()
    if not CERTIFICATE.match(certificate):
        raise _RowError(ErrorCode.INVALID_INPUT, "certificate_number is 4-20 letters and digits")
    pin = values["pin"].strip()
    if not PIN_FORM.match(pin):
        raise _RowError(AdmissionCode.INVALID_PIN, "pin is not a 14-digit PIN")
    scores: dict[str, int] = {}
    for column in subjects:
        raw = values[column].strip()
        if raw:
            scores[column[len(SUBJECT_PREFIX) :]] = _int(raw, column)
    return _Row(
        line=line,
        certificate_number=certificate.upper(),
        year=_int(values["year"], "year"),
        pin=pin,
        main_score=_int(values["main_score"], "main_score"),
        state_language_score=_int(values["state_language_score"], "state_language_score"),
        subject_scores=scores,
    )


def _check_scales(row: _Row, season: AdmissionSeason | None) -> None:
    if season is None:
        raise _RowError(
            ErrorCode.NOT_FOUND, f"No admission season declares the scales of {row.year}"
        )
    if not 0 <= row.main_score <= season.main_score_max:
        raise _RowError(
            AdmissionCode.SCORE_OUT_OF_RANGE,
            f"main_score lies between 0 and {season.main_score_max}",
        )
    if not 0 <= row.state_language_score <= season.state_language_score_max:
        raise _RowError(
            AdmissionCode.SCORE_OUT_OF_RANGE,
            f"state_language_score lies between 0 and {season.state_language_score_max}",
        )
    for subject, score in row.subject_scores.items():
        if not 0 <= score <= season.subject_score_max:
            raise _RowError(
                AdmissionCode.SCORE_OUT_OF_RANGE,
                f"subject_{subject} lies between 0 and {season.subject_score_max}",
            )


async def _scales_by_year(session: AsyncSession) -> dict[int, AdmissionSeason]:
    """The season whose scales apply to each test year (the main intake's, else the winter's)."""
    seasons = (await session.execute(select(AdmissionSeason))).scalars().all()
    by_year: dict[int, AdmissionSeason] = {}
    for s in sorted(seasons, key=lambda s: s.intake != Intake.MAIN, reverse=True):
        by_year[s.year] = s
    return by_year


async def import_test_results(
    session: AsyncSession, principal: Principal, *, data: bytes, filename: str | None
) -> ImportReport:
    """Load a testing-centre file of national test results (ministry only).

    Each row is checked on its own (certificate format, known PIN, year with a season, scores
    within the season's scales, no conflict with a stored certificate); bad rows are reported
    by line, good rows load together. A file already loaded returns its first report, also when
    the first load commits while this one runs (a double click, issue 12.5).
    """
    require(principal.is_ministry, "Only the ministry imports national test results")
    sha256 = hashlib.sha256(data).hexdigest()
    previous = await _previous_report(session, sha256)
    if previous is not None:
        return previous
    parsed = _parse_file(data)
    known = await _known(session, parsed.rows)
    new_rows: list[dict[str, Any]] = []
    problems = list(parsed.problems)
    unchanged = 0
    for row in parsed.rows:
        try:
            values = _new_result(row, known)
        except _RowError as err:
            problems.append(RowProblem(row.line, err.code, err.message))
            continue
        if values is None:
            unchanged += 1
        else:
            new_rows.append(values)
    problems.sort(key=lambda p: p.line)
    report = ImportReport(
        id=0,  # the import's, once stored
        sha256=sha256,
        rows_total=parsed.total,
        rows_loaded=len(new_rows),
        rows_unchanged=unchanged,
        rows_rejected=len(problems),
        problems=problems[:MAX_REPORTED_PROBLEMS],
    )
    stored = await _store(session, principal, report, filename, new_rows)
    if stored is None:
        # The same file was loaded by a transaction that committed while this one ran: its
        # report is the answer (the insert waited for it, so the row is visible now).
        previous = await _previous_report(session, sha256)
        assert previous is not None
        return previous
    report.id = stored
    return report


async def _previous_report(session: AsyncSession, sha256: str) -> ImportReport | None:
    """The report of the file's first load, if it was loaded before."""
    previous = await session.scalar(
        select(NationalTestImport).where(NationalTestImport.sha256 == sha256)
    )
    if previous is None:
        return None
    return ImportReport(
        id=previous.id,
        sha256=sha256,
        rows_total=previous.rows_total,
        rows_loaded=0,
        rows_unchanged=previous.rows_total - previous.rows_rejected,
        rows_rejected=previous.rows_rejected,
        problems=[
            RowProblem(line=p["line"], code=_stored_code(p["code"]), message=p["message"])
            for p in previous.problems
        ],
        already_imported=True,
    )


@dataclass
class _ParsedFile:
    total: int
    rows: list[_Row]
    problems: list[RowProblem]


def _parse_file(data: bytes) -> _ParsedFile:
    """Every non-blank data line parsed, or the reason it was not; the whole file refused when
    it is not UTF-8 CSV with the required header."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    header, subjects = _header(reader)
    parsed = _ParsedFile(total=0, rows=[], problems=[])
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            parsed.total += 1
            line = reader.line_num
            if len(values) != len(header):
                parsed.problems.append(
                    RowProblem(
                        line, ErrorCode.INVALID_INPUT, f"{len(values)} fields, not {len(header)}"
                    )
                )
                continue
            try:
                parsed.rows.append(
                    _parse_row(line, dict(zip(header, values, strict=True)), subjects)
                )
            except _RowError as err:
                parsed.problems.append(RowProblem(line, err.code, err.message))
    except csv.Error as err:
        raise DomainError(
            ErrorCode.INVALID_FILE, f"Line {reader.line_num}: {err}", field="file"
        ) from None
    return parsed


@dataclass
class _Known:
    """What the rows are checked against: each test year's scales, the people by PIN, the
    certificates already stored, and the (person, year) pairs that hold one; ``seen`` grows
    with the certificates of the file."""

    scales: dict[int, AdmissionSeason]
    people: dict[str | None, int]
    stored: dict[str, NationalTestResult]
    person_years: set[tuple[int, int]]
    seen: set[str] = field(default_factory=set)


async def _known(session: AsyncSession, rows: list[_Row]) -> _Known:
    scales = await _scales_by_year(session)
    pins = sorted({r.pin for r in rows})
    people = dict(
        (
            await session.execute(
                select(Person.pin, Person.id).where(
                    Person.pin == any_(bindparam("pins", pins, type_=ARRAY(String)))
                )
            )
        ).all()
    )
    certificates = sorted({r.certificate_number for r in rows})
    stored = {
        r.certificate_number: r
        for r in (
            await session.execute(
                select(NationalTestResult).where(
                    NationalTestResult.certificate_number
                    == any_(bindparam("certs", certificates, type_=ARRAY(String)))
                )
            )
        ).scalars()
    }
    person_years: set[tuple[int, int]] = {
        (row[0], row[1])
        for row in (
            await session.execute(
                select(NationalTestResult.person_id, NationalTestResult.year).where(
                    NationalTestResult.person_id
                    == any_(bindparam("ids", sorted(people.values()), type_=ARRAY(Integer)))
                )
            )
        ).all()
    }
    return _Known(scales=scales, people=people, stored=stored, person_years=person_years)


def _new_result(row: _Row, known: _Known) -> dict[str, Any] | None:
    """The certificate to store for a row, or None when it is stored already as given; a
    :class:`_RowError` says why the row is not loaded."""
    _check_scales(row, known.scales.get(row.year))
    person_id = known.people.get(row.pin)
    if person_id is None:
        raise _RowError(ErrorCode.NOT_FOUND, "No person holds this PIN")
    if row.certificate_number in known.seen:
        raise _RowError(AdmissionCode.CERTIFICATE_CONFLICT, "The certificate repeats in the file")
    known.seen.add(row.certificate_number)
    old = known.stored.get(row.certificate_number)
    if old is not None:
        if not _same(old, person_id, row):
            raise _RowError(
                AdmissionCode.CERTIFICATE_CONFLICT,
                "The certificate is stored with other data; correct it, not reload it",
            )
        return None
    if (person_id, row.year) in known.person_years:
        raise _RowError(
            AdmissionCode.CERTIFICATE_CONFLICT, "The person has another certificate this year"
        )
    known.person_years.add((person_id, row.year))
    return {
        "certificate_number": row.certificate_number,
        "person_id": person_id,
        "year": row.year,
        "main_score": row.main_score,
        "state_language_score": row.state_language_score,
        "subject_scores": row.subject_scores,
    }


def _same(old: NationalTestResult, person_id: int, row: _Row) -> bool:
    return (
        old.person_id == person_id
        and old.year == row.year
        and old.main_score == row.main_score
        and old.state_language_score == row.state_language_score
        and old.subject_scores == row.subject_scores
    )


async def _store(
    session: AsyncSession,
    principal: Principal,
    report: ImportReport,
    filename: str | None,
    new_rows: list[dict[str, Any]],
) -> int | None:
    """Record the import with its reported problems, insert its new certificates and emit the
    event; the import's id, or None when a concurrent transaction stored the same file first
    (the file's row is inserted first, so nothing else is written then)."""
    batch_id = await session.scalar(
        pg_insert(NationalTestImport)
        .values(
            sha256=report.sha256,
            filename=(filename or "")[:200] or None,
            imported_by=principal.subject[:120],
            rows_total=report.rows_total,
            rows_loaded=report.rows_loaded,
            rows_unchanged=report.rows_unchanged,
            rows_rejected=report.rows_rejected,
            problems=[
                {"line": p.line, "code": p.code.value, "message": p.message}
                for p in report.problems
            ],
        )
        .on_conflict_do_nothing(index_elements=[NationalTestImport.sha256])
        .returning(NationalTestImport.id)
    )
    if batch_id is None:
        return None
    if new_rows:
        for r in new_rows:
            r["import_id"] = batch_id
        await session.execute(insert(NationalTestResult), new_rows)
    await emit(
        session,
        topic="admission.test_results_imported",
        aggregate_type="NationalTestImport",
        aggregate_id=batch_id,
        payload={
            "loaded": report.rows_loaded,
            "rejected": report.rows_rejected,
            "unchanged": report.rows_unchanged,
        },
    )
    return batch_id

"""The curriculum: reference checks every content path shares (subject, grade, term, language)
and the import of the state standard's structure from the CSV file a methodologist edits
(``bilim import curriculum FILE``, or the ``importCurriculum`` mutation): each bad line is
reported with its number and a code, the good lines are loaded."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import CurriculumStandard, CurriculumUnit, Lesson, LessonStatus, Subject
from models.content.curriculum import LESSON_LANGUAGES
from resolvers.access import Principal, require
from resolvers.content.errors import ContentCode
from resolvers.content.rules import may_edit_lessons
from resolvers.errors import AnyCode, DomainError, ErrorCode

COLUMNS = (
    "standard",
    "subject",
    "grade",
    "term",
    "unit",
    "unit_title",
    "topic",
    "topic_title",
    "outcomes",
    "hours",
    "languages",
)
MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
CHUNK = 1_000
MAX_GRADE = {CurriculumStandard.TWELVE_YEAR: 12, CurriculumStandard.ELEVEN_YEAR: 11}
STANDARD_NAMES = {
    "12": CurriculumStandard.TWELVE_YEAR,
    "twelve_year": CurriculumStandard.TWELVE_YEAR,
    "11": CurriculumStandard.ELEVEN_YEAR,
    "eleven_year": CurriculumStandard.ELEVEN_YEAR,
}
_SPLIT = re.compile(r"\s*[;|]\s*")

# Subjects change only by migration: each process reads them once.
_subjects: frozenset[str] | None = None


async def subject_codes(session: AsyncSession) -> frozenset[str]:
    """The curriculum's subject codes (read once per process)."""
    global _subjects
    if _subjects is None:
        _subjects = frozenset(await session.scalars(select(Subject.code)))
    return _subjects


def known_subject_codes() -> frozenset[str] | None:
    """The subject codes this process has read already, or None before the first read (the
    compiled path, which reads nothing on its own, leaves such a request to the resolvers)."""
    return _subjects


# Learning content's codes before the register was merged with the LMS's (migration 0029):
# upper-case codes still name their subject (curriculum files and portal filters written before
# then keep working), and the two subjects content named differently map to the register's.
LEGACY_SUBJECT_CODES = {"art": "fine_arts", "nature_studies": "natural_science"}


def canonical_subject_code(value: str) -> str:
    """The register's code for a code as a caller may write it: either case, or a legacy
    learning-content code (``ART`` is ``fine_arts``)."""
    code = value.strip().lower()
    return LEGACY_SUBJECT_CODES.get(code, code)


def subject_code(value: str, known: frozenset[str], *, field: str = "subject") -> str:
    """A known subject's code (case aside, legacy codes mapped), or UNKNOWN_SUBJECT."""
    code = canonical_subject_code(value)
    if code not in known:
        raise DomainError(
            ContentCode.UNKNOWN_SUBJECT, f"No subject has the code {code!r}", field=field
        )
    return code


def check_grade(grade: int, *, field: str = "grade") -> int:
    if not 1 <= grade <= 12:
        raise DomainError(ContentCode.INVALID_GRADE, "A grade is 1-12", field=field)
    return grade


def check_term(term: int, *, field: str = "term") -> int:
    if not 1 <= term <= 4:
        raise DomainError(ContentCode.INVALID_TERM, "A term is 1-4", field=field)
    return term


def lesson_language(value: str, *, field: str = "language") -> str:
    """A language lessons are made in: Kyrgyz, Russian, Uzbek or Tajik (domain.md S5)."""
    code = value.strip().lower()
    if code not in LESSON_LANGUAGES:
        raise DomainError(
            ContentCode.LANGUAGE_NOT_OFFERED,
            "Lessons are in Kyrgyz, Russian, Uzbek or Tajik",
            field=field,
        )
    return code


# --- the import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineProblem:
    """A line of the file that was not loaded, and why."""

    line: int
    code: AnyCode
    message: str


@dataclass
class CurriculumImport:
    """What an import did: lines read, units created and updated, lines rejected and why."""

    lines: int = 0
    created: int = 0
    updated: int = 0
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.problems)


class _LineError(Exception):
    def __init__(self, code: AnyCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


async def import_curriculum(
    session: AsyncSession, principal: Principal, *, data: bytes
) -> CurriculumImport:
    """Load the curriculum file: every good line creates or updates its unit (keyed by standard,
    subject, grade, unit and topic), every bad line is reported with its number and code.

    A file that is not UTF-8 CSV with the expected columns is refused whole (INVALID_FILE).
    A line may not drop a language that lessons of its unit are already made in
    (LANGUAGE_IN_USE). Lessons follow their unit's term when it moves."""
    require(may_edit_lessons(principal), "Only content editors load the curriculum")
    rows = _rows(data)
    known = await subject_codes(session)
    report = CurriculumImport()
    parsed: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    for number, row in rows:
        report.lines += 1
        try:
            values = _parse(row, known)
        except _LineError as err:
            report.problems.append(LineProblem(number, err.code, err.message))
            continue
        key = _key(values)
        if key in parsed:
            report.problems.append(
                LineProblem(
                    number,
                    ContentCode.DUPLICATE_LINE,
                    f"The same unit and topic as line {parsed[key][0]}",
                )
            )
            continue
        parsed[key] = (number, values)
    await _refuse_languages_in_use(session, parsed, report)
    await _upsert(session, [values for _, values in parsed.values()], report)
    report.problems.sort(key=lambda p: p.line)
    return report


def _rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's lines as dicts, numbered as an editor sees them (the header is line 1)."""
    if len(data) > MAX_BYTES:
        raise DomainError(
            ErrorCode.FILE_TOO_LARGE, f"The file is over {MAX_BYTES:,} bytes", field="file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            ErrorCode.INVALID_FILE, "The file is not UTF-8 text", field="file"
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DomainError(
            ErrorCode.INVALID_FILE,
            f"The file lacks the columns: {', '.join(missing)}",
            field="file",
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if len(rows) >= MAX_LINES:
            raise DomainError(
                ErrorCode.INVALID_FILE, f"The file has over {MAX_LINES:,} lines", field="file"
            )
        rows.append((reader.line_num, row))
    return rows


def _number(row: dict[str, str], column: str) -> int:
    value = (row.get(column) or "").strip()
    if not value:
        raise _LineError(ContentCode.MISSING_FIELD, f"`{column}` is empty")
    if not value.isdigit():
        raise _LineError(ContentCode.INVALID_NUMBER, f"`{column}` is not a whole number: {value!r}")
    return int(value)


def _text(row: dict[str, str], column: str, limit: int) -> str:
    value = " ".join((row.get(column) or "").split())
    if not value:
        raise _LineError(ContentCode.MISSING_FIELD, f"`{column}` is empty")
    if len(value) > limit:
        raise _LineError(ErrorCode.INVALID_INPUT, f"`{column}` is over {limit} characters")
    return value


def _parse(row: dict[str, str], known: frozenset[str]) -> dict[str, Any]:
    """One line's unit, or the first reason it is not one."""
    standard = STANDARD_NAMES.get((row.get("standard") or "").strip().lower())
    if standard is None:
        raise _LineError(ContentCode.INVALID_STANDARD, "`standard` is 12 or 11 (the school model)")
    subject = canonical_subject_code(row.get("subject") or "")
    if not subject:
        raise _LineError(ContentCode.MISSING_FIELD, "`subject` is empty")
    if subject not in known:
        raise _LineError(ContentCode.UNKNOWN_SUBJECT, f"No subject has the code {subject!r}")
    grade = _number(row, "grade")
    if not 1 <= grade <= MAX_GRADE[standard]:
        raise _LineError(
            ContentCode.INVALID_GRADE,
            f"The {standard.value} model has grades 1-{MAX_GRADE[standard]}",
        )
    term = _number(row, "term")
    if not 1 <= term <= 4:
        raise _LineError(ContentCode.INVALID_TERM, "`term` is 1-4")
    unit_no, topic_no = _number(row, "unit"), _number(row, "topic")
    if unit_no < 1 or topic_no < 1 or unit_no > 200 or topic_no > 200:
        raise _LineError(ContentCode.INVALID_NUMBER, "`unit` and `topic` are 1-200")
    try:
        hours = Decimal((row.get("hours") or "").strip().replace(",", "."))
    except InvalidOperation:
        raise _LineError(ContentCode.INVALID_NUMBER, "`hours` is not a number") from None
    if not Decimal("0") < hours <= Decimal("200") or hours != hours.quantize(Decimal("0.1")):
        raise _LineError(ContentCode.INVALID_NUMBER, "`hours` is above 0, at most 200, one decimal")
    languages = [v.lower() for v in _SPLIT.split((row.get("languages") or "").strip()) if v]
    if not languages:
        raise _LineError(ContentCode.MISSING_FIELD, "`languages` is empty")
    wrong = [v for v in languages if v not in LESSON_LANGUAGES]
    if wrong:
        raise _LineError(
            ContentCode.LANGUAGE_NOT_OFFERED, f"Lessons are in ky, ru, uz or tg, not {wrong[0]!r}"
        )
    outcomes = [o for o in _SPLIT.split((row.get("outcomes") or "").strip()) if o]
    if any(len(o) > 500 for o in outcomes) or len(outcomes) > 30:
        raise _LineError(ErrorCode.INVALID_INPUT, "At most 30 outcomes of 500 characters")
    return {
        "standard": standard,
        "subject_code": subject,
        "grade": grade,
        "term": term,
        "unit_no": unit_no,
        "unit_title": _text(row, "unit_title", 300),
        "topic_no": topic_no,
        "topic_title": _text(row, "topic_title", 300),
        "outcomes": outcomes,
        "hours": hours,
        "languages": sorted(set(languages), key=LESSON_LANGUAGES.index),
    }


def _key(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        values["standard"],
        values["subject_code"],
        values["grade"],
        values["unit_no"],
        values["topic_no"],
    )


async def _refuse_languages_in_use(
    session: AsyncSession,
    parsed: dict[tuple[Any, ...], tuple[int, dict[str, Any]]],
    report: CurriculumImport,
) -> None:
    """Drop the lines that would take a language away from a unit with lessons in it."""
    if not parsed:
        return
    unit = CurriculumUnit
    rows = await session.execute(
        select(
            unit.standard,
            unit.subject_code,
            unit.grade,
            unit.unit_no,
            unit.topic_no,
            Lesson.language,
        )
        .join(Lesson, Lesson.unit_id == unit.id)
        .where(Lesson.status != LessonStatus.ARCHIVED)
        .distinct()
    )
    for row in rows:
        key = (CurriculumStandard(row.standard), *tuple(row)[1:5])
        found = parsed.get(key)
        if found is not None and row.language not in found[1]["languages"]:
            number, _ = parsed.pop(key)
            report.problems.append(
                LineProblem(
                    number,
                    ContentCode.LANGUAGE_IN_USE,
                    f"Lessons of this topic are made in {row.language!r}: keep the language",
                )
            )


async def _upsert(
    session: AsyncSession, lines: list[dict[str, Any]], report: CurriculumImport
) -> None:
    """Create or update the units, a thousand a statement; then move their lessons' terms."""
    for start in range(0, len(lines), CHUNK):
        stmt = insert(CurriculumUnit).values(lines[start : start + CHUNK])
        upsert: Any = stmt.on_conflict_do_update(
            constraint="uq_curriculum_unit_place",
            set_={
                "term": stmt.excluded.term,
                "unit_title": stmt.excluded.unit_title,
                "topic_title": stmt.excluded.topic_title,
                "outcomes": stmt.excluded.outcomes,
                "hours": stmt.excluded.hours,
                "languages": stmt.excluded.languages,
                "updated_at": stmt.excluded.updated_at,
            },
        ).returning(literal_column("(xmax = 0)"))
        for (inserted,) in await session.execute(upsert):
            if inserted:
                report.created += 1
            else:
                report.updated += 1
    if lines:
        await session.execute(
            update(Lesson)
            .where(Lesson.unit_id == CurriculumUnit.id, Lesson.term != CurriculumUnit.term)
            .values(term=CurriculumUnit.term)
        )

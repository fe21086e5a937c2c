"""The textbook fund: what every class needs (its pupils, from the registry's open
enrollments, times the textbooks the ministry approved for their grade and language of
instruction this school year), what the schools' libraries hold of them, what is issued, and
issuing a class its set each September.

Provision is counted at the grain of one school and one title: ``covered`` is the part of
the need the school's own copies meet (``least(held, needed)``), so a surplus in one school
never hides a shortage in another; the provision rate of a district, region or the country
is their covered over their needed. A pupil's language of instruction is the school's first
language (``institution.languages``): the registry records none per pupil yet.

Reading: a school, district, region or the country without a subject filter reads the
summary ``textbook_need`` (one row per school, grade and textbook language, kept by triggers,
migration 0034); a subject filter or the title level counts (school, title) cells, with the
pupils from ``textbook_pupils`` (also kept by triggers) instead of every enrollment.
``recount`` counts everything from enrollments and holdings: what the summary must equal."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibKind, BibRecord, Enrollment, ItemStatus, LibraryItem, Loan, TextbookApproval
from resolvers.access import Principal
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import emit
from resolvers.library.errors import LibraryCode
from resolvers.library.holdings import library_of
from resolvers.library.search import RECORD_COLUMNS

MAX_BREAKDOWN = 100
MAX_TITLES = 40


def school_year_of(day: date) -> int:
    """The school year a day belongs to, named by the year it starts (domain.md S3: early
    September to late May; the summer belongs to the year ahead)."""
    return day.year if day.month >= 6 else day.year - 1


class ProvisionLevel(enum.Enum):
    COUNTRY = "COUNTRY"
    REGION = "REGION"
    DISTRICT = "DISTRICT"
    INSTITUTION = "INSTITUTION"
    TITLE = "TITLE"


@dataclass(frozen=True)
class ProvisionFilter:
    school_year: int
    region_id: int | None = None
    district_id: int | None = None
    institution_id: int | None = None
    grade: int | None = None
    school_subject: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ProvisionRow:
    """Needed, held and issued copies at one level (the keys it is grouped by set)."""

    needed: int
    held: int
    issued: int
    covered: int
    region_id: int | None = None
    district_id: int | None = None
    institution_id: int | None = None
    record_id: int | None = None

    @property
    def shortfall(self) -> int:
        return self.needed - self.covered

    @property
    def rate(self) -> float:
        return 1.0 if self.needed == 0 else round(self.covered / self.needed, 4)


def _summary_sql(flt: ProvisionFilter) -> tuple[str, dict[str, Any]]:
    """The statement over the summary rows (school, grade, textbook language) a filter
    without a subject covers; the same row names as the cells statement below."""
    params: dict[str, Any] = {"year": flt.school_year}
    where = ["c.school_year = :year", "s.kind = 'school'"]
    if flt.grade is not None:
        where.append("c.grade = :grade")
        params["grade"] = flt.grade
    if flt.language is not None:
        where.append("c.language = :language AND s.languages[1] = :language")
        params["language"] = flt.language
    for key, column in (
        ("region_id", "s.region_id"),
        ("district_id", "s.district_id"),
        ("institution_id", "s.id"),
    ):
        value = getattr(flt, key)
        if value is not None:
            where.append(f"{column} = :{key}")
            params[key] = value
    sql = f"""
    SELECT {{keys}} sum(c.needed)::bigint AS needed, sum(c.held)::bigint AS held,
           sum(c.issued)::bigint AS issued, sum(c.covered)::bigint AS covered
    FROM textbook_need c JOIN institution s ON s.id = c.institution_id
    WHERE {" AND ".join(where)}
    {{group}}
    """
    return sql, params


PUPILS_BY_SUMMARY = """
        SELECT p.institution_id, p.grade_level, p.pupils AS n
        FROM textbook_pupils p JOIN schools s ON s.id = p.institution_id
        WHERE p.pupils > 0{pupil_filter}"""
PUPILS_BY_RECOUNT = """
        SELECT e.institution_id, e.grade_level, count(*) AS n
        FROM enrollment e JOIN schools s ON s.id = e.institution_id
        WHERE e.exit_date IS NULL{pupil_filter}
        GROUP BY e.institution_id, e.grade_level"""


def _provision_sql(flt: ProvisionFilter, *, recount: bool = False) -> tuple[str, dict[str, Any]]:
    """The statement of (school, title) rows: needed, held, issued. Filters narrow it at
    the source, so a region's report reads only that region's schools and summaries. The
    pupils come from ``textbook_pupils``, or with ``recount`` from the enrollments."""
    params: dict[str, Any] = {"year": flt.school_year}
    titles, schools, pupils = ["a.school_year = :year"], ["i.kind = 'school'"], []
    if flt.grade is not None:
        titles.append("r.grade = :grade")
        pupils.append("e.grade_level = :grade")
        params["grade"] = flt.grade
    if flt.school_subject is not None:
        titles.append("r.school_subject = :subject")
        params["subject"] = flt.school_subject
    if flt.language is not None:
        titles.append("r.language = :language")
        schools.append("i.languages[1] = :language")
        params["language"] = flt.language
    for key, column in (
        ("region_id", "i.region_id"),
        ("district_id", "i.district_id"),
        ("institution_id", "i.id"),
    ):
        value = getattr(flt, key)
        if value is not None:
            schools.append(f"{column} = :{key}")
            params[key] = value
    pupil_filter = "".join(f" AND {p}" for p in pupils)
    if not recount:
        pupil_filter = pupil_filter.replace("e.grade_level", "p.grade_level")
    pupils_sql = (PUPILS_BY_RECOUNT if recount else PUPILS_BY_SUMMARY).format(
        pupil_filter=pupil_filter
    )
    sql = f"""
    WITH approved AS MATERIALIZED (
        SELECT r.id AS record_id, r.grade, r.language
        FROM textbook_approval a JOIN bib_record r ON r.id = a.record_id
        WHERE {" AND ".join(titles)}
    ), schools AS MATERIALIZED (
        SELECT i.id, i.region_id, i.district_id, i.languages[1] AS language
        FROM institution i WHERE {" AND ".join(schools)}
    ), pupils AS ({pupils_sql}
    ), need AS (
        SELECT p.institution_id, a.record_id, p.n AS needed
        FROM pupils p
        JOIN schools s ON s.id = p.institution_id
        JOIN approved a ON a.grade = p.grade_level AND a.language = s.language
    ), stock AS (
        SELECT h.institution_id, h.record_id, h.held, h.on_loan
        FROM library_holding h
        JOIN approved a ON a.record_id = h.record_id
        JOIN schools s ON s.id = h.institution_id
    ), cells AS (
        SELECT institution_id, record_id,
               coalesce(n.needed, 0) AS needed, coalesce(st.held, 0) AS held,
               coalesce(st.on_loan, 0) AS issued,
               least(coalesce(st.held, 0), coalesce(n.needed, 0)) AS covered
        FROM need n FULL JOIN stock st USING (institution_id, record_id)
    )
    SELECT {{keys}} sum(c.needed)::bigint AS needed, sum(c.held)::bigint AS held,
           sum(c.issued)::bigint AS issued, sum(c.covered)::bigint AS covered
    FROM cells c JOIN schools s ON s.id = c.institution_id
    {{group}}
    """
    return sql, params


LEVEL_KEYS = {
    ProvisionLevel.COUNTRY: (),
    ProvisionLevel.REGION: ("s.region_id",),
    ProvisionLevel.DISTRICT: ("s.region_id", "s.district_id"),
    ProvisionLevel.INSTITUTION: ("s.region_id", "s.district_id", "c.institution_id"),
    ProvisionLevel.TITLE: ("s.region_id", "s.district_id", "c.institution_id", "c.record_id"),
}


async def textbook_provision(
    session: AsyncSession,
    flt: ProvisionFilter,
    *,
    level: ProvisionLevel,
    limit: int = MAX_BREAKDOWN,
    only_short: bool = False,
    recount: bool = False,
) -> list[ProvisionRow]:
    """Provision grouped at ``level``, the largest shortfall first (at most ``limit`` rows;
    one row at COUNTRY level). ``recount`` counts from the enrollments and holdings instead
    of the summaries (what the tests compare the summaries with)."""
    if recount or level == ProvisionLevel.TITLE or flt.school_subject is not None:
        sql, params = _provision_sql(flt, recount=recount)
    else:
        sql, params = _summary_sql(flt)
    keys = LEVEL_KEYS[level]
    names = ("region_id", "district_id", "institution_id", "record_id")[: len(keys)]
    select_keys = "".join(f"{k} AS {n}, " for k, n in zip(keys, names, strict=True))
    group = ""
    if keys:
        group = f"GROUP BY {', '.join(keys)}"
        if only_short:
            group += " HAVING sum(c.needed) > sum(c.covered)"
        group += " ORDER BY sum(c.needed) - sum(c.covered) DESC, " + ", ".join(keys)
        group += f" LIMIT {min(max(limit, 0), MAX_BREAKDOWN)}"
    rows = (await session.execute(text(sql.format(keys=select_keys, group=group)), params)).all()
    found = []
    for row in rows:
        values = row._mapping
        found.append(
            ProvisionRow(
                needed=int(values["needed"] or 0),
                held=int(values["held"] or 0),
                issued=int(values["issued"] or 0),
                covered=int(values["covered"] or 0),
                **{n: values[n] for n in names},
            )
        )
    if not keys and not found:
        found.append(ProvisionRow(needed=0, held=0, issued=0, covered=0))
    return found


@dataclass
class TitleIssue:
    record_id: int
    pupils: int
    issued: int = 0
    already_had: int = 0

    @property
    def short(self) -> int:
        return self.pupils - self.issued - self.already_had


@dataclass
class TextbookIssue:
    """What issuing a class its set did, title by title."""

    institution_id: int
    grade: int
    class_group: str | None
    school_year: int
    titles: list[TitleIssue] = field(default_factory=list)
    loans: list[int] = field(default_factory=list)
    # The titles' records as the step read them (the record loader's columns): the answer
    # shows them without reading them again.
    records: list[Any] = field(default_factory=list)


async def _class_pupils(
    session: AsyncSession, institution_id: int, grade: int, class_group: str | None
) -> list[int]:
    stmt = select(Enrollment.person_id).where(
        Enrollment.institution_id == institution_id,
        Enrollment.exit_date.is_(None),
        Enrollment.grade_level == grade,
    )
    if class_group is not None:
        stmt = stmt.where(Enrollment.class_group == class_group)
    return list(await session.scalars(stmt.order_by(Enrollment.person_id)))


async def _approved_titles(
    session: AsyncSession, record_ids: list[int], *, grade: int, school_year: int
) -> list[Any]:
    """The records (the record loader's columns), each a textbook for this grade approved for
    this school year."""
    rows = (
        await session.execute(
            select(*RECORD_COLUMNS, TextbookApproval.id.label("ok"))
            .outerjoin(
                TextbookApproval,
                (TextbookApproval.record_id == BibRecord.id)
                & (TextbookApproval.school_year == school_year),
            )
            .where(BibRecord.id.in_(record_ids))
        )
    ).all()
    found = {r.id: r for r in rows}
    for record_id in record_ids:
        row = found.get(record_id)
        if row is None:
            raise DomainError(ErrorCode.NOT_FOUND, "A record was not found", field="recordIds")
        if row.kind != BibKind.TEXTBOOK or row.grade != grade:
            raise DomainError(
                LibraryCode.NOT_A_TEXTBOOK, f"Not a textbook for grade {grade}", field="recordIds"
            )
        if row.ok is None:
            raise DomainError(
                LibraryCode.TEXTBOOK_NOT_APPROVED,
                f"A textbook is not approved for {school_year}-{school_year + 1}",
                field="recordIds",
            )
    return [found[record_id] for record_id in record_ids]


async def issue_textbooks(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: int,
    grade: int,
    class_group: str | None,
    record_ids: list[int],
    due_on: date | None,
) -> TextbookIssue:
    """Issue a class its textbook set: for each title, one copy from the library's shelf to
    every pupil of the class (open enrollments in that grade and class) who has none yet.
    Copies are taken with ``FOR UPDATE SKIP LOCKED``, so two desks issuing at once never take
    the same copy; a title with too few copies is issued as far as it goes and its shortfall
    reported (the provision report shows it too)."""
    inst = await library_of(session, principal, institution_id)
    year = school_year_of(today())
    if not 1 <= grade <= 12:
        raise DomainError(ErrorCode.INVALID_INPUT, "The grade is 1 to 12", field="grade")
    if not 1 <= len(set(record_ids)) <= MAX_TITLES:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Issue 1 to {MAX_TITLES} titles", field="recordIds"
        )
    group = (class_group or "").strip()[:20] or None
    pupils = await _class_pupils(session, inst.id, grade, group)
    if not pupils:
        raise DomainError(
            LibraryCode.NO_PUPILS_IN_CLASS, "The class has no pupils", field="classGroup"
        )
    titles = await _approved_titles(
        session, list(dict.fromkeys(record_ids)), grade=grade, school_year=year
    )
    due = due_on or date(year + 1, 5, 31)
    if due <= today():
        raise DomainError(ErrorCode.INVALID_DATE, "The due day is in the past", field="dueOn")
    result = TextbookIssue(institution_id=inst.id, grade=grade, class_group=group, school_year=year)
    result.records = titles
    for title in titles:
        result.titles.append(await _issue_title(session, inst.id, title.id, pupils, due, result))
    await emit(
        session,
        topic="library.textbooks_issued",
        aggregate_type="Institution",
        aggregate_id=inst.id,
        payload={"grade": grade, "issued": len(result.loans)},
    )
    return result


async def _issue_title(
    session: AsyncSession,
    institution_id: int,
    record_id: int,
    pupils: list[int],
    due: date,
    result: TextbookIssue,
) -> TitleIssue:
    have = set(
        await session.scalars(
            select(Loan.person_id).where(
                Loan.record_id == record_id,
                Loan.institution_id == institution_id,
                Loan.returned_at.is_(None),
                Loan.person_id.in_(pupils),
            )
        )
    )
    lacking = [p for p in pupils if p not in have]
    outcome = TitleIssue(record_id=record_id, pupils=len(pupils), already_had=len(have))
    if not lacking:
        return outcome
    # The copies are taken (locked SKIP LOCKED and marked on loan) in one statement; they are
    # handed out in barcode order, as the shelf reads.
    available = (
        select(LibraryItem.id)
        .where(
            LibraryItem.record_id == record_id,
            LibraryItem.institution_id == institution_id,
            LibraryItem.status == ItemStatus.AVAILABLE,
        )
        .order_by(LibraryItem.barcode)
        .limit(len(lacking))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    taken = (
        await session.execute(
            update(LibraryItem)
            .where(LibraryItem.id.in_(available))
            .values(status=ItemStatus.ON_LOAN, updated_at=func.now())
            .returning(LibraryItem.id, LibraryItem.barcode)
            .execution_options(synchronize_session=False)
        )
    ).all()
    copies = [row.id for row in sorted(taken, key=lambda row: row.barcode)]
    if not copies:
        return outcome
    pairs = list(zip(copies, lacking, strict=False))
    loan_ids = await session.scalars(
        insert(Loan)
        .values(
            [
                {
                    "item_id": copy,
                    "record_id": record_id,
                    "institution_id": institution_id,
                    "person_id": person,
                    "due_on": due,
                    "textbook_issue": True,
                }
                for copy, person in pairs
            ]
        )
        .returning(Loan.id)
    )
    result.loans.extend(loan_ids)
    outcome.issued = len(pairs)
    return outcome

"""The libraries (portals/library, portals/lib-kg): the ministry and librarians build the
catalogue and stock the shelves, the desk lends, renews, takes back and keeps holds, a school
issues a class its textbooks; readers open a record's page.

Preparers write with SQL: records (their search text made by the catalogue's own function),
copies at the dataset's schools, loans and holds of the schools' own pupils (open
enrollments), so every request is one a real desk could send."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg

from bench.workloads import Bench, Call, Upload, Workload
from bench.workloads.arrange import connect as _connect
from models import BibKind, Language
from resolvers import clock
from resolvers.access import Role
from resolvers.library.catalogue import RecordDraft, check_draft, record_values
from resolvers.library.textbooks import school_year_of
from resolvers.relay import encode_id

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj << >> endobj\n" * 2000
_serial = itertools.count(1)


def _run_id() -> str:
    return f"{clock.today():%y%m%d}{next(_serial):05d}{id(_serial) % 1000:03d}"


async def _records(
    conn: asyncpg.Connection, count: int, *, textbook_grade: int | None = None
) -> list[int]:
    """``count`` new records (textbooks of a grade when given), titled uniquely."""
    rows = []
    for i in range(count):
        kind = BibKind.TEXTBOOK if textbook_grade else BibKind.BOOK
        draft = check_draft(
            RecordDraft(
                kind=kind,
                title=f"Окуу китеби {_run_id()} {i}",
                language=Language.KY,
                authors=("Бенч Автор",),
                grade=textbook_grade,
                school_subject="Математика" if textbook_grade else None,
            )
        )
        values = record_values(draft)
        rows.append(
            (
                values["kind"].value,
                values["title"],
                values["language"].value,
                values["authors"],
                values["grade"],
                values["school_subject"],
                values["words"],
                values["folded"],
            )
        )
    fetched = await conn.fetch(
        "INSERT INTO bib_record (kind, title, language, authors, grade, school_subject, words,"
        " folded) SELECT k, t, l, ARRAY[a]::varchar[], g, s, w, f FROM unnest($1::text[],"
        " $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[])"
        " AS u(k, t, l, a, g, s, w, f) RETURNING id",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3][0] for r in rows],
        [r[4] for r in rows],
        [r[5] for r in rows],
        [r[6] for r in rows],
        [r[7] for r in rows],
    )
    return [r["id"] for r in fetched]


async def _borrowers(conn: asyncpg.Connection, count: int, *, per_school: int = 1) -> list[Any]:
    """(school, [pupils]) with open enrollments, ``per_school`` pupils each."""
    return list(
        await conn.fetch(
            "SELECT institution_id, (array_agg(person_id ORDER BY person_id))[1:$2] AS people"
            " FROM enrollment WHERE exit_date IS NULL AND sector = 'school'"
            " GROUP BY institution_id HAVING count(*) >= $2"
            " ORDER BY institution_id LIMIT $1",
            count,
            per_school,
        )
    )


async def _items(
    conn: asyncpg.Connection, record_id: int, institution_id: int, count: int
) -> list[Any]:
    return list(
        await conn.fetch(
            "INSERT INTO library_item (record_id, institution_id, barcode)"
            " SELECT $1, $2, 'BN-' || $3 || '-' || g FROM generate_series(1, $4) g"
            " RETURNING id, barcode",
            record_id,
            institution_id,
            _run_id(),
            count,
        )
    )


async def _lent(conn: asyncpg.Connection, n: int) -> list[dict[str, Any]]:
    """``n`` copies each out on loan with a pupil of its school (one pupil each, distinct)."""
    (record,) = await _records(conn, 1)
    found = []
    for school in await _borrowers(conn, n, per_school=2):
        (item,) = await _items(conn, record, school["institution_id"], 1)
        await conn.execute("UPDATE library_item SET status = 'on_loan' WHERE id = $1", item["id"])
        loan = await conn.fetchval(
            "INSERT INTO loan (item_id, record_id, institution_id, person_id, due_on)"
            " VALUES ($1, $2, $3, $4, current_date + 14) RETURNING id",
            item["id"],
            record,
            school["institution_id"],
            school["people"][0],
        )
        found.append(
            {
                "school": school["institution_id"],
                "record": record,
                "barcode": item["barcode"],
                "loan": loan,
                "other": school["people"][1],
            }
        )
    return found


def _librarian(bench: Bench, school: int) -> str:
    return bench.token(Role.LIBRARIAN, scopes=[f"institution:{school}"])


async def create_bib_record(bench: Bench, n: int) -> list[Call]:
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "kind": "BOOK",
                    "title": f"Жаңы китеп {_run_id()}",
                    "language": "KY",
                    "authors": ["Бенч"],
                }
            },
            token,
        )
        for _ in range(n)
    ]


async def approve_textbook(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        records = await _records(conn, n, textbook_grade=5)
    token = bench.token(Role.MINISTRY)
    year = school_year_of(clock.today())
    return [
        Call({"input": {"recordId": encode_id("BibRecord", r), "schoolYear": year}}, token)
        for r in records
    ]


async def attach_bib_file(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        records = await _records(conn, n)
    token = bench.token(Role.MINISTRY)
    return [
        Call(
            {
                "input": {
                    "recordId": encode_id("BibRecord", r),
                    "access": "OPEN",
                    "licence": "CC BY 4.0",
                    "file": None,
                }
            },
            token,
            Upload("variables.input.file", "book.pdf", PDF, "application/pdf"),
        )
        for r in records
    ]


async def add_library_items(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        (record,) = await _records(conn, 1)
        (school,) = await _borrowers(conn, 1)
    token = _librarian(bench, school["institution_id"])
    run = _run_id()
    return [
        Call(
            {
                "input": {
                    "recordId": encode_id("BibRecord", record),
                    "institutionId": encode_id("Institution", school["institution_id"]),
                    "barcodes": [f"AD-{run}-{i}-{k}" for k in range(5)],
                }
            },
            token,
        )
        for i in range(n)
    ]


async def check_out_item(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        (record,) = await _records(conn, 1)
        calls = []
        for school in await _borrowers(conn, n):
            (item,) = await _items(conn, record, school["institution_id"], 1)
            calls.append(
                Call(
                    {
                        "input": {
                            "institutionId": encode_id("Institution", school["institution_id"]),
                            "barcode": item["barcode"],
                            "personId": encode_id("Person", school["people"][0]),
                        }
                    },
                    _librarian(bench, school["institution_id"]),
                )
            )
    return calls


async def return_item(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        lent = await _lent(conn, n)
    return [
        Call(
            {
                "input": {
                    "institutionId": encode_id("Institution", x["school"]),
                    "barcode": x["barcode"],
                }
            },
            _librarian(bench, x["school"]),
        )
        for x in lent
    ]


async def renew_loan(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        lent = await _lent(conn, n)
    return [
        Call({"input": {"loanId": encode_id("Loan", x["loan"])}}, _librarian(bench, x["school"]))
        for x in lent
    ]


async def place_hold(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        lent = await _lent(conn, n)
    return [
        Call(
            {
                "input": {
                    "recordId": encode_id("BibRecord", x["record"]),
                    "institutionId": encode_id("Institution", x["school"]),
                    "personId": encode_id("Person", x["other"]),
                }
            },
            _librarian(bench, x["school"]),
        )
        for x in lent
    ]


async def _holds(conn: asyncpg.Connection, n: int) -> list[dict[str, Any]]:
    lent = await _lent(conn, n)
    for x in lent:
        x["hold"] = await conn.fetchval(
            "INSERT INTO library_hold (record_id, institution_id, person_id)"
            " VALUES ($1, $2, $3) RETURNING id",
            x["record"],
            x["school"],
            x["other"],
        )
    return lent


async def cancel_hold(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        held = await _holds(conn, n)
    return [
        Call({"input": {"holdId": encode_id("Hold", x["hold"])}}, _librarian(bench, x["school"]))
        for x in held
    ]


async def issue_textbooks(bench: Bench, n: int) -> list[Call]:
    """Classes not issued yet: each gets a textbook of its grade, approved this year, with a
    copy per pupil on its school's shelf."""
    year = school_year_of(clock.today())
    async with _connect(bench) as conn:
        classes = await conn.fetch(
            "SELECT institution_id, grade_level, class_group, count(*) AS pupils FROM enrollment"
            " WHERE exit_date IS NULL AND sector = 'school' AND grade_level BETWEEN 1 AND 12"
            " GROUP BY institution_id, grade_level, class_group ORDER BY 1, 2, 3 LIMIT $1",
            n,
        )
        calls = []
        for each in classes:
            (record,) = await _records(conn, 1, textbook_grade=each["grade_level"])
            await conn.execute(
                "INSERT INTO textbook_approval (record_id, school_year, approved_by)"
                " VALUES ($1, $2, 'bench')",
                record,
                year,
            )
            await _items(conn, record, each["institution_id"], each["pupils"])
            variables: dict[str, Any] = {
                "institutionId": encode_id("Institution", each["institution_id"]),
                "grade": each["grade_level"],
                "recordIds": [encode_id("BibRecord", record)],
            }
            if each["class_group"]:
                variables["classGroup"] = each["class_group"]
            calls.append(Call({"input": variables}, _librarian(bench, each["institution_id"])))
    return calls


async def _busy_library(bench: Bench) -> tuple[int, str]:
    """A school library with copies on the shelf and out, and holds waiting."""
    async with _connect(bench) as conn:
        held = await _holds(conn, 1)
        school = held[0]["school"]
        (record,) = await _records(conn, 1)
        await _items(conn, record, school, 30)
    return school, _librarian(bench, school)


async def library_items(bench: Bench, n: int) -> list[Call]:
    school, token = await _busy_library(bench)
    return [Call({"institutionId": encode_id("Institution", school)}, token)] * n


async def loans(bench: Bench, n: int) -> list[Call]:
    school, token = await _busy_library(bench)
    return [Call({"institutionId": encode_id("Institution", school)}, token)] * n


async def holds(bench: Bench, n: int) -> list[Call]:
    school, token = await _busy_library(bench)
    return [Call({"institutionId": encode_id("Institution", school)}, token)] * n


async def record_page(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        (record,) = await _records(conn, 1)
        for school in await _borrowers(conn, 3):
            await _items(conn, record, school["institution_id"], 2)
    token = bench.token(Role.PUPIL, person_id=1)
    return [Call({"recordId": encode_id("BibRecord", record)}, token)] * n


WORKLOADS = [
    Workload("library/CreateBibRecord", create_bib_record),
    Workload("library/ApproveTextbook", approve_textbook),
    Workload("library/AttachBibFile", attach_bib_file),
    Workload("library/AddLibraryItems", add_library_items),
    Workload("library/CheckOutItem", check_out_item),
    Workload("library/ReturnItem", return_item),
    Workload("library/RenewLoan", renew_loan),
    Workload("library/PlaceHold", place_hold),
    Workload("library/CancelHold", cancel_hold),
    Workload("library/IssueTextbooks", issue_textbooks),
    Workload("library/LibraryItems", library_items),
    Workload("library/Loans", loans),
    Workload("library/Holds", holds),
    Workload("lib-kg/BibRecordPage", record_page),
]

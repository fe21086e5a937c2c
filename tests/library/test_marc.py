"""MARC 21: `bilim import marc FILE` loads a library's catalogue (bad records reported with
their position and a code, the rest loaded, known ISBNs matched), and a record exports as
MARCXML and ISO 2709 that read back the same."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pymarc
from pymarc import Field, Indicators, Subfield
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli import cli
from models import BibKind, BibRecord, LibraryItem
from resolvers import jobs
from resolvers.library.cli import import_marc_file
from tests.conftest import Hub
from tests.factories import gid, make_institution
from tests.library.factories import make_record

EXPORT = """
query($id: ID!) { node(id: $id) { ... on BibRecord { marcXml marc21 } } }
"""


def marc(
    title: str | None,
    *,
    language: str = "kir",
    isbn: str | None = None,
    authors: tuple[str, ...] = (),
    barcodes: tuple[str, ...] = (),
    textbook: tuple[int, str] | None = None,
) -> bytes:
    record = pymarc.Record(force_utf8=True)
    record.add_field(Field(tag="001", data=f"ctl-{title}"))
    if isbn:
        record.add_field(
            Field(
                tag="020",
                indicators=Indicators(" ", " "),
                subfields=[Subfield("a", f"{isbn} (pbk.)")],
            )
        )
    record.add_field(
        Field(tag="041", indicators=Indicators(" ", " "), subfields=[Subfield("a", language)])
    )
    for i, author in enumerate(authors):
        record.add_field(
            Field(
                tag="100" if i == 0 else "700",
                indicators=Indicators("1", " "),
                subfields=[Subfield("a", f"{author},")],
            )
        )
    if title:
        record.add_field(
            Field(
                tag="245", indicators=Indicators("1", "0"), subfields=[Subfield("a", f"{title} /")]
            )
        )
    record.add_field(
        Field(
            tag="264",
            indicators=Indicators(" ", "1"),
            subfields=[Subfield("b", "Билим,"), Subfield("c", "2021.")],
        )
    )
    if textbook:
        grade, subject = textbook
        record.add_field(
            Field(
                tag="521",
                indicators=Indicators(" ", " "),
                subfields=[Subfield("a", f"{grade}-класс")],
            )
        )
        record.add_field(
            Field(
                tag="655", indicators=Indicators(" ", "4"), subfields=[Subfield("a", "Окуу китеби")]
            )
        )
        record.add_field(
            Field(tag="658", indicators=Indicators(" ", " "), subfields=[Subfield("a", subject)])
        )
    for barcode in barcodes:
        record.add_field(
            Field(tag="952", indicators=Indicators(" ", " "), subfields=[Subfield("p", barcode)])
        )
    return record.as_marc()


class TestImportMarc:
    async def test_bad_records_are_reported_and_the_rest_loaded(
        self, db_url: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        # given a library's catalogue: good records, one the catalogue already has (by ISBN),
        # a broken one, one without a title and one in a language the catalogue lacks
        school = await make_institution(session)
        await make_record(session, title="Жамиля", isbn="9785170900121")
        await session.commit()
        broken = b"00099nam  2200049   4500" + b"\x1e garbage \x1e\x1d"
        data = b"".join(
            [
                marc("Ак кеме", authors=("Айтматов, Чыңгыз",), barcodes=("K-1", "K-2")),
                marc("Жамиля", isbn="978-5-17-090012-1", barcodes=("K-3",)),
                broken,
                marc(None),
                marc("Les Misérables", language="fre"),
                marc("Математика", textbook=(5, "Математика"), barcodes=("K-1",)),
            ]
        )
        path = tmp_path / "catalogue.mrc"
        path.write_bytes(data)
        # when it is imported with its copies for the school
        report = await import_marc_file(db_url, path, institution_id=school.id)
        # then the bad ones are reported with their position and code ...
        problems = [(p.position, p.code.value) for p in report.problems]
        assert problems == [
            (3, "INVALID_MARC"),
            (4, "MARC_TITLE_MISSING"),
            (5, "UNKNOWN_LANGUAGE"),
            (6, "DUPLICATE_BARCODE"),
        ]
        assert report.problems[2].offset == data.index(marc("Les Misérables", language="fre"))
        # ... and the rest loaded: two new records, one matched, three copies
        assert (report.records, report.created, report.matched, report.items) == (6, 2, 1, 3)
        titles = set(await session.scalars(select(BibRecord.title)))
        assert titles == {"Жамиля", "Ак кеме", "Математика"}
        textbook = await session.scalar(select(BibRecord).where(BibRecord.title == "Математика"))
        assert textbook is not None
        assert (textbook.kind, textbook.grade) == (BibKind.TEXTBOOK, 5)
        assert await session.scalar(select(func.count()).select_from(LibraryItem)) == 3

    async def test_bilim_import_marc_prints_each_problem(self, db_url: str, tmp_path: Path) -> None:
        path = tmp_path / "one.mrc"
        path.write_bytes(marc("Манас") + marc(None))
        env = {"DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path)}
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["import", "marc", str(path)], env=env
        )
        assert result.exit_code == 2, result.output  # a record was rejected
        assert "record 2 (byte " in result.output
        assert "MARC_TITLE_MISSING" in result.output
        assert "created: 1" in result.output


class TestExportMarc:
    async def test_a_record_exports_as_marc_that_reads_back(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        record = await make_record(
            session,
            title="Кылым карытар бир күн",
            authors=("Чыңгыз Айтматов",),
            isbn="9785170900121",
            year=1980,
        )
        await session.commit()
        data = await hub.data(EXPORT, {"id": gid("BibRecord", record.id)})
        iso = base64.b64decode(data["node"]["marc21"])
        (back,) = list(pymarc.MARCReader(iso, to_unicode=True, force_utf8=True))
        assert back["245"]["a"] == "Кылым карытар бир күн"
        assert back["100"]["a"] == "Чыңгыз Айтматов"
        assert back["020"]["a"] == "9785170900121"
        (from_xml,) = pymarc.parse_xml_to_array(
            __import__("io").BytesIO(data["node"]["marcXml"].encode())
        )
        assert from_xml["041"]["a"] == "kir"


class TestJobs:
    async def test_bilim_jobs_run_includes_the_library(self, db_url: str) -> None:
        done = await jobs.run_all(db_url)
        assert done["overdue_loans"] == 0
        assert done["expired_holds"] == 0

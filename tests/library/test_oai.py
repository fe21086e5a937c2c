"""OAI-PMH 2.0 at /oai: the six verbs answer with oai_dc records, resumption tokens carry a
harvest through the whole catalogue, selective harvesting by date and set works, errors use
the protocol's codes, and every response is valid against the protocol's XML schema (see
tests/library/oai_schema/README.md for which schema and why)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.library.oai import PAGE
from tests.conftest import Hub
from tests.library.factories import make_record

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/"}
SCHEMAS = Path(__file__).resolve().parent / "oai_schema"


def _schema(folder: Path, name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(folder / name)))


def _published(folder: Path) -> etree.XMLSchema:
    """The published OAI-PMH.xsd with the published oai_dc.xsd beside it: the protocol's
    schema does not import oai_dc, yet processes a record's metadata strictly, so the two
    are joined in a schema of their own."""
    joined = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="http://www.openarchives.org/OAI/2.0/" elementFormDefault="qualified">
      <xs:import namespace="http://www.openarchives.org/OAI/2.0/oai_dc/"
          schemaLocation="{(folder / "oai_dc.xsd").resolve().as_uri()}"/>
      <xs:include schemaLocation="{(folder / "OAI-PMH.xsd").resolve().as_uri()}"/>
    </xs:schema>"""
    return etree.XMLSchema(etree.fromstring(joined.encode()))


VALIDATORS = [_schema(SCHEMAS, "oai-pmh.xsd")]
if os.environ.get("BILIM_OAI_XSD_DIR"):
    VALIDATORS.append(_published(Path(os.environ["BILIM_OAI_XSD_DIR"])))


async def harvest(hub: Hub, **args: str) -> Any:
    """Ask /oai; the answer must be valid against the schema."""
    response = await hub.client.get("/oai", params=args)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    for schema in VALIDATORS:
        assert schema.validate(document), (schema.error_log, response.text[:2000])
    return document


def error_code(document: Any) -> str | None:
    found = document.find("o:error", NS)
    return None if found is None else found.get("code")


async def arrange(session: AsyncSession, count: int) -> list[int]:
    await session.execute(
        text(
            "INSERT INTO bib_record (kind, title, language, authors, words, folded) "
            "SELECT 'book', 'Китеп ' || g, CASE WHEN g % 3 = 0 THEN 'ru' ELSE 'ky' END, "
            "ARRAY['Автор ' || g], 'Китеп ' || g, 'kitep ' || g FROM generate_series(1, :n) g"
        ),
        {"n": count},
    )
    await session.commit()
    return list((await session.execute(text("SELECT id FROM bib_record ORDER BY id"))).scalars())


class TestSingleAnswers:
    async def test_identify(self, hub: Hub, session: AsyncSession) -> None:
        await arrange(session, 3)
        document = await harvest(hub, verb="Identify")
        assert document.findtext("o:Identify/o:protocolVersion", namespaces=NS) == "2.0"
        assert document.findtext("o:Identify/o:baseURL", namespaces=NS) == "http://hub/oai"
        assert document.find("o:request", NS).get("verb") == "Identify"

    async def test_metadata_formats_and_sets(self, hub: Hub) -> None:
        formats = await harvest(hub, verb="ListMetadataFormats")
        assert formats.findtext(".//o:metadataPrefix", namespaces=NS) == "oai_dc"
        sets = await harvest(hub, verb="ListSets")
        specs = [s.text for s in sets.iterfind(".//o:setSpec", NS)]
        assert {"language:ky", "kind:textbook", "open"} <= set(specs)

    async def test_get_record_as_dublin_core(self, hub: Hub, session: AsyncSession) -> None:
        record = await make_record(
            session, title="Жамиля", authors=("Чыңгыз Айтматов",), isbn="9785170900121", year=1958
        )
        await session.commit()
        document = await harvest(
            hub, verb="GetRecord", identifier=f"oai:lib.kg:{record.id}", metadataPrefix="oai_dc"
        )
        dc = document.find(".//o:metadata", NS)[0]
        assert dc.findtext("dc:title", namespaces=NS) == "Жамиля"
        assert dc.findtext("dc:creator", namespaces=NS) == "Чыңгыз Айтматов"
        assert dc.findtext("dc:language", namespaces=NS) == "ky"
        assert "urn:isbn:9785170900121" in [e.text for e in dc.iterfind("dc:identifier", NS)]

    async def test_errors_use_the_protocols_codes(self, hub: Hub, session: AsyncSession) -> None:
        await arrange(session, 1)
        cases = [
            ({}, "badVerb"),
            ({"verb": "Delete"}, "badVerb"),
            ({"verb": "ListRecords"}, "badArgument"),
            ({"verb": "Identify", "color": "red"}, "badArgument"),
            ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
            (
                {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"},
                "badArgument",
            ),
            (
                {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "language:fr"},
                "badArgument",
            ),
            ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
            (
                {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2001-01-01"},
                "noRecordsMatch",
            ),
            (
                {
                    "verb": "GetRecord",
                    "identifier": "oai:lib.kg:999999",
                    "metadataPrefix": "oai_dc",
                },
                "idDoesNotExist",
            ),
        ]
        for args, code in cases:
            document = await harvest(hub, **args)
            assert error_code(document) == code, args
        # a bad verb or argument echoes no arguments in the request element
        bad = await harvest(hub, verb="Delete")
        assert bad.find("o:request", NS).attrib == {}

    async def test_post_is_answered_as_get(self, hub: Hub) -> None:
        response = await hub.client.post("/oai", data={"verb": "Identify"})
        document = etree.fromstring(response.content)
        assert VALIDATORS[0].validate(document)
        assert document.find("o:Identify", NS) is not None


class TestHarvest:
    async def test_a_full_harvest_follows_resumption_tokens_through_the_catalogue(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given more records than two pages
        ids = await arrange(session, 2 * PAGE + 17)
        # when a harvester lists records and follows each token
        seen: list[str] = []
        cursors = []
        document = await harvest(hub, verb="ListRecords", metadataPrefix="oai_dc")
        while True:
            seen += [h.text for h in document.iterfind(".//o:header/o:identifier", NS)]
            token = document.find(".//o:resumptionToken", NS)
            if token is None or not token.text:
                cursors.append(token.get("cursor") if token is not None else None)
                break
            cursors.append(token.get("cursor"))
            document = await harvest(hub, verb="ListRecords", resumptionToken=token.text)
        # then it received every record once, in three pages, the last token empty
        assert seen == [f"oai:lib.kg:{i}" for i in ids]
        assert cursors == ["0", str(PAGE), str(2 * PAGE)]

    async def test_selective_harvesting_by_date_and_set(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        ids = await arrange(session, 6)
        await session.execute(
            text("UPDATE bib_record SET updated_at = '2024-03-01T10:00:00Z' WHERE id = ANY(:old)"),
            {"old": ids[:4]},
        )
        await session.commit()
        recent = await harvest(
            hub, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2025-01-01"}
        )
        assert [h.text for h in recent.iterfind(".//o:identifier", NS)] == [
            f"oai:lib.kg:{i}" for i in ids[4:]
        ]
        old = await harvest(
            hub,
            verb="ListIdentifiers",
            metadataPrefix="oai_dc",
            **{"from": "2024-03-01T10:00:00Z", "until": "2024-03-01T10:00:00Z"},
        )
        assert len(old.findall(".//o:header", NS)) == 4
        russian = await harvest(
            hub, verb="ListIdentifiers", metadataPrefix="oai_dc", set="language:ru"
        )
        assert len(russian.findall(".//o:header", NS)) == 2


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
async def test_an_empty_catalogue_matches_no_records(hub: Hub, verb: str) -> None:
    document = await harvest(hub, verb=verb, metadataPrefix="oai_dc")
    assert error_code(document) == "noRecordsMatch"

"""The OAI-PMH 2.0 data provider at ``/oai``: how national catalogues and aggregators harvest
the one catalogue. The six verbs, ``oai_dc`` (simple Dublin Core), sets by language, kind and
open access, selective harvesting by datestamp (a record's last change, to the second) and
resumption tokens.

A list answers one page of ``PAGE`` records, read in (datestamp, id) order from the index on
those columns and written to the response record by record: however large the catalogue, a
harvest holds one page at a time, and the resumption token
(the position after the page's last record, the request's arguments, and the cursor) lets the
next request continue there. Tokens carry no state on the server and do not expire."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lxml import etree
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import BibKind, BibRecord, Language

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
REPOSITORY_ID = "lib.kg"
REPOSITORY_NAME = "Bilim Hub: the national e-library and school libraries of the Kyrgyz Republic"
ADMIN_EMAIL = "library@edu.gov.kg"
PAGE = 200
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

VERBS: dict[str, tuple[set[str], set[str]]] = {
    # verb: (required, optional) arguments; resumptionToken is exclusive where allowed
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
SETS: dict[str, tuple[str, Any]] = {
    **{
        f"language:{lang.value}": (f"Records in {lang.name}", BibRecord.language == lang)
        for lang in Language
    },
    **{
        f"kind:{kind.value}": (f"{kind.value.title()}s", BibRecord.kind == kind) for kind in BibKind
    },
    "open": ("Records anyone may read online", BibRecord.open_access.is_(True)),
}
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
RECORD_COLUMNS: tuple[Any, ...] = (
    BibRecord.id,
    BibRecord.updated_at,
    BibRecord.kind,
    BibRecord.title,
    BibRecord.subtitle,
    BibRecord.authors,
    BibRecord.isbn,
    BibRecord.language,
    BibRecord.publisher,
    BibRecord.year,
    BibRecord.subjects,
    BibRecord.description,
    BibRecord.school_subject,
    BibRecord.open_access,
)


class OaiError(Exception):
    """An OAI-PMH error condition (section 3.6): its code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identifier_of(record_id: int) -> str:
    return f"oai:{REPOSITORY_ID}:{record_id}"


def record_id_of(identifier: str) -> int | None:
    prefix = f"oai:{REPOSITORY_ID}:"
    tail = identifier[len(prefix) :] if identifier.startswith(prefix) else ""
    return int(tail) if tail.isdigit() and 0 < int(tail) < 2**31 else None


def _moment(value: str, *, end: bool) -> datetime:
    """A ``from``/``until`` argument: a day or a UTC second (the repository's granularity).
    ``until`` includes the whole day or second it names."""
    try:
        if DAY.match(value):
            moment = datetime.fromisoformat(value).replace(tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        if SECOND.match(value):
            moment = datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
            return moment + timedelta(seconds=1) if end else moment
    except ValueError:
        pass
    raise OaiError("badArgument", f"{value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)")


@dataclass(frozen=True)
class Harvest:
    """The arguments of a list request, as its resumption token carries them on."""

    prefix: str
    start: str | None = None
    end: str | None = None
    set_spec: str | None = None
    after: tuple[str, int] | None = None  # the last record sent: datestamp (μs), id
    cursor: int = 0

    def token(self, last: tuple[datetime, int], sent: int) -> str:
        state = {
            "p": self.prefix,
            "f": self.start,
            "u": self.end,
            "s": self.set_spec,
            "a": [last[0].isoformat(), last[1]],
            "c": self.cursor + sent,
        }
        raw = json.dumps(state, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> Harvest:
        try:
            state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            after = (str(state["a"][0]), int(state["a"][1]))
            datetime.fromisoformat(after[0])
            harvest = cls(
                prefix=str(state["p"]),
                start=state["f"],
                end=state["u"],
                set_spec=state["s"],
                after=after,
                cursor=int(state["c"]),
            )
        except (ValueError, KeyError, TypeError, IndexError, binascii.Error, RecursionError):
            raise OaiError("badResumptionToken", "The resumption token is not valid") from None
        harvest.statement()  # its arguments hold as they did
        return harvest

    def statement(self) -> Select[Any]:
        """The records of this harvest after its position, in datestamp order."""
        if self.prefix != "oai_dc":
            raise OaiError("cannotDisseminateFormat", "Only oai_dc is disseminated")
        clauses = []
        if self.start is not None:
            clauses.append(BibRecord.updated_at >= _moment(self.start, end=False))
        if self.end is not None:
            clauses.append(BibRecord.updated_at < _moment(self.end, end=True))
        if self.start and self.end and len(self.start) != len(self.end):
            raise OaiError("badArgument", "from and until have different granularities")
        if (
            self.start
            and self.end
            and _moment(self.start, end=False) >= _moment(self.end, end=True)
        ):
            raise OaiError("badArgument", "from is after until")
        if self.set_spec is not None:
            if self.set_spec not in SETS:
                raise OaiError("badArgument", f"No set {self.set_spec!r}")
            clauses.append(SETS[self.set_spec][1])
        if self.after is not None:
            moment = datetime.fromisoformat(self.after[0])
            clauses.append(
                tuple_(BibRecord.updated_at, BibRecord.id) > tuple_(moment, self.after[1])
            )
        stmt: Select[Any] = select(*RECORD_COLUMNS)
        return stmt.where(*clauses).order_by(BibRecord.updated_at, BibRecord.id).limit(PAGE + 1)


def check_arguments(args: Mapping[str, list[str]]) -> str:
    """The verb, once the request's arguments fit it (badVerb, badArgument otherwise)."""
    verbs = args.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "The verb is missing, repeated or not an OAI-PMH verb")
    verb = verbs[0]
    required, optional = VERBS[verb]
    given = {k for k in args if k != "verb"}
    if any(len(v) != 1 for v in args.values()):
        raise OaiError("badArgument", "An argument is repeated")
    if "resumptionToken" in given:
        if given != {"resumptionToken"} or "resumptionToken" not in optional:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb
    if not required <= given or not given <= required | optional:
        raise OaiError(
            "badArgument", f"{verb} takes {sorted(required | optional) or 'no arguments'}"
        )
    return verb


def _element(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    child = etree.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def _header(parent: Any, row: Any) -> None:
    header = _element(parent, f"{{{OAI}}}header")
    _element(header, f"{{{OAI}}}identifier", identifier_of(row.id))
    _element(header, f"{{{OAI}}}datestamp", utc(row.updated_at))
    _element(header, f"{{{OAI}}}setSpec", f"language:{Language(row.language).value}")
    _element(header, f"{{{OAI}}}setSpec", f"kind:{BibKind(row.kind).value}")
    if row.open_access:
        _element(header, f"{{{OAI}}}setSpec", "open")


def dublin_core(row: Any) -> Any:
    """A record as simple Dublin Core in the ``oai_dc`` container."""
    dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {OAI_DC_SCHEMA}")
    title = row.title + (f": {row.subtitle}" if row.subtitle else "")
    _element(dc, f"{{{DC}}}title", title)
    for author in row.authors:
        _element(dc, f"{{{DC}}}creator", author)
    for subject in [*row.subjects, *([row.school_subject] if row.school_subject else [])]:
        _element(dc, f"{{{DC}}}subject", subject)
    if row.description:
        _element(dc, f"{{{DC}}}description", row.description)
    if row.publisher:
        _element(dc, f"{{{DC}}}publisher", row.publisher)
    if row.year:
        _element(dc, f"{{{DC}}}date", str(row.year))
    _element(dc, f"{{{DC}}}type", "Text")
    _element(dc, f"{{{DC}}}type", BibKind(row.kind).value)
    if row.isbn:
        _element(dc, f"{{{DC}}}identifier", f"urn:isbn:{row.isbn}")
    _element(dc, f"{{{DC}}}identifier", identifier_of(row.id))
    _element(dc, f"{{{DC}}}language", Language(row.language).value)
    if row.open_access:
        _element(dc, f"{{{DC}}}rights", "Open access")
    return dc


def _fragment(element: Any) -> bytes:
    return bytes(etree.tostring(element, encoding="utf-8"))


def _record(row: Any, *, headers_only: bool) -> bytes:
    if headers_only:
        holder = etree.Element(f"{{{OAI}}}holder", nsmap={None: OAI})
        _header(holder, row)
        return _fragment(holder[0])
    record = etree.Element(f"{{{OAI}}}record", nsmap={None: OAI})
    _header(record, row)
    metadata = _element(record, f"{{{OAI}}}metadata")
    metadata.append(dublin_core(row))
    return _fragment(record)


class Response:
    """One answer's envelope: the declaration, ``responseDate`` and ``request``."""

    def __init__(self, base_url: str, args: Mapping[str, list[str]], *, echo: bool) -> None:
        self.base_url = base_url
        self.args = {k: v[0] for k, v in args.items() if v} if echo else {}

    def head(self) -> bytes:
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", f"{OAI} {OAI_SCHEMA}")
        _element(root, f"{{{OAI}}}responseDate", utc(datetime.now(UTC)))
        request = _element(root, f"{{{OAI}}}request", self.base_url)
        for key, value in sorted(self.args.items()):
            request.set(key, value)
        text = _fragment(root).decode()
        # The root stays open: the verb's element streams after it.
        opened = text[: text.rindex("</OAI-PMH>")] if "</OAI-PMH>" in text else text
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + opened.encode()

    def error(self, error: OaiError) -> bytes:
        element = etree.Element(f"{{{OAI}}}error", {"code": error.code}, nsmap={None: OAI})
        element.text = error.message
        return self.head() + _fragment(element) + b"</OAI-PMH>\n"


def identify(base_url: str, earliest: datetime | None) -> bytes:
    element = etree.Element(f"{{{OAI}}}Identify", nsmap={None: OAI})
    _element(element, f"{{{OAI}}}repositoryName", REPOSITORY_NAME)
    _element(element, f"{{{OAI}}}baseURL", base_url)
    _element(element, f"{{{OAI}}}protocolVersion", "2.0")
    _element(element, f"{{{OAI}}}adminEmail", ADMIN_EMAIL)
    _element(element, f"{{{OAI}}}earliestDatestamp", utc(earliest or EARLIEST))
    _element(element, f"{{{OAI}}}deletedRecord", "no")
    _element(element, f"{{{OAI}}}granularity", "YYYY-MM-DDThh:mm:ssZ")
    return _fragment(element)


def metadata_formats() -> bytes:
    element = etree.Element(f"{{{OAI}}}ListMetadataFormats", nsmap={None: OAI})
    fmt = _element(element, f"{{{OAI}}}metadataFormat")
    _element(fmt, f"{{{OAI}}}metadataPrefix", "oai_dc")
    _element(fmt, f"{{{OAI}}}schema", OAI_DC_SCHEMA)
    _element(fmt, f"{{{OAI}}}metadataNamespace", OAI_DC)
    return _fragment(element)


def list_sets() -> bytes:
    element = etree.Element(f"{{{OAI}}}ListSets", nsmap={None: OAI})
    for spec, (name, _) in SETS.items():
        each = _element(element, f"{{{OAI}}}set")
        _element(each, f"{{{OAI}}}setSpec", spec)
        _element(each, f"{{{OAI}}}setName", name)
    return _fragment(element)


async def answer(
    session: AsyncSession, base_url: str, args: Mapping[str, list[str]]
) -> AsyncIterator[bytes]:
    """The response to one OAI-PMH request, in pieces as they are ready."""
    try:
        verb = check_arguments(args)
    except OaiError as err:
        # badVerb and badArgument echo no arguments (section 3.2).
        yield Response(base_url, args, echo=False).error(err)
        return
    response = Response(base_url, args, echo=True)
    try:
        if verb in ("ListRecords", "ListIdentifiers"):
            harvest = _harvest(args)
            stmt = harvest.statement()
            async for piece in _list(session, response, verb, harvest, stmt):
                yield piece
            return
        body = await _single(session, base_url, verb, args)
    except OaiError as err:
        echo = err.code not in ("badVerb", "badArgument")
        yield Response(base_url, args, echo=echo).error(err)
        return
    yield response.head() + body + b"</OAI-PMH>\n"


def _harvest(args: Mapping[str, list[str]]) -> Harvest:
    token = args.get("resumptionToken")
    if token:
        return Harvest.from_token(token[0])
    return Harvest(
        prefix=args["metadataPrefix"][0],
        start=_one(args, "from"),
        end=_one(args, "until"),
        set_spec=_one(args, "set"),
    )


def _one(args: Mapping[str, list[str]], name: str) -> str | None:
    values = args.get(name)
    return values[0] if values else None


async def _single(
    session: AsyncSession, base_url: str, verb: str, args: Mapping[str, list[str]]
) -> bytes:
    if verb == "Identify":
        earliest = await session.scalar(select(func.min(BibRecord.updated_at)))
        return identify(base_url, earliest)
    if verb == "ListSets":
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "The set list is complete in one answer")
        return list_sets()
    identifier = _one(args, "identifier")
    row = None
    if identifier is not None:
        record_id = record_id_of(identifier)
        if record_id is not None:
            row = (
                await session.execute(select(*RECORD_COLUMNS).where(BibRecord.id == record_id))
            ).first()
        if row is None:
            raise OaiError("idDoesNotExist", f"No record {identifier!r}")
    if verb == "ListMetadataFormats":
        return metadata_formats()
    if args["metadataPrefix"][0] != "oai_dc":
        raise OaiError("cannotDisseminateFormat", "Only oai_dc is disseminated")
    element = etree.Element(f"{{{OAI}}}GetRecord", nsmap={None: OAI})
    text = _fragment(element).decode()
    opening = text.replace("/>", ">")
    return opening.encode() + _record(row, headers_only=False) + b"</GetRecord>"


async def _list(
    session: AsyncSession, response: Response, verb: str, harvest: Harvest, stmt: Select[Any]
) -> AsyncIterator[bytes]:
    headers_only = verb == "ListIdentifiers"
    sent = 0
    last: tuple[datetime, int] | None = None
    more = False
    # One page (at most PAGE + 1 rows) is read at once; the harvest as a whole streams page by
    # page, each page written out record by record.
    rows = (await session.execute(stmt)).all()
    for row in rows:
        if sent == PAGE:
            more = True
            break
        if sent == 0:
            yield response.head() + f'<{verb} xmlns="{OAI}">'.encode()
        yield _record(row, headers_only=headers_only)
        last = (row.updated_at, row.id)
        sent += 1
    if sent == 0:
        if harvest.after is not None:
            raise OaiError("badResumptionToken", "The resumption token is past the end")
        yield response.error(OaiError("noRecordsMatch", "No records match the arguments"))
        return
    token = etree.Element(f"{{{OAI}}}resumptionToken", nsmap={None: OAI})
    token.set("cursor", str(harvest.cursor))
    if more and last is not None:
        token.text = harvest.token(last, sent)
    tail = _fragment(token) if (more or harvest.after is not None) else b""
    yield tail + f"</{verb}></OAI-PMH>\n".encode()

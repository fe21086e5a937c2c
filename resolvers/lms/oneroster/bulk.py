"""The OneRoster 1.2 CSV binding (issue 15): a bulk export of the roster and the gradebook as
the binding's zip of CSV files (``manifest.csv`` and one file per collection, each with the
binding's header row and column order), for the whole country or one school, within what the
caller's key may read through the REST service (the same authorization, row rules and rendering:
a file the key may not read is ``absent`` in the manifest and left out of the zip).

Streaming: each file is read through a server-side cursor in batches and written into the zip
as it comes, so a country's enrollments are never in memory at once; the zip is written to any
binary stream (a file, or the HTTP response through :func:`zip_chunks`), unseekable too.

Column orders are those of the 1.2 CSV binding's tables (rostering files checked against a
public 1.2 exporter's headers; gradebook files as the binding's tables list them). The hub
writes the columns it has values for and leaves the others empty, as the binding allows for
optional columns. Users' roles are in ``roles.csv`` (1.2 moved them out of ``users.csv``)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from models import Guardianship, Person
from resolvers.access import Principal
from resolvers.lms.oneroster.collections import COLLECTIONS, ids_of, statement_of
from resolvers.lms.oneroster.query import Refused
from resolvers.lms.oneroster.rostering import AGENT_ROLES
from resolvers.lms.oneroster.shape import references

BATCH = 2_000
BASE = "sourcedId,status,dateLastModified,"

# The binding's files, in the manifest's order (``file.<name>``), with their header rows as
# the binding writes them; None for files the hub has no collection for (always ``absent``).
_HEADER_TEXT: dict[str, str | None] = {
    "academicSessions": BASE + "title,type,startDate,endDate,parentSourcedId,schoolYear",
    "categories": BASE + "title,weight",
    "classes": BASE + "title,grades,courseSourcedId,classCode,classType,location,"
    "schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "classResources": None,
    "courses": BASE + "schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,"
    "subjectCodes",
    "courseResources": None,
    "demographics": BASE + "birthDate,sex,americanIndianOrAlaskaNative,asian,"
    "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
    "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
    "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
    "enrollments": BASE + "classSourcedId,schoolSourcedId,userSourcedId,role,primary,"
    "beginDate,endDate",
    "lineItemLearningObjectiveIds": None,
    "lineItems": BASE + "title,description,assignDate,dueDate,classSourcedId,"
    "categorySourcedId,gradingPeriodSourcedId,resultValueMin,resultValueMax",
    "lineItemScoreScales": None,
    "orgs": BASE + "name,type,identifier,parentSourcedId",
    "resources": None,
    "resultLearningObjectiveIds": None,
    "results": BASE + "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment",
    "resultScoreScales": None,
    "roles": BASE + "userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,"
    "userProfileSourcedId",
    "scoreScales": BASE + "title,type,courseSourcedId,classSourcedId,scoreScaleValue",
    "userProfiles": None,
    "userResources": None,
    "users": BASE + "enabledUser,username,userIds,givenName,familyName,middleName,identifier,"
    "email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,"
    "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
}
HEADERS = {k: (v.split(",") if v else []) for k, v in _HEADER_TEXT.items()}
SERVED = frozenset(k for k, v in _HEADER_TEXT.items() if v)

# CSV column -> the key of the service's JSON object it comes from (where the names differ).
SOURCES = {
    "parentSourcedId": "parent",
    "courseSourcedId": "course",
    "schoolSourcedId": "school",
    "termSourcedIds": "terms",
    "orgSourcedId": "org",
    "classSourcedId": "class",
    "userSourcedId": "user",
    "categorySourcedId": "category",
    "gradingPeriodSourcedId": "academicSession",
    "lineItemSourcedId": "lineItem",
    "studentSourcedId": "student",
    "agentSourcedIds": "agents",
}


def cell(value: Any) -> str:
    """A JSON value as the binding writes it in a cell: a reference by its sourcedId, a list
    joined by commas (the csv writer quotes the cell), booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value.get("sourcedId", ""))
    if isinstance(value, list):
        return ",".join(cell(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row_of(obj: dict[str, Any], header: list[str]) -> list[str]:
    return [cell(obj.get(SOURCES.get(column, column))) for column in header]


@dataclass(frozen=True)
class Scope:
    """What the export covers: the country, or one school (its sourcedId)."""

    school: str | None = None


Narrow = Callable[[Any, str], list[ColumnElement[bool]]]


def _school_narrowing() -> dict[str, Narrow]:
    """The condition putting each collection's rows in one school's export."""

    def orgs(cols: Any, school: str) -> list[ColumnElement[bool]]:
        # The school and the orgs above it (district, region), so every parent resolves.
        district = ids_of("orgs", "parent_id", sourced_id=school)
        _, above = statement_of("orgs")
        region = select(above["parent_id"]).where(above["sourced_id"].in_(district))
        return [
            cols["sourced_id"].in_([school, "KG"])
            | cols["sourced_id"].in_(district)
            | cols["sourced_id"].in_(region)
        ]

    def enrolled(cols: Any, school: str) -> list[ColumnElement[bool]]:
        return [cols["sourced_id"].in_(ids_of("enrollments", "user_id", school_id=school))]

    def users(cols: Any, school: str) -> list[ColumnElement[bool]]:
        # The people enrolled there and their guardians, so every agentSourcedIds resolves.
        pupils = ids_of("enrollments", "user_id", school_id=school, role="student")
        child = aliased(Person, name="child")
        guardians = (
            select(Guardianship.guardian_id)
            .join(child, child.id == Guardianship.child_id)
            .where(child.gid.in_(pupils), Guardianship.valid_to.is_(None))
        )
        return [
            cols["sourced_id"].in_(ids_of("enrollments", "user_id", school_id=school))
            | (cols["role"].in_(AGENT_ROLES) & cols["person_id"].in_(guardians))
        ]

    def of_school(cols: Any, school: str) -> list[ColumnElement[bool]]:
        return [cols["school_id"] == school]

    def courses(cols: Any, school: str) -> list[ColumnElement[bool]]:
        return [cols["sourced_id"].in_(ids_of("classes", "course_id", school_id=school))]

    def results(cols: Any, school: str) -> list[ColumnElement[bool]]:
        return [cols["class_id"].in_(ids_of("classes", "sourced_id", school_id=school))]

    return {
        "orgs": orgs,
        "courses": courses,
        "classes": of_school,
        "users": users,
        "demographics": enrolled,
        "enrollments": of_school,
        "lineItems": of_school,
        "results": results,
        "scoreScales": of_school,
    }


SCHOOL_NARROWING = _school_narrowing()


class _Sink(io.RawIOBase):
    """An unseekable stream collecting what the zip writer writes, drained chunk by chunk."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


class _Text:
    """A zip member's text stream for the csv writer (UTF-8, CRLF lines as RFC 4180)."""

    def __init__(self, member: IO[bytes]) -> None:
        self.member = member
        self.writer = csv.writer(self, lineterminator="\r\n")

    def write(self, text: str) -> int:
        return self.member.write(text.encode())

    def rows(self, rows: Iterable[list[str]]) -> None:
        self.writer.writerows(rows)


async def _objects(
    conn: AsyncConnection,
    principal: Principal,
    plural: str,
    scope: Scope,
    base_url: str,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The collection's objects under the key's row rules and the scope, in batches."""
    from resolvers.lms.oneroster import readable_statement, rendering  # the service's rules

    collection = COLLECTIONS[plural]
    render = rendering(principal, collection)
    stmt, cols = readable_statement(principal, collection)
    if scope.school is not None and plural in SCHOOL_NARROWING:
        stmt = stmt.where(*SCHOOL_NARROWING[plural](cols, scope.school))
    if plural == "users":
        # A person who is a pupil and a teacher has two rows: one user, two roles.
        stmt = stmt.order_by(cols["sourced_id"], cols["role"])
    ref = references(base_url)
    result = await conn.stream(stmt.execution_options(yield_per=BATCH))
    async for partition in result.partitions(BATCH):
        yield [render(row, ref) for row in partition]


def _users_and_roles(
    batch: list[dict[str, Any]], last: list[dict[str, Any]]
) -> tuple[list[list[str]], list[list[str]]]:
    """users.csv and roles.csv rows of a batch of user objects (sorted by sourcedId);
    ``last`` carries the previous batch's last user across batches."""
    users, roles = [], []
    for obj in batch:
        role = obj["roles"][0]
        roles.append(
            row_of(
                {
                    "sourcedId": f"role-{obj['sourcedId']}-{role['role']}",
                    "status": obj["status"],
                    "dateLastModified": obj["dateLastModified"],
                    "user": obj["sourcedId"],
                    "roleType": role["roleType"],
                    "role": role["role"],
                    "org": role["org"],
                },
                HEADERS["roles"],
            )
        )
        if last and last[0]["sourcedId"] == obj["sourcedId"]:
            continue
        last[:] = [obj]
        users.append(row_of(obj | {"primaryOrgSourcedId": role["org"]}, HEADERS["users"]))
    return users, roles


def readable(principal: Principal, personal: Iterable[str]) -> list[str]:
    """The collections this key may read (the REST service's authorization)."""
    from resolvers.lms.oneroster import authorize

    allowed = []
    for plural in COLLECTIONS:
        if plural not in SERVED:
            continue  # the assessment results profile has no file in this export
        try:
            authorize(principal, COLLECTIONS[plural], personal)
        except Refused:
            continue
        allowed.append(plural)
    return allowed


async def write_zip(
    conn: AsyncConnection,
    principal: Principal,
    out: IO[bytes],
    *,
    scope: Scope,
    base_url: str,
    personal: Iterable[str] = (),
    flush: Callable[[], Any] | None = None,
) -> dict[str, int]:
    """Write the export's zip to ``out``; the number of data rows of each file written.
    ``flush`` (if given) is called after every batch, for a caller streaming ``out`` on."""
    allowed = readable(principal, personal)
    if not allowed:
        raise Refused(403, "forbidden", "The key's scope includes no OneRoster collection")
    counts: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for plural in allowed:
            if plural == "users":
                counts |= await _write_users(conn, principal, archive, scope, base_url, flush)
                continue
            header = HEADERS[plural]
            counts[plural] = 0
            with archive.open(f"{plural}.csv", "w", force_zip64=True) as member:
                text = _Text(member)
                text.rows([header])
                async for batch in _objects(conn, principal, plural, scope, base_url):
                    rows = [row_of(_flatten(plural, obj), header) for obj in batch]
                    text.rows(rows)
                    counts[plural] += len(rows)
                    if flush is not None:
                        await flush()
        with archive.open("manifest.csv", "w") as member:
            _Text(member).rows(_manifest(counts))
    if flush is not None:
        await flush()
    return counts


async def _write_users(
    conn: AsyncConnection,
    principal: Principal,
    archive: zipfile.ZipFile,
    scope: Scope,
    base_url: str,
    flush: Callable[[], Any] | None,
) -> dict[str, int]:
    # users.csv, then roles.csv from a second read of the same rows: a zip writes one member
    # at a time, and holding a country's roles until users.csv ends would hold them in memory.
    counts = {"users": 0, "roles": 0}
    for name in ("users", "roles"):
        last: list[dict[str, Any]] = []
        with archive.open(f"{name}.csv", "w", force_zip64=True) as member:
            text = _Text(member)
            text.rows([HEADERS[name]])
            async for batch in _objects(conn, principal, "users", scope, base_url):
                users, roles = _users_and_roles(batch, last)
                rows = users if name == "users" else roles
                text.rows(rows)
                counts[name] += len(rows)
                if flush is not None:
                    await flush()
    return counts


def _flatten(plural: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What a CSV row needs beyond the JSON object's own keys."""
    if plural == "scoreScales":
        values = obj.get("scoreScaleValue") or []
        pairs = ",".join(f"{v['itemValueLHS']}:{v['itemValueRHS']}" for v in values)
        return obj | {"scoreScaleValue": "{" + pairs + "}"}
    if plural == "courses":
        return obj | {"subjectCodes": None}
    return obj


def _manifest(counts: dict[str, int]) -> list[list[str]]:
    rows = [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.2"]]
    for name in HEADERS:
        rows.append([f"file.{name}", "bulk" if name in counts else "absent"])
    rows += [["source.systemName", "Bilim Hub"], ["source.systemCode", "bilim-hub"]]
    return rows


async def zip_chunks(
    conn: AsyncConnection,
    principal: Principal,
    *,
    scope: Scope,
    base_url: str,
    personal: Iterable[str] = (),
) -> AsyncIterator[bytes]:
    """The export's zip as chunks of bytes, produced batch by batch (for a streamed HTTP
    response): the writer writes into an unseekable sink drained after every batch."""
    import asyncio

    sink = _Sink()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=4)

    async def flush() -> None:
        chunk = sink.drain()
        if chunk:
            await queue.put(chunk)

    async def produce() -> None:
        try:
            await write_zip(
                conn,
                principal,
                cast(IO[bytes], sink),
                scope=scope,
                base_url=base_url,
                personal=personal,
                flush=flush,
            )
        finally:
            await queue.put(None)

    task = asyncio.create_task(produce())
    try:
        while (chunk := await queue.get()) is not None:
            yield chunk
        await task
    finally:
        # A client gone mid-download: stop reading the database.
        task.cancel()

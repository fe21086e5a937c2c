"""The OneRoster 1.2 CSV binding (issue 15): a bulk export as the binding's zip (manifest and
one CSV per collection, headers in the binding's column order), the same rows the REST
service lists for the key, every reference resolving inside the zip; one school or the
country by the key's scope; demographics, users and results only with the personal-data
grant; through ``GET /ims/oneroster/v1p2/csv`` and ``bilim export oneroster``."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli import cli
from resolvers.lms.oneroster.bulk import HEADERS
from tests.conftest import Hub
from tests.factories import gid
from tests.lms.arrange import arrange_school
from tests.lms.oneroster_schema import STATUS_INFO
from tests.lms.test_oneroster import GRADEBOOK, ROSTER, _marked, get, partner, valid

BULK = "/ims/oneroster/v1p2/csv"


def read_zip(data: bytes) -> dict[str, list[dict[str, str]]]:
    """Each CSV of the zip as rows keyed by its header; the header row checked against the
    binding's for that file."""
    files: dict[str, list[dict[str, str]]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode()
            reader = csv.reader(io.StringIO(text))
            header = next(reader)
            stem = name.removesuffix(".csv")
            if stem == "manifest":
                assert header == ["propertyName", "value"]
            else:
                assert header == HEADERS[stem], name
            files[stem] = [dict(zip(header, row, strict=True)) for row in reader]
    return files


def manifest(files: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    return {row["propertyName"]: row["value"] for row in files["manifest"]}


async def total(hub: Hub, path: str, headers: dict[str, str], **params: Any) -> int:
    response = await get(hub, path, headers, limit=1, **params)
    assert response.status_code == 200, response.text
    return int(response.headers["X-Total-Count"])


class TestCsvExport:
    async def test_the_countrys_zip_has_every_collection_with_its_references(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two schools, one with a marked lesson, and a key granted everything
        await _marked(hub, session)
        await arrange_school(session, pupils=2)
        headers = await partner(hub, session)
        # when the partner downloads the bulk export
        response = await hub.client.get(BULK, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        files = read_zip(response.content)
        # then the manifest names the files present as bulk and the others absent
        listed = manifest(files)
        assert listed["oneroster.version"] == "1.2"
        assert listed["manifest.version"] == "1.0"
        present = {k.removeprefix("file.") for k, v in listed.items() if v == "bulk"}
        assert present == set(files) - {"manifest"}
        assert listed["file.resources"] == "absent"
        # and each file holds the rows the REST service counts for the key
        for plural, service in (
            ("orgs", ROSTER), ("academicSessions", ROSTER), ("courses", ROSTER),
            ("classes", ROSTER), ("enrollments", ROSTER), ("demographics", ROSTER),
            ("categories", GRADEBOOK), ("lineItems", GRADEBOOK), ("results", GRADEBOOK),
            ("scoreScales", GRADEBOOK),
        ):  # fmt: skip
            assert len(files[plural]) == await total(hub, f"{service}/{plural}", headers), plural
        # users: one row per person, a role row per user object of the service
        assert len(files["roles"]) == await total(hub, f"{ROSTER}/users", headers)
        assert len(files["users"]) == len({u["sourcedId"] for u in files["users"]})
        # and every reference resolves within the zip
        ids = {
            n: {row["sourcedId"] for row in rows} for n, rows in files.items() if n != "manifest"
        }
        for row in files["enrollments"]:
            assert row["classSourcedId"] in ids["classes"]
            assert row["userSourcedId"] in ids["users"]
            assert row["schoolSourcedId"] in ids["orgs"]
        for row in files["classes"]:
            assert row["courseSourcedId"] in ids["courses"] | {""} or row[
                "courseSourcedId"
            ].startswith("local-")
            assert set(row["termSourcedIds"].split(",")) <= ids["academicSessions"]
        for row in files["orgs"]:
            assert row["parentSourcedId"] in ids["orgs"] | {""}
        for row in files["roles"]:
            assert row["userSourcedId"] in ids["users"]
            assert row["orgSourcedId"] in ids["orgs"]
        for row in files["lineItems"]:
            assert row["classSourcedId"] in ids["classes"]
            assert row["gradingPeriodSourcedId"] in ids["academicSessions"]
            assert row["categorySourcedId"] in ids["categories"]
        for row in files["results"]:
            assert row["lineItemSourcedId"] in ids["lineItems"]
            assert row["studentSourcedId"] in ids["users"]
        for row in files["scoreScales"]:
            assert row["classSourcedId"] in ids["classes"]
            assert row["scoreScaleValue"].startswith("{")
        assert files["results"]
        assert files["lineItems"]

    async def test_without_the_personal_data_grant_people_and_marks_are_absent(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await _marked(hub, session)
        headers = await partner(hub, session, personal=False)
        response = await hub.client.get(BULK, headers=headers)
        assert response.status_code == 200, response.text
        files = read_zip(response.content)
        listed = manifest(files)
        for plural in ("users", "roles", "demographics", "results"):
            assert plural not in files
            assert listed[f"file.{plural}"] == "absent"
        assert files["enrollments"]
        assert files["classes"]

    async def test_one_schools_export_holds_that_school_only(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=3)
        other = await arrange_school(session, pupils=2)
        headers = await partner(hub, session)
        response = await hub.client.get(BULK, headers=headers, params={"school": s.id})
        assert response.status_code == 200, response.text
        files = read_zip(response.content)
        assert {row["schoolSourcedId"] for row in files["classes"]} == {s.id}
        assert {row["schoolSourcedId"] for row in files["enrollments"]} == {s.id}
        assert len(files["enrollments"]) == await total(
            hub, f"{ROSTER}/schools/{s.id}/enrollments", headers
        )
        orgs = {row["sourcedId"] for row in files["orgs"]}
        assert s.id in orgs
        assert "KG" in orgs
        assert other.id not in orgs
        # the school, its district and region and the republic: every parent resolves
        assert all(row["parentSourcedId"] in orgs | {""} for row in files["orgs"])
        # three pupils, their teacher and the first pupil's mother, named in its agents
        assert len(files["users"]) == 5
        users = {row["sourcedId"]: row for row in files["users"]}
        agents = {a for row in files["users"] for a in row["agentSourcedIds"].split(",") if a}
        assert agents == {gid("Person", s.guardian.id)}
        assert agents <= set(users)
        # a school the key cannot read is not found
        missing = await hub.client.get(BULK, headers=headers, params={"school": "nothing"})
        assert missing.status_code == 404
        valid(missing.json(), STATUS_INFO)

    async def test_no_key_no_export(self, hub: Hub, session: AsyncSession) -> None:
        assert (await hub.client.get(BULK)).status_code == 401
        headers = await partner(hub, session, fields=("Institution.*",))
        assert (await hub.client.get(BULK, headers=headers)).status_code == 403

    async def test_the_command_writes_the_same_files_into_a_folder(
        self, hub: Hub, session: AsyncSession, db_url: str, tmp_path: Path
    ) -> None:
        # given a school and a partner's key
        s = await arrange_school(session, pupils=3)
        headers = await partner(hub, session)
        key = headers["Authorization"].removeprefix("Bearer ")
        out = tmp_path / "export"
        env = {"DATABASE_URL": db_url, "BILIM_DATA_DIR": str(hub.settings.data_dir)}
        # when an operator runs `bilim export oneroster DIR --key KEY --school ID`
        result = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["export", "oneroster", str(out), "--key", key, "--school", s.id],
            env=env,
        )
        # then the folder holds the binding's files, as the HTTP export writes them
        assert result.exit_code == 0, result.output
        names = {p.name for p in out.iterdir()}
        assert {"manifest.csv", "users.csv", "roles.csv", "enrollments.csv"} <= names
        with (out / "enrollments.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert {row["schoolSourcedId"] for row in rows} == {s.id}
        assert "enrollments.csv:" in result.output

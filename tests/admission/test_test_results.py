"""National test results arrive as the testing centre's CSV file, through an upload mutation or
`bilim import test-results FILE`: bad rows are reported by line, good rows load together, and
loading the same file again changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from cli import cli
from models import NationalTestImport, NationalTestResult, database
from resolvers import admission as admission_service
from resolvers.access import Principal, Role
from tests.conftest import Hub
from tests.factories import make_admission_season, make_person

IMPORT = """
mutation Import($input: ImportTestResultsInput!) {
  importTestResults(input: $input) {
    report { alreadyImported rowsTotal rowsLoaded rowsUnchanged rowsRejected problems { line code message } }
    userErrors { field code message }
  }
}
"""
RESULTS = """
query Results($filter: TestResultFilterInput) {
  testResults(filter: $filter, first: 10, orderBy: CERTIFICATE) {
    totalCount nodes { certificateNumber mainScore subjectScores { subject score } person { pin } }
  }
}
"""
HEADER = "certificate_number,year,pin,main_score,state_language_score,subject_math,subject_physics"


async def _upload(hub: Hub, token: str, data: bytes, filename: str = "ort.csv") -> dict[str, Any]:
    operations = json.dumps({"query": IMPORT, "variables": {"input": {"file": None}}})
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations, "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (filename, data, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["importTestResults"]
    return payload


async def _stored(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(NationalTestResult)) or 0)


async def _file(session: AsyncSession) -> tuple[bytes, list[str]]:
    await make_admission_season(session)
    pins = [(await make_person(session, first_name=f"П{i}")).pin or "" for i in range(3)]
    await session.commit()
    lines = [
        HEADER,
        f"ORT2026000001,2026,{pins[0]},180,95,120,",
        f"ORT2026000002,2026,{pins[1]},250,95,,",  # main score over the scale
        "ORT2026000003,2026,99999999999999,150,80,90,90",  # nobody has this PIN
        f"ORT2026000004,2026,{pins[2]},140,70,,88",
        f"ORT2026000005,2031,{pins[2]},140,70,,",  # no season for 2031
        "ORT2026000006,2026,123,140,70,,",  # not a PIN
    ]
    return ("\n".join(lines) + "\n").encode(), pins


class TestImportTestResults:
    async def test_good_rows_load_and_bad_rows_are_reported_with_line_and_reason(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a file with two good rows and four bad ones
        data, pins = await _file(session)
        # when the ministry uploads it
        payload = await _upload(hub, ministry, data)
        # then the good rows load and each bad line says why
        assert payload["userErrors"] == []
        report = payload["report"]
        assert (report["rowsTotal"], report["rowsLoaded"], report["rowsRejected"]) == (6, 2, 4)
        assert [(p["line"], p["code"]) for p in report["problems"]] == [
            (3, "SCORE_OUT_OF_RANGE"),
            (4, "NOT_FOUND"),
            (6, "NOT_FOUND"),
            (7, "INVALID_PIN"),
        ]
        body = await hub.data(RESULTS, {"filter": {"year": 2026}}, token=ministry)
        nodes = body["testResults"]["nodes"]
        assert [n["certificateNumber"] for n in nodes] == ["ORT2026000001", "ORT2026000004"]
        assert nodes[0]["subjectScores"] == [{"subject": "math", "score": 120}]
        assert nodes[0]["person"]["pin"] == pins[0]

    async def test_reimporting_the_same_file_changes_nothing(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        data, _ = await _file(session)
        await _upload(hub, ministry, data)
        # when the same file comes again
        again = await _upload(hub, ministry, data)
        # then nothing changes
        assert again["report"]["alreadyImported"] is True
        assert again["report"]["rowsLoaded"] == 0
        assert await _stored(session) == 2
        # and a corrected file re-sending stored rows counts them as unchanged
        corrected = data + b"\n"
        third = await _upload(hub, ministry, corrected)
        assert (third["report"]["rowsLoaded"], third["report"]["rowsUnchanged"]) == (0, 2)
        assert await _stored(session) == 2

    async def test_a_file_without_the_required_columns_is_refused_whole(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        await make_admission_season(session)
        await session.commit()
        payload = await _upload(hub, ministry, b"certificate_number,pin\nORT1,123\n")
        assert payload["report"] is None
        assert payload["userErrors"][0]["code"] == "INVALID_FILE"
        assert await _stored(session) == 0

    async def test_only_the_ministry_imports(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        data, _ = await _file(session)
        officer = hub.token(Role.ADMISSION_OFFICER, scopes=["institution:1"])
        payload = await _upload(hub, officer, data)
        assert payload["userErrors"][0]["code"] == "FORBIDDEN"
        assert await _stored(session) == 0

    async def test_applicant_reads_only_their_own_certificate(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        data, _pins = await _file(session)
        await _upload(hub, ministry, data)
        owner = await session.scalar(
            select(NationalTestResult.person_id).where(
                NationalTestResult.certificate_number == "ORT2026000004"
            )
        )
        body = await hub.data(RESULTS, {}, token=hub.token(Role.PUPIL, person_id=owner))
        assert [n["certificateNumber"] for n in body["testResults"]["nodes"]] == ["ORT2026000004"]


async def _blocked_on_a_lock(engine: AsyncEngine, task: asyncio.Task[Any]) -> None:
    """Wait until another backend of this database waits for a lock."""
    async with engine.connect() as conn:
        for _ in range(200):
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            await conn.rollback()
            if waiting:
                return
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
    raise AssertionError("the concurrent import never waited for the first one")


class TestImportingTwiceAtOnce:
    """Issue 12.5: a double click sends the same file twice at once; the second answer is the
    first's report, never INTERNAL_ERROR."""

    async def test_second_upload_waiting_for_the_first_answers_already_imported(
        self, hub: Hub, ministry: str, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given the file being imported in a transaction that has not committed yet
        data, _ = await _file(session)
        ministry_principal = Principal(subject="ministry:race", role=Role.MINISTRY)
        async with database.session_factory(engine)() as first:
            report = await admission_service.import_test_results(
                first, ministry_principal, data=data, filename="ort.csv"
            )
            assert report.rows_loaded == 2
            # when the same file is uploaded meanwhile, and the first import then commits
            second = asyncio.create_task(_upload(hub, ministry, data))
            await _blocked_on_a_lock(engine, second)
            await first.commit()
        payload = await second

        # then the second answer is the first's report, and the rows are there once
        assert payload["userErrors"] == []
        assert payload["report"]["alreadyImported"] is True
        assert (payload["report"]["rowsTotal"], payload["report"]["rowsLoaded"]) == (6, 0)
        assert payload["report"]["rowsRejected"] == 4
        assert await _stored(session) == 2
        assert await session.scalar(select(func.count()).select_from(NationalTestImport)) == 1

    async def test_two_uploads_at_once_load_the_file_once(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given a file
        data, _ = await _file(session)

        # when it is uploaded twice at once
        payloads = await asyncio.gather(*(_upload(hub, ministry, data) for _ in range(2)))

        # then one loads it, the other answers that it was loaded
        reports = sorted(
            (p["report"]["alreadyImported"], p["report"]["rowsLoaded"]) for p in payloads
        )
        assert reports == [(False, 2), (True, 0)]
        assert await _stored(session) == 2


class TestImportCommand:
    async def test_bilim_import_test_results_loads_a_file(
        self, db_url: str, session: AsyncSession, tmp_path: Path
    ) -> None:
        # given a results file on disk
        data, _ = await _file(session)
        path = tmp_path / "ort-2026.csv"
        path.write_bytes(data)
        env = {"DATABASE_URL": db_url, "BILIM_DATA_DIR": str(tmp_path)}
        # when the command runs (twice)
        first = await asyncio.to_thread(
            CliRunner().invoke, cli, ["import", "test-results", str(path)], env=env
        )
        second = await asyncio.to_thread(
            CliRunner().invoke, cli, ["import", "test-results", str(path)], env=env
        )
        # then it reports the bad lines (exit status 2), loads the good rows once
        assert first.exit_code == 2, first.output
        assert "loaded: 2" in first.stdout
        assert "line 3: SCORE_OUT_OF_RANGE" in first.output
        assert second.exit_code == 2
        assert "imported before" in second.output
        assert await _stored(session) == 2

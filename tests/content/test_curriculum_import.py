"""The curriculum import (issue 16): a methodologist's CSV file of the state standard, each bad
line reported with its number and code, the good lines loaded; again, it updates in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli import cli
from models import CurriculumUnit
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import editor, make_lesson, make_unit

HEADER = "standard,subject,grade,term,unit,unit_title,topic,topic_title,outcomes,hours,languages\n"
GOOD = (
    "12,MATHEMATICS,5,1,1,Бөлчөктөр,1,Бөлчөктөрдү кошуу,Кошот; Кемитет,2,ky;ru\n"
    "12,MATHEMATICS,5,1,1,Бөлчөктөр,2,Бөлчөктөрдү кемитүү,Кемитет,2.5,ky;ru;uz\n"
    "11,KYRGYZ_LANGUAGE,9,3,4,Синтаксис,1,Сүйлөм,,1,ky\n"
)
BAD = (
    "12,ASTROLOGY,5,1,1,Жылдыздар,1,Жылдыз,,1,ky\n"  # line 5
    "11,MATHEMATICS,12,1,1,Алгебра,1,Теңдеме,,1,ru\n"  # line 6: 11-year model ends at 11
    "12,MATHEMATICS,5,6,1,Бөлчөктөр,3,Аралаш,,1,ky\n"  # line 7
    "12,MATHEMATICS,5,1,1,Бөлчөктөр,4,Кыскартуу,,1,en\n"  # line 8
    "12,MATHEMATICS,5,1,1,Бөлчөктөр,1,Кайталанган,,1,ky\n"  # line 9: same topic as line 2
    "12,MATHEMATICS,5,1,,Бөлчөктөр,5,Бош,,1,ky\n"  # line 10
    "13,MATHEMATICS,5,1,1,Бөлчөктөр,6,Стандарт,,1,ky\n"  # line 11
)
EXPECTED_PROBLEMS = [
    (5, "UNKNOWN_SUBJECT"),
    (6, "INVALID_GRADE"),
    (7, "INVALID_TERM"),
    (8, "LANGUAGE_NOT_OFFERED"),
    (9, "DUPLICATE_LINE"),
    (10, "MISSING_FIELD"),
    (11, "INVALID_STANDARD"),
]
IMPORT = """
mutation ImportCurriculum($input: ImportCurriculumInput!) {
  importCurriculum(input: $input) {
    report { lines created updated rejected problems { line code message } }
    userErrors { field code message }
  }
}
"""


async def send(hub: Hub, token: str, content: bytes) -> dict[str, Any]:
    operations = orjson.dumps({"query": IMPORT, "variables": {"input": {"file": None}}})
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations.decode(), "map": '{"0": ["variables.input.file"]}'},
        files={"0": ("curriculum.csv", content, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]["importCurriculum"]


class TestImportCurriculum:
    async def test_good_lines_are_loaded_and_bad_ones_reported_by_number(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # when an editor loads a file with three good lines and seven bad ones
        result = await send(hub, editor(hub), (HEADER + GOOD + BAD).encode())
        # then the good ones are loaded and each bad one is named with its line and code
        report = result["report"]
        assert (report["lines"], report["created"], report["updated"], report["rejected"]) == (
            10,
            3,
            0,
            7,
        )
        assert [(p["line"], p["code"]) for p in report["problems"]] == EXPECTED_PROBLEMS
        units = list(await session.scalars(select(CurriculumUnit).order_by(CurriculumUnit.id)))
        assert [(u.subject_code, u.grade, u.topic_no, u.languages) for u in units] == [
            ("mathematics", 5, 1, ["ky", "ru"]),
            ("mathematics", 5, 2, ["ky", "ru", "uz"]),
            ("kyrgyz_language", 9, 1, ["ky"]),
        ]
        assert units[0].outcomes == ["Кошот", "Кемитет"]

    async def test_a_second_import_updates_topics_in_place_and_moves_their_lessons(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a topic with a lesson
        await send(hub, editor(hub), (HEADER + GOOD).encode())
        unit = await session.scalar(
            select(CurriculumUnit).where(CurriculumUnit.topic_no == 1, CurriculumUnit.grade == 5)
        )
        assert unit is not None
        lesson = await make_lesson(session, unit=unit)
        await session.commit()
        # when the methodologist moves it to term 2 and renames it
        moved = GOOD.replace(
            "12,MATHEMATICS,5,1,1,Бөлчөктөр,1,Бөлчөктөрдү кошуу",
            "12,MATHEMATICS,5,2,1,Бөлчөктөр,1,Бөлчөктөрдү кошуу (жаңы)",
        )
        report = (await send(hub, editor(hub), (HEADER + moved).encode()))["report"]
        # then it is updated, not duplicated, and its lesson follows it to term 2
        assert (report["created"], report["updated"]) == (0, 3)
        await session.refresh(unit)
        await session.refresh(lesson)
        assert (unit.term, unit.topic_title) == (2, "Бөлчөктөрдү кошуу (жаңы)")
        assert lesson.term == 2

    async def test_a_language_in_use_cannot_be_taken_away(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        unit = await make_unit(session, grade=5, unit_no=1, topic_no=1, languages=["ky", "ru"])
        await make_lesson(session, unit=unit, language="ru")
        await session.commit()
        line = "12,MATHEMATICS,5,1,1,Бөлчөктөр,1,Бөлчөктөрдү кошуу,,2,ky\n"
        report = (await send(hub, editor(hub), (HEADER + line).encode()))["report"]
        assert [(p["line"], p["code"]) for p in report["problems"]] == [(2, "LANGUAGE_IN_USE")]
        await session.refresh(unit)
        assert unit.languages == ["ky", "ru"]

    async def test_a_file_without_the_columns_is_refused_whole(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        result = await send(hub, editor(hub), b"subject,grade\nMATHEMATICS,5\n")
        assert result["report"] is None
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_FILE"]
        assert await session.scalar(select(CurriculumUnit.id)) is None

    async def test_only_content_editors_load_the_curriculum(self, hub: Hub) -> None:
        result = await send(
            hub, hub.token(Role.SCHOOL_ADMIN, scopes=["institution:1"]), (HEADER + GOOD).encode()
        )
        assert [e["code"] for e in result["userErrors"]] == ["FORBIDDEN"]


def test_bilim_import_curriculum_loads_a_file_and_reports_its_bad_lines(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a curriculum file and the hub's database
    path = tmp_path / "curriculum.csv"
    path.write_text(HEADER + GOOD + BAD, encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)
    # when it is loaded from the command line
    result = CliRunner().invoke(
        cli, ["import", "curriculum", str(path), "--data-dir", str(tmp_path)]
    )
    # then the summary and every bad line are printed, and the good lines are in (exit
    # status 2: some lines were rejected)
    assert result.exit_code == 2, result.output
    assert "lines: 10, created: 3, updated: 0, rejected: 7" in result.stdout
    for line, code in EXPECTED_PROBLEMS:
        assert f"line {line}: {code}:" in result.output
    again = CliRunner().invoke(
        cli, ["import", "curriculum", str(path), "--data-dir", str(tmp_path)]
    )
    assert "created: 0, updated: 3" in again.stdout


def test_bilim_import_curriculum_refuses_a_file_that_is_not_csv(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "curriculum.csv"
    path.write_bytes(b"\xff\xfe\x00binary")
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(
        cli, ["import", "curriculum", str(path), "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "The file was refused" in result.output

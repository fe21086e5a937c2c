"""Homework (issue 15): set in a lesson; pupils hand in text and files (stored by content
hash, size-limited); the teacher's feedback accepts the work or returns it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import FileObject, HomeworkSubmission
from tests.conftest import Hub
from tests.factories import gid, make_lesson
from tests.lms.arrange import School, arrange_school, pupil_token, teacher_token

ASSIGN = """mutation($input: AssignHomeworkInput!) {
  assignHomework(input: $input) { homework { id text dueOn } userErrors { code field } }
}"""
SUBMIT = """mutation($input: SubmitHomeworkInput!) {
  submitHomework(input: $input) {
    submission { id status text files { name sizeBytes mediaType url } }
    userErrors { code field message }
  }
}"""
REVIEW = """mutation($input: ReviewHomeworkInput!) {
  reviewHomework(input: $input) { submission { status feedback } userErrors { code } }
}"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _homework(hub: Hub, session: AsyncSession) -> tuple[School, str]:
    s = await arrange_school(session)
    lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
    await session.commit()
    data = await hub.data(
        ASSIGN,
        {
            "input": {
                "lessonId": gid("ClassLesson", lesson.id),
                "text": "Решить № 12",
                "dueOn": (lesson.on_date + timedelta(days=7)).isoformat(),
                "acceptsSubmissions": True,
            }
        },
        token=teacher_token(hub, s),
    )
    return s, data["assignHomework"]["homework"]["id"]


async def _submit(
    hub: Hub, token: str, homework: str, files: list[tuple[str, bytes, str]], text: str | None
) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "input": {"homeworkId": homework, "text": text, "files": [None] * len(files)}
    }
    operations = json.dumps({"query": SUBMIT, "variables": variables})
    mapping = {str(i): [f"variables.input.files.{i}"] for i in range(len(files))}
    if files:
        response = await hub.client.post(
            "/graphql",
            data={"operations": operations, "map": json.dumps(mapping)},
            files={str(i): f for i, f in enumerate(files)},
            headers={"Authorization": f"Bearer {token}"},
        )
    else:
        response = await hub.post(SUBMIT, variables, token=token)
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitHomework"]
    return payload


class TestHomework:
    async def test_homework_is_due_after_its_lesson(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        await session.commit()
        data = await hub.data(
            ASSIGN,
            {"input": {"lessonId": gid("ClassLesson", lesson.id), "text": "№ 1",
                       "dueOn": lesson.on_date.isoformat()}},
            token=teacher_token(hub, s),
        )  # fmt: skip
        assert data["assignHomework"]["userErrors"] == [{"code": "INVALID_DATE", "field": "dueOn"}]

    async def test_a_pupil_hands_in_text_and_a_file_and_the_teacher_answers(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given homework that takes submissions
        s, homework = await _homework(hub, session)

        # when the pupil hands in an answer and a PDF
        sent = await _submit(
            hub,
            pupil_token(hub, s.pupils[0]),
            homework,
            [("ответ.pdf", PDF, "application/pdf")],
            "Ответ: 42",
        )

        # then it is stored by its content's hash, with a signed link to download it
        submission = sent["submission"]
        (file,) = submission["files"]
        assert (file["name"], file["mediaType"], file["sizeBytes"]) == (
            "ответ.pdf",
            "application/pdf",
            len(PDF),
        )
        assert file["url"].startswith("/files/")
        download = await hub.client.get(file["url"])
        assert download.content == PDF
        assert await session.scalar(select(func.count()).select_from(FileObject)) == 1

        # and the teacher's feedback returns it to redo
        answered = await hub.data(
            REVIEW,
            {
                "input": {
                    "submissionId": submission["id"],
                    "feedback": "Покажи решение",
                    "accept": False,
                }
            },
            token=teacher_token(hub, s),
        )
        assert answered["reviewHomework"]["submission"] == {
            "status": "RETURNED",
            "feedback": "Покажи решение",
        }

    async def test_a_file_that_is_no_document_is_refused_and_nothing_stored(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, homework = await _homework(hub, session)
        sent = await _submit(
            hub, pupil_token(hub, s.pupils[0]), homework,
            [("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")], None,
        )  # fmt: skip
        assert [(e["code"], e["field"]) for e in sent["userErrors"]] == [
            ("INVALID_FILE", "files[0]")
        ]
        assert await session.scalar(select(func.count()).select_from(HomeworkSubmission)) == 0

    async def test_a_file_over_ten_megabytes_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, homework = await _homework(hub, session)
        big = PDF + b"0" * (10 * 1024 * 1024)
        sent = await _submit(
            hub,
            pupil_token(hub, s.pupils[0]),
            homework,
            [("big.pdf", big, "application/pdf")],
            None,
        )
        assert sent["userErrors"][0]["code"] == "FILE_TOO_LARGE"

    async def test_accepted_work_is_closed(self, hub: Hub, session: AsyncSession) -> None:
        s, homework = await _homework(hub, session)
        token = pupil_token(hub, s.pupils[0])
        sent = await _submit(hub, token, homework, [], "Ответ: 42")
        await hub.data(
            REVIEW,
            {
                "input": {
                    "submissionId": sent["submission"]["id"],
                    "feedback": "Верно",
                    "accept": True,
                }
            },
            token=teacher_token(hub, s),
        )
        again = await _submit(hub, token, homework, [], "Ответ: 43")
        assert again["userErrors"][0]["code"] == "HOMEWORK_CLOSED"

    async def test_a_pupil_of_another_class_cannot_hand_in(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        _, homework = await _homework(hub, session)
        other = await arrange_school(session)
        sent = await _submit(hub, pupil_token(hub, other.pupils[0]), homework, [], "Ответ")
        assert sent["userErrors"][0]["code"] == "NOT_FOUND"

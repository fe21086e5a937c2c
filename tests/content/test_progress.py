"""Learners' progress (issue 16): statements recorded once by their id, quizzes graded, offline
batches merged without duplicates, and nothing written for a statement about an unpublished
lesson or another learner."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LessonProgress, LessonStatus, ProgressStatement, QuestionKind
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import (
    USER_ERRORS,
    learner,
    make_lesson,
    make_pupil,
    make_question,
)
from tests.factories import gid, make_person

RECORD = f"""
mutation RecordLessonProgress($input: ProgressStatementInput!) {{
  recordLessonProgress(input: $input) {{
    progress {{ status attempts secondsSpent bestScore startedAt completedAt lesson {{ id }} }}
    {USER_ERRORS}
  }}
}}
"""
SYNC = f"""
mutation SyncLessonProgress($input: SyncLessonProgressInput!) {{
  syncLessonProgress(input: $input) {{ accepted duplicates rejected {{ index field code }} {USER_ERRORS} }}
}}
"""


def statement(lesson_id: int, verb: str = "STARTED", **more: Any) -> dict[str, Any]:
    return {
        "statementId": str(uuid.uuid4()),
        "lessonId": gid("Lesson", lesson_id),
        "verb": verb,
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "seconds": 60,
        **more,
    }


async def rows(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestRecordLessonProgress:
    async def test_the_same_statement_sent_twice_counts_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a pupil and a published lesson
        pupil, _school = await make_pupil(session)
        lesson = await make_lesson(session)
        await session.commit()
        started = statement(lesson.id, seconds=120)
        # when the pupil's device sends a statement, then sends it again (a retry)
        first = await hub.data(RECORD, {"input": started}, token=learner(hub, pupil))
        again = await hub.data(RECORD, {"input": started}, token=learner(hub, pupil))
        # then the time is counted once
        assert first["recordLessonProgress"]["progress"]["secondsSpent"] == 120
        assert again["recordLessonProgress"]["progress"]["secondsSpent"] == 120
        assert again["recordLessonProgress"]["userErrors"] == []
        assert await rows(session, ProgressStatement) == 1

    async def test_a_completion_with_answers_is_graded(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson with a single-choice question (1 point) and a numeric one (3 points)
        pupil, _school = await make_pupil(session)
        lesson = await make_lesson(session)
        choice = await make_question(session, lesson=lesson, position=1, answer={"choice": 1})
        numeric = await make_question(
            session,
            lesson=lesson,
            position=2,
            kind=QuestionKind.NUMERIC,
            choices=[],
            answer={"value": "0.75", "tolerance": "0.01"},
            points=3,
        )
        await session.commit()
        token = learner(hub, pupil)
        # when the pupil completes it, once wrong on the choice, then right on both
        answers: list[dict[str, Any]] = [
            {"questionId": gid("QuizQuestion", choice.id), "choices": [0]},
            {"questionId": gid("QuizQuestion", numeric.id), "number": "0.749"},
        ]
        body = await hub.data(
            RECORD, {"input": statement(lesson.id, "COMPLETED", answers=answers)}, token=token
        )
        progress = body["recordLessonProgress"]["progress"]
        assert (progress["status"], progress["bestScore"]) == ("COMPLETED", "75.00")
        answers[0]["choices"] = [1]
        body = await hub.data(
            RECORD,
            {"input": statement(lesson.id, "COMPLETED", attempt=2, answers=answers)},
            token=token,
        )
        # then the best score is kept, and both attempts are counted
        progress = body["recordLessonProgress"]["progress"]
        assert (progress["bestScore"], progress["attempts"]) == ("100.00", 2)
        assert progress["secondsSpent"] == 120

    async def test_a_statement_for_an_unpublished_lesson_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        pupil, _school = await make_pupil(session)
        draft = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        body = await hub.data(RECORD, {"input": statement(draft.id)}, token=learner(hub, pupil))
        assert [e["code"] for e in body["recordLessonProgress"]["userErrors"]] == [
            "LESSON_NOT_PUBLISHED"
        ]
        assert await rows(session, ProgressStatement) == 0
        assert await rows(session, LessonProgress) == 0

    async def test_a_statement_for_another_learner_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        pupil, _school = await make_pupil(session)
        other, _ = await make_pupil(session)
        lesson = await make_lesson(session)
        await session.commit()
        body = await hub.data(
            RECORD,
            {"input": statement(lesson.id, learnerId=gid("Person", other.id))},
            token=learner(hub, pupil),
        )
        assert [(e["code"], e["field"]) for e in body["recordLessonProgress"]["userErrors"]] == [
            ("WRONG_LEARNER", "learnerId")
        ]
        assert await rows(session, ProgressStatement) == 0

    async def test_a_statement_from_the_future_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        pupil, _school = await make_pupil(session)
        lesson = await make_lesson(session)
        await session.commit()
        late = statement(lesson.id, occurredAt=(datetime.now(UTC) + timedelta(days=2)).isoformat())
        body = await hub.data(RECORD, {"input": late}, token=learner(hub, pupil))
        assert [e["code"] for e in body["recordLessonProgress"]["userErrors"]] == ["INVALID_DATE"]

    async def test_the_same_statement_sent_twice_at_once_counts_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a statement that two connections send at the same moment (two transactions)
        pupil, _school = await make_pupil(session)
        lesson = await make_lesson(session)
        await session.commit()
        started = statement(lesson.id, seconds=300)
        token = learner(hub, pupil)
        await asyncio.gather(*(hub.data(RECORD, {"input": started}, token=token) for _ in range(4)))
        # then the database kept it once, and the progress counts it once
        assert await rows(session, ProgressStatement) == 1
        spent = await session.scalar(select(LessonProgress.seconds_spent))
        assert spent == 300


class TestSyncLessonProgress:
    async def test_an_offline_batch_is_merged_without_duplicates(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given statements a pupil recorded offline, one of them sent already
        pupil, _school = await make_pupil(session)
        first, second = await make_lesson(session), await make_lesson(session)
        draft = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        token = learner(hub, pupil)
        sent = statement(first.id, "COMPLETED", seconds=200)
        await hub.data(RECORD, {"input": sent}, token=token)
        batch = [
            sent,
            statement(second.id, seconds=50),
            statement(second.id, "COMPLETED", seconds=70),
            statement(draft.id),
        ]
        # when the batch is sent, twice
        body = await hub.data(SYNC, {"input": {"statements": batch}}, token=token)
        again = await hub.data(SYNC, {"input": {"statements": batch}}, token=token)
        # then the new statements are counted once, the known one not again, the bad one refused
        report = body["syncLessonProgress"]
        assert (report["accepted"], report["duplicates"]) == (2, 1)
        assert report["rejected"] == [
            {"index": 3, "field": "lessonId", "code": "LESSON_NOT_PUBLISHED"}
        ]
        assert (
            again["syncLessonProgress"]["accepted"],
            again["syncLessonProgress"]["duplicates"],
        ) == (0, 3)
        progress = {
            r.lesson_id: (r.status.value, r.seconds_spent)
            for r in await session.scalars(select(LessonProgress))
        }
        assert progress == {first.id: ("completed", 200), second.id: ("completed", 120)}

    async def test_a_school_sends_its_pupils_statements_but_no_one_elses(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        pupil, school = await make_pupil(session)
        outsider, _other_school = await make_pupil(session)
        lesson = await make_lesson(session)
        await session.commit()
        server = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
        batch = [
            statement(lesson.id, learnerId=gid("Person", pupil.id)),
            statement(lesson.id, learnerId=gid("Person", outsider.id)),
        ]
        body = await hub.data(SYNC, {"input": {"statements": batch}}, token=server)
        report = body["syncLessonProgress"]
        assert report["accepted"] == 1
        assert report["rejected"] == [{"index": 1, "field": "learnerId", "code": "WRONG_LEARNER"}]

    async def test_a_batch_over_the_limit_is_refused_whole(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        person = await make_person(session)
        lesson = await make_lesson(session)
        await session.commit()
        batch = [statement(lesson.id) for _ in range(501)]
        body = await hub.data(
            SYNC, {"input": {"statements": batch}}, token=hub.token(Role.PUPIL, person_id=person.id)
        )
        assert [e["code"] for e in body["syncLessonProgress"]["userErrors"]] == [
            "TOO_MANY_STATEMENTS"
        ]
        assert await rows(session, ProgressStatement) == 0

"""Lessons through their states (issue 16; domain.md S5): drafted by a content editor in a
language the topic is offered in, given media through the file store and a quiz, submitted,
reviewed and published, with every change in the history; bad input is a typed user error and
writes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import FileObject, Lesson, LessonRevision, LessonStatus
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import (
    USER_ERRORS,
    editor,
    make_lesson,
    make_unit,
    video_bytes,
)
from tests.factories import gid

LESSON_FIELDS = "id title status version language grade subjectCode term position"
CREATE = f"""
mutation CreateLesson($input: CreateLessonInput!) {{
  createLesson(input: $input) {{ lesson {{ {LESSON_FIELDS} }} {USER_ERRORS} }}
}}
"""
SUBMIT = f"""
mutation SubmitLessonForReview($input: LessonStepInput!) {{
  submitLessonForReview(input: $input) {{ lesson {{ {LESSON_FIELDS} }} {USER_ERRORS} }}
}}
"""
PUBLISH = f"""
mutation PublishLesson($input: LessonStepInput!) {{
  publishLesson(input: $input) {{ lesson {{ {LESSON_FIELDS} publishedAt }} {USER_ERRORS} }}
}}
"""
RETURN = f"""
mutation ReturnLesson($input: LessonNoteInput!) {{
  returnLesson(input: $input) {{ lesson {{ {LESSON_FIELDS} }} {USER_ERRORS} }}
}}
"""
UPLOAD = f"""
mutation UploadLessonMedia($input: UploadLessonMediaInput!) {{
  uploadLessonMedia(input: $input) {{
    lesson {{ id version media {{ kind rendition sizeBytes mediaType height bitrateKbps sha256 url }} }}
    {USER_ERRORS}
  }}
}}
"""
SET_QUIZ = f"""
mutation SetLessonQuiz($input: SetLessonQuizInput!) {{
  setLessonQuiz(input: $input) {{ lesson {{ id quiz {{ id position kind prompt choices points }} }} {USER_ERRORS} }}
}}
"""
HISTORY = """
query LessonHistory($id: ID!) { node(id: $id) { ... on Lesson { id status history { version action status note } } } }
"""


async def upload(
    hub: Hub, token: str, variables: dict[str, Any], content: bytes, content_type: str
) -> dict[str, Any]:
    """Send ``uploadLessonMedia`` as a GraphQL multipart request."""
    operations = orjson.dumps(
        {"query": UPLOAD, "variables": {"input": {**variables, "file": None}}}
    )
    response = await hub.client.post(
        "/graphql",
        data={"operations": operations.decode(), "map": '{"0": ["variables.input.file"]}'},
        files={"0": ("lesson.bin", content, content_type)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]["uploadLessonMedia"]


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestCreateLesson:
    async def test_an_editor_drafts_a_lesson_of_a_topic_in_one_of_its_languages(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a grade 5 mathematics topic offered in Kyrgyz and Russian
        unit = await make_unit(session, grade=5, term=2, languages=["ky", "ru"])
        await session.commit()
        # when an editor drafts its Russian lesson
        body = await hub.data(
            CREATE,
            {
                "input": {
                    "unitId": gid("CurriculumUnit", unit.id),
                    "language": "RU",
                    "title": "Сложение дробей",
                }
            },
            token=editor(hub),
        )
        # then the draft carries the topic's place and a first history entry
        result = body["createLesson"]
        assert result["userErrors"] == []
        lesson = result["lesson"]
        assert lesson["status"] == "DRAFT"
        assert (lesson["grade"], lesson["subjectCode"], lesson["term"]) == (5, "mathematics", 2)
        assert (lesson["language"], lesson["version"], lesson["position"]) == ("RU", 1, 1)
        history = await hub.data(HISTORY, {"id": lesson["id"]}, token=editor(hub))
        assert history["node"]["history"] == [
            {"version": 1, "action": "CREATED", "status": "DRAFT", "note": None}
        ]

    async def test_a_language_the_topic_is_not_offered_in_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a topic offered in Kyrgyz only
        unit = await make_unit(session, languages=["ky"])
        await session.commit()
        # when an editor drafts its Uzbek lesson, and then an English one
        for language in ("UZ", "EN"):
            body = await hub.data(
                CREATE,
                {
                    "input": {
                        "unitId": gid("CurriculumUnit", unit.id),
                        "language": language,
                        "title": "Dars",
                    }
                },
                token=editor(hub),
            )
            # then it is refused with a stable code and nothing is written
            assert body["createLesson"]["lesson"] is None
            assert [e["code"] for e in body["createLesson"]["userErrors"]] == [
                "LANGUAGE_NOT_OFFERED"
            ]
        assert await count(session, Lesson) == 0

    async def test_a_taken_place_is_refused_by_the_database(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        await make_lesson(session, unit=unit, language="ky", position=1)
        await session.commit()
        body = await hub.data(
            CREATE,
            {
                "input": {
                    "unitId": gid("CurriculumUnit", unit.id),
                    "language": "KY",
                    "title": "Экинчи",
                    "position": 1,
                }
            },
            token=editor(hub),
        )
        assert [e["code"] for e in body["createLesson"]["userErrors"]] == ["LESSON_PLACE_TAKEN"]
        assert await count(session, Lesson) == 1

    async def test_only_content_editors_create_lessons(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        unit = await make_unit(session)
        await session.commit()
        for token in (
            hub.token(Role.TEACHER, scopes=["institution:1"], person_id=1),
            hub.token(Role.SCHOOL_ADMIN, scopes=["institution:1"]),
        ):
            body = await hub.data(
                CREATE,
                {
                    "input": {
                        "unitId": gid("CurriculumUnit", unit.id),
                        "language": "KY",
                        "title": "Сабак",
                    }
                },
                token=token,
            )
            assert [e["code"] for e in body["createLesson"]["userErrors"]] == ["FORBIDDEN"]
        anonymous = await hub.gql(
            CREATE,
            {
                "input": {
                    "unitId": gid("CurriculumUnit", unit.id),
                    "language": "KY",
                    "title": "Сабак",
                }
            },
        )
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


class TestMedia:
    async def test_a_video_rendition_is_stored_by_its_hash_and_served_by_a_signed_link(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a draft lesson
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        content = video_bytes("a", 50_000)
        # when an editor uploads its 480p rendition
        result = await upload(
            hub,
            editor(hub),
            {
                "lessonId": gid("Lesson", lesson.id),
                "kind": "VIDEO",
                "rendition": "480p",
                "bitrateKbps": 700,
            },
            content,
            "video/mp4",
        )
        # then the lesson lists it with its size, type and height
        assert result["userErrors"] == []
        (media,) = result["lesson"]["media"]
        assert media["kind"] == "VIDEO"
        assert media["rendition"] == "480p"
        assert media["height"] == 480
        assert (media["sizeBytes"], media["mediaType"]) == (len(content), "video/mp4")
        assert result["lesson"]["version"] == 2
        # and its link serves the file, a range of it too (a resumed download)
        whole = await hub.client.get(media["url"])
        assert whole.status_code == 200
        assert whole.content == content
        part = await hub.client.get(media["url"], headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == content[1000:2000]

    async def test_media_of_the_wrong_type_is_refused_and_nothing_is_kept(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        # a PDF declared as a video
        result = await upload(
            hub,
            editor(hub),
            {
                "lessonId": gid("Lesson", lesson.id),
                "kind": "VIDEO",
                "rendition": "240p",
                "bitrateKbps": 300,
            },
            b"%PDF-1.7\n" + bytes(2000),
            "video/mp4",
        )
        assert [e["code"] for e in result["userErrors"]] == ["INVALID_FILE"]
        assert result["lesson"] is None
        assert await count(session, FileObject) == 0

    async def test_a_bad_rendition_is_refused_before_the_file_is_stored(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        result = await upload(
            hub,
            editor(hub),
            {
                "lessonId": gid("Lesson", lesson.id),
                "kind": "VIDEO",
                "rendition": "4k",
                "bitrateKbps": 300,
            },
            video_bytes(),
            "video/mp4",
        )
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            ("INVALID_RENDITION", "rendition")
        ]
        assert await count(session, FileObject) == 0

    async def test_subtitles_over_the_size_limit_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        huge = b"WEBVTT\n\n" + b"a" * (2 * 1024 * 1024 + 10)
        result = await upload(
            hub,
            editor(hub),
            {"lessonId": gid("Lesson", lesson.id), "kind": "SUBTITLES", "rendition": "ky"},
            huge,
            "text/vtt",
        )
        assert [e["code"] for e in result["userErrors"]] == ["FILE_TOO_LARGE"]
        assert await count(session, FileObject) == 0

    async def test_a_published_lesson_takes_no_new_media(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.PUBLISHED)
        await session.commit()
        result = await upload(
            hub,
            editor(hub),
            {"lessonId": gid("Lesson", lesson.id), "kind": "AUDIO", "bitrateKbps": 64},
            b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + bytes(500),
            "audio/mpeg",
        )
        assert [e["code"] for e in result["userErrors"]] == ["WRONG_LESSON_STATE"]
        assert await count(session, FileObject) == 0


class TestQuiz:
    async def test_an_editor_sets_a_quiz_and_learners_never_see_the_answers(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        questions = [
            {
                "kind": "SINGLE_CHOICE",
                "prompt": "1/4 + 2/4?",
                "choices": ["1/4", "3/4"],
                "correctChoices": [1],
            },
            {
                "kind": "NUMERIC",
                "prompt": "0.5 + 0.25?",
                "numericAnswer": "0.75",
                "tolerance": "0.001",
                "points": 2,
            },
            {
                "kind": "SHORT_TEXT",
                "prompt": "Бөлчөктүн үстүндөгү сан?",
                "acceptedAnswers": ["алым"],
            },
        ]
        body = await hub.data(
            SET_QUIZ,
            {"input": {"lessonId": gid("Lesson", lesson.id), "questions": questions}},
            token=editor(hub),
        )
        quiz = body["setLessonQuiz"]["lesson"]["quiz"]
        assert [q["kind"] for q in quiz] == ["SINGLE_CHOICE", "NUMERIC", "SHORT_TEXT"]
        assert [q["points"] for q in quiz] == [1, 2, 1]
        assert "answer" not in str(quiz).lower().replace("answers", "")

    async def test_a_choice_question_without_a_right_choice_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        questions = [
            {"kind": "SINGLE_CHOICE", "prompt": "?", "choices": ["a", "b"], "correctChoices": [5]}
        ]
        body = await hub.data(
            SET_QUIZ,
            {"input": {"lessonId": gid("Lesson", lesson.id), "questions": questions}},
            token=editor(hub),
        )
        assert [(e["code"], e["field"]) for e in body["setLessonQuiz"]["userErrors"]] == [
            ("INVALID_QUIZ", "questions[0].correctChoices")
        ]


class TestReviewAndPublish:
    async def test_a_lesson_goes_from_draft_through_review_to_published_with_its_history(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a draft with a text version
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        lesson_id = gid("Lesson", lesson.id)
        # when it is submitted, returned with a note, submitted again and published
        token = editor(hub)
        await hub.data(SUBMIT, {"input": {"lessonId": lesson_id}}, token=token)
        returned = await hub.data(
            RETURN, {"input": {"lessonId": lesson_id, "note": "Мисал кошуңуз"}}, token=token
        )
        assert returned["returnLesson"]["lesson"]["status"] == "DRAFT"
        await hub.data(SUBMIT, {"input": {"lessonId": lesson_id}}, token=token)
        published = await hub.data(PUBLISH, {"input": {"lessonId": lesson_id}}, token=token)
        # then it is published, and every step is in its history
        assert published["publishLesson"]["lesson"]["status"] == "PUBLISHED"
        assert published["publishLesson"]["lesson"]["publishedAt"] is not None
        history = await hub.data(HISTORY, {"id": lesson_id}, token=token)
        assert [(h["version"], h["action"], h["note"]) for h in history["node"]["history"]] == [
            (2, "SUBMITTED", None),
            (3, "RETURNED", "Мисал кошуңуз"),
            (4, "SUBMITTED", None),
            (5, "PUBLISHED", None),
        ]
        # and anonymous readers see it, but not its history
        public = await hub.data(HISTORY, {"id": lesson_id})
        assert public["node"]["status"] == "PUBLISHED"
        assert public["node"]["history"] == []

    async def test_a_lesson_without_video_audio_or_text_cannot_be_submitted(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT, body=None)
        await session.commit()
        body = await hub.data(
            SUBMIT, {"input": {"lessonId": gid("Lesson", lesson.id)}}, token=editor(hub)
        )
        assert [e["code"] for e in body["submitLessonForReview"]["userErrors"]] == [
            "LESSON_INCOMPLETE"
        ]

    async def test_a_draft_cannot_be_published_without_review(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        lesson = await make_lesson(session, status=LessonStatus.DRAFT)
        await session.commit()
        body = await hub.data(
            PUBLISH, {"input": {"lessonId": gid("Lesson", lesson.id)}}, token=editor(hub)
        )
        assert [e["code"] for e in body["publishLesson"]["userErrors"]] == ["WRONG_LESSON_STATE"]
        assert await count(session, LessonRevision) == 0

    async def test_two_editors_publishing_the_same_lesson_at_once_publish_it_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson in review
        lesson = await make_lesson(session, status=LessonStatus.IN_REVIEW)
        await session.commit()
        variables = {"input": {"lessonId": gid("Lesson", lesson.id)}}
        # when two editors publish it at the same moment (two transactions)
        first, second = await asyncio.gather(
            hub.data(PUBLISH, variables, token=hub.token(Role.CONTENT_EDITOR, subject="editor:a")),
            hub.data(PUBLISH, variables, token=hub.token(Role.CONTENT_EDITOR, subject="editor:b")),
        )
        # then one publishes it and the other is told it is published already
        outcomes = sorted(
            (
                r["publishLesson"]["userErrors"][0]["code"]
                if r["publishLesson"]["userErrors"]
                else "OK"
            )
            for r in (first, second)
        )
        assert outcomes == ["OK", "WRONG_LESSON_STATE"]
        revisions = list(
            await session.scalars(
                select(LessonRevision.action).where(LessonRevision.lesson_id == lesson.id)
            )
        )
        assert [r.value for r in revisions] == ["published"]

"""A pupil's feed follows their enrollment (issue 16), and offline packs give a school a term's
lessons as files it downloads once, resuming by range requests."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassLesson, LessonStatus, MediaKind
from resolvers import clock
from resolvers import content as content_service
from resolvers.files import file_store
from tests.conftest import Hub
from tests.content.factories import (
    learner,
    make_lesson,
    make_media,
    make_pupil,
    make_question,
    make_unit,
)
from tests.factories import gid, make_person
from tests.lms.arrange import arrange_school, teacher_token

MY_LEARNING = """
query MyLearning($language: Language) {
  myLearning(language: $language) {
    grade language term school { id }
    nextLessons { title subjectCode term }
    progress(first: 10) { totalCount nodes { status lesson { title } } }
  }
}
"""
RECORD = """
mutation($input: ProgressStatementInput!) { recordLessonProgress(input: $input) { userErrors { code } } }
"""
PACK = """
query OfflinePack($grade: Int!, $subject: String!, $language: Language!, $term: Int!, $bandwidth: Bandwidth) {
  offlinePack(grade: $grade, subject: $subject, language: $language, term: $term, bandwidth: $bandwidth) {
    grade subjectCode language term bandwidth version totalBytes linksExpireAt
    lessons { lesson { id title } text quiz { id prompt } }
    files { lessonId kind rendition sha256 sizeBytes mediaType name url }
  }
}
"""


@pytest.fixture
def in_november(monkeypatch: pytest.MonkeyPatch) -> None:
    # The hub's Python clock, which only the resolvers read: the compiled feed takes the term
    # from PostgreSQL's date (tests/content/test_compiled_feed.py holds the two equal), so a
    # test that moves this clock runs on the resolvers' hub.
    monkeypatch.setattr(clock, "today", lambda: date(2026, 11, 10))


class TestMyLearning:
    @pytest.mark.usefixtures("in_november")
    async def test_a_pupils_feed_follows_their_grade_and_their_schools_language(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        hub = resolver_hub
        # given a grade 6 pupil of a Russian-language school
        pupil, school = await make_pupil(session, grade=6, languages=["ru"])
        # and grade 6 lessons: mathematics in terms 1-3, history in term 2, one in Kyrgyz
        lessons = {}
        for term, unit_no in ((1, 1), (2, 2), (3, 3)):
            unit = await make_unit(
                session, grade=6, term=term, unit_no=unit_no, languages=["ky", "ru"]
            )
            lessons[term] = await make_lesson(
                session, unit=unit, language="ru", title=f"math {term}"
            )
            await make_lesson(session, unit=unit, language="ky", title=f"математика {term}")
        history = await make_unit(session, grade=6, term=2, subject_code="world_history", unit_no=1)
        await make_lesson(session, unit=history, language="ru", title="history 2")
        other_grade = await make_unit(session, grade=7, term=2, unit_no=1)
        await make_lesson(session, unit=other_grade, language="ru", title="grade 7")
        await session.commit()
        token = learner(hub, pupil)
        # when they open their feed in November (the second term)
        feed = (await hub.data(MY_LEARNING, token=token))["myLearning"]
        # then it is their grade and language, and per subject the next lesson from term 2 on
        assert (feed["grade"], feed["language"], feed["term"]) == (6, "RU", 2)
        assert feed["school"]["id"] == gid("Institution", school.id)
        assert sorted(n["title"] for n in feed["nextLessons"]) == ["history 2", "math 2"]
        # and once they complete the term-2 mathematics lesson, the next one comes up
        await hub.data(
            RECORD,
            {
                "input": {
                    "statementId": "6f1c2a4e-8b1d-4c55-9a60-1d1f2b3c4d5e",
                    "lessonId": gid("Lesson", lessons[2].id),
                    "verb": "COMPLETED",
                    "occurredAt": "2026-11-09T10:00:00+06:00",
                }
            },
            token=token,
        )
        feed = (await hub.data(MY_LEARNING, token=token))["myLearning"]
        assert sorted(n["title"] for n in feed["nextLessons"]) == ["history 2", "math 3"]
        assert feed["progress"]["totalCount"] == 1
        assert feed["progress"]["nodes"] == [{"status": "COMPLETED", "lesson": {"title": "math 2"}}]
        # and asking for Kyrgyz shows the Kyrgyz lessons
        kyrgyz = (await hub.data(MY_LEARNING, {"language": "KY"}, token=token))["myLearning"]
        assert [n["title"] for n in kyrgyz["nextLessons"]] == ["математика 2"]

    async def test_a_person_without_a_school_gets_an_empty_feed(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        person = await make_person(session)
        await session.commit()
        feed = (await hub.data(MY_LEARNING, token=learner(hub, person)))["myLearning"]
        assert (feed["grade"], feed["school"], feed["nextLessons"]) == (None, None, [])

    async def test_anonymous_callers_have_no_feed(self, hub: Hub) -> None:
        body = await hub.gql(MY_LEARNING)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


RECORD_CLASS_LESSON = """
mutation($input: RecordClassLessonInput!) {
  recordClassLesson(input: $input) {
    lesson { id topic curriculumUnit { id topicTitle } }
    userErrors { field code }
  }
}
"""


class TestTheFeedFollowsTheClass:
    """The unit a class is on is the curriculum topic its teacher names when recording a
    lesson (issue 16; domain.md S4: lesson topics entered once, read by every view)."""

    async def test_a_topic_the_teacher_records_moves_the_pupils_next_lesson(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a class (last school year's, still open) with its mathematics teacher's slot,
        # and a mathematics unit with a Kyrgyz lesson in each term
        s = await arrange_school(session)
        units = {}
        for term in (1, 2, 3, 4):
            units[term] = await make_unit(session, grade=5, term=term, unit_no=term)
            await make_lesson(session, unit=units[term], title=f"math {term}")
        other_subject = await make_unit(session, grade=5, subject_code="world_history", unit_no=1)
        other_grade = await make_unit(session, grade=6, unit_no=1)
        await session.commit()
        pupil = learner(hub, s.pupils[0])
        term = content_service.current_term(clock.today())
        taught = 4 if term != 4 else 1
        before = (await hub.data(MY_LEARNING, token=pupil))["myLearning"]
        assert [n["title"] for n in before["nextLessons"]] == [f"math {term}"]
        # when the teacher records a lesson naming another term's unit (no topic text)
        lesson = {"slotId": gid("TimetableSlot", s.slot.id), "date": s.lesson_day().isoformat()}
        unit_id = gid("CurriculumUnit", units[taught].id)
        data = await hub.data(
            RECORD_CLASS_LESSON,
            {"input": {**lesson, "curriculumUnitId": unit_id}},
            token=teacher_token(hub, s),
        )
        recorded = data["recordClassLesson"]
        # then the lesson names it, its title the topic, and the pupil's feed follows the class
        assert recorded["userErrors"] == []
        assert recorded["lesson"]["curriculumUnit"] == {
            "id": unit_id,
            "topicTitle": units[taught].topic_title,
        }
        assert recorded["lesson"]["topic"] == units[taught].topic_title
        after = (await hub.data(MY_LEARNING, token=pupil))["myLearning"]
        assert [n["title"] for n in after["nextLessons"]] == [f"math {taught}"]
        # and a topic of another subject or grade is refused, the lesson left as it was
        for wrong in (other_subject, other_grade):
            data = await hub.data(
                RECORD_CLASS_LESSON,
                {"input": {**lesson, "curriculumUnitId": gid("CurriculumUnit", wrong.id)}},
                token=teacher_token(hub, s),
            )
            assert data["recordClassLesson"]["userErrors"] == [
                {"field": "curriculumUnitId", "code": "WRONG_CURRICULUM_UNIT"}
            ]
        kept = await session.scalar(select(ClassLesson.curriculum_unit_id))
        assert kept == units[taught].id
        # and recording the lesson again without a topic clears it: the term stands again
        await hub.data(RECORD_CLASS_LESSON, {"input": lesson}, token=teacher_token(hub, s))
        again = (await hub.data(MY_LEARNING, token=pupil))["myLearning"]
        assert [n["title"] for n in again["nextLessons"]] == [f"math {term}"]


async def arrange_pack(session: AsyncSession) -> dict[str, Any]:
    """Two published grade 5 mathematics lessons of term 1 in Kyrgyz, each with three video
    renditions, audio, subtitles; one with a quiz; and lessons the pack must leave out."""
    unit = await make_unit(session, grade=5, term=1, unit_no=1)
    first = await make_lesson(session, unit=unit, title="Биринчи", position=1)
    second = await make_lesson(session, unit=unit, title="Экинчи", position=2)
    for lesson in (first, second):
        for rendition, size in (("240p", 20_000_000), ("480p", 60_000_000), ("720p", 150_000_000)):
            await make_media(session, lesson=lesson, rendition=rendition, size_bytes=size)
        await make_media(
            session,
            lesson=lesson,
            kind=MediaKind.AUDIO,
            rendition="audio",
            size_bytes=5_000_000,
            media_type="audio/mpeg",
        )
        await make_media(
            session,
            lesson=lesson,
            kind=MediaKind.SUBTITLES,
            rendition="ky",
            size_bytes=4_000,
            media_type="text/vtt",
        )
    await make_question(session, lesson=first)
    await make_lesson(session, unit=unit, title="Долбоор", position=3, status=LessonStatus.DRAFT)
    await make_lesson(session, unit=unit, title="Орусча", language="ru")
    later = await make_unit(session, grade=5, term=2, unit_no=2)
    await make_lesson(session, unit=later, title="Экинчи чейрек")
    await session.commit()
    return {"grade": 5, "subject": "mathematics", "language": "KY", "term": 1}


class TestOfflinePack:
    @pytest.mark.parametrize(
        ("bandwidth", "rendition", "per_lesson"),
        [
            ("LOW", "240p", 20_004_000),
            ("MEDIUM", "480p", 60_004_000),
            ("HIGH", "720p", 150_004_000),
            ("AUDIO_ONLY", "audio", 5_004_000),
        ],
    )
    async def test_a_pack_holds_the_terms_lessons_with_the_renditions_for_the_line(
        self, hub: Hub, session: AsyncSession, bandwidth: str, rendition: str, per_lesson: int
    ) -> None:
        variables = await arrange_pack(session)
        pack = (await hub.data(PACK, {**variables, "bandwidth": bandwidth}))["offlinePack"]
        assert [entry["lesson"]["title"] for entry in pack["lessons"]] == ["Биринчи", "Экинчи"]
        assert [len(entry["quiz"]) for entry in pack["lessons"]] == [1, 0]
        chosen = {(f["kind"], f["rendition"]) for f in pack["files"]}
        main_kind = "AUDIO" if rendition == "audio" else "VIDEO"
        assert chosen == {(main_kind, rendition), ("SUBTITLES", "ky")}
        assert len(pack["files"]) == 4
        assert pack["totalBytes"] == 2 * per_lesson
        assert all(len(f["sha256"]) == 64 for f in pack["files"])

    async def test_the_version_changes_when_a_lesson_of_the_pack_does(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        variables = await arrange_pack(session)
        before = (await hub.data(PACK, variables))["offlinePack"]["version"]
        assert (await hub.data(PACK, variables))["offlinePack"]["version"] == before
        unit = await make_unit(session, grade=5, term=1, unit_no=9)
        await make_lesson(session, unit=unit, title="Жаңы")
        await session.commit()
        assert (await hub.data(PACK, variables))["offlinePack"]["version"] != before

    async def test_a_packs_file_downloads_in_pieces_over_a_broken_line(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson whose 240p rendition is in the file store
        unit = await make_unit(session, grade=5, term=1, unit_no=1)
        lesson = await make_lesson(session, unit=unit)
        content = bytes(range(256)) * 4000
        media = await make_media(session, lesson=lesson, size_bytes=len(content))
        await session.commit()
        sha = hashlib.sha256(content).hexdigest()
        store = file_store(hub.settings)
        spool = hub.settings.data_dir / "spool-test"
        spool.mkdir(exist_ok=True)
        source = spool / "video.mp4"
        source.write_bytes(content)
        await store.put(sha, source, "video/mp4")
        from sqlalchemy import text

        await session.execute(
            text(
                "INSERT INTO file_object (sha256, size_bytes, media_type) VALUES (:s, :n, 'video/mp4')"
            ),
            {"s": sha, "n": len(content)},
        )
        await session.execute(
            text("UPDATE lesson_media SET sha256 = :s WHERE id = :id"), {"s": sha, "id": media.id}
        )
        await session.commit()
        pack = await hub.data(
            PACK, {"grade": 5, "subject": "mathematics", "language": "KY", "term": 1}
        )
        (entry,) = pack["offlinePack"]["files"]
        # when a school fetches it in three pieces, as a line that keeps breaking would
        received = io.BytesIO()
        for start, end in ((0, 299_999), (300_000, 699_999), (700_000, None)):
            wanted = f"bytes={start}-{'' if end is None else end}"
            response = await hub.client.get(entry["url"], headers={"Range": wanted})
            assert response.status_code == httpx.codes.PARTIAL_CONTENT
            received.write(response.content)
        # then the pieces make the file the manifest names
        assert hashlib.sha256(received.getvalue()).hexdigest() == entry["sha256"] == sha
        assert entry["sizeBytes"] == len(content)

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"subject": "ASTROLOGY"}, "UNKNOWN_SUBJECT"),
            ({"grade": 0}, "INVALID_GRADE"),
            ({"term": 9}, "INVALID_TERM"),
            ({"language": "EN"}, "LANGUAGE_NOT_OFFERED"),
        ],
    )
    async def test_bad_arguments_are_typed_errors(
        self, hub: Hub, change: dict[str, Any], code: str
    ) -> None:
        variables = {"grade": 5, "subject": "mathematics", "language": "KY", "term": 1, **change}
        body = await hub.gql(PACK, variables)
        assert body["errors"][0]["extensions"]["code"] == code

"""Learning content's pages on the compiled path (issue 21): a lesson's page
(portals/sanarip-sabak/Lesson: ``node(id:)`` of a Lesson with its text, subject, topic, media
with signed links, TV slots, quiz, history and the caller's progress), the curriculum
(CurriculumUnits) and an editor's review list (LessonsForReview) answer in one statement, byte
for byte as the resolvers answer them, for every kind of caller: published lessons for
everyone, every state for lesson editors; history for editors only; progress the caller's
own. Partners' keys, shapes the module does not know and bad ids take the resolvers."""

from __future__ import annotations

import types
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    LessonAction,
    LessonBroadcast,
    LessonProgress,
    LessonRevision,
    LessonStatus,
    MediaKind,
    ProgressStatus,
    QuestionKind,
)
from resolvers.access import Role
from resolvers.access.keys import load_pepper
from resolvers.files import links
from tests.content.factories import make_lesson, make_media, make_pupil, make_question, make_unit
from tests.factories import gid, make_api_key, make_institution, make_person
from tests.test_compiled import Pair

PORTAL = Path(__file__).resolve().parents[2] / "portals/sanarip-sabak"
LESSON = (PORTAL / "Lesson.graphql").read_text()
UNITS = (PORTAL / "CurriculumUnits.graphql").read_text()
REVIEW = (PORTAL / "LessonsForReview.graphql").read_text()
WARM_UP = '{ lessons(first: 1, filter: {subject: "mathematics"}) { totalCount } }'

LESSON_EVERYTHING = """
query Everything($id: ID!, $kind: MediaKind) {
  node(id: $id) {
    __typename id
    ... on Lesson {
      title summary text grade subjectCode language term durationSeconds publishedAt status
      version standard unitNo topicNo position
      subject { __typename code nameKy nameRu nameEn }
      unit {
        __typename id standard subjectCode grade term unitNo unitTitle topicNo topicTitle
        outcomes hours languages subject { code }
      }
      media(kind: $kind) {
        __typename kind rendition sizeBytes mediaType height bitrateKbps title sha256 url
      }
      all: media { kind url }
      broadcasts { __typename channel airsAt }
      quiz { __typename id position kind prompt choices points }
      history { __typename version action status actor note at }
      myProgress {
        __typename status attempts bestScore secondsSpent startedAt completedAt updatedAt
      }
    }
  }
}
"""
LIST_EVERYTHING = """
query List($status: LessonStatus, $order: LessonOrder = NEWEST, $after: String) {
  lessons(filter: {status: $status}, orderBy: $order, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id title publishedAt text media { kind rendition sizeBytes url } quiz { prompt choices }
      broadcasts { airsAt } unit { unitTitle hours } history { version at } myProgress { status }
    }
  }
}
"""
# Shapes this module does not know: the topic's lessons, a progress's lesson.
UNKNOWN = [
    "query($id: ID!) { node(id: $id) { ... on Lesson { unit { lessons { id } } } } }",
    "query($id: ID!) { node(id: $id) { ... on Lesson { myProgress { lesson { id } } } } }",
]
ODD = 'Сабак "1" — \\ «бөлчөк»\n\t✓ </script> \u2028 😀'
SIZES = [10_000_000, 5_000_000_000, 2**53 + 1, 10**15 + 3, 10**16 + 2, 2**62 + 12345]


@pytest.fixture(autouse=True)
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    """Links expire a while after they are made: both hubs make them in the same second."""
    now = datetime.now(UTC).timestamp()
    monkeypatch.setattr(links, "time", types.SimpleNamespace(time=lambda: now))


async def _arrange(session: AsyncSession, settings: Any) -> dict[str, Any]:
    unit = await make_unit(
        session,
        grade=6,
        unit_title=ODD,
        topic_title="Кошуу",
        languages=["ky", "ru", "uz"],
    )
    unit.outcomes = [ODD, "", "Экинчи"]
    unit.hours = Decimal("12.5")
    other = await make_unit(session, grade=6, term=2, languages=["ru"])
    other.outcomes = []
    await make_unit(session, grade=7, subject_code="physics")
    published = await make_lesson(session, unit=unit, title=ODD, body=ODD, summary=None)
    for rendition in ("480p", "240p", "720p"):
        await make_media(session, lesson=published, rendition=rendition)
    await make_media(
        session, lesson=published, kind=MediaKind.SUBTITLES, rendition="ky", media_type="text/vtt"
    )
    for i, size in enumerate(SIZES):
        await make_media(
            session,
            lesson=published,
            kind=MediaKind.ATTACHMENT,
            rendition=f'файл "{i}" \\ 😀',
            size_bytes=size,
            media_type="application/pdf",
        )
    await make_media(session, lesson=published, kind=MediaKind.AUDIO, rendition="audio")
    await make_question(session, lesson=published, position=2, choices=[ODD, "3/4"])
    await make_question(
        session, lesson=published, position=1, kind=QuestionKind.NUMERIC, choices=[]
    )
    when = datetime(2026, 9, 1, 8, 30, 0, 123456, tzinfo=UTC)
    session.add(LessonBroadcast(lesson_id=published.id, channel="ЭлТР", airs_at=when))
    session.add(
        LessonBroadcast(lesson_id=published.id, channel=ODD, airs_at=when - timedelta(days=1))
    )
    for version, action in enumerate((LessonAction.CREATED, LessonAction.PUBLISHED), start=1):
        session.add(
            LessonRevision(
                lesson_id=published.id,
                version=version,
                action=action,
                status=LessonStatus.PUBLISHED,
                actor="content_editor:test",
                note=ODD if version == 2 else None,
                at=when + timedelta(seconds=version),
            )
        )
    draft = await make_lesson(
        session, unit=other, status=LessonStatus.DRAFT, body=None, duration_seconds=None
    )
    in_review = []
    for n in range(3):
        lesson = await make_lesson(
            session, unit=other, position=n + 2, status=LessonStatus.IN_REVIEW, title=f"R{n}"
        )
        await make_media(session, lesson=lesson, rendition="360p")
        session.add(
            LessonRevision(
                lesson_id=lesson.id,
                version=1,
                action=LessonAction.SUBMITTED,
                status=LessonStatus.IN_REVIEW,
                actor="content_editor:test",
                at=when,
            )
        )
        in_review.append(lesson)
    pupil, school = await make_pupil(session, grade=6)
    session.add(
        LessonProgress(
            learner_id=pupil.id,
            lesson_id=published.id,
            status=ProgressStatus.COMPLETED,
            attempts=3,
            seconds_spent=1234,
            best_score=Decimal("87.50"),
            started_at=when,
            completed_at=when + timedelta(minutes=20),
        )
    )
    other_pupil, _ = await make_pupil(session, grade=6, school=school)
    teacher = await make_person(session)
    university = await make_institution(session)
    _, partner = await make_api_key(
        session,
        pepper=load_pepper(settings),
        allowed_fields=["Query.node", "Query.lessons", "Query.curriculumUnits", "Lesson.*"],
    )
    await session.commit()
    return {
        "published": gid("Lesson", published.id),
        "draft": gid("Lesson", draft.id),
        "review": gid("Lesson", in_review[0].id),
        "pupil": pupil,
        "other_pupil": other_pupil,
        "teacher": teacher,
        "school": school,
        "university": university,
        "partner": partner,
    }


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    school = arranged["school"].id
    return {
        "anonymous": {},
        "pupil": bearer(pair.token(Role.PUPIL, person_id=arranged["pupil"].id)),
        "another pupil": bearer(pair.token(Role.PUPIL, person_id=arranged["other_pupil"].id)),
        "teacher": bearer(
            pair.token(
                Role.TEACHER, scopes=[f"institution:{school}"], person_id=arranged["teacher"].id
            )
        ),
        "content editor": bearer(pair.token(Role.CONTENT_EDITOR)),
        "scoped content editor": bearer(
            pair.token(Role.CONTENT_EDITOR, scopes=[f"institution:{arranged['university'].id}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
    }


EDITORS = ("content editor", "ministry")


async def test_a_lessons_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a published lesson with every kind of file, its quiz, TV slots, history and a
    # pupil's progress; a draft and lessons in review
    arranged = await _arrange(session, pair.settings)
    await pair.both(WARM_UP, {}, {})
    requests: list[tuple[str, dict[str, Any]]] = [
        (LESSON, {"id": arranged["published"]}),
        (LESSON, {"id": arranged["draft"]}),
        (LESSON, {"id": arranged["review"]}),
        (LESSON, {"id": gid("Lesson", 2_000_000_000)}),
        (LESSON_EVERYTHING, {"id": arranged["published"]}),
        (LESSON_EVERYTHING, {"id": arranged["published"], "kind": "ATTACHMENT"}),
        (LESSON_EVERYTHING, {"id": arranged["draft"]}),
        ("query($id: ID!) { node(id: $id) { id __typename } }", {"id": arranged["published"]}),
    ]
    for caller, headers in _callers(pair, arranged).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, variables, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, variables, pair.counter.statements)
        # and a draft or a lesson in review is read by lesson editors only, history too
        page, _, _ = await pair.both(LESSON_EVERYTHING, {"id": arranged["draft"]}, headers)
        assert (page["data"]["node"] is not None) == (caller in EDITORS), caller
        page, _, _ = await pair.both(LESSON_EVERYTHING, {"id": arranged["published"]}, headers)
        lesson = page["data"]["node"]
        assert (lesson["history"] != []) == (caller in EDITORS), caller
        assert (lesson["myProgress"] is not None) == (caller == "pupil"), caller
    # and the links are signed by the hub, sizes written as floats the way orjson writes them
    ministry = _callers(pair, arranged)["ministry"]
    page, _, _ = await pair.both(LESSON, {"id": arranged["published"]}, ministry)
    media = page["data"]["node"]["media"]
    assert all(m["url"].startswith(f"/files/{m['sha256']}?") for m in media)
    assert sorted(m["sizeBytes"] for m in media if m["kind"] == "ATTACHMENT") == [
        float(s) for s in sorted(SIZES)
    ]


async def test_bad_ids_partners_and_unknown_shapes_take_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session, pair.settings)
    await pair.both(WARM_UP, {}, {})
    pupil = _callers(pair, arranged)["pupil"]
    for bad in ("not-an-id", gid("NoSuchType", 1), gid("Lesson", 2**40)):
        fast, slow, _ = await pair.both(LESSON, {"id": bad}, pupil)
        assert fast == slow
    for document in UNKNOWN:
        fast, slow, statements = await pair.both(document, {"id": arranged["published"]}, pupil)
        assert fast == slow
        assert statements > 1, document
    partner = {"X-Api-Key": arranged["partner"]}
    for document, variables in [
        (LESSON, {"id": arranged["published"]}),
        (UNITS, {"grade": 6}),
        (REVIEW, {}),
    ]:
        fast, slow, statements = await pair.both(document, variables, partner)
        assert fast == slow


async def test_the_curriculum_is_the_resolvers_page_after_page(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session, pair.settings)
    await pair.both(WARM_UP, {}, {})
    for caller, headers in _callers(pair, arranged).items():
        for variables in (
            {"grade": 6, "subject": "mathematics", "first": 100},
            {"grade": 6, "subject": "MATHEMATICS", "language": "RU"},
            {"language": "UZ"},
            {},
        ):
            after = None
            for _ in range(10):
                fast, slow, statements = await pair.both(
                    UNITS, {**variables, "first": 1, "after": after}, headers
                )
                assert fast == slow, (caller, variables)
                assert "errors" not in fast, fast
                assert statements == 1, (caller, variables, pair.counter.statements)
                info = fast["data"]["curriculumUnits"]["pageInfo"]
                if not info["hasNextPage"]:
                    break
                after = info["endCursor"]
            fast, _, _ = await pair.both(UNITS, variables, headers)
            assert fast["data"]["curriculumUnits"]["totalCount"] > 0, variables
    # bad arguments get the resolvers' errors
    bad: list[dict[str, Any]] = [{"subject": "alchemy"}, {"grade": 42}, {"first": 500}]
    for wrong in bad:
        fast, slow, _ = await pair.both(UNITS, wrong, {})
        assert fast == slow
        assert fast["errors"], wrong


async def test_the_review_list_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session, pair.settings)
    await pair.both(WARM_UP, {}, {})
    for caller, headers in _callers(pair, arranged).items():
        for document, variables in (
            (REVIEW, {"first": 2}),
            (REVIEW, {}),
            (LIST_EVERYTHING, {}),
            # (NEWEST pages past a lesson without ``publishedAt`` are refused by both paths)
            (LIST_EVERYTHING, {"status": "IN_REVIEW", "order": "ID"}),
            (LIST_EVERYTHING, {"status": "DRAFT", "order": "CURRICULUM"}),
        ):
            after = None
            for _ in range(5):
                fast, slow, statements = await pair.both(
                    document, {**variables, "after": after}, headers
                )
                assert fast == slow, (caller, variables)
                assert "errors" not in fast, fast
                assert statements == 1, (caller, variables, pair.counter.statements)
                page = fast["data"]["lessons"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                after = page["pageInfo"]["endCursor"]
        fast, _, _ = await pair.both(REVIEW, {}, headers)
        # editors see the three in review; everyone else none (published lessons only)
        count = fast["data"]["lessons"]["totalCount"]
        assert count == (3 if caller in EDITORS else 0), caller

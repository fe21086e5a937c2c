"""The anonymous lesson list asked again is answered from the worker's kept answers before
GraphQL runs (schema/http/kept.py; issue 16: the most read page of the country in a
school-closure week): one statement (the lesson list's version), the same answer for every
caller who is not a lesson editor (S5: published lessons are public data), never after a write
to the lessons or the subject register, never for an editor (who reads every state) and never
for fields that depend on the caller or on other tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import LessonStatus
from resolvers.access import Role
from resolvers.relay import encode_id
from tests.conftest import Hub
from tests.content.factories import editor, make_lesson, make_unit
from tests.factories import make_person

PORTAL_LESSONS = (
    Path(__file__).resolve().parents[2] / "portals" / "sanarip-sabak" / "Lessons.graphql"
).read_text()
WITH_MEDIA = """
query($grade: Int) {
  lessons(filter: {grade: $grade}, first: 5) { nodes { title media { kind } } }
}"""
DRAFTS = """
query($grade: Int) {
  lessons(filter: {grade: $grade, status: DRAFT}, first: 5) { nodes { title status } }
}"""
PUBLISH = """
mutation($input: LessonStepInput!) {
  publishLesson(input: $input) { lesson { status } userErrors { code } }
}"""
SUBMIT = """
mutation($input: LessonStepInput!) {
  submitLessonForReview(input: $input) { lesson { status } userErrors { code } }
}"""
PAGE = {"grade": 5, "subject": "mathematics", "language": "KY"}


async def lessons(
    hub: Hub,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    query: str = PORTAL_LESSONS,
) -> tuple[dict[str, Any], int]:
    hub.counter.reset()
    body = await hub.gql(query, variables if variables is not None else PAGE, token=token)
    assert "errors" not in body, body
    return body, hub.counter.count


def titles(body: dict[str, Any]) -> list[str]:
    return [n["title"] for n in body["data"]["lessons"]["nodes"]]


async def grade5(session: AsyncSession) -> int:
    """Two published lessons of grade 5 mathematics in Kyrgyz and a draft; the draft's id."""
    unit = await make_unit(session, grade=5, unit_no=1)
    await make_lesson(session, unit=unit, title="Бөлчөктөр 1", position=1)
    await make_lesson(session, unit=unit, title="Бөлчөктөр 2", position=2)
    draft = await make_lesson(
        session, unit=unit, title="Бөлчөктөр 3", position=3, status=LessonStatus.DRAFT
    )
    await session.commit()
    return draft.id


class TestKeptLessonLists:
    async def test_a_repeated_lesson_list_is_answered_before_graphql_runs(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a grade's lesson list read once by an anonymous reader
        await grade5(session)
        first, first_statements = await lessons(hub)
        # when another anonymous reader opens the same page
        again, again_statements = await lessons(hub)
        # then the first read the version and ran the list; the second only read the version,
        # and got the same data with its own cost report, its budget charged
        assert first_statements > 1
        assert again_statements == 1
        assert again["data"] == first["data"]
        assert titles(first) == ["Бөлчөктөр 1", "Бөлчөктөр 2"]
        cost, kept_cost = first["extensions"]["cost"], again["extensions"]["cost"]
        assert kept_cost["requested"] == cost["requested"]
        assert kept_cost["remaining"] == cost["remaining"] - cost["requested"]

    async def test_publishing_a_lesson_makes_the_next_list_fresh(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a kept page, and a draft of that page in review
        draft = await grade5(session)
        await lessons(hub)
        _, kept = await lessons(hub)
        assert kept == 1, hub.counter.statements
        token = editor(hub)
        lesson_id = encode_id("Lesson", draft)
        await hub.data(SUBMIT, {"input": {"lessonId": lesson_id}}, token=token)
        # when the content team publishes it (the trigger changes the version)
        published = await hub.data(PUBLISH, {"input": {"lessonId": lesson_id}}, token=token)
        assert published["publishLesson"]["userErrors"] == []
        # then the same page runs again and lists it, and is kept anew
        after, statements = await lessons(hub)
        assert statements > 1
        assert titles(after) == ["Бөлчөктөр 1", "Бөлчөктөр 2", "Бөлчөктөр 3"]
        assert after["data"]["lessons"]["totalCount"] == 3
        _, again = await lessons(hub)
        assert again == 1

    async def test_renaming_a_subject_makes_the_next_list_fresh(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a kept page
        await grade5(session)
        before, _ = await lessons(hub)
        # when the subject register's Kyrgyz name changes (the ministry's register)
        await session.execute(
            text("UPDATE subject SET name_ky = 'Математика (жаңы)' WHERE code = 'mathematics'")
        )
        await session.commit()
        # then the page runs again and shows the new name
        after, statements = await lessons(hub)
        assert statements > 1
        assert {n["subject"]["nameKy"] for n in after["data"]["lessons"]["nodes"]} == {
            "Математика (жаңы)"
        }
        assert before["data"] != after["data"]

    async def test_a_pupil_shares_the_public_answer(self, hub: Hub, session: AsyncSession) -> None:
        # given a page kept for an anonymous reader
        await grade5(session)
        anonymous, _ = await lessons(hub)
        person = await make_person(session)
        await session.commit()
        pupil = hub.token(Role.PUPIL, person_id=person.id)
        # when a signed-in pupil opens it
        theirs, statements = await lessons(hub, token=pupil)
        # then the pupil gets the kept public answer (published lessons read alike by every
        # caller who is not an editor)
        assert statements == 1
        assert theirs["data"] == anonymous["data"]

    async def test_an_editor_always_runs_the_list_and_sees_every_state(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the drafts of a grade asked for by an anonymous reader, twice (none: the public
        # reads published lessons whatever the filter asks; the answer is kept)
        await grade5(session)
        public, _ = await lessons(hub, {"grade": 5}, query=DRAFTS)
        _, kept = await lessons(hub, {"grade": 5}, query=DRAFTS)
        assert titles(public) == []
        assert kept == 1
        token = editor(hub)
        # when the national content team asks the same, twice
        for _ in range(2):
            body, _ = await lessons(hub, {"grade": 5}, query=DRAFTS, token=token)
            # then it runs the list each time without looking for a kept answer, and sees the
            # draft (an editor reads every state: never a public answer, never kept)
            statements = hub.counter.statements or []
            assert statements
            assert not any("lesson_list_version" in s for s in statements)
            assert titles(body) == ["Бөлчөктөр 3"]
        # and the public's answer is still the public's
        again, _ = await lessons(hub, {"grade": 5}, query=DRAFTS)
        assert titles(again) == []

    async def test_fields_read_from_other_tables_are_never_kept(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a list asking for each lesson's media (another table, not in the version)
        await grade5(session)
        await lessons(hub, {"grade": 5}, query=WITH_MEDIA)
        # when it is sent again
        await lessons(hub, {"grade": 5}, query=WITH_MEDIA)
        # then it runs again, media included (one statement on the compiled path), without
        # looking for a kept answer
        sent = hub.counter.statements or []
        assert any("lesson_media" in s for s in sent), sent
        assert not any("lesson_list_version" in s for s in sent), sent

    async def test_another_page_is_not_the_kept_one(self, hub: Hub, session: AsyncSession) -> None:
        # given a kept page of Kyrgyz lessons
        await grade5(session)
        await lessons(hub)
        # when the reader asks for the Russian ones
        other, statements = await lessons(hub, {**PAGE, "language": "RU"})
        # then that page runs and answers its own lessons (none)
        assert statements > 1
        assert titles(other) == []

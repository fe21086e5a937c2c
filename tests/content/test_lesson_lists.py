"""The portals are views of the same lessons (issue 16; domain.md S5): anonymous readers browse
published lessons by grade, subject, language and term, the grade-band portals are the same
list with a grade range, and search finds a lesson in Kyrgyz or Russian, in Cyrillic or Latin
letters, typos forgiven."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import LessonStatus
from resolvers.content import fold
from tests.conftest import Hub
from tests.content.factories import editor, make_lesson, make_unit

LESSONS = """
query Lessons($filter: LessonFilterInput, $first: Int = 20, $after: String, $orderBy: LessonOrder = CURRICULUM) {
  lessons(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id title grade subjectCode language term status subject { nameKy } }
  }
}
"""
SEARCH = """
query LessonSearch($query: String!, $filter: LessonFilterInput) {
  lessonSearch(query: $query, filter: $filter) { rank lesson { id title language } }
}
"""


async def titles(hub: Hub, flt: dict[str, Any], token: str | None = None, **more: Any) -> list[str]:
    body = await hub.data(LESSONS, {"filter": flt, **more}, token=token)
    return [n["title"] for n in body["lessons"]["nodes"]]


class TestBrowsing:
    async def test_anonymous_readers_browse_published_lessons_by_grade_subject_language_and_term(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given lessons of grades 3 and 5, two subjects, two languages, and a draft
        unit5 = await make_unit(session, grade=5, term=1, unit_no=1)
        await make_lesson(session, unit=unit5, language="ky", title="5 математика ky")
        await make_lesson(session, unit=unit5, language="ru", title="5 математика ru")
        later = await make_unit(session, grade=5, term=2, unit_no=2)
        await make_lesson(session, unit=later, language="ky", title="5 математика ky term 2")
        history = await make_unit(session, grade=5, subject_code="history_kyrgyzstan", unit_no=1)
        await make_lesson(session, unit=history, title="5 тарых")
        grade3 = await make_unit(session, grade=3, unit_no=1)
        await make_lesson(session, unit=grade3, title="3 математика")
        draft = await make_unit(session, grade=5, unit_no=3)
        await make_lesson(session, unit=draft, title="5 draft", status=LessonStatus.DRAFT)
        await session.commit()
        # then each filter narrows the same published list, in curriculum order
        assert await titles(hub, {"grade": 5, "subject": "mathematics", "language": "KY"}) == [
            "5 математика ky",
            "5 математика ky term 2",
        ]
        assert await titles(
            hub, {"grade": 5, "subject": "mathematics", "language": "KY", "term": 2}
        ) == ["5 математика ky term 2"]
        assert await titles(hub, {"grade": 5, "language": "RU"}) == ["5 математика ru"]
        assert "5 draft" not in await titles(hub, {"grade": 5})
        # and editors see drafts when they ask for them
        assert await titles(hub, {"status": "DRAFT"}, token=editor(hub)) == ["5 draft"]
        assert await titles(hub, {"status": "DRAFT"}) == []

    async def test_the_grade_band_portals_are_the_same_list_with_a_grade_range(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        for grade in (1, 4, 5, 9, 10):
            unit = await make_unit(session, grade=grade, unit_no=1)
            await make_lesson(session, unit=unit, title=f"grade {grade}")
        await session.commit()
        assert await titles(hub, {"gradeMin": 1, "gradeMax": 4}) == ["grade 1", "grade 4"]
        assert await titles(hub, {"gradeMin": 5, "gradeMax": 9}) == ["grade 5", "grade 9"]
        # a grade outside the portal's band finds nothing there
        assert await titles(hub, {"gradeMin": 1, "gradeMax": 4, "grade": 9}) == []

    async def test_pages_follow_one_another_by_cursor(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        unit = await make_unit(session, grade=7, unit_no=1)
        for position in range(1, 6):
            await make_lesson(session, unit=unit, title=f"lesson {position}", position=position)
        await session.commit()
        first = await hub.data(LESSONS, {"filter": {"grade": 7}, "first": 2})
        page = first["lessons"]
        assert page["totalCount"] == 5
        assert [n["title"] for n in page["nodes"]] == ["lesson 1", "lesson 2"]
        second = await hub.data(
            LESSONS, {"filter": {"grade": 7}, "first": 2, "after": page["pageInfo"]["endCursor"]}
        )
        assert [n["title"] for n in second["lessons"]["nodes"]] == ["lesson 3", "lesson 4"]

    @pytest.mark.parametrize(
        ("flt", "code"),
        [
            ({"subject": "ASTROLOGY"}, "UNKNOWN_SUBJECT"),
            ({"grade": 13}, "INVALID_GRADE"),
            ({"gradeMin": 0}, "INVALID_GRADE"),
            ({"term": 5}, "INVALID_TERM"),
            ({"language": "EN"}, "LANGUAGE_NOT_OFFERED"),
        ],
    )
    async def test_an_unknown_subject_or_grade_is_a_typed_error(
        self, hub: Hub, flt: dict[str, Any], code: str
    ) -> None:
        body = await hub.gql(LESSONS, {"filter": flt})
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == code


class TestSearch:
    @pytest.fixture
    async def lessons(self, session: AsyncSession) -> None:
        unit = await make_unit(session, grade=5, unit_no=1)
        await make_lesson(
            session,
            unit=unit,
            language="ky",
            title="Бөлчөктөрдү кошуу",
            summary="Окшош бөлүмдүү бөлчөктөр",
        )
        await make_lesson(
            session,
            unit=unit,
            language="ru",
            title="Сложение дробей",
            summary="Дроби с одинаковыми знаменателями",
        )
        history = await make_unit(session, subject_code="history_kyrgyzstan", grade=6, unit_no=1)
        await make_lesson(
            session,
            unit=history,
            language="ky",
            title="Кыргыз каганаты",
            summary="Енисей кыргыздары",
        )
        await make_lesson(
            session,
            unit=history,
            language="ky",
            title="Жашыруун",
            summary="Бул сабак жарыяланган эмес",
            body=None,
            position=2,
            status=LessonStatus.DRAFT,
        )
        await session.commit()

    async def found(self, hub: Hub, query: str, flt: dict[str, Any] | None = None) -> list[str]:
        body = await hub.data(SEARCH, {"query": query, "filter": flt})
        return [h["lesson"]["title"] for h in body["lessonSearch"]]

    @pytest.mark.usefixtures("lessons")
    async def test_kyrgyz_is_found_in_cyrillic_and_in_latin_letters(self, hub: Hub) -> None:
        assert await self.found(hub, "бөлчөк") == ["Бөлчөктөрдү кошуу"]
        assert await self.found(hub, "bölchök") == ["Бөлчөктөрдү кошуу"]
        assert await self.found(hub, "bolchoktor") == ["Бөлчөктөрдү кошуу"]
        assert await self.found(hub, "kyrgyz kaganaty") == ["Кыргыз каганаты"]

    @pytest.mark.usefixtures("lessons")
    async def test_a_word_with_kyrgyz_suffixes_finds_its_root(self, hub: Hub) -> None:
        # "бөлчөктөрдүн" (of the fractions): no stemmer, the word's first letters find the root
        assert await self.found(hub, "бөлчөктөрдүн") == ["Бөлчөктөрдү кошуу"]

    @pytest.mark.usefixtures("lessons")
    async def test_russian_is_found_by_its_stems(self, hub: Hub) -> None:
        assert await self.found(hub, "дробь") == ["Сложение дробей"]
        assert await self.found(hub, "знаменатель") == ["Сложение дробей"]

    @pytest.mark.usefixtures("lessons")
    async def test_typos_are_forgiven(self, hub: Hub) -> None:
        assert await self.found(hub, "каганатыы") == ["Кыргыз каганаты"]
        assert await self.found(hub, "дробеи") == ["Сложение дробей"]

    @pytest.mark.usefixtures("lessons")
    async def test_drafts_are_never_found_and_filters_narrow_the_search(self, hub: Hub) -> None:
        assert await self.found(hub, "жарыяланган") == []
        assert await self.found(hub, "бөлчөк", {"language": "RU"}) == []
        assert await self.found(hub, "кыргыз", {"gradeMin": 1, "gradeMax": 4}) == []

    async def test_a_query_of_one_letter_is_refused(self, hub: Hub) -> None:
        body = await hub.gql(SEARCH, {"query": " ! a "})
        assert body["errors"][0]["extensions"]["code"] == "SEARCH_QUERY_TOO_SHORT"


async def test_the_python_fold_is_the_databases(session: AsyncSession) -> None:
    from sqlalchemy import func, select

    samples = ["Бөлчөктөрдү КОШУУ", "Жашыл Ңа Щука", "bölchök ÜY", "Zhashyl khan", "Съезд, Чүй-2!"]
    for text in samples:
        assert await session.scalar(select(func.content_fold(text))) == fold(text)

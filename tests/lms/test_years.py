"""The school year (S3): the ministry creates it with four terms and holidays between them;
years never overlap; each year brings its partitions of the lesson, attendance and mark
tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.access import Role
from tests.conftest import Hub

CREATE_YEAR = """mutation($input: CreateAcademicYearInput!) {
  createAcademicYear(input: $input) {
    academicYear { id name startsOn endsOn terms { number startsOn endsOn } }
    userErrors { field code message }
  }
}"""
YEARS = "{ academicYears(first: 10) { nodes { name terms { number } } } }"


class TestCreateAcademicYear:
    async def test_ministry_creates_a_year_with_four_terms_and_holidays_between(
        self, hub: Hub, ministry: str, engine: AsyncEngine
    ) -> None:
        # when the ministry creates 2030-2031 without naming the terms
        data = await hub.data(
            CREATE_YEAR,
            {"input": {"startsOn": "2030-09-02", "endsOn": "2031-05-25"}},
            token=ministry,
        )

        # then it has four terms with the usual holidays between them (S3)
        year = data["createAcademicYear"]["academicYear"]
        assert year["name"] == "2030-2031"
        terms = [(t["startsOn"], t["endsOn"]) for t in year["terms"]]
        assert terms == [
            ("2030-09-02", "2030-11-03"),
            ("2030-11-11", "2030-12-29"),
            ("2031-01-13", "2031-03-16"),
            ("2031-03-24", "2031-05-25"),
        ]
        # and its partitions of the big tables exist
        async with engine.connect() as conn:
            names = set(
                (
                    await conn.execute(
                        text("SELECT relname FROM pg_class WHERE relname LIKE '%_y2030'")
                    )
                )
                .scalars()
                .all()
            )
        assert names == {"class_lesson_y2030", "attendance_y2030", "mark_y2030"}
        listed = (await hub.data(YEARS))["academicYears"]["nodes"]
        assert {"name": "2030-2031", "terms": [{"number": n} for n in (1, 2, 3, 4)]} in listed

    async def test_overlapping_year_is_refused(self, hub: Hub, ministry: str) -> None:
        await hub.data(
            CREATE_YEAR,
            {"input": {"startsOn": "2030-09-02", "endsOn": "2031-05-25"}},
            token=ministry,
        )
        # when a second year starts in the same September
        data = await hub.data(
            CREATE_YEAR,
            {"input": {"startsOn": "2030-09-09", "endsOn": "2031-05-30"}},
            token=ministry,
        )
        # then nothing is written (S3: one school year at a time)
        errors = data["createAcademicYear"]["userErrors"]
        assert [e["code"] for e in errors] == ["ACADEMIC_YEAR_EXISTS"]

    async def test_terms_must_follow_each_other_within_the_year(
        self, hub: Hub, ministry: str
    ) -> None:
        terms = [
            {"number": 1, "startsOn": "2030-09-02", "endsOn": "2030-11-03"},
            {"number": 2, "startsOn": "2030-11-01", "endsOn": "2030-12-29"},
            {"number": 3, "startsOn": "2031-01-13", "endsOn": "2031-03-16"},
            {"number": 4, "startsOn": "2031-03-24", "endsOn": "2031-06-15"},
        ]
        data = await hub.data(
            CREATE_YEAR,
            {"input": {"startsOn": "2030-09-02", "endsOn": "2031-05-25", "terms": terms}},
            token=ministry,
        )
        assert data["createAcademicYear"]["userErrors"][0]["code"] == "INVALID_DATE"
        assert (await hub.data(YEARS))["academicYears"]["nodes"] == []

    async def test_only_the_ministry_sets_the_year(self, hub: Hub) -> None:
        token = hub.token(Role.REGION_OFFICER, scopes=["region:8"])
        data = await hub.data(
            CREATE_YEAR, {"input": {"startsOn": "2030-09-02", "endsOn": "2031-05-25"}}, token=token
        )
        assert data["createAcademicYear"]["userErrors"][0]["code"] == "FORBIDDEN"

    async def test_a_year_in_summer_is_refused(self, hub: Hub, ministry: str) -> None:
        data = await hub.data(
            CREATE_YEAR,
            {"input": {"startsOn": "2030-07-01", "endsOn": "2031-05-25"}},
            token=ministry,
        )
        assert data["createAcademicYear"]["userErrors"][0] == {
            "field": "startsOn",
            "code": "INVALID_DATE",
            "message": "A school year starts between mid-August and the end of September",
        }


def test_default_terms_follow_the_ministry_pattern() -> None:
    from resolvers.lms import default_terms

    # 2024/25 as the ministry set it: autumn 4-10 Nov, winter 30 Dec-12 Jan, spring 17-23 Mar
    terms = default_terms(date(2024, 9, 2), date(2025, 5, 26))
    assert [(t.starts_on, t.ends_on) for t in terms] == [
        (date(2024, 9, 2), date(2024, 11, 3)),
        (date(2024, 11, 11), date(2024, 12, 29)),
        (date(2025, 1, 13), date(2025, 3, 16)),
        (date(2025, 3, 24), date(2025, 5, 26)),
    ]

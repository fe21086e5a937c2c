"""One subject register for learning content and the LMS (issues 15 and 16, migration 0029):
lower-case codes, content's former upper-case codes still accepted where a code is written."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import CurriculumUnit
from tests.conftest import Hub
from tests.content.factories import editor, make_lesson
from tests.content.test_curriculum_import import HEADER, send

SUBJECTS = "{ subjects { id code nameEn } }"
LESSONS = """query($subject: String!) {
  lessons(first: 10, filter: {subject: $subject}) {
    totalCount nodes { subjectCode subject { id code } }
  }
}"""


class TestOneRegister:
    async def test_both_domains_subjects_are_one_list_of_nodes(self, hub: Hub) -> None:
        # when
        subjects = (await hub.data(SUBJECTS))["subjects"]

        # then the LMS's (reading, fine_arts) and content's own (alphabet, english) are there
        codes = [s["code"] for s in subjects]
        assert {"reading", "fine_arts", "natural_science", "alphabet", "english"} <= set(codes)
        assert "art" not in codes
        assert "nature_studies" not in codes
        assert codes == sorted(codes)
        assert all(c == c.lower() for c in codes)
        node = (
            await hub.data(
                "query($id: ID!) { node(id: $id) { ... on Subject { code } } }",
                {"id": subjects[0]["id"]},
            )
        )["node"]
        assert node == {"code": subjects[0]["code"]}

    async def test_a_legacy_code_names_the_registers_subject(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a published fine-arts lesson
        await make_lesson(session, subject_code="fine_arts")
        await session.commit()

        # when a portal still sends content's former code, in either case
        by_legacy = (await hub.data(LESSONS, {"subject": "ART"}))["lessons"]
        by_code = (await hub.data(LESSONS, {"subject": "Fine_Arts"}))["lessons"]

        # then both find it, answered with the register's code
        assert by_legacy == by_code
        assert by_code["totalCount"] == 1
        assert by_code["nodes"][0]["subjectCode"] == "fine_arts"
        assert by_code["nodes"][0]["subject"]["code"] == "fine_arts"

    async def test_a_curriculum_file_with_former_codes_loads_under_the_registers(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # when a methodologist's file written before the merge is loaded
        lines = (
            "12,ART,3,1,1,Сүрөт,1,Түстөр,,1,ky\n"
            "12,NATURE_STUDIES,3,1,1,Табият,1,Суу,,1,ky\n"
            "12,MATHEMATICS,3,1,1,Сандар,1,Кошуу,,1,ky\n"
        )
        result = await send(hub, editor(hub), (HEADER + lines).encode())

        # then every line is loaded under the one register's codes
        assert result["report"]["created"] == 3
        codes = await session.scalars(
            select(CurriculumUnit.subject_code).order_by(CurriculumUnit.id)
        )
        assert list(codes) == ["fine_arts", "natural_science", "mathematics"]

"""A class's halves (issue 16): the timetable splits a class per subject into halves (a slot's
subgroup 1 or 2: languages, computing, labour lessons), and the LMS records which half each
pupil learns the subject in. The database holds that the half is of the pupil's own class and
of a subject it learns (domain.md S4: the diary's data entered once)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassMembership, ClassMembershipHalf
from resolvers.access import Role
from resolvers.mutations import constraint_of
from tests.conftest import Hub
from tests.factories import gid, make_class_group, make_pupil_in_class, subject_id
from tests.lms.arrange import School, admin_token, arrange_school

HALF = """mutation($input: AssignPupilsToHalfInput!) {
  assignPupilsToHalf(input: $input) {
    classGroup { id halves { subgroup subject { code } pupils { id } } }
    userErrors { field code message }
  }
}"""


def _input(s: School, subgroup: int, *pupils: Any, subject: int | None = None) -> dict[str, Any]:
    return {
        "input": {
            "classGroupId": s.class_id,
            "subjectId": gid("Subject", subject or s.extra["math"]),
            "subgroup": subgroup,
            "pupilIds": [gid("Person", p.id) for p in pupils],
        }
    }


async def _school(session: AsyncSession) -> School:
    s = await arrange_school(session, pupils=4, in_this_year=True)
    s.extra["math"] = await subject_id(session, "mathematics")
    return s


async def _halves(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(ClassMembership.pupil_id, ClassMembershipHalf.subgroup).join(
            ClassMembership, ClassMembership.id == ClassMembershipHalf.membership_id
        )
    )
    return {pupil: half for pupil, half in rows}


class TestAssignPupilsToHalf:
    async def test_the_head_teacher_splits_a_class_into_halves_for_a_subject(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a class of four pupils
        s = await _school(session)
        token = admin_token(hub, s)
        first, second, third, fourth = s.pupils

        # when its administration puts two pupils in each half for mathematics
        await hub.data(HALF, _input(s, 1, first, second), token=token)
        data = await hub.data(HALF, _input(s, 2, third, fourth), token=token)

        # then the class reads its halves back, per subject
        answer = data["assignPupilsToHalf"]
        assert answer["userErrors"] == []
        halves = {h["subgroup"]: h for h in answer["classGroup"]["halves"]}
        assert {k: h["subject"]["code"] for k, h in halves.items()} == {
            1: "mathematics",
            2: "mathematics",
        }
        assert {p["id"] for p in halves[1]["pupils"]} == {gid("Person", p.id) for p in s.pupils[:2]}
        assert {p["id"] for p in halves[2]["pupils"]} == {gid("Person", p.id) for p in s.pupils[2:]}

        # and a pupil moved to the other half is in that one only; 0 puts them back with the
        # whole class
        await hub.data(HALF, _input(s, 2, first), token=token)
        await hub.data(HALF, _input(s, 0, second), token=token)
        assert await _halves(session) == {first.id: 2, third.id: 2, fourth.id: 2}

    @pytest.mark.parametrize(
        ("case", "code", "field"),
        [
            ("a pupil of another class", "PUPIL_NOT_IN_CLASS", "pupilIds[1]"),
            ("a subject the class does not learn", "SUBJECT_NOT_IN_CURRICULUM", "subjectId"),
            ("a third half", "INVALID_INPUT", "subgroup"),
            ("a pupil twice", "INVALID_INPUT", "pupilIds"),
        ],
    )
    async def test_bad_input_is_refused_and_nothing_written(
        self, hub: Hub, session: AsyncSession, case: str, code: str, field: str
    ) -> None:
        # given a class, and a pupil of another class of the school
        s = await _school(session)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        stranger, _ = await make_pupil_in_class(session, klass=other)
        physics = await subject_id(session, "physics")  # not learnt in grade 5
        await session.commit()
        variables = {
            "a pupil of another class": _input(s, 1, s.pupils[0], stranger),
            "a subject the class does not learn": _input(s, 1, s.pupils[0], subject=physics),
            "a third half": _input(s, 3, s.pupils[0]),
            "a pupil twice": _input(s, 1, s.pupils[0], s.pupils[0]),
        }[case]

        # when the administration sends it
        data = await hub.data(HALF, variables, token=admin_token(hub, s))

        # then it is a typed error and nobody is put in a half
        errors = data["assignPupilsToHalf"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
        assert await _halves(session) == {}

    async def test_another_schools_administration_finds_no_such_class(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _school(session)
        elsewhere = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id + 1000}"])
        data = await hub.data(HALF, _input(s, 1, s.pupils[0]), token=elsewhere)
        assert data["assignPupilsToHalf"]["userErrors"][0]["code"] == "NOT_FOUND"
        assert await _halves(session) == {}

    async def test_two_head_teachers_at_once_are_served_one_after_the_other(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given one pupil, put in half 1 and in half 2 at once (concurrent transactions)
        s = await _school(session)
        token = admin_token(hub, s)
        pupil = s.pupils[0]
        answers = await asyncio.gather(
            hub.data(HALF, _input(s, 1, pupil), token=token),
            hub.data(HALF, _input(s, 2, pupil), token=token),
        )
        # then both succeed, one after the other on the class's lock, and the pupil is in one
        # half: the last one's
        assert [a["assignPupilsToHalf"]["userErrors"] for a in answers] == [[], []]
        rows = await session.scalar(select(func.count()).select_from(ClassMembershipHalf))
        assert rows == 1
        assert set((await _halves(session)).values()) <= {1, 2}


class TestTheDatabaseHoldsTheHalf:
    """Whoever writes the row, the half is of the pupil's own class and of a subject it learns."""

    async def _membership(self, session: AsyncSession, s: School) -> ClassMembership:
        found = await session.scalar(
            select(ClassMembership).where(ClassMembership.pupil_id == s.pupils[0].id)
        )
        assert found is not None
        return found

    async def test_no_half_of_another_class(self, session: AsyncSession) -> None:
        # given a pupil of 5А and the school's 5Б, which learns mathematics too
        s = await _school(session)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        membership = await self._membership(session, s)
        await session.commit()
        # when a half of 5Б is written for the pupil's membership of 5А
        session.add(
            ClassMembershipHalf(
                membership_id=membership.id,
                subject_id=s.extra["math"],
                class_group_id=other.id,
                subgroup=1,
            )
        )
        # then the foreign key on the membership and its class refuses it
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "fk_class_membership_half_membership_of_class"

    async def test_no_half_in_a_subject_the_class_does_not_learn(
        self, session: AsyncSession
    ) -> None:
        s = await _school(session)
        membership = await self._membership(session, s)
        physics = await subject_id(session, "physics")
        await session.commit()
        session.add(
            ClassMembershipHalf(
                membership_id=membership.id,
                subject_id=physics,
                class_group_id=s.klass.id,
                subgroup=1,
            )
        )
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "fk_class_membership_half_subject_of_class"

    async def test_a_half_is_1_or_2(self, session: AsyncSession) -> None:
        s = await _school(session)
        membership = await self._membership(session, s)
        await session.commit()
        session.add(
            ClassMembershipHalf(
                membership_id=membership.id,
                subject_id=s.extra["math"],
                class_group_id=s.klass.id,
                subgroup=0,
            )
        )
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "ck_class_membership_half_subgroup"

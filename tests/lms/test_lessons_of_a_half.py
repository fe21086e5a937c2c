"""Lessons of a half of a class (issue 16): a subject the timetable teaches in halves is, for
each pupil, the lessons of the whole class and of their own half. The diary shows a pupil
those (S4: the diary's lessons, marks and attendance), the register of a half's lesson lists
that half's pupils, and marks (S2) and registers refuse a pupil of the other half, all or
nothing. A pupil in no half of the subject (not yet divided) has every lesson of it. Halves
carry no dates: a pupil moved to the other half keeps what was recorded of them in the first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import Attendance, ClassGroup, ClassLesson, Mark, database
from resolvers import lms as lms_service
from resolvers.access import Principal, Role
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_lesson,
    make_slot,
    make_teacher,
    make_teaching_assignment,
    subject_id,
)
from tests.lms.arrange import School, admin_token, arrange_school, guardian_token, teacher_token
from tests.lms.test_oneroster import GRADEBOOK
from tests.lms.test_oneroster_writes import writer

HALF = """mutation($input: AssignPupilsToHalfInput!) {
  assignPupilsToHalf(input: $input) { userErrors { field code message } }
}"""
DIARY = """query($id: ID!, $from: Date!, $to: Date!) {
  diary(pupilId: $id, from: $from, to: $to) {
    days { date lessons { subgroup topic marks { value } attendance } }
  }
}"""
REGISTER = """query($id: ID!) { node(id: $id) { ... on ClassLesson {
  subgroup pupils { id } } } }"""
RECORD_MARKS = """mutation($input: RecordMarksInput!) {
  recordMarks(input: $input) { marks { value pupil { id } } userErrors { field code } }
}"""
ATTENDANCE = """mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) { lesson { attendanceTakenAt } userErrors { field code } }
}"""


@dataclass
class Split:
    """Last year's 6А of four pupils, its mathematics taught to the whole class on Mondays and
    in halves on Tuesdays (half 1 by the class's teacher, half 2 by a second one): pupils 0 and
    1 in half 1, pupil 2 in half 2, pupil 3 in neither. A week's three lessons recorded."""

    s: School
    second: Any
    whole: ClassLesson
    one: ClassLesson
    two: ClassLesson

    @property
    def monday(self) -> date:
        return self.whole.on_date

    def pupil(self, i: int) -> str:
        return gid("Person", self.s.pupils[i].id)


def _half(s: School, subgroup: int, *pupils: int) -> dict[str, Any]:
    return {
        "input": {
            "classGroupId": s.class_id,
            "subjectId": gid("Subject", s.extra["math"]),
            "subgroup": subgroup,
            "pupilIds": [gid("Person", s.pupils[i].id) for i in pupils],
        }
    }


async def _move(hub: Hub, s: School, subgroup: int, *pupils: int) -> None:
    data = await hub.data(HALF, _half(s, subgroup, *pupils), token=admin_token(hub, s))
    assert data["assignPupilsToHalf"]["userErrors"] == []


async def _split(hub: Hub, session: AsyncSession) -> Split:
    s = await arrange_school(session, grade=6, pupils=4)
    s.extra["math"] = await subject_id(session, s.subject)
    second, post = await make_teacher(session, school=s.school, first_name="Айгуль")
    await make_teaching_assignment(
        session, klass=s.klass, subject=s.subject, teacher=second, post=post
    )
    halves = [
        await make_slot(
            session,
            klass=s.klass,
            subject=s.subject,
            teacher=teacher,
            weekday=2,
            period=1,
            subgroup=half,
        )
        for half, teacher in ((1, s.teacher), (2, second))
    ]
    monday = s.lesson_day(1)
    whole = await make_lesson(session, slot=s.slot, on=monday, topic="Весь класс")
    tuesday = monday + timedelta(days=1)
    one = await make_lesson(session, slot=halves[0], on=tuesday, topic="Первая группа")
    two = await make_lesson(session, slot=halves[1], on=tuesday, topic="Вторая группа")
    await session.commit()
    await _move(hub, s, 1, 0, 1)
    await _move(hub, s, 2, 2)
    return Split(s, second, whole, one, two)


async def _diary(hub: Hub, split: Split, i: int, token: str | None = None) -> list[Any]:
    """Pupil ``i``'s two weeks from the recorded Monday: (day, subgroup, topic, marks)."""
    s = split.s
    variables = {
        "id": split.pupil(i),
        "from": split.monday.isoformat(),
        "to": (split.monday + timedelta(days=8)).isoformat(),
    }
    diary = (
        await hub.data(DIARY, variables, token=token or hub.token(Role.PUPIL, person_id=s.pupils[i].id))
    )["diary"]  # fmt: skip
    return [
        ((date.fromisoformat(d["date"]) - split.monday).days, x["subgroup"], x["topic"],
         [m["value"] for m in x["marks"]])
        for d in diary["days"]
        for x in d["lessons"]
    ]  # fmt: skip


async def _register(hub: Hub, split: Split, lesson: ClassLesson) -> set[str]:
    token = teacher_token(hub, split.s, split.second if lesson.subgroup == 2 else None)
    found = await hub.data(REGISTER, {"id": gid("ClassLesson", lesson.id)}, token=token)
    assert found["node"]["subgroup"] == lesson.subgroup
    return {p["id"] for p in found["node"]["pupils"]}


def _marks(split: Split, lesson: ClassLesson, *marks: tuple[int, int], reason: str = "") -> Any:
    return {
        "input": {
            "lessonId": gid("ClassLesson", lesson.id),
            "marks": [{"pupilId": split.pupil(i), "value": v} for i, v in marks],
            **({"correctionReason": reason} if reason else {}),
        }
    }


async def _count(session: AsyncSession, table: Any) -> int:
    await session.commit()
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


class TestTheDiary:
    """S4: the pupil's and the guardian's diary shows the pupil's own lessons."""

    async def test_a_pupil_sees_the_whole_classs_lessons_and_their_own_halfs(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class (two weeks: the first recorded, the second the timetable's)
        split = await _split(hub, session)

        # when pupils of half 1 and half 2 read their diary
        first = await _diary(hub, split, 0)
        second = await _diary(hub, split, 2)

        # then each sees the Mondays of the whole class and the Tuesdays of their half only
        assert first == [
            (0, 0, "Весь класс", []),
            (1, 1, "Первая группа", []),
            (7, 0, None, []),
            (8, 1, None, []),
        ]
        assert second == [
            (0, 0, "Весь класс", []),
            (1, 2, "Вторая группа", []),
            (7, 0, None, []),
            (8, 2, None, []),
        ]

    async def test_a_pupil_in_no_half_of_the_subject_sees_both_halves_lessons(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class, whose fourth pupil is in neither half (not yet divided)
        split = await _split(hub, session)
        # when that pupil reads the diary, then every lesson of the subject is there
        assert await _diary(hub, split, 3) == [
            (0, 0, "Весь класс", []),
            (1, 1, "Первая группа", []),
            (1, 2, "Вторая группа", []),
            (7, 0, None, []),
            (8, 1, None, []),
            (8, 2, None, []),
        ]

    async def test_a_pupil_moved_to_the_other_half_keeps_the_lesson_they_were_marked_in(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a pupil of half 1 marked in its Tuesday lesson, then moved to half 2
        split = await _split(hub, session)
        marked = await hub.data(
            RECORD_MARKS, _marks(split, split.one, (0, 5)), token=teacher_token(hub, split.s)
        )
        assert marked["recordMarks"]["userErrors"] == []
        await _move(hub, split.s, 2, 0)

        # when the guardian reads the diary
        lessons = await _diary(hub, split, 0, token=guardian_token(hub, split.s))

        # then the mark stays with its lesson (halves carry no dates), and from now on the
        # pupil has half 2's lessons
        assert lessons == [
            (0, 0, "Весь класс", []),
            (1, 1, "Первая группа", [5]),
            (1, 2, "Вторая группа", []),
            (7, 0, None, []),
            (8, 2, None, []),
        ]

    async def test_the_diary_of_a_split_class_costs_the_same_two_statements(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class, a mark and an absence in half 1's lesson
        split = await _split(hub, session)
        teacher = teacher_token(hub, split.s)
        await hub.data(RECORD_MARKS, _marks(split, split.one, (0, 4)), token=teacher)
        await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", split.one.id),
                       "entries": [{"pupilId": split.pupil(0), "status": "LATE",
                                    "minutesLate": 5}]}},
            token=teacher,
        )  # fmt: skip
        # when the guardian reads two weeks of it
        hub.counter.reset()
        lessons = await _diary(hub, split, 0, token=guardian_token(hub, split.s))
        # then two statements as for any diary (the person rule, the diary: the halves are
        # read inside the diary's one statement)
        assert (1, 1, "Первая группа", [4]) in lessons
        assert hub.counter.count == 2, hub.counter.statements


class TestRegistersAndMarks:
    async def test_the_register_of_a_half_lists_that_half_and_the_pupils_in_no_half(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        split = await _split(hub, session)
        everyone = {split.pupil(i) for i in range(4)}
        assert await _register(hub, split, split.whole) == everyone
        assert await _register(hub, split, split.one) == {split.pupil(i) for i in (0, 1, 3)}
        assert await _register(hub, split, split.two) == {split.pupil(i) for i in (2, 3)}

    async def test_marks_for_a_pupil_of_the_other_half_refuse_the_whole_request(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class
        split = await _split(hub, session)
        teacher = teacher_token(hub, split.s)

        # when half 1's teacher marks its lesson, listing a pupil of half 2 second (S2)
        refused = await hub.data(
            RECORD_MARKS, _marks(split, split.one, (0, 5), (2, 4)), token=teacher
        )

        # then the request is refused with a stable code on that entry, and nothing is written
        assert refused["recordMarks"]["userErrors"] == [
            {"field": "marks[1]", "code": "PUPIL_NOT_IN_HALF"}
        ]
        assert await _count(session, Mark) == 0
        # and half 1's pupils and the pupil in no half are marked
        done = await hub.data(
            RECORD_MARKS, _marks(split, split.one, (0, 5), (1, 4), (3, 3)), token=teacher
        )
        assert done["recordMarks"]["userErrors"] == []
        assert await _count(session, Mark) == 3

    async def test_a_register_listing_a_pupil_of_the_other_half_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class, and half 2's teacher taking the register of its lesson
        split = await _split(hub, session)
        teacher = teacher_token(hub, split.s, split.second)
        entries: list[dict[str, Any]] = [
            {"pupilId": split.pupil(2), "status": "ABSENT"},
            {"pupilId": split.pupil(0), "status": "ABSENT"},
        ]
        variables = {"input": {"lessonId": gid("ClassLesson", split.two.id), "entries": entries}}

        # when it names a pupil of half 1
        refused = await hub.data(ATTENDANCE, variables, token=teacher)

        # then nothing is written: no absence, the register not taken
        assert refused["recordAttendance"]["userErrors"] == [
            {"field": "entries[1]", "code": "PUPIL_NOT_IN_HALF"}
        ]
        assert await _count(session, Attendance) == 0
        taken = await session.scalar(
            select(ClassLesson.attendance_taken_at).where(ClassLesson.id == split.two.id)
        )
        assert taken is None
        # and without them it is taken
        entries[1] = {"pupilId": split.pupil(3), "status": "LATE", "minutesLate": 10}
        done = await hub.data(ATTENDANCE, variables, token=teacher)
        assert done["recordAttendance"]["userErrors"] == []
        assert await _count(session, Attendance) == 2

    async def test_a_pupil_moved_to_the_other_half_keeps_their_records_in_the_first(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a mark of pupil 0 and an absence of pupil 1 in half 1's lesson
        split = await _split(hub, session)
        teacher = teacher_token(hub, split.s)
        await hub.data(RECORD_MARKS, _marks(split, split.one, (0, 3)), token=teacher)
        await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", split.one.id),
                       "entries": [{"pupilId": split.pupil(1), "status": "ABSENT"}]}},
            token=teacher,
        )  # fmt: skip

        # when both move to half 2
        await _move(hub, split.s, 2, 0, 1)

        # then half 1's lesson still lists them (they were in it), its marks may be corrected
        assert await _register(hub, split, split.one) == {split.pupil(i) for i in (0, 1, 3)}
        fixed = await hub.data(
            RECORD_MARKS, _marks(split, split.one, (0, 4), reason="Ошибка"), token=teacher
        )
        assert fixed["recordMarks"]["userErrors"] == []
        # and half 2's lessons are theirs now
        assert await _register(hub, split, split.two) == {split.pupil(i) for i in (0, 1, 2, 3)}

    async def test_a_partner_giving_a_result_to_the_other_half_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the split class and a partner's key with the school's OneRoster write grant
        split = await _split(hub, session)
        headers = await writer(hub, session, [split.s.school.id])
        one = split.one
        line_item = f"lesson-{one.academic_year_id}-{one.id}-test"
        results = [
            {"lineItem": {"sourcedId": line_item}, "student": {"sourcedId": split.pupil(i)},
             "scoreStatus": "fully graded", "scoreDate": one.on_date.isoformat(), "score": 4}
            for i in (0, 2)
        ]  # fmt: skip

        # when it posts marks of half 1's lesson for a pupil of each half
        response = await hub.client.post(
            f"{GRADEBOOK}/lineItems/{line_item}/results",
            headers=headers,
            json={"results": results},
        )

        # then the whole request is refused with the hub's code, nothing written
        assert response.status_code == 400, response.text
        assert "PUPIL_NOT_IN_HALF" in response.json()["imsx_description"]
        assert await _count(session, Mark) == 0


class TestAtOnce:
    async def test_a_move_between_halves_and_marking_at_once_end_as_one_after_the_other(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        """No lock is shared and none is needed: the move locks the class, the marks the
        lesson, and marking reads the halves as committed. The move reads no marks, so whatever
        the interleaving the end is that of the marks first, then the move."""
        # given the split class, and the head teacher's transaction moving pupil 0 to half 2
        # and pupil 2 to half 1, written and not yet committed (the class locked)
        split = await _split(hub, session)
        s = split.s
        head = Principal(
            subject="test:head", role=Role.SCHOOL_ADMIN, institution_ids=frozenset({s.school.id})
        )
        async with database.session_factory(engine)() as moving:
            for subgroup, pupil in ((2, s.pupils[0]), (1, s.pupils[2])):
                await lms_service.assign_pupils_to_half(
                    moving,
                    head,
                    class_group_id=s.klass.id,
                    subject_id=s.extra["math"],
                    subgroup=subgroup,
                    pupil_ids=[pupil.id],
                )
            async with engine.connect() as other:  # the class is the head teacher's till commit
                with pytest.raises(DBAPIError):
                    await other.execute(
                        select(ClassGroup.id)
                        .where(ClassGroup.id == s.klass.id)
                        .with_for_update(nowait=True)
                    )

            # when half 1's teacher marks its lesson meanwhile (its own transaction)
            teacher = teacher_token(hub, s)
            marking = hub.data(
                RECORD_MARKS, _marks(split, split.one, (0, 5), (2, 4)), token=teacher
            )
            answer = await asyncio.wait_for(marking, timeout=30)

            # then it did not wait for the head teacher, and decided on the committed halves:
            # pupil 2 is still of half 2
            assert answer["recordMarks"]["userErrors"] == [
                {"field": "marks[1]", "code": "PUPIL_NOT_IN_HALF"}
            ]
            alone = await asyncio.wait_for(
                hub.data(RECORD_MARKS, _marks(split, split.one, (0, 5)), token=teacher),
                timeout=30,
            )
            assert alone["recordMarks"]["userErrors"] == []
            await moving.commit()

        # and after the move: pupil 0 keeps the mark in half 1's lesson and is on its register
        # (recorded there), pupil 2 is half 1's now and is marked there
        assert await _register(hub, split, split.one) == {split.pupil(i) for i in range(4)}
        now = await hub.data(
            RECORD_MARKS, _marks(split, split.one, (2, 4)), token=teacher_token(hub, s)
        )
        assert now["recordMarks"]["userErrors"] == []
        assert await _register(hub, split, split.two) == {split.pupil(i) for i in (0, 3)}

"""The timetable (issue 15): periods per shift, rooms and weekly slots; no teacher, class or
room in two places at once (exclusion constraints, so two concurrent edits cannot both win);
a slot's subject in the class's curriculum, its teacher assigned; weekly hours against the
plan."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import TimetableSlot
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_class_group,
    make_room,
    make_teacher,
    make_teaching_assignment,
    subject_id,
)
from tests.lms.arrange import School, admin_token, arrange_school, teacher_token

SET_SLOT = """mutation($input: SetTimetableSlotInput!) {
  setTimetableSlot(input: $input) {
    slot { id weekday period startsAt endsAt subject { code } teacher { id } room { name } }
    userErrors { field code message }
  }
}"""
BELLS = """mutation($input: SetBellScheduleInput!) {
  setBellSchedule(input: $input) { periods { number startsAt endsAt } userErrors { code field } }
}"""
TIMETABLE = """query($classId: ID, $teacherId: ID, $on: Date) {
  timetable(classGroupId: $classId, teacherId: $teacherId, on: $on) {
    weekday period subject { code } classGroup { name }
  }
}"""
HOURS = """query($id: ID!, $on: Date) { node(id: $id) { ... on ClassGroup {
  weeklyHours(on: $on) { subject { code } planned scheduled difference } } } }"""


async def _slot_input(
    session: AsyncSession, s: School, *, weekday: int = 2, period: int = 2, **more: object
) -> dict[str, object]:
    return {
        "classGroupId": s.class_id,
        "weekday": weekday,
        "period": period,
        "subjectId": gid("Subject", await subject_id(session, "mathematics")),
        "teacherId": gid("Person", s.teacher.id),
        "effectiveFrom": s.this_year.starts_on.isoformat(),
        **more,
    }


class TestSetTimetableSlot:
    async def test_the_head_teacher_sets_a_slot(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session, in_this_year=True)
        room = await make_room(session, school=s.school)
        await session.commit()
        data = await hub.data(
            SET_SLOT,
            {"input": await _slot_input(session, s, roomId=gid("Room", room.id))},
            token=admin_token(hub, s),
        )
        slot = data["setTimetableSlot"]["slot"]
        assert (slot["weekday"], slot["period"], slot["startsAt"], slot["endsAt"]) == (
            2,
            2,
            "08:55:00",
            "09:40:00",
        )
        assert slot["room"] == {"name": "204"}

    async def test_a_teacher_in_two_classes_at_once_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the teacher's Monday period 1 in 5А, and a second class they also teach
        s = await arrange_school(session, in_this_year=True)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        await make_teaching_assignment(
            session, klass=other, subject="mathematics", teacher=s.teacher, post=s.post
        )
        await session.commit()

        # when 5Б is given the same teacher at the same time
        data = await hub.data(
            SET_SLOT,
            {
                "input": await _slot_input(
                    session, s, weekday=1, period=1, classGroupId=gid("ClassGroup", other.id)
                )
            },
            token=admin_token(hub, s),
        )

        # then the exclusion constraint refuses it
        assert data["setTimetableSlot"]["userErrors"] == [
            {
                "field": "teacherId",
                "code": "TIMETABLE_CLASH",
                "message": "The teacher has another lesson at that time",
            }
        ]
        # and nothing is written: the teacher keeps the one slot
        assert await session.scalar(select(func.count()).select_from(TimetableSlot)) == 1

    async def test_a_room_in_two_places_at_once_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        room = await make_room(session, school=s.school)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        colleague, post = await make_teacher(session, school=s.school, first_name="Мээрим")
        await make_teaching_assignment(
            session, klass=other, subject="mathematics", teacher=colleague, post=post
        )
        await session.commit()
        token = admin_token(hub, s)
        await hub.data(
            SET_SLOT,
            {"input": await _slot_input(session, s, roomId=gid("Room", room.id))},
            token=token,
        )
        data = await hub.data(
            SET_SLOT,
            {
                "input": await _slot_input(
                    session,
                    s,
                    classGroupId=gid("ClassGroup", other.id),
                    teacherId=gid("Person", colleague.id),
                    roomId=gid("Room", room.id),
                )
            },
            token=token,
        )
        assert data["setTimetableSlot"]["userErrors"][0]["code"] == "TIMETABLE_CLASH"
        assert data["setTimetableSlot"]["userErrors"][0]["field"] == "roomId"
        # and nothing is written: the arranged slot and the first one in the room
        assert await session.scalar(select(func.count()).select_from(TimetableSlot)) == 2

    async def test_the_halves_of_a_class_learn_at_once_but_not_with_the_whole(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        colleague, post = await make_teacher(session, school=s.school, first_name="Мээрим")
        for teacher, p in ((s.teacher, s.post), (colleague, post)):
            await make_teaching_assignment(
                session, klass=s.klass, subject="foreign_language", teacher=teacher, post=p
            )
        await session.commit()
        token = admin_token(hub, s)
        english = gid("Subject", await subject_id(session, "foreign_language"))
        halves = []
        for half, teacher in ((1, s.teacher), (2, colleague)):
            halves.append(
                await hub.data(
                    SET_SLOT,
                    {
                        "input": await _slot_input(
                            session, s, weekday=3, period=3, subgroup=half, subjectId=english,
                            teacherId=gid("Person", teacher.id),
                        )
                    },
                    token=token,
                )
            )  # fmt: skip
        assert [h["setTimetableSlot"]["userErrors"] for h in halves] == [[], []]

    async def test_a_subject_outside_the_curriculum_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        data = await hub.data(
            SET_SLOT,
            {
                "input": await _slot_input(
                    session,
                    s,
                    subjectId=gid("Subject", await subject_id(session, "chemistry")),
                )
            },
            token=admin_token(hub, s),
        )
        assert data["setTimetableSlot"]["userErrors"][0]["code"] == "SUBJECT_NOT_IN_CURRICULUM"

    async def test_a_teacher_not_assigned_the_subject_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        colleague, _ = await make_teacher(session, school=s.school, first_name="Мээрим")
        await session.commit()
        data = await hub.data(
            SET_SLOT,
            {"input": await _slot_input(session, s, teacherId=gid("Person", colleague.id))},
            token=admin_token(hub, s),
        )
        assert data["setTimetableSlot"]["userErrors"][0]["code"] == "TEACHER_NOT_ASSIGNED"

    async def test_a_period_the_shift_lacks_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        data = await hub.data(
            SET_SLOT, {"input": await _slot_input(session, s, period=9)}, token=admin_token(hub, s)
        )
        assert data["setTimetableSlot"]["userErrors"][0]["code"] == "UNKNOWN_PERIOD"

    async def test_a_teacher_may_not_edit_the_timetable(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        data = await hub.data(
            SET_SLOT, {"input": await _slot_input(session, s)}, token=teacher_token(hub, s)
        )
        assert data["setTimetableSlot"]["userErrors"][0]["code"] == "NOT_FOUND"

    async def test_a_change_from_a_date_keeps_the_earlier_weeks(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the Monday slot in force since September
        s = await arrange_school(session, in_this_year=True)
        colleague, post = await make_teacher(session, school=s.school, first_name="Мээрим")
        await make_teaching_assignment(
            session, klass=s.klass, subject="mathematics", teacher=colleague, post=post
        )
        await session.commit()
        change = date(s.this_year.start_year, 10, 5)

        # when another teacher takes it from 5 October
        data = await hub.data(
            SET_SLOT,
            {
                "input": await _slot_input(
                    session, s, weekday=1, period=1, teacherId=gid("Person", colleague.id),
                    effectiveFrom=change.isoformat(),
                )
            },
            token=admin_token(hub, s),
        )  # fmt: skip
        assert data["setTimetableSlot"]["userErrors"] == []

        # then September's timetable still names the first teacher, October's the second
        async def teacher_on(day: date) -> str:
            rows = (
                await hub.data(
                    "query($id: ID, $on: Date) { timetable(classGroupId: $id, on: $on) {"
                    " weekday teacher { id } } }",
                    {"id": s.class_id, "on": day.isoformat()},
                    token=admin_token(hub, s),
                )
            )["timetable"]
            return str(next(r["teacher"]["id"] for r in rows if r["weekday"] == 1))

        assert await teacher_on(change.replace(day=1)) == gid("Person", s.teacher.id)
        assert await teacher_on(change) == gid("Person", colleague.id)

    async def test_two_head_teachers_editing_at_once_cannot_both_win(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two classes the teacher teaches, and two edits putting them in both at once
        s = await arrange_school(session, in_this_year=True)
        other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
        await make_teaching_assignment(
            session, klass=other, subject="mathematics", teacher=s.teacher, post=s.post
        )
        await session.commit()
        edits = [
            await _slot_input(session, s, weekday=4, period=4),
            await _slot_input(
                session, s, weekday=4, period=4, classGroupId=gid("ClassGroup", other.id)
            ),
        ]
        deputy = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"], subject="d")

        # when both are sent together, in concurrent transactions
        answers = await asyncio.gather(
            hub.data(SET_SLOT, {"input": edits[0]}, token=admin_token(hub, s)),
            hub.data(SET_SLOT, {"input": edits[1]}, token=deputy),
        )

        # then one wins and the other is refused with TIMETABLE_CLASH
        codes = sorted(
            [e["code"] for e in a["setTimetableSlot"]["userErrors"]] or ["OK"] for a in answers
        )
        assert codes == [["OK"], ["TIMETABLE_CLASH"]]
        thursdays = await session.scalar(
            select(func.count()).where(
                TimetableSlot.teacher_id == s.teacher.id, TimetableSlot.weekday == 4
            )
        )
        assert thursdays == 1


class TestBellScheduleAndHours:
    async def test_moving_a_period_moves_its_slots(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session, in_this_year=True)
        # given the Monday slot in period 1 (08:00-08:45); when period 1 moves to 08:30
        periods = [{"number": 1, "startsAt": "08:30", "endsAt": "09:15"}]
        data = await hub.data(
            BELLS,
            {"input": {"schoolId": s.id, "shift": 1, "periods": periods}},
            token=admin_token(hub, s),
        )
        assert data["setBellSchedule"]["userErrors"] == []
        await session.refresh(s.slot)
        assert (s.slot.starts_minute, s.slot.ends_minute) == (510, 555)

    async def test_weekly_hours_are_reported_against_the_plan(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        data = await hub.data(
            HOURS,
            {"id": s.class_id, "on": s.this_year.starts_on.isoformat()},
            token=admin_token(hub, s),
        )
        hours = {h["subject"]["code"]: h for h in data["node"]["weeklyHours"]}
        # grade 5 of the 12-year plan: mathematics 5 a week; the timetable gives it 1 so far
        assert hours["mathematics"] == {
            "subject": {"code": "mathematics"},
            "planned": "5.0",
            "scheduled": 1,
            "difference": "-4.0",
        }

    async def test_a_guardian_reads_their_childs_timetable_only(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        other = await arrange_school(session, in_this_year=True)
        on = s.this_year.starts_on.isoformat()
        mine = await hub.data(TIMETABLE, {"classId": s.class_id, "on": on}, token=_guardian(hub, s))
        theirs = await hub.data(
            TIMETABLE, {"classId": other.class_id, "on": on}, token=_guardian(hub, s)
        )
        assert [r["classGroup"]["name"] for r in mine["timetable"]] == ["5А"]
        assert theirs["timetable"] == []


def _guardian(hub: Hub, s: School) -> str:
    return hub.token(Role.GUARDIAN, person_id=s.guardian.id)

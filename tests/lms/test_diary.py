"""The e-diary (S4, issue 15): a pupil's and their guardians' week: lessons with topics,
homework, marks, attendance and comments; days off marked; guardians see their own children
only; a fixed number of statements however full the week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Attendance, AttendanceStatus, Homework, Mark, MarkWork, PublicHoliday
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_lesson, make_slot, make_teaching_assignment
from tests.lms.arrange import School, arrange_school, guardian_token, pupil_token

DIARY = """query($id: ID!, $from: Date!, $to: Date!) {
  diary(pupilId: $id, from: $from, to: $to) {
    from to
    days {
      date dayOff
      lessons {
        period startsAt subject { code } teacherName topic status
        homework { text dueOn } marks { value comment } attendance attendanceReason
      }
    }
  }
}"""


async def _week(session: AsyncSession) -> tuple[School, Any]:
    """A school week of last year: Monday's mathematics lesson recorded with homework, a mark
    and an absence of the second pupil; a Wednesday music slot not yet recorded."""
    s = await arrange_school(session, grade=6)
    monday = s.lesson_day(2)
    await make_teaching_assignment(
        session, klass=s.klass, subject="music", teacher=s.teacher, post=s.post
    )
    await make_slot(session, klass=s.klass, subject="music", teacher=s.teacher, weekday=3, period=2)
    lesson = await make_lesson(session, slot=s.slot, on=monday, topic="Дроби")
    lesson.attendance_taken_at = lesson.created_at
    session.add(
        Homework(
            academic_year_id=lesson.academic_year_id, lesson_id=lesson.id,
            class_group_id=s.klass.id, subject_id=lesson.subject_id, teacher_id=s.teacher.id,
            assigned_on=monday, body="№ 12, 14", due_on=monday + timedelta(days=7),
        )
    )  # fmt: skip
    session.add(
        Mark(
            academic_year_id=lesson.academic_year_id, lesson_id=lesson.id,
            pupil_id=s.pupils[0].id, class_group_id=s.klass.id, subject_id=lesson.subject_id,
            on_date=monday, work=MarkWork.ORAL, scheme="five_point", value=5, comment="Молодец",
            recorded_by="t",
        )
    )  # fmt: skip
    session.add(
        Attendance(
            academic_year_id=lesson.academic_year_id, lesson_id=lesson.id,
            pupil_id=s.pupils[1].id, class_group_id=s.klass.id, on_date=monday,
            status=AttendanceStatus.EXCUSED, reason="болеет", recorded_by="t",
        )
    )  # fmt: skip
    await session.commit()
    return s, monday


class TestDiary:
    async def test_a_guardian_reads_their_childs_week(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, monday = await _week(session)
        week = {"id": gid("Person", s.pupils[0].id), "from": monday.isoformat(),
                "to": (monday + timedelta(days=6)).isoformat()}  # fmt: skip

        diary = (await hub.data(DIARY, week, token=guardian_token(hub, s)))["diary"]

        days = {d["date"]: d for d in diary["days"]}
        assert len(days) == 7
        (math,) = days[monday.isoformat()]["lessons"]
        assert math == {
            "period": 1,
            "startsAt": "08:00:00",
            "subject": {"code": "mathematics"},
            "teacherName": "Бекова Чолпон Бакытовна",
            "topic": "Дроби",
            "status": "HELD",
            "homework": {"text": "№ 12, 14", "dueOn": (monday + timedelta(days=7)).isoformat()},
            "marks": [{"value": 5, "comment": "Молодец"}],
            "attendance": "PRESENT",
        } | {"attendanceReason": None}
        (music,) = days[(monday + timedelta(days=2)).isoformat()]["lessons"]
        assert (music["subject"]["code"], music["topic"], music["attendance"]) == (
            "music",
            None,
            None,
        )
        assert days[(monday + timedelta(days=5)).isoformat()]["lessons"] == []

    async def test_the_absent_pupils_diary_says_why(self, hub: Hub, session: AsyncSession) -> None:
        s, monday = await _week(session)
        week = {
            "id": gid("Person", s.pupils[1].id),
            "from": monday.isoformat(),
            "to": monday.isoformat(),
        }
        diary = (await hub.data(DIARY, week, token=pupil_token(hub, s.pupils[1])))["diary"]
        (math,) = diary["days"][0]["lessons"]
        assert (math["attendance"], math["attendanceReason"], math["marks"]) == (
            "EXCUSED",
            "болеет",
            [],
        )

    async def test_a_guardian_does_not_read_another_childs_diary(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, monday = await _week(session)
        week = {
            "id": gid("Person", s.pupils[1].id),
            "from": monday.isoformat(),
            "to": monday.isoformat(),
        }
        assert (await hub.data(DIARY, week, token=guardian_token(hub, s)))["diary"] is None
        other = hub.token(Role.PUPIL, person_id=s.pupils[0].id)
        assert (await hub.data(DIARY, week, token=other))["diary"] is None

    async def test_the_holidays_are_marked(self, hub: Hub, session: AsyncSession) -> None:
        s, _ = await _week(session)
        autumn = s.last_year.starts_on.replace(month=11, day=4)
        week = {
            "id": gid("Person", s.pupils[0].id),
            "from": autumn.isoformat(),
            "to": autumn.isoformat(),
        }
        day = (await hub.data(DIARY, week, token=guardian_token(hub, s)))["diary"]["days"][0]
        assert (day["dayOff"], day["lessons"]) == ("holidays", [])

    async def test_a_decreed_working_day_is_a_school_day(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the ministry's calendar (S3): Monday decreed a working day (working = true,
        # e.g. a holiday moved away), Tuesday decreed a day off
        s, monday = await _week(session)
        tuesday = monday + timedelta(days=1)
        await session.merge(PublicHoliday(day=monday, name="Moved holiday", working=True))
        await session.merge(PublicHoliday(day=tuesday, name="Extra holiday", working=False))
        await session.commit()
        week = {
            "id": gid("Person", s.pupils[0].id),
            "from": monday.isoformat(),
            "to": tuesday.isoformat(),
        }
        # when the guardian reads those two days
        days = (await hub.data(DIARY, week, token=guardian_token(hub, s)))["diary"]["days"]
        # then Monday is a school day with its lesson, Tuesday the decreed day off
        assert days[0]["dayOff"] is None
        assert [lesson["topic"] for lesson in days[0]["lessons"]] == ["Дроби"]
        assert (days[1]["dayOff"], days[1]["lessons"]) == ("Extra holiday", [])

    async def test_more_than_a_month_is_refused(self, hub: Hub, session: AsyncSession) -> None:
        s, monday = await _week(session)
        body = await hub.gql(
            DIARY,
            {"id": gid("Person", s.pupils[0].id), "from": monday.isoformat(),
             "to": (monday + timedelta(days=40)).isoformat()},
            token=guardian_token(hub, s),
        )  # fmt: skip
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"

    async def test_a_week_costs_the_same_statements_as_a_day(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        s, monday = await _week(session)
        counts = []
        for days in (0, 13):
            resolver_hub.counter.reset()
            await resolver_hub.data(
                DIARY,
                {"id": gid("Person", s.pupils[0].id), "from": monday.isoformat(),
                 "to": (monday + timedelta(days=days)).isoformat()},
                token=guardian_token(resolver_hub, s),
            )  # fmt: skip
            counts.append(resolver_hub.counter.count)
        assert counts[0] == counts[1], counts
        assert counts[1] <= 11, resolver_hub.counter.statements

"""Lessons and their register (issue 15): a lesson is a slot on a school day of the year,
recorded by the slot's teacher or a replacement the school names; attendance for the whole
class at once, all or nothing, only for the class's pupils."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Attendance, ClassLesson
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_class_group,
    make_lesson,
    make_person,
    make_slot,
    make_teacher,
    make_teaching_assignment,
)
from tests.lms.arrange import admin_token, arrange_school, first_weekday, teacher_token

RECORD_LESSON = """mutation($input: RecordClassLessonInput!) {
  recordClassLesson(input: $input) {
    lesson { id date topic status teacher { id } replacedTeacher { id } }
    userErrors { field code message }
  }
}"""
ATTENDANCE = """mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) {
    lesson { id attendanceTakenAt absences { status reason pupil { id } } }
    userErrors { field code message }
  }
}"""
TEACHER_DAY = """query($on: Date) { teacherDay(on: $on) {
  period startsAt classGroup { name } subject { code } slot { id } lesson { id topic } } }"""


class TestRecordLesson:
    async def test_the_teacher_records_the_topic(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session)
        day = s.lesson_day()
        variables = {
            "input": {
                "slotId": gid("TimetableSlot", s.slot.id),
                "date": day.isoformat(),
                "topic": "Дроби",
            }
        }
        data = await hub.data(RECORD_LESSON, variables, token=teacher_token(hub, s))
        lesson = data["recordClassLesson"]["lesson"]
        assert (lesson["topic"], lesson["status"], lesson["teacher"]) == (
            "Дроби",
            "HELD",
            {"id": gid("Person", s.teacher.id)},
        )
        # recording again edits the same lesson
        variables["input"]["topic"] = "Дроби и проценты"
        again = await hub.data(RECORD_LESSON, variables, token=teacher_token(hub, s))
        assert again["recordClassLesson"]["lesson"]["id"] == lesson["id"]
        count = await session.scalar(select(func.count()).select_from(ClassLesson))
        assert count == 1

    async def test_a_date_the_slot_does_not_fall_on_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        tuesday = s.lesson_day() + timedelta(days=1)
        data = await hub.data(
            RECORD_LESSON,
            {"input": {"slotId": gid("TimetableSlot", s.slot.id), "date": tuesday.isoformat()}},
            token=teacher_token(hub, s),
        )
        assert data["recordClassLesson"]["userErrors"][0]["code"] == "WRONG_WEEKDAY"
        assert await session.scalar(select(func.count()).select_from(ClassLesson)) == 0

    async def test_a_date_in_the_holidays_or_outside_the_year_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        start = s.last_year.start_year
        autumn = first_weekday(s.last_year.starts_on.replace(month=11, day=1), 1)
        summer = first_weekday(s.last_year.ends_on + timedelta(days=1), 1)
        codes = []
        for day in (autumn, summer):
            data = await hub.data(
                RECORD_LESSON,
                {"input": {"slotId": gid("TimetableSlot", s.slot.id), "date": day.isoformat()}},
                token=teacher_token(hub, s),
            )
            codes.append(data["recordClassLesson"]["userErrors"][0]["code"])
        assert codes == ["DATE_IN_HOLIDAYS", "DATE_OUTSIDE_YEAR"]
        assert start  # the year the dates were taken from
        # and nothing is written
        assert await session.scalar(select(func.count()).select_from(ClassLesson)) == 0

    async def test_another_teacher_may_not_record_the_slot(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        colleague, _ = await make_teacher(session, school=s.school, first_name="Мээрим")
        await session.commit()
        data = await hub.data(
            RECORD_LESSON,
            {
                "input": {
                    "slotId": gid("TimetableSlot", s.slot.id),
                    "date": s.lesson_day().isoformat(),
                }
            },
            token=teacher_token(hub, s, colleague),
        )
        assert data["recordClassLesson"]["userErrors"][0]["code"] == "NOT_YOUR_LESSON"
        assert await session.scalar(select(func.count()).select_from(ClassLesson)) == 0

    async def test_the_school_names_a_replacement_who_is_free(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        colleague, _ = await make_teacher(session, school=s.school, first_name="Мээрим")
        await session.commit()
        data = await hub.data(
            RECORD_LESSON,
            {
                "input": {
                    "slotId": gid("TimetableSlot", s.slot.id),
                    "date": s.lesson_day().isoformat(),
                    "replacementTeacherId": gid("Person", colleague.id),
                }
            },
            token=admin_token(hub, s),
        )
        lesson = data["recordClassLesson"]["lesson"]
        assert lesson["teacher"] == {"id": gid("Person", colleague.id)}
        assert lesson["replacedTeacher"] == {"id": gid("Person", s.teacher.id)}

    async def test_a_replacement_giving_another_lesson_then_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a colleague who gives 5Б's lesson on the same Monday, period 1
        s = await arrange_school(session)
        colleague, post = await make_teacher(session, school=s.school, first_name="Мээрим")
        other = await make_class_group(session, school=s.school, year=s.last_year, letter="Б")
        await make_teaching_assignment(
            session, klass=other, subject="mathematics", teacher=colleague, post=post
        )
        theirs = await make_slot(
            session, klass=other, subject="mathematics", teacher=colleague, weekday=1, period=1
        )
        await make_lesson(session, slot=theirs, on=s.lesson_day())
        await session.commit()

        # when the school names them to replace in 5А at that time
        data = await hub.data(
            RECORD_LESSON,
            {
                "input": {
                    "slotId": gid("TimetableSlot", s.slot.id),
                    "date": s.lesson_day().isoformat(),
                    "replacementTeacherId": gid("Person", colleague.id),
                }
            },
            token=admin_token(hub, s),
        )

        # then the exclusion constraint on lessons refuses it
        assert data["recordClassLesson"]["userErrors"][0]["code"] == "TIMETABLE_CLASH"


class TestRecordAttendance:
    async def test_the_whole_class_in_one_request(self, hub: Hub, session: AsyncSession) -> None:
        # given a lesson of a class of three
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        await session.commit()
        absent, late, present = s.pupils

        # when the teacher takes the register
        entries = [
            {"pupilId": gid("Person", absent.id), "status": "EXCUSED", "reason": "болеет"},
            {"pupilId": gid("Person", late.id), "status": "LATE", "minutesLate": 10},
            {"pupilId": gid("Person", present.id), "status": "PRESENT"},
        ]
        data = await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", lesson.id), "entries": entries}},
            token=teacher_token(hub, s),
        )

        # then the absences are kept, the present pupil needs no row
        result = data["recordAttendance"]["lesson"]
        assert result["attendanceTakenAt"] is not None
        assert sorted(a["status"] for a in result["absences"]) == ["EXCUSED", "LATE"]
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 2

    async def test_a_pupil_not_in_the_class_refuses_the_whole_register(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        stranger = await make_person(session)
        await session.commit()
        entries = [
            {"pupilId": gid("Person", s.pupils[0].id), "status": "ABSENT"},
            {"pupilId": gid("Person", stranger.id), "status": "ABSENT"},
        ]
        data = await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", lesson.id), "entries": entries}},
            token=teacher_token(hub, s),
        )
        assert data["recordAttendance"]["userErrors"] == [
            {
                "field": "entries[1]",
                "code": "PUPIL_NOT_IN_CLASS",
                "message": "The pupil is not in this class",
            }
        ]
        assert await session.scalar(select(func.count()).select_from(Attendance)) == 0

    async def test_taking_the_register_again_replaces_it(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        await session.commit()
        lesson_id = gid("ClassLesson", lesson.id)
        first = [{"pupilId": gid("Person", p.id), "status": "ABSENT"} for p in s.pupils[:2]]
        await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": lesson_id, "entries": first}},
            token=teacher_token(hub, s),
        )
        second = [{"pupilId": gid("Person", s.pupils[0].id), "status": "ABSENT"}]
        data = await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": lesson_id, "entries": second}},
            token=teacher_token(hub, s),
        )
        assert [a["pupil"]["id"] for a in data["recordAttendance"]["lesson"]["absences"]] == [
            gid("Person", s.pupils[0].id)
        ]

    async def test_an_excuse_needs_its_reason(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        await session.commit()
        data = await hub.data(
            ATTENDANCE,
            {
                "input": {
                    "lessonId": gid("ClassLesson", lesson.id),
                    "entries": [{"pupilId": gid("Person", s.pupils[0].id), "status": "EXCUSED"}],
                }
            },
            token=teacher_token(hub, s),
        )
        assert data["recordAttendance"]["userErrors"][0]["code"] == "INVALID_INPUT"

    async def test_a_teacher_of_another_subject_may_not(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
        colleague, post = await make_teacher(session, school=s.school, first_name="Мээрим")
        await make_teaching_assignment(
            session, klass=s.klass, subject="music", teacher=colleague, post=post
        )
        await session.commit()
        data = await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", lesson.id), "entries": []}},
            token=teacher_token(hub, s, colleague),
        )
        assert data["recordAttendance"]["userErrors"][0]["code"] == "NOT_FOUND"

    async def test_a_lesson_yet_to_come_takes_no_register(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, in_this_year=True)
        future = first_weekday(s.this_year.ends_on - timedelta(days=14), 1)
        lesson = await make_lesson(session, slot=s.slot, on=future)
        await session.commit()
        data = await hub.data(
            ATTENDANCE,
            {"input": {"lessonId": gid("ClassLesson", lesson.id), "entries": []}},
            token=teacher_token(hub, s),
        )
        assert data["recordAttendance"]["userErrors"][0]["code"] == "LESSON_IN_FUTURE"


class TestTeacherDay:
    async def test_the_teacher_sees_the_days_lessons_and_what_is_recorded(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        day = s.lesson_day()
        await make_lesson(session, slot=s.slot, on=day, topic="Дроби")
        await session.commit()
        rows = (await hub.data(TEACHER_DAY, {"on": day.isoformat()}, token=teacher_token(hub, s)))[
            "teacherDay"
        ]
        assert [
            (r["period"], r["startsAt"], r["classGroup"]["name"], r["lesson"]["topic"])
            for r in rows
        ] == [(1, "08:00:00", "5А", "Дроби")]

"""``diaryUpdated`` over graphql-transport-ws (issues 18 and 15, S4): a guardian and the pupil
are told when a mark, the attendance or homework of the pupil's lesson changes, under the
person rule (the pupil, their current guardians, whoever reads the pupil); a stranger cannot
follow a pupil, and a guardian whose guardianship ended is told nothing more."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Guardianship
from resolvers.access import Role
from resolvers.clock import today
from tests.events.conftest import LiveHub
from tests.events.ws import Socket, connected
from tests.factories import gid, make_lesson, make_person
from tests.lms.arrange import School, arrange_school

DIARY = """
subscription Diary($id: ID!) {
  diaryUpdated(pupilId: $id) {
    eventType kind pupilId lessonId onDate
    diary { days { lessons { marks { value } attendance } } }
  }
}
"""
RECORD_MARKS = """mutation($input: RecordMarksInput!) {
  recordMarks(input: $input) { marks { value } userErrors { field code message } }
}"""
RECORD_ATTENDANCE = """mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) { userErrors { field code message } }
}"""


async def school_with_lesson(session: AsyncSession) -> tuple[School, Any]:
    s = await arrange_school(session, grade=5)
    day = s.lesson_day(1) + timedelta(days=s.slot.weekday - 1)
    lesson = await make_lesson(session, slot=s.slot, on=day)
    await session.commit()
    return s, lesson


def teacher(hub: LiveHub, s: School) -> str:
    return hub.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id)


async def mark(hub: LiveHub, s: School, lesson: Any, *pupils: int, value: int = 5) -> None:
    body = await hub.data(
        RECORD_MARKS,
        {
            "input": {
                "lessonId": gid("ClassLesson", lesson.id),
                "marks": [
                    {"pupilId": gid("Person", s.pupils[i].id), "value": value} for i in pupils
                ],
            }
        },
        token=teacher(hub, s),
    )
    assert body["recordMarks"]["userErrors"] == []


async def quiet(socket: Socket, within: float = 2.0) -> bool:
    """Nothing arrives on the socket for ``within`` seconds."""
    try:
        await socket.next(within)
    except TimeoutError:
        return True
    return False


class TestDiaryUpdated:
    async def test_guardian_and_pupil_are_told_of_a_new_mark_with_the_day_as_they_read_it(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given the first pupil's guardian and the pupil following the pupil's diary
        s, lesson = await school_with_lesson(session)
        pupil = gid("Person", s.pupils[0].id)
        mother = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=s.guardian.id)
        )
        await mother.subscribe("1", DIARY, {"id": pupil})
        child = await connected(
            live_hub.ws_url, live_hub.token(Role.PUPIL, person_id=s.pupils[0].id)
        )
        await child.subscribe("1", DIARY, {"id": pupil})
        # when the teacher marks the lesson
        await mark(live_hub, s, lesson, 0, 1)
        # then both are told, with the day's diary showing the mark
        for socket in (mother, child):
            message = await socket.next()
            assert message["type"] == "next", message
            change = message["payload"]["data"]["diaryUpdated"]
            assert change["kind"] == "MARKS"
            assert change["eventType"] == "lms.marks_recorded"
            assert change["pupilId"] == pupil
            assert change["lessonId"] == gid("ClassLesson", lesson.id)
            assert change["onDate"] == lesson.on_date.isoformat()
            lessons = change["diary"]["days"][0]["lessons"]
            assert [m["value"] for each in lessons for m in each["marks"]] == [5]
        await mother.close()
        await child.close()

    async def test_attendance_is_pushed_to_the_guardian(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a guardian following their child's diary
        s, lesson = await school_with_lesson(session)
        socket = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=s.guardian.id)
        )
        await socket.subscribe("1", DIARY, {"id": gid("Person", s.pupils[0].id)})
        # when the register marks the child absent
        body = await live_hub.data(
            RECORD_ATTENDANCE,
            {
                "input": {
                    "lessonId": gid("ClassLesson", lesson.id),
                    "entries": [{"pupilId": gid("Person", s.pupils[0].id), "status": "ABSENT"}],
                }
            },
            token=teacher(live_hub, s),
        )
        assert body["recordAttendance"]["userErrors"] == []
        # then the guardian is told, the day showing the absence
        change = (await socket.next())["payload"]["data"]["diaryUpdated"]
        assert change["kind"] == "ATTENDANCE"
        assert change["diary"]["days"][0]["lessons"][0]["attendance"] == "ABSENT"
        await socket.close()

    async def test_a_stranger_cannot_follow_a_pupil(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a guardian of nobody in the class (rule: a guardian reads their children only)
        s, _ = await school_with_lesson(session)
        stranger = await make_person(session, birth_date=date(1980, 1, 1), first_name="Бекзат")
        await session.commit()
        socket = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=stranger.id)
        )
        # when they follow the pupil's diary
        await socket.subscribe("1", DIARY, {"id": gid("Person", s.pupils[0].id)})
        # then they are refused as if the pupil did not exist
        message = await socket.next()
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        assert message["type"] == "error" or message["payload"]["data"] is None
        await socket.close()

    async def test_a_guardian_whose_guardianship_ended_is_told_nothing_more(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given the guardian and the pupil following the pupil's diary
        s, lesson = await school_with_lesson(session)
        pupil = gid("Person", s.pupils[0].id)
        mother = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=s.guardian.id)
        )
        await mother.subscribe("1", DIARY, {"id": pupil})
        child = await connected(
            live_hub.ws_url, live_hub.token(Role.PUPIL, person_id=s.pupils[0].id)
        )
        await child.subscribe("1", DIARY, {"id": pupil})
        await asyncio.sleep(0.5)
        # when the guardianship ends, and then the teacher marks the pupil
        await session.execute(
            update(Guardianship)
            .where(Guardianship.guardian_id == s.guardian.id)
            .values(valid_from=date(2020, 1, 1), valid_to=today())
        )
        await session.commit()
        await mark(live_hub, s, lesson, 0)
        # then the pupil is told, and the former guardian is not
        assert (await child.next())["type"] == "next"
        assert await quiet(mother)
        await mother.close()
        await child.close()

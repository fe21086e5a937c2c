"""The school pages on the compiled path (issue 21): a teacher's day (portals/lms/TeacherDay),
a class's, teacher's or room's timetable (SchoolTimetable) and the counsellors' reports
(ConcernReports) are answered in one statement each, byte for byte as the resolvers answer
them, for every kind of caller: the row rules (issue 15: a class, its timetable and its
lessons are read by its school's staff, the officers in scope and the ministry, its pupils and
their guardians; S4: reports by the counsellors they were routed to), a teacher asking for
another's day, the errors and the fields the compiled path does not know."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ConcernReport, District, Region
from resolvers.access import Role
from resolvers.relay import decode_id
from tests.factories import (
    gid,
    make_class_group,
    make_lesson,
    make_room,
    make_slot,
    make_teacher,
    make_teaching_assignment,
)
from tests.lms.arrange import School, arrange_school
from tests.test_compiled import Pair, pair
from tests.test_compiled_callers import Built

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "lms"
TEACHER_DAY = (PORTAL / "TeacherDay.graphql").read_text()
TIMETABLE = (PORTAL / "SchoolTimetable.graphql").read_text()
REPORTS = (PORTAL / "ConcernReports.graphql").read_text()

# Every field the compiled day knows, with aliases, typenames and fragments.
DAY_EVERYTHING = """
query Day($on: Date, $teacherId: ID) {
  teacherDay(on: $on, teacherId: $teacherId) {
    __typename date period startsAt endsAt subgroup
    classGroup { ...klass }
    subject { __typename id code nameKy nameRu nameEn }
    room { id name capacity }
    slot { ...slot }
    recorded: lesson {
      __typename id date startsAt endsAt subgroup topic status attendanceTakenAt
      homework { __typename id text assignedOn dueOn acceptsSubmissions subject { code } }
      subject { code } classGroup { name } slot { id weekday }
      teacher { id fullName } replacedTeacher { id fullName }
    }
  }
}
fragment klass on ClassGroup {
  __typename id name grade letter shift capacity pupilCount
  school { id name region { nameEn } } homeroomTeacher { id }
}
fragment slot on TimetableSlot {
  __typename id weekday period startsAt endsAt subgroup validFrom validTo
  classGroup { name } subject { code } teacher { id fullName birthDate } room { name }
}
"""
TIMETABLE_EVERYTHING = """
query Week($classGroupId: ID, $teacherId: ID, $roomId: ID, $on: Date) {
  week: timetable(classGroupId: $classGroupId, teacherId: $teacherId, roomId: $roomId, on: $on) {
    __typename id weekday period startsAt endsAt subgroup validFrom validTo
    classGroup { ... on ClassGroup { id name pupilCount school { name } } }
    subject { id code nameEn }
    teacher { id fullName sex }
    room { __typename id name capacity }
  }
}
"""
REPORTS_EVERYTHING = """
query Reports($status: ConcernStatus, $first: Int, $after: String) {
  concernReports(status: $status, first: $first, after: $after) {
    __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage endCursor startCursor }
    nodes {
      __typename id category text status receivedOn reply
      district { id nameEn nameKy region { nameEn } } region { id nameEn }
      events { __typename status note actor at }
    }
  }
}
"""
RECORD_LESSON = """mutation($input: RecordClassLessonInput!) {
  recordClassLesson(input: $input) { userErrors { field code message } }
}"""
ATTENDANCE = """mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) { userErrors { field code message } }
}"""
HOMEWORK = """mutation($input: AssignHomeworkInput!) {
  assignHomework(input: $input) { userErrors { field code message } }
}"""
REPORT = """mutation($input: ReportConcernInput!) {
  reportConcern(input: $input) { receipt userErrors { field code message } }
}"""
ADVANCE = """mutation($input: AdvanceConcernReportInput!) {
  advanceConcernReport(input: $input) { userErrors { field code message } }
}"""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _send(pair: Pair, document: str, variables: dict[str, Any], token: str) -> Any:
    response = await pair.slow.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers=_bearer(token),
    )
    (payload,) = response.json()["data"].values()
    assert payload["userErrors"] == [], payload
    return payload


async def _day(pair: Pair, session: AsyncSession) -> tuple[School, dict[str, Any]]:
    """A school's Monday: the teacher's own slot with its lesson (topic, register, homework),
    a second slot of theirs with nothing recorded yet, in a room, and a lesson they give in a
    colleague's slot (a replacement); and a second school with a class of its own."""
    s = await arrange_school(session, grade=6, pupils=3)
    colleague, post = await make_teacher(session, school=s.school, first_name='Айгүл "Ай"')
    await make_teaching_assignment(
        session, klass=s.klass, subject="kyrgyz_language", teacher=colleague, post=post
    )
    room = await make_room(session, school=s.school, name="Спортзал \\ 2")
    later = await make_slot(
        session, klass=s.klass, subject="mathematics", teacher=s.teacher, weekday=1, period=3,
        room=room,
    )  # fmt: skip
    theirs = await make_slot(
        session, klass=s.klass, subject="kyrgyz_language", teacher=colleague, weekday=1, period=2
    )
    day = s.lesson_day(1)
    lesson = await make_lesson(session, slot=s.slot, on=day, topic='Бөлчөк "½" \\ \n')
    await session.commit()
    admin = pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"])
    teacher = pair.token(
        Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id
    )
    await _send(pair, RECORD_LESSON, {"input": {
        "slotId": gid("TimetableSlot", theirs.id), "date": day.isoformat(), "topic": "Алиппе",
        "replacementTeacherId": gid("Person", s.teacher.id)}}, admin)  # fmt: skip
    lesson_id = gid("ClassLesson", lesson.id)
    entries = [{"pupilId": gid("Person", s.pupils[0].id), "status": "ABSENT"}]
    await _send(pair, ATTENDANCE, {"input": {"lessonId": lesson_id, "entries": entries}}, teacher)
    await _send(pair, HOMEWORK, {"input": {"lessonId": lesson_id, "text": "№ 12, «14»",
                "dueOn": (day + timedelta(days=7)).isoformat()}}, teacher)  # fmt: skip
    other = await arrange_school(session, grade=6, pupils=1)
    return s, {
        "school": s,
        "other": other,
        "colleague": colleague,
        "room": room,
        "later": later,
        "on": day.isoformat(),
    }


def _callers(pair: Pair, s: School, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    other: School = arranged["other"]
    token = pair.token
    school = f"institution:{s.school.id}"
    return {
        "the teacher": _bearer(token(Role.TEACHER, scopes=[school], person_id=s.teacher.id)),
        "a colleague": _bearer(
            token(Role.TEACHER, scopes=[school], person_id=arranged["colleague"].id)
        ),
        "a teacher of another school": _bearer(
            token(Role.TEACHER, scopes=[f"institution:{other.school.id}"], person_id=s.teacher.id)
        ),
        "school admin": _bearer(token(Role.SCHOOL_ADMIN, scopes=[school])),
        "another school's admin": _bearer(
            token(Role.SCHOOL_ADMIN, scopes=[f"institution:{other.school.id}"])
        ),
        "region officer": _bearer(
            token(Role.REGION_OFFICER, scopes=[f"region:{s.school.region_id}"])
        ),
        "district officer": _bearer(
            token(Role.DISTRICT_OFFICER, scopes=[f"district:{s.school.district_id}"])
        ),
        "ministry": _bearer(token(Role.MINISTRY)),
        "guardian": _bearer(token(Role.GUARDIAN, person_id=s.guardian.id)),
        "pupil": _bearer(token(Role.PUPIL, person_id=s.pupils[0].id)),
        "another school's pupil": _bearer(token(Role.PUPIL, person_id=other.pupils[0].id)),
        "counsellor": _bearer(token(Role.COUNSELLOR, scopes=[f"district:{s.school.district_id}"])),
        "anonymous": {},
    }


# What the resolvers answer through an error or a partner's field rules: the compiled path
# leaves these callers to them.
TO_THE_RESOLVERS = {"anonymous"}


async def _compare(
    pair: Pair, document: str, variables: dict[str, Any], caller: str, headers: dict[str, str]
) -> dict[str, Any]:
    fast, slow, statements = await pair.both(document, variables, headers)
    assert fast == slow, (caller, fast, slow)
    if caller not in TO_THE_RESOLVERS and "errors" not in fast:
        assert statements == 1, (caller, pair.counter.statements)
    return fast


async def test_the_compiled_teacher_day_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a teacher's Monday: their lesson with register and homework, a slot with nothing
    # recorded in a room, a lesson they give in a colleague's slot
    s, arranged = await _day(pair, session)
    callers = _callers(pair, s, arranged)
    on = {"on": arranged["on"]}
    days = {}
    for caller, headers in callers.items():
        for document in (TEACHER_DAY, DAY_EVERYTHING):
            # when both paths answer the caller's own day
            fast = await _compare(pair, document, on, caller, headers)
            days[caller, document] = fast
    # then the teacher's day holds their three lessons in the day's order
    mine = days["the teacher", DAY_EVERYTHING]["data"]["teacherDay"]
    assert [(r["period"], r["recorded"] and r["recorded"]["topic"]) for r in mine] == [
        (1, 'Бөлчөк "½" \\ \n'),
        (2, "Алиппе"),
        (3, None),
    ]
    assert mine[0]["recorded"]["homework"]["text"] == "№ 12, «14»"
    assert mine[0]["recorded"]["attendanceTakenAt"] is not None
    assert mine[1]["recorded"]["replacedTeacher"]["id"] == gid("Person", arranged["colleague"].id)
    assert mine[2]["room"]["name"] == "Спортзал \\ 2"
    # and a teacher with the same person at another school reads none of this school's classes
    assert days["a teacher of another school", TEACHER_DAY]["data"]["teacherDay"] == []


async def test_a_teachers_day_asked_for_by_another(pair: Pair, session: AsyncSession) -> None:
    s, arranged = await _day(pair, session)
    callers = _callers(pair, s, arranged)
    asked = {"on": arranged["on"], "teacherId": gid("Person", s.teacher.id)}
    readable = {"the teacher", "school admin", "region officer", "district officer", "ministry"}
    for caller, headers in callers.items():
        # when a caller asks for the teacher's day by their id
        fast = await _compare(pair, DAY_EVERYTHING, asked, caller, headers)
        if caller in TO_THE_RESOLVERS:
            continue
        # then the school's administration and officers read it, a colleague reads [] (a
        # teacher reads only their own), families read the lessons of their child's class
        lessons = fast["data"]["teacherDay"]
        assert (len(lessons) == 3) == (caller in readable | {"guardian", "pupil"}), caller
    # and an ID of another type, or not an ID, is the resolvers' error
    ministry = callers["ministry"]
    for bad in (gid("ClassGroup", s.klass.id), "not-an-id"):
        fast = await _compare(pair, DAY_EVERYTHING, {**asked, "teacherId": bad}, "", ministry)
        assert fast["errors"], fast
    # and a day without lessons, or today (read by PostgreSQL), is the resolvers' too
    for variables in ({"on": (s.lesson_day(1) + timedelta(days=1)).isoformat()}, {}):
        for caller in ("the teacher", "ministry"):
            await _compare(pair, TEACHER_DAY, variables, caller, callers[caller])


async def test_the_compiled_timetable_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a class's week: three slots on Monday, one in a room, two teachers
    s, arranged = await _day(pair, session)
    callers = _callers(pair, s, arranged)
    on = arranged["on"]
    asks = {
        "class": {"classGroupId": s.class_id, "on": on},
        "teacher": {"teacherId": gid("Person", s.teacher.id), "on": on},
        "room": {"roomId": gid("Room", arranged["room"].id), "on": on},
        "today": {"classGroupId": s.class_id},
    }
    readable = {"the teacher", "a colleague", "school admin", "region officer",
                "district officer", "ministry", "guardian", "pupil"}  # fmt: skip
    for caller, headers in callers.items():
        for ask, variables in asks.items():
            for document in (TIMETABLE, TIMETABLE_EVERYTHING):
                # when both paths answer
                fast = await _compare(pair, document, variables, caller, headers)
                if caller in TO_THE_RESOLVERS or ask == "today":
                    continue
                # then the class's school, its officers and families read its week
                (slots,) = fast["data"].values()
                expected = {"class": 3, "teacher": 2, "room": 1}[ask]
                assert len(slots) == (expected if caller in readable else 0), (caller, ask)
    # and none or two of class, teacher and room, or a wrong ID, are the resolvers' errors
    ministry = callers["ministry"]
    for variables in (
        {"on": on},
        {"classGroupId": s.class_id, "roomId": gid("Room", arranged["room"].id)},
        {"classGroupId": gid("Person", s.teacher.id)},
        {"roomId": "not-an-id"},
    ):
        fast = await _compare(pair, TIMETABLE, variables, "", ministry)
        assert fast["errors"], (variables, fast)


async def _reports(pair: Pair, s: School, n: int) -> list[str]:
    """``n`` reports from the school's pupils, routed to its district."""
    receipts = []
    for i in range(n):
        pupil = s.pupils[i % len(s.pupils)]
        data = await _send(pair, REPORT, {"input": {"category": ["BULLYING", "PRESSURE"][i % 2],
                           "text": f'Меня обижают "{i}" \\ \t'}},
                           pair.token(Role.PUPIL, person_id=pupil.id))  # fmt: skip
        receipts.append(data["receipt"])
    return receipts


async def test_the_compiled_concern_reports_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given five reports routed to a district, two of them moved on by a counsellor
    s = await arrange_school(session, grade=6, pupils=3)
    await _reports(pair, s, 5)
    district = f"district:{s.school.district_id}"
    counsellor = pair.token(Role.COUNSELLOR, scopes=[district])
    first = await pair.both(REPORTS, {"first": 50}, _bearer(counsellor))
    nodes = first[0]["data"]["concernReports"]["nodes"]
    for node in nodes[:2]:
        await _send(pair, ADVANCE, {"input": {"reportId": node["id"], "status": "IN_REVIEW",
                    "note": "Беседа", "reply": "Мы вас слышим"}}, counsellor)  # fmt: skip
    await _send(pair, ADVANCE, {"input": {"reportId": nodes[0]["id"], "status": "REFERRED"}},
                counsellor)  # fmt: skip
    # and one report that could not be routed (it goes to the counsellors of every region)
    _, unrouted = decode_id(nodes[-1]["id"])
    await session.execute(
        update(ConcernReport)
        .where(ConcernReport.id == unrouted)
        .values(region_id=None, district_id=None)
    )
    await session.commit()
    regions = (await session.scalars(select(Region.id).where(Region.valid_to.is_(None)))).all()
    elsewhere = await session.scalar(
        select(District.id).where(District.region_id != s.school.region_id).limit(1)
    )
    callers = {
        "district counsellor": _bearer(counsellor),
        "region counsellor": _bearer(
            pair.token(Role.COUNSELLOR, scopes=[f"region:{s.school.region_id}"])
        ),
        "another district's counsellor": _bearer(
            pair.token(Role.COUNSELLOR, scopes=[f"district:{elsewhere}"])
        ),
        "counsellor of every region": _bearer(
            pair.token(Role.COUNSELLOR, scopes=[f"region:{r}" for r in regions])
        ),
        "ministry": _bearer(pair.token(Role.MINISTRY)),
        "school admin": _bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"])
        ),
        "anonymous": {},
    }
    seen = {}
    for caller, headers in callers.items():
        for variables in (
            {"first": 50},
            {"status": "RECEIVED", "first": 50},
            {"status": "IN_REVIEW"},
            {"first": 2},
        ):
            for document in (REPORTS_EVERYTHING, REPORTS):
                fast, slow, statements = await pair.both(document, variables, headers)
                assert fast == slow, (caller, variables)
                if "errors" not in fast:
                    assert statements == 1, (caller, pair.counter.statements)
                    seen[caller, tuple(variables)] = fast["data"]["concernReports"]
    # then the counsellors the reports were routed to read them, no one else (S4)
    assert seen["district counsellor", ("first",)]["totalCount"] == 4
    assert seen["region counsellor", ("first",)]["totalCount"] == 4
    assert seen["counsellor of every region", ("first",)]["totalCount"] == 5
    assert seen["another district's counsellor", ("first",)]["totalCount"] == 0
    assert ("ministry", ("first",)) not in seen  # FORBIDDEN, from the resolvers
    # and the pages after the first follow the cursor alike
    page = seen["district counsellor", ("first",)]
    cursor = (await pair.both(REPORTS, {"first": 2}, callers["district counsellor"]))[0]
    after = cursor["data"]["concernReports"]["pageInfo"]["endCursor"]
    while after is not None:
        fast, _, statements = await pair.both(
            REPORTS_EVERYTHING, {"first": 2, "after": after}, callers["district counsellor"]
        )
        assert statements == 1
        info = fast["data"]["concernReports"]["pageInfo"]
        after = info["endCursor"] if info["hasNextPage"] else None
    assert page["nodes"][0]["events"] == [
        {"status": "IN_REVIEW", "note": "Беседа"},
        {"status": "REFERRED", "note": None},
    ]


async def test_every_teacher_reads_their_day_from_one_kept_statement(
    pair: Pair, session: AsyncSession
) -> None:
    # given two schools, each with a teacher's Monday
    days = [await _day(pair, session) for _ in range(2)]
    built = Built(pair)
    texts: set[str] = set()
    for t, (s, arranged) in enumerate(days):
        headers = _bearer(
            pair.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id)
        )
        for document, variables in (
            (TEACHER_DAY, {"on": arranged["on"]}),
            (TIMETABLE, {"classGroupId": s.class_id, "on": arranged["on"]}),
        ):
            # when each teacher opens their day and their class's week
            fast = await _compare(pair, document, variables, "teacher", headers)
            texts.update(pair.counter.statements or ())
            (rows,) = fast["data"].values()
            assert len(rows) == 3, t
    # then one statement was built per page for both, sent to PostgreSQL as one text each
    assert built.since() == (2, 2)
    assert len(texts) == 2


async def test_a_field_it_does_not_know_takes_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    s, arranged = await _day(pair, session)
    ministry = _bearer(pair.token(Role.MINISTRY))
    for document, variables in (
        (TEACHER_DAY.replace("attendanceTakenAt", "attendanceTakenAt absences { status }"),
         {"on": arranged["on"]}),
        (TEACHER_DAY.replace("pupilCount", "pupilCount pupils { id }"), {"on": arranged["on"]}),
        (TIMETABLE.replace("validTo", "validTo classGroup { subjects { weeklyHours } }"),
         {"classGroupId": s.class_id}),
        (REPORTS.replace("totalCount", "totalCount edges { cursor }"), {"first": 5}),
    ):  # fmt: skip
        fast, slow, statements = await pair.both(document, variables, ministry)
        assert fast == slow
        assert statements != 1 or "errors" in fast


CLASSES = (PORTAL / "SchoolClasses.graphql").read_text()
CLASSES_EVERYTHING = """
query Classes($filter: ClassGroupFilter, $first: Int, $after: String) {
  classGroups(filter: $filter, first: $first, after: $after) {
    __typename totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id name grade letter shift language curriculumModel capacity pupilCount
      school { id name } homeroomTeacher { id fullName }
    }
  }
}
"""


async def test_the_compiled_class_list_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a school with three classes (one with a home-room teacher), and another school
    s, arranged = await _day(pair, session)
    for letter in ("Б", "В"):
        await make_class_group(
            session, school=s.school, year=s.last_year, grade=7, letter=letter,
            homeroom_teacher=s.teacher if letter == "Б" else None,
        )  # fmt: skip
    await session.commit()
    callers = _callers(pair, s, arranged)
    other: School = arranged["other"]
    asks: dict[str, dict[str, Any]] = {
        "the school": {"filter": {"schoolId": s.id}, "first": 50},
        "a page of two": {"filter": {"schoolId": s.id}, "first": 2},
        "a grade": {"filter": {"schoolId": s.id, "grade": 7}},
        "a year": {"filter": {"academicYearId": gid("AcademicYear", s.last_year.id)}},
        "every class": {"first": 50},
        "the other school": {"filter": {"schoolId": other.id}},
    }
    readable = {"the teacher", "a colleague", "school admin", "region officer",
                "district officer", "ministry", "guardian", "pupil"}  # fmt: skip
    for caller, headers in callers.items():
        for ask, variables in asks.items():
            for document in (CLASSES, CLASSES_EVERYTHING):
                # when both paths answer
                fast = await _compare(pair, document, variables, caller, headers)
                if caller in TO_THE_RESOLVERS or ask != "the school":
                    continue
                # then the school's staff and officers read its three classes, its families
                # the class of their child
                (found,) = fast["data"].values()
                expected = 3 if caller in readable - {"guardian", "pupil"} else 0
                expected = 1 if caller in ("guardian", "pupil") else expected
                assert found["totalCount"] == expected, caller
    # and the pages after the first follow the cursor alike
    admin = callers["school admin"]
    fast = await _compare(pair, CLASSES, asks["a page of two"], "school admin", admin)
    after = fast["data"]["classGroups"]["pageInfo"]["endCursor"]
    page = {**asks["a page of two"], "after": after}
    second = await _compare(pair, CLASSES_EVERYTHING, page, "school admin", admin)
    assert len(second["data"]["classGroups"]["nodes"]) == 1
    # and a filter's wrong ID is the resolvers' error
    bad = {"filter": {"schoolId": gid("Person", s.teacher.id)}}
    assert (await _compare(pair, CLASSES, bad, "", admin))["errors"]

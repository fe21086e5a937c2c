"""The school LMS (portals/lms): teachers mark lessons, take registers, give marks and homework;
head teachers set up classes and the timetable; pupils and guardians read the diary and hand in
homework; pupils report concerns and counsellors handle them.

Preparers write, with SQL, last school year's school: a class of 6th-graders under the
11-year model (five-point marks) with its curriculum, pupils enrolled and in the class, a
guardian, a mathematics teacher per class with a slot, the bell schedule, and lessons on the
slot's weekdays within the year's terms (triggers on: the database checks what it holds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bench.workloads import Bench, Call, Workload
from bench.workloads.arrange import connect as _connect
from resolvers import clock
from resolvers.access import Role
from resolvers.lms import default_terms
from resolvers.relay import encode_id

DISTRICT = 50  # Lenin district of Bishkek (migration data)
LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФ"
CLASS_SIZE = 30


@dataclass
class School:
    id: int
    year_id: int
    this_year_id: int
    term_ids: list[int]
    school_days: list[date]  # last year's school days (terms only)
    classes: list[int] = field(default_factory=list)
    teachers: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    pupils: list[int] = field(default_factory=list)
    guardian: int = 0
    math: int = 0


async def school_year(conn: Any, start: int) -> tuple[int, list[int], list[date]]:
    """The school year beginning in ``start`` with its four terms (made unless there): its id,
    its terms' ids and its school days (Monday to Friday within the terms)."""
    starts, ends = date(start, 9, 1), date(start + 1, 5, 31)
    year_id = await conn.fetchval(
        "INSERT INTO academic_year (start_year, name, starts_on, ends_on) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (start_year) DO UPDATE SET name = excluded.name RETURNING id",
        start, f"{start}-{start + 1}", starts, ends,
    )  # fmt: skip
    terms, days = [], []
    for t in default_terms(starts, ends):
        terms.append(
            await conn.fetchval(
                "INSERT INTO term (academic_year_id, number, starts_on, ends_on)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (academic_year_id, number)"
                " DO UPDATE SET number = excluded.number RETURNING id",
                year_id, t.number, t.starts_on, t.ends_on,
            )
        )  # fmt: skip
        day = t.starts_on
        while day <= t.ends_on:
            if day.isoweekday() <= 5:
                days.append(day)
            day += timedelta(days=1)
    return year_id, terms, days


async def _people(conn: Any, n: int, born: date, name: str) -> list[int]:
    rows = await conn.fetch(
        "INSERT INTO person (last_name, first_name, sex, birth_date)"
        " SELECT 'Асанов', $2 || g, 'male', $3 FROM generate_series(1, $1) g RETURNING id",
        n, name, born,
    )  # fmt: skip
    return [r["id"] for r in rows]


async def _school(conn: Any, *, classes: int = 1, pupils: int = 3) -> School:
    """A school of last year with ``classes`` 6th-grade classes of ``pupils`` pupils, each
    with its own mathematics teacher and a Monday slot in period 1."""
    this = clock.today().year if clock.today().month >= 9 else clock.today().year - 1
    year_id, term_ids, days = await school_year(conn, this - 1)
    this_year_id, _, _ = await school_year(conn, this)
    school = School(
        id=await conn.fetchval(
            "INSERT INTO institution (kind, ownership, name, region_id, district_id, languages,"
            " design_capacity, country_code) SELECT 'school', 'state', 'Bench LMS school',"
            " region_id, id, ARRAY['ky','ru'], 900, 'KG' FROM district WHERE id = $1"
            " RETURNING id",
            DISTRICT,
        ),
        year_id=year_id,
        this_year_id=this_year_id,
        term_ids=term_ids,
        school_days=days,
    )
    school.math = await conn.fetchval("SELECT id FROM subject WHERE code = 'mathematics'")
    await conn.execute(
        "INSERT INTO bell_period (institution_id, shift, number, starts_minute, ends_minute)"
        " SELECT $1, 1, n, 480 + (n - 1) * 55, 525 + (n - 1) * 55 FROM generate_series(1, 7) n",
        school.id,
    )
    for c in range(classes):
        # All in the 6th grade (mathematics is a subject of grades 1-6 only; the 7th learns
        # algebra and geometry): "А" to "Ф", then "А1" to "Ф1", and so on.
        letter = LETTERS[c % len(LETTERS)] + (str(c // len(LETTERS)) if c >= len(LETTERS) else "")
        await _class(conn, school, letter, 6, pupils)
    school.guardian = (await _people(conn, 1, date(1985, 1, 1), "Гульнара"))[0]
    await conn.execute(
        "INSERT INTO guardianship (guardian_id, child_id, kind, valid_from)"
        " VALUES ($1, $2, 'mother', date '2015-01-01')",
        school.guardian,
        school.pupils[0],
    )
    return school


async def _class(conn: Any, school: School, letter: str, grade: int, pupils: int) -> None:
    starts = await conn.fetchval(
        "SELECT starts_on FROM academic_year WHERE id = $1", school.year_id
    )
    klass = await conn.fetchval(
        "INSERT INTO class_group (institution_id, academic_year_id, grade, letter, language,"
        " shift, curriculum_model, capacity) VALUES ($1, $2, $3, $4, 'ky', 1, 'eleven_year', 36)"
        " RETURNING id",
        school.id, school.year_id, grade, letter,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO class_subject (class_group_id, subject_id, weekly_hours)"
        " SELECT $1, subject_id, weekly_hours FROM curriculum_plan"
        " WHERE grade = $2 AND curriculum_model = 'eleven_year'",
        klass,
        grade,
    )
    members = await _people(conn, pupils, date(starts.year - 5 - grade, 3, 14), "Айбек")
    await conn.execute(
        """WITH e AS (
             INSERT INTO enrollment (person_id, institution_id, sector, entry_date, grade_level)
             SELECT p, $2, 'school', $3, $4 FROM unnest($1::int[]) p RETURNING id, person_id)
           INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id,
             institution_id, academic_year_id, grade, since)
           SELECT $5, e.id, e.person_id, $2, $6, $4, $3 FROM e""",
        members, school.id, starts, grade, klass, school.year_id,
    )  # fmt: skip
    teacher = (await _people(conn, 1, date(1985, 4, 2), "Чолпон"))[0]
    post = await conn.fetchval(
        "INSERT INTO staff_position (person_id, institution_id, role, start_date, rate)"
        " VALUES ($1, $2, 'teacher', date '2020-09-01', 1.0) RETURNING id",
        teacher,
        school.id,
    )
    await conn.execute(
        "INSERT INTO teaching_assignment (class_group_id, subject_id, teacher_id,"
        " staff_position_id, institution_id, academic_year_id, since)"
        " VALUES ($1, $2, $3, $4, $5, $6, date '2020-09-01')",
        klass, school.math, teacher, post, school.id, school.year_id,
    )  # fmt: skip
    slot = await conn.fetchval(
        "INSERT INTO timetable_slot (academic_year_id, institution_id, class_group_id,"
        " subject_id, teacher_id, weekday, shift, period, starts_minute, ends_minute, subgroup,"
        " valid_from) VALUES ($1, $2, $3, $4, $5, 1, 1, 1, 480, 525, 0, $6) RETURNING id",
        school.year_id, school.id, klass, school.math, teacher, starts,
    )  # fmt: skip
    school.classes.append(klass)
    school.teachers.append(teacher)
    school.slots.append(slot)
    school.pupils.extend(members)


def _mondays(school: School) -> list[date]:
    return [d for d in school.school_days if d.isoweekday() == 1]


async def _lessons(conn: Any, school: School, n: int) -> list[tuple[int, int, date]]:
    """``n`` lessons (lesson id, class index, date) on the classes' Monday slots."""
    made = []
    mondays = _mondays(school)
    for i in range(n):
        c, week = i % len(school.slots), i // len(school.slots)
        on = mondays[week % len(mondays)]
        lesson = await conn.fetchval(
            "INSERT INTO class_lesson (academic_year_id, institution_id, class_group_id,"
            " subject_id, slot_id, teacher_id, on_date, starts_minute, ends_minute, subgroup,"
            " topic, status, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, 480, 525, 0,"
            " 'Дроби', 'held', 'bench') RETURNING id",
            school.year_id, school.id, school.classes[c], school.math, school.slots[c],
            school.teachers[c], on,
        )  # fmt: skip
        made.append((lesson, c, on))
    return made


def _classes_for(n: int) -> int:
    """Classes enough for ``n`` lessons, one a Monday each (33 Mondays a year)."""
    return max(1, -(-n // 30))


def _teacher(bench: Bench, school: School, c: int = 0) -> str:
    return bench.token(
        Role.TEACHER, person_id=school.teachers[c], scopes=[f"institution:{school.id}"]
    )


def _admin(bench: Bench, school: School) -> str:
    return bench.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])


def _pupils_of(school: School, c: int, per_class: int) -> list[int]:
    return school.pupils[c * per_class : (c + 1) * per_class]


# --- the teacher ---------------------------------------------------------------------------


async def teacher_day(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn)
        (_, _, on), *_ = await _lessons(conn, s, 1)
    return [Call({"on": on.isoformat()}, _teacher(bench, s))]


async def class_gradebook(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, pupils=CLASS_SIZE)
        for lesson, _, on in await _lessons(conn, s, 6):
            await conn.execute(
                "INSERT INTO mark (academic_year_id, lesson_id, pupil_id, class_group_id,"
                " subject_id, on_date, work, scheme, value, teacher_id, recorded_by)"
                " SELECT $1, $2, p, $3, $4, $5, 'oral', 'five_point', 2 + p % 4, $6, 'bench'"
                " FROM unnest($7::int[]) p",
                s.year_id, lesson, s.classes[0], s.math, on, s.teachers[0], s.pupils,
            )  # fmt: skip
    variables = {
        "classGroupId": encode_id("ClassGroup", s.classes[0]),
        "subjectId": encode_id("Subject", s.math),
        "termId": encode_id("Term", s.term_ids[0]),
    }
    return [Call(variables, _teacher(bench, s))]


async def record_class_lesson(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, classes=_classes_for(n), pupils=1)
    mondays = _mondays(s)
    return [
        Call(
            {
                "input": {
                    "slotId": encode_id("TimetableSlot", s.slots[i % len(s.slots)]),
                    "date": mondays[i // len(s.slots)].isoformat(),
                    "topic": "Дроби",
                }
            },
            _teacher(bench, s, i % len(s.slots)),
        )
        for i in range(n)
    ]


async def _lesson_calls(bench: Bench, n: int, pupils: int, variables: Any) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, classes=_classes_for(n), pupils=pupils)
        lessons = await _lessons(conn, s, n)
    return [
        Call(variables(lesson, _pupils_of(s, c, pupils), on), _teacher(bench, s, c))
        for lesson, c, on in lessons
    ]


async def record_attendance(bench: Bench, n: int) -> list[Call]:
    def variables(lesson: int, pupils: list[int], on: date) -> dict[str, Any]:
        entries = [
            {"pupilId": encode_id("Person", p),
             "status": "ABSENT" if i % 10 == 0 else "PRESENT"}
            for i, p in enumerate(pupils)
        ]  # fmt: skip
        return {"input": {"lessonId": encode_id("ClassLesson", lesson), "entries": entries}}

    return await _lesson_calls(bench, n, CLASS_SIZE, variables)


async def record_marks(bench: Bench, n: int) -> list[Call]:
    def variables(lesson: int, pupils: list[int], on: date) -> dict[str, Any]:
        marks = [
            {"pupilId": encode_id("Person", p), "value": 2 + i % 4} for i, p in enumerate(pupils)
        ]
        return {"input": {"lessonId": encode_id("ClassLesson", lesson), "marks": marks}}

    return await _lesson_calls(bench, n, CLASS_SIZE, variables)


async def assign_homework(bench: Bench, n: int) -> list[Call]:
    def variables(lesson: int, pupils: list[int], on: date) -> dict[str, Any]:
        return {"input": {"lessonId": encode_id("ClassLesson", lesson), "text": "№ 12, 14",
                          "dueOn": (on + timedelta(days=7)).isoformat()}}  # fmt: skip

    return await _lesson_calls(bench, n, 1, variables)


async def _homework(conn: Any, s: School, n: int) -> list[int]:
    ids = []
    for lesson, c, on in await _lessons(conn, s, n):
        ids.append(
            await conn.fetchval(
                "INSERT INTO homework (academic_year_id, lesson_id, class_group_id, subject_id,"
                " teacher_id, assigned_on, body, due_on, accepts_submissions)"
                " VALUES ($1, $2, $3, $4, $5, $6, '№ 12', $7, true) RETURNING id",
                s.year_id, lesson, s.classes[c], s.math, s.teachers[c], on,
                on + timedelta(days=7),
            )
        )  # fmt: skip
    return ids


async def review_homework(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, classes=_classes_for(n), pupils=1)
        calls = []
        for i, homework in enumerate(await _homework(conn, s, n)):
            c = i % len(s.slots)
            submission = await conn.fetchval(
                "INSERT INTO homework_submission (homework_id, pupil_id, body, status,"
                " submitted_at) VALUES ($1, $2, 'Решение', 'submitted', now()) RETURNING id",
                homework,
                s.pupils[c],
            )
            calls.append(
                Call(
                    {
                        "input": {
                            "submissionId": encode_id("HomeworkSubmission", submission),
                            "feedback": "Хорошо",
                            "accept": True,
                        }
                    },
                    _teacher(bench, s, c),
                )
            )
    return calls


# --- the head teacher ----------------------------------------------------------------------


async def school_timetable(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn)
    variables = {
        "classGroupId": encode_id("ClassGroup", s.classes[0]),
        "on": _mondays(s)[1].isoformat(),
    }
    return [Call(variables, _admin(bench, s))]


async def school_classes(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, classes=3)
    return [Call({"filter": {"schoolId": encode_id("Institution", s.id)}, "first": 50},
                 _admin(bench, s))]  # fmt: skip


async def set_timetable_slot(bench: Bench, n: int) -> list[Call]:
    # Each class has 34 free (weekday, period) places besides its Monday period 1.
    async with _connect(bench) as conn:
        s = await _school(conn, classes=max(1, -(-n // 34)), pupils=1)
    free = [(d, p) for d in range(1, 6) for p in range(1, 8) if (d, p) != (1, 1)]
    return [
        Call(
            {
                "input": {
                    "classGroupId": encode_id("ClassGroup", s.classes[i // len(free)]),
                    "weekday": free[i % len(free)][0],
                    "period": free[i % len(free)][1],
                    "subjectId": encode_id("Subject", s.math),
                    "teacherId": encode_id("Person", s.teachers[i // len(free)]),
                }
            },
            _admin(bench, s),
        )
        for i in range(n)
    ]


async def create_class_group(bench: Bench, n: int) -> list[Call]:
    calls: list[Call] = []
    async with _connect(bench) as conn:
        while len(calls) < n:
            s = await _school(conn)
            year = encode_id("AcademicYear", s.this_year_id)
            for grade in range(1, 12):
                for letter in LETTERS[1:]:
                    if len(calls) < n:
                        calls.append(
                            Call(
                                {"input": {"schoolId": encode_id("Institution", s.id),
                                           "academicYearId": year, "grade": grade,
                                           "letter": letter, "language": "KY"}},
                                _admin(bench, s),
                            )
                        )  # fmt: skip
    return calls


async def assign_pupils_to_class(bench: Bench, n: int) -> list[Call]:
    # One pupil a call, enrolled in the grade and not yet in a class; a class per 30 calls.
    async with _connect(bench) as conn:
        s = await _school(conn, classes=_classes_for(n), pupils=1)
        starts = s.school_days[0]
        pupils = await _people(conn, n, date(starts.year - 11, 3, 14), "Нурай")
        await conn.execute(
            "INSERT INTO enrollment (person_id, institution_id, sector, entry_date, grade_level)"
            " SELECT p, $2, 'school', $3, 6 FROM unnest($1::int[]) p",
            pupils,
            s.id,
            starts,
        )
    return [
        Call(
            {
                "input": {
                    "classGroupId": encode_id("ClassGroup", s.classes[i // 30]),
                    "pupilIds": [encode_id("Person", p)],
                }
            },
            _admin(bench, s),
        )
        for i, p in enumerate(pupils)
    ]


async def assign_pupils_to_half(bench: Bench, n: int) -> list[Call]:
    # One pupil a call, into half 1 or 2 of their class for mathematics, in turn (the same
    # pupil again moves them to the other half).
    async with _connect(bench) as conn:
        s = await _school(conn, pupils=min(n, CLASS_SIZE))
    return [
        Call(
            {
                "input": {
                    "classGroupId": encode_id("ClassGroup", s.classes[0]),
                    "subjectId": encode_id("Subject", s.math),
                    "subgroup": 1 + i % 2,
                    "pupilIds": [encode_id("Person", s.pupils[i % len(s.pupils)])],
                }
            },
            _admin(bench, s),
        )
        for i in range(n)
    ]


# --- the guardian and the pupil ------------------------------------------------------------


async def diary(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn)
        lessons = await _lessons(conn, s, 2)
    monday = lessons[1][2]
    variables = {
        "pupilId": encode_id("Person", s.pupils[0]),
        "from": monday.isoformat(),
        "to": (monday + timedelta(days=6)).isoformat(),
    }
    return [Call(variables, bench.token(Role.GUARDIAN, person_id=s.guardian))]


async def submit_homework(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        s = await _school(conn, classes=_classes_for(n), pupils=1)
        homework = await _homework(conn, s, n)
    return [
        Call(
            {"input": {"homeworkId": encode_id("Homework", h), "text": "Решение: 42"}},
            bench.token(Role.PUPIL, person_id=s.pupils[i % len(s.slots)]),
        )
        for i, h in enumerate(homework)
    ]


async def report_concern(bench: Bench, n: int) -> list[Call]:
    # Each pupil a call: the policy allows a few reports a pupil a day.
    async with _connect(bench) as conn:
        s = await _school(conn, classes=max(1, -(-n // CLASS_SIZE)), pupils=CLASS_SIZE)
    return [
        Call(
            {"input": {"category": "BULLYING", "text": "Меня обижают одноклассники каждый день."}},
            bench.token(Role.PUPIL, person_id=p),
        )
        for p in s.pupils[:n]
    ]


async def _reports(conn: Any, n: int) -> list[tuple[int, str]]:
    made: list[tuple[int, str]] = []
    for i in range(n):
        receipt = f"CR-bench-{clock.today().isoformat()}-{i}-{id(made)}"
        report = await conn.fetchval(
            "INSERT INTO concern_report (category, body, region_id, district_id, status,"
            " received_on, receipt_hash) SELECT 'bullying', 'Меня обижают в классе.', region_id,"
            " id, 'received', $2, $3 FROM district WHERE id = $1 RETURNING id",
            DISTRICT, clock.today(), hashlib.sha256(receipt.encode()).hexdigest(),
        )  # fmt: skip
        made.append((report, receipt))
    return made


def _counsellor(bench: Bench) -> str:
    return bench.token(Role.COUNSELLOR, scopes=[f"district:{DISTRICT}"])


async def concern_report_status(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        ((_, receipt),) = await _reports(conn, 1)
    return [Call({"receipt": receipt}, bench.token(Role.PUPIL, person_id=1))]


# --- the counsellor ------------------------------------------------------------------------


async def concern_reports(bench: Bench, n: int) -> list[Call]:
    # A full page: the counsellor's district holds 50 reports waiting (in bench.api's run the
    # ReportConcern workload before it has sent it hundreds).
    async with _connect(bench) as conn:
        await _reports(conn, 50)
    return [Call({"status": "RECEIVED", "first": 50}, _counsellor(bench))]


async def advance_concern_report(bench: Bench, n: int) -> list[Call]:
    async with _connect(bench) as conn:
        reports = await _reports(conn, n)
    return [
        Call(
            {
                "input": {
                    "reportId": encode_id("ConcernReport", r),
                    "status": "IN_REVIEW",
                    "note": "Беседа с классным руководителем",
                }
            },
            _counsellor(bench),
        )
        for r, _ in reports
    ]


WORKLOADS = [
    Workload("lms/TeacherDay", teacher_day),
    Workload("lms/ClassGradebook", class_gradebook),
    Workload("lms/RecordClassLesson", record_class_lesson),
    Workload("lms/RecordAttendance", record_attendance),
    Workload("lms/RecordMarks", record_marks),
    Workload("lms/AssignHomework", assign_homework),
    Workload("lms/ReviewHomework", review_homework),
    Workload("lms/SchoolTimetable", school_timetable),
    Workload("lms/SchoolClasses", school_classes),
    Workload("lms/SetTimetableSlot", set_timetable_slot),
    Workload("lms/CreateClassGroup", create_class_group),
    Workload("lms/AssignPupilsToClass", assign_pupils_to_class),
    Workload("lms/AssignPupilsToHalf", assign_pupils_to_half),
    Workload("lms/Diary", diary),
    Workload("lms/SubmitHomework", submit_homework),
    Workload("lms/ReportConcern", report_concern),
    Workload("lms/ConcernReportStatus", concern_report_status),
    Workload("lms/ConcernReports", concern_reports),
    Workload("lms/AdvanceConcernReport", advance_concern_report),
]

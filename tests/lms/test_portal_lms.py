"""The school portal's queries (portals/lms/: the teacher's day and gradebook, the head
teacher's timetable and classes, the diary, the counsellor's reports) cost a fixed number of
SQL statements however full the class and the term are."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Term
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_lesson, subject_id
from tests.lms.arrange import (
    School,
    admin_token,
    arrange_school,
    guardian_token,
    pupil_token,
    teacher_token,
)

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "lms"
TEXT = {p: p.read_text() for p in sorted(PORTAL.glob("*.graphql"))}


def _operation(path: Path) -> OperationDefinitionNode:
    return next(d for d in parse(TEXT[path]).definitions if isinstance(d, OperationDefinitionNode))


QUERIES = [p for p in TEXT if _operation(p).operation == OperationType.QUERY]
# The SQL statements each portal query sends, whatever the number of rows (issue 21: one, or
# the reason in docs/performance.md, "Query operations above one statement").
STATEMENT_BUDGET = {
    # the compiled pages (schema/compiled/lms.py; 6 and 4 through the resolvers)
    "TeacherDay": 1,
    "ClassGradebook": 1,  # the compiled gradebook (4 through the resolvers: test_marks.py)
    "SchoolTimetable": 1,
    "SchoolClasses": 1,  # compiled (2 through the resolvers: the list, its home-room teachers)
    "Diary": 2,
    "ConcernReports": 1,  # compiled (5 through the resolvers)
    "ConcernReportStatus": 1,
}
RECORD_MARKS = (
    "mutation($input: RecordMarksInput!) { recordMarks(input: $input) { userErrors { code } } }"
)
ATTENDANCE = (
    "mutation($input: RecordAttendanceInput!) "
    "{ recordAttendance(input: $input) { userErrors { code } } }"
)
HOMEWORK = "mutation($input: AssignHomeworkInput!) { assignHomework(input: $input) { userErrors { code } } }"
REPORT = """mutation($input: ReportConcernInput!) {
  reportConcern(input: $input) { receipt userErrors { code } }
}"""


async def _arrange(hub: Hub, session: AsyncSession, *, pupils: int, weeks: int) -> dict[str, Any]:
    """A class of ``pupils`` with ``weeks`` Monday lessons, each with homework, a mark per pupil
    and the register; reports from each pupil to the district's counsellor."""
    s: School = await arrange_school(session, grade=6, pupils=pupils)
    lessons = [
        await make_lesson(session, slot=s.slot, on=s.lesson_day(week + 1)) for week in range(weeks)
    ]
    await session.commit()
    teacher = teacher_token(hub, s)
    for lesson in lessons:
        lesson_id = gid("ClassLesson", lesson.id)
        marks = [
            {"pupilId": gid("Person", p.id), "value": 2 + i % 4} for i, p in enumerate(s.pupils)
        ]
        entries = [
            {"pupilId": gid("Person", p.id), "status": "ABSENT" if i % 3 == 0 else "PRESENT"}
            for i, p in enumerate(s.pupils)
        ]
        for document, input in (
            (RECORD_MARKS, {"lessonId": lesson_id, "marks": marks}),
            (ATTENDANCE, {"lessonId": lesson_id, "entries": entries}),
            (
                HOMEWORK,
                {
                    "lessonId": lesson_id,
                    "text": "№ 12",
                    "dueOn": (lesson.on_date + timedelta(days=7)).isoformat(),
                },
            ),
        ):
            payload = await hub.data(document, {"input": input}, token=teacher)
            assert next(iter(payload.values()))["userErrors"] == []
    receipt = None
    for pupil in s.pupils[:3]:
        data = await hub.data(
            REPORT,
            {"input": {"category": "BULLYING", "text": "Меня обижают в классе."}},
            token=pupil_token(hub, pupil),
        )
        receipt = receipt or data["reportConcern"]["receipt"]
    term = await session.scalar(
        select(Term.id).where(Term.academic_year_id == s.klass.academic_year_id, Term.number == 1)
    )
    assert term is not None
    monday = s.lesson_day(1)
    return {
        "school": s,
        "variables": {
            "on": monday.isoformat(),
            "classGroupId": s.class_id,
            "subjectId": gid("Subject", await subject_id(session, "mathematics")),
            "termId": gid("Term", term),
            "filter": {"schoolId": s.id},
            "first": 50,
            "pupilId": gid("Person", s.pupils[0].id),
            "from": monday.isoformat(),
            "to": (monday + timedelta(days=6 + 7 * (weeks - 1))).isoformat(),
            "receipt": receipt,
        },
    }


def _token(hub: Hub, s: School, name: str) -> str:
    if name in ("TeacherDay", "ClassGradebook"):
        return teacher_token(hub, s)
    if name in ("SchoolTimetable", "SchoolClasses"):
        return admin_token(hub, s)
    if name == "Diary":
        return guardian_token(hub, s)
    if name == "ConcernReports":
        return hub.token(Role.COUNSELLOR, scopes=[f"district:{s.school.district_id}"])
    return pupil_token(hub, s.pupils[0])


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path, hub: Hub, session: AsyncSession
) -> None:
    operation = _operation(path)
    used = {v.variable.name.value for v in operation.variable_definitions or ()}
    counts, sizes = [], []
    for pupils, weeks in ((2, 1), (9, 3)):
        # given a class of this size with this many weeks of lessons, marks and registers
        arranged = await _arrange(hub, session, pupils=pupils, weeks=weeks)
        variables = {k: v for k, v in arranged["variables"].items() if k in used}
        # when the portal sends its query
        hub.counter.reset()
        body = await hub.gql(
            TEXT[path], variables, token=_token(hub, arranged["school"], path.stem)
        )
        # then it succeeds, returns data, and costs the same however many rows
        assert "errors" not in body, body
        assert next(iter(body["data"].values())), body
        counts.append(hub.counter.count)
        sizes.append(len(str(body["data"])))
    if path.stem in ("ClassGradebook", "Diary", "ConcernReports"):
        assert sizes[1] > sizes[0], sizes
    assert counts[0] == counts[1], (counts, hub.counter.statements)
    assert counts[1] == STATEMENT_BUDGET[path.stem], hub.counter.statements

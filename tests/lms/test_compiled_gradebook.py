"""A class's gradebook (portals/lms/ClassGradebook) is answered by the compiled path in one
statement, exactly as the resolvers answer it (issue 15): marks under their schemes (S2),
descriptive feedback, absences, the computed and the set results, pupils who left, and the
row rules (the class's teachers of the subject, the school's administration and officers in
scope read it; a teacher of another subject, a guardian or a pupil reads null)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassMembership, CurriculumModel, Mark, Term
from resolvers.access import Role
from tests.factories import (
    gid,
    make_class_group,
    make_lesson,
    make_pupil_in_class,
    make_slot,
    make_teacher,
    make_teaching_assignment,
    subject_id,
)
from tests.lms.arrange import School, arrange_school
from tests.test_compiled import Pair, pair
from tests.test_compiled_callers import Built

__all__ = ["pair"]


PORTAL = (Path(__file__).resolve().parents[2] / "portals/lms/ClassGradebook.graphql").read_text()
# Every field the compiled gradebook knows, with aliases, typenames and a fragment.
EVERYTHING = """
query Book($classGroupId: ID!, $subjectId: ID!, $termId: ID!) {
  gradebook(classGroupId: $classGroupId, subjectId: $subjectId, termId: $termId) {
    __typename
    term { __typename id number startsOn endsOn }
    scheme minValue maxValue resultRule
    classGroup { id name grade letter shift capacity pupilCount }
    subject { id code nameKy nameRu nameEn }
    lessons { id date startsAt endsAt subgroup topic status attendanceTakenAt }
    rows {
      __typename
      pupil { ...who registeredDistrict { nameKy } }
      inClassSince leftClassOn
      marks { work scheme value criterion comment date recordedAt correctionReason supersededAt }
      absences { status reason minutesLate }
      computedResult result
      set: override { value comment computedValue reason decidedBy decidedAt }
    }
  }
}
fragment who on Person { id fullName sex birthDate }
"""
RECORD_MARKS = """mutation($input: RecordMarksInput!) {
  recordMarks(input: $input) { userErrors { field code message } }
}"""
RECORD_ATTENDANCE = """mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) { userErrors { field code message } }
}"""
OVERRIDE = """mutation($input: OverrideResultInput!) {
  overrideResult(input: $input) { userErrors { code field } }
}"""


async def _send(pair: Pair, document: str, variables: dict[str, Any], token: str) -> None:
    response = await pair.slow.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    (payload,) = response.json()["data"].values()
    assert payload["userErrors"] == [], payload


async def _term(session: AsyncSession, s: School, number: int) -> str:
    term = await session.scalar(
        select(Term.id).where(
            Term.academic_year_id == s.klass.academic_year_id, Term.number == number
        )
    )
    assert term is not None
    return gid("Term", term)


async def _book(
    pair: Pair, session: AsyncSession, s: School, *, grade_marks: list[dict[str, Any]]
) -> dict[str, str]:
    """Three lessons of the class with marks for its pupils, a test counting twice, a register
    with every kind of absence, a correction, an override, and a pupil who left."""
    token = pair.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id)
    first = s.lesson_day(1) + timedelta(days=s.slot.weekday - 1)
    lessons = [
        await make_lesson(
            session, slot=s.slot, on=first + timedelta(weeks=w), topic=[None, 'Бөлчөк "½"', "\\"][w]
        )
        for w in range(3)
    ]
    await session.commit()
    for i, lesson in enumerate(lessons):
        marks = [
            {"pupilId": gid("Person", pupil.id), **grade_marks[(i + j) % len(grade_marks)]}
            for j, pupil in enumerate(s.pupils)
            if (i + j) % 4 != 3  # someone is left out of each lesson
        ]
        await _send(pair, RECORD_MARKS, {"input": {"lessonId": gid("ClassLesson", lesson.id),
                                                   "marks": marks}}, token)  # fmt: skip
    # a correction (the old mark superseded, the new one carries its reason)
    corrected = {"pupilId": gid("Person", s.pupils[0].id), **grade_marks[-1], "comment": "Кайра"}
    await _send(pair, RECORD_MARKS, {"input": {"lessonId": gid("ClassLesson", lessons[0].id),
                "marks": [corrected], "correctionReason": "Ката"}}, token)  # fmt: skip
    entries = [
        {"pupilId": gid("Person", s.pupils[0].id), "status": "ABSENT"},
        {"pupilId": gid("Person", s.pupils[1].id), "status": "LATE", "minutesLate": 7},
        {"pupilId": gid("Person", s.pupils[2].id), "status": "EXCUSED", "reason": "Ооруп"},
    ]
    for lesson in lessons[:2]:
        await _send(pair, RECORD_ATTENDANCE, {"input": {"lessonId": gid("ClassLesson", lesson.id),
                                                        "entries": entries}}, token)  # fmt: skip
    math = gid("Subject", await subject_id(session, s.subject))
    descriptive = grade_marks[0].get("value") is None
    value = {"comment": "Жакшы окуйт"} if descriptive else {"value": grade_marks[0]["value"]}
    await _send(pair, OVERRIDE, {"input": {"classGroupId": s.class_id, "subjectId": math,
                "pupilId": gid("Person", s.pupils[1].id), "term": 1, "reason": "Олимпиада",
                **value}}, token)  # fmt: skip
    # a mark recorded on a whole second (its time has no fraction) and the last pupil gone
    await session.execute(
        update(Mark)
        .where(Mark.pupil_id == s.pupils[2].id)
        .values(recorded_at=datetime(2025, 9, 8, 8, 30, tzinfo=UTC))
    )
    await session.execute(
        update(ClassMembership)
        .where(ClassMembership.pupil_id == s.pupils[-1].id)
        .values(until=lessons[1].on_date)
    )
    await session.commit()
    return {"classGroupId": s.class_id, "subjectId": math, "termId": await _term(session, s, 1)}


SCHEMES: dict[str, tuple[int, CurriculumModel, list[dict[str, Any]]]] = {
    # S2: descriptive feedback in grades 1-3 of the 12-year standard, points in 4-6,
    # criteria-based levels in 7-12, the legacy 2-5 marks under the 11-year model
    "descriptive": (2, CurriculumModel.TWELVE_YEAR, [{"comment": "Окуйт"}, {"comment": "Жазат"}]),
    "points": (5, CurriculumModel.TWELVE_YEAR, [{"value": 9}, {"value": 4, "work": "TEST"},
               {"value": 7}, {"value": 0}]),
    "criteria": (8, CurriculumModel.TWELVE_YEAR, [{"value": 6, "criterion": "A"},
                 {"value": 3, "criterion": "C", "work": "WRITTEN"}]),
    "five point": (6, CurriculumModel.ELEVEN_YEAR, [{"value": 5}, {"value": 4},
                   {"value": 3, "work": "TEST"}, {"value": 2}]),
}  # fmt: skip


async def _school(session: AsyncSession, grade: int, model: CurriculumModel) -> School:
    s = await arrange_school(session, grade=grade, pupils=5)
    if s.klass.curriculum_model != model:
        klass = await make_class_group(
            session, school=s.school, year=s.last_year, grade=grade, letter="М",
            curriculum_model=model,
        )  # fmt: skip
        s.pupils = [(await make_pupil_in_class(session, klass=klass))[0] for _ in range(5)]
        await make_teaching_assignment(
            session, klass=klass, subject=s.subject, teacher=s.teacher, post=s.post
        )
        s.slot = await make_slot(
            session, klass=klass, subject=s.subject, teacher=s.teacher, weekday=2, period=2
        )
        s.klass = klass
    await session.commit()
    return s


def _callers(pair: Pair, s: School, other: Any) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "teacher of the subject": bearer(
            pair.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id)
        ),
        "teacher of another subject": bearer(
            pair.token(Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=other.id)
        ),
        "school admin": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{s.school.id}"])
        ),
        "region officer": bearer(
            pair.token(Role.REGION_OFFICER, scopes=[f"region:{s.school.region_id}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=s.guardian.id)),
        "pupil": bearer(pair.token(Role.PUPIL, person_id=s.pupils[0].id)),
    }


@pytest.mark.parametrize("scheme", list(SCHEMES))
async def test_the_compiled_gradebook_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, scheme: str
) -> None:
    # given a class's term of marks under its grade's scheme (S2), absences and results
    grade, model, marks = SCHEMES[scheme]
    s = await _school(session, grade, model)
    variables = await _book(pair, session, s, grade_marks=marks)
    other, _post = await make_teacher(session, school=s.school)
    await session.commit()
    readable = {"teacher of the subject", "school admin", "region officer", "ministry"}
    for caller, headers in _callers(pair, s, other).items():
        for document in (PORTAL, EVERYTHING):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, fast, slow)
            assert statements == 1, (caller, pair.counter.statements, fast)
            book = fast["data"]["gradebook"]
            # and only the class's teachers of the subject, its school and officers read it
            assert (book is not None) == (caller in readable), caller
    # and the gradebook carries what it should: every pupil, results, absences, a leaver
    ministry = _callers(pair, s, other)["ministry"]
    rows = (await pair.both(EVERYTHING, variables, ministry))[0]["data"]["gradebook"]["rows"]
    assert len(rows) == 5
    assert rows[-1]["leftClassOn"] is not None
    assert any(r["absences"] for r in rows)
    assert any(r["set"] for r in rows)
    if scheme == "descriptive":
        assert {r["computedResult"] for r in rows} == {None}
    else:
        assert any(r["computedResult"] is not None for r in rows)


async def test_another_class_or_term_or_a_foreign_id_answers_as_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    grade, model, marks = SCHEMES["five point"]
    s = await _school(session, grade, model)
    variables = await _book(pair, session, s, grade_marks=marks)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    other = await arrange_school(session, grade=6)
    for changed in (
        {"termId": await _term(session, s, 2)},  # a term with nothing in it
        {"classGroupId": other.class_id},  # another class, no marks in this subject
        {"subjectId": gid("Subject", await subject_id(session, "music"))},
        {"classGroupId": gid("ClassGroup", 10**6)},  # no such class: null
        {"classGroupId": gid("Person", s.pupils[0].id)},  # another type: the resolvers' error
        {"termId": "not-an-id"},
    ):
        fast, slow, _ = await pair.both(PORTAL, {**variables, **changed}, ministry)
        assert fast == slow, changed
    anonymous, _, _ = await pair.both(PORTAL, variables, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_field_it_does_not_know_takes_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    grade, model, marks = SCHEMES["points"]
    s = await _school(session, grade, model)
    variables = await _book(pair, session, s, grade_marks=marks)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    for document in (
        PORTAL.replace("topic status", "topic status teacher { id }"),
        PORTAL.replace("date recordedAt", "date recordedAt pupil { id }"),
    ):
        fast, slow, statements = await pair.both(document, variables, ministry)
        assert fast == slow
        assert statements > 1


async def test_every_teacher_reads_their_gradebook_from_one_kept_statement(
    pair: Pair, session: AsyncSession
) -> None:
    # given two schools, each with a class and its mathematics teacher (issue 15: a teacher
    # reads the gradebook of the classes and subjects they are assigned)
    grade, model, marks = SCHEMES["points"]
    schools = [await _school(session, grade, model) for _ in range(2)]
    books = [await _book(pair, session, s, grade_marks=marks) for s in schools]
    teachers = [
        {
            "Authorization": "Bearer "
            + pair.token(
                Role.TEACHER, scopes=[f"institution:{s.school.id}"], person_id=s.teacher.id
            )
        }
        for s in schools
    ]
    built = Built(pair)
    texts: set[str] = set()
    for t, headers in enumerate(teachers):
        for b, variables in enumerate(books):
            # when each teacher opens each class's gradebook
            fast, slow, statements = await pair.both(PORTAL, variables, headers)
            # then the answer is the resolvers', in one statement
            assert fast == slow, (t, b)
            assert statements == 1
            texts.update(pair.counter.statements or ())
            # and a teacher reads their own class's only
            assert (fast["data"]["gradebook"] is not None) == (t == b)
    # and one statement was built for both, sent to PostgreSQL as one text
    assert built.since() == (1, 1)
    assert len(texts) == 1


async def test_the_switch_sends_the_gradebook_through_the_resolvers(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the compiled gradebook on (the default) and a class's book
    grade, model, marks = SCHEMES["points"]
    s = await _school(session, grade, model)
    variables = await _book(pair, session, s, grade_marks=marks)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    on, _, statements = await pair.both(PORTAL, variables, ministry)
    assert statements == 1
    # when it is switched off
    monkeypatch.setattr("schema.compiled.gradebook.ENABLED", False)
    off, _, statements = await pair.both(
        PORTAL.replace("query ClassGradebook", "query ClassGradebookAgain"), variables, ministry
    )
    # then the resolvers answer, alike
    assert statements == 4
    assert off == on

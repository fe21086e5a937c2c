"""Marks with their scheme (S2, issue 15): none in grades 1-3 (descriptive feedback), points in
4-6, criteria in 7-12 under the 12-year standard, 2-5 marks under the legacy model; each mark
stores its scheme; one that does not fit is refused with nothing written (and the database
refuses it too); a class marked in one request, all or nothing; corrections need a reason and
keep the history; results by the declared rule, overridden with a reason."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import CurriculumModel, Mark, MarkWork
from resolvers.access import Role
from resolvers.mutations import constraint_of
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_class_group,
    make_lesson,
    make_pupil_in_class,
    make_slot,
    make_teaching_assignment,
    subject_id,
)
from tests.lms.arrange import School, admin_token, arrange_school, teacher_token

RECORD_MARKS = """mutation($input: RecordMarksInput!) {
  recordMarks(input: $input) {
    marks { value criterion comment scheme work correctionReason pupil { id } }
    userErrors { field code message }
  }
}"""
LESSON_MARKS = """query($id: ID!) { node(id: $id) { ... on ClassLesson {
  marks(history: true) { value supersededAt correctionReason } } } }"""
GRADEBOOK = """query($c: ID!, $s: ID!, $t: ID!) {
  gradebook(classGroupId: $c, subjectId: $s, termId: $t) {
    scheme minValue maxValue resultRule
    lessons { date topic }
    rows { pupil { id } marks { value work } absences { status } computedResult result
           override { value reason computedValue } }
  }
}"""
OVERRIDE = """mutation($input: OverrideResultInput!) {
  overrideResult(input: $input) { result { value reason computedValue } userErrors { code field } }
}"""


async def _marked_lesson(
    session: AsyncSession, *, grade: int, model: CurriculumModel | None = None
) -> tuple[School, Any]:
    """A school whose class of ``grade`` (under ``model``) had a mathematics lesson."""
    s = await arrange_school(session, grade=grade)
    if model is not None and s.klass.curriculum_model != model:
        klass = await make_class_group(
            session,
            school=s.school,
            year=s.last_year,
            grade=grade,
            letter="М",
            curriculum_model=model,
        )
        pupils = [(await make_pupil_in_class(session, klass=klass))[0] for _ in range(2)]
        await make_teaching_assignment(
            session, klass=klass, subject=s.subject, teacher=s.teacher, post=s.post
        )
        slot = await make_slot(
            session, klass=klass, subject=s.subject, teacher=s.teacher, weekday=2, period=2
        )
        s.klass, s.pupils, s.slot = klass, pupils, slot
    day = s.lesson_day(1) + timedelta(days=s.slot.weekday - 1)
    lesson = await make_lesson(session, slot=s.slot, on=day)
    await session.commit()
    return s, lesson


def _marks(
    s: School, lesson: Any, *marks: dict[str, Any], reason: str | None = None
) -> dict[str, Any]:
    return {
        "input": {
            "lessonId": gid("ClassLesson", lesson.id),
            "marks": [{"pupilId": gid("Person", s.pupils[i].id), **m} for i, m in enumerate(marks)],
            **({"correctionReason": reason} if reason else {}),
        }
    }


class TestMarksFollowTheSchemeOfTheGrade:
    @pytest.mark.parametrize(
        ("grade", "model", "good", "bad", "scheme"),
        [
            # S2, the 12-year standard: grades 1-3 get descriptive feedback, no marks
            (
                2,
                CurriculumModel.TWELVE_YEAR,
                {"comment": "Читает бегло"},
                {"value": 5},
                "DESCRIPTIVE",
            ),
            # points in grades 4-6 (0-10 by the seeded rule)
            (5, CurriculumModel.TWELVE_YEAR, {"value": 9}, {"value": 11}, "POINTS"),
            # criteria in 7-12: a criterion and its level (0-8)
            (
                8,
                CurriculumModel.TWELVE_YEAR,
                {"value": 7, "criterion": "B"},
                {"value": 7},
                "CRITERIA",
            ),
            # the legacy 11-year model: 2-5 marks
            (6, CurriculumModel.ELEVEN_YEAR, {"value": 4}, {"value": 1}, "FIVE_POINT"),
        ],
    )
    async def test_a_mark_in_the_scheme_is_kept_with_it_and_one_outside_is_refused(
        self,
        hub: Hub,
        session: AsyncSession,
        grade: int,
        model: CurriculumModel | None,
        good: dict[str, Any],
        bad: dict[str, Any],
        scheme: str,
    ) -> None:
        s, lesson = await _marked_lesson(session, grade=grade, model=model)
        token = teacher_token(hub, s)

        # when a mark outside the scheme comes with a good one
        refused = await hub.data(RECORD_MARKS, _marks(s, lesson, good, bad), token=token)

        # then nothing is written and the error names the mark
        errors = refused["recordMarks"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [("MARK_OUTSIDE_SCHEME", "marks[1]")]
        assert await session.scalar(select(func.count()).select_from(Mark)) == 0

        # and a good mark is kept with its scheme
        kept = await hub.data(RECORD_MARKS, _marks(s, lesson, good), token=token)
        assert kept["recordMarks"]["marks"][0]["scheme"] == scheme

    async def test_the_database_refuses_a_mark_of_another_scheme(
        self, session: AsyncSession
    ) -> None:
        # given a grade-6 class on the legacy model (2-5 marks)
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        # when a points mark is written straight into the table
        session.add(
            Mark(
                academic_year_id=lesson.academic_year_id, lesson_id=lesson.id,
                pupil_id=s.pupils[0].id, class_group_id=0, subject_id=0, on_date=lesson.on_date,
                work=MarkWork.CLASSWORK, scheme="points", value=7, recorded_by="x",
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        # then the trigger refuses it (S2: the scheme of the pupil's grade)
        assert constraint_of(refused.value) == "ck_mark_scheme_of_grade"

    async def test_the_database_refuses_a_mark_for_a_pupil_outside_the_class(
        self, session: AsyncSession
    ) -> None:
        _, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        other = await arrange_school(session, grade=6)
        session.add(
            Mark(
                academic_year_id=lesson.academic_year_id, lesson_id=lesson.id,
                pupil_id=other.pupils[0].id, class_group_id=0, subject_id=0,
                on_date=lesson.on_date, work=MarkWork.CLASSWORK, scheme="five_point", value=4,
                recorded_by="x",
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError) as refused:
            await session.flush()
        assert constraint_of(refused.value) == "ck_register_pupil_in_class"


class TestRecordMarks:
    async def test_a_class_marked_in_one_request(self, hub: Hub, session: AsyncSession) -> None:
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        data = await hub.data(
            RECORD_MARKS, _marks(s, lesson, {"value": 5}, {"value": 4, "work": "TEST"}),
            token=teacher_token(hub, s),
        )  # fmt: skip
        assert sorted((m["value"], m["work"]) for m in data["recordMarks"]["marks"]) == [
            (4, "TEST"),
            (5, "CLASSWORK"),
        ]

    async def test_a_pupil_outside_the_class_refuses_the_whole_request(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        other = await arrange_school(session, grade=6)
        variables = _marks(s, lesson, {"value": 5})
        variables["input"]["marks"].append(
            {"pupilId": gid("Person", other.pupils[0].id), "value": 4}
        )
        data = await hub.data(RECORD_MARKS, variables, token=teacher_token(hub, s))
        assert data["recordMarks"]["userErrors"][0]["code"] == "PUPIL_NOT_IN_CLASS"
        assert await session.scalar(select(func.count()).select_from(Mark)) == 0

    async def test_a_correction_needs_a_reason_and_keeps_the_history(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        token = teacher_token(hub, s)
        await hub.data(RECORD_MARKS, _marks(s, lesson, {"value": 3}), token=token)

        # when the teacher changes the mark without saying why: refused
        silent = await hub.data(RECORD_MARKS, _marks(s, lesson, {"value": 4}), token=token)
        assert silent["recordMarks"]["userErrors"][0]["code"] == "CORRECTION_NEEDS_REASON"

        # with the reason: the new mark counts, the old one is kept, superseded
        fixed = await hub.data(
            RECORD_MARKS, _marks(s, lesson, {"value": 4}, reason="Ошибка при вводе"), token=token
        )
        assert fixed["recordMarks"]["marks"][0]["correctionReason"] == "Ошибка при вводе"
        history = (
            await hub.data(LESSON_MARKS, {"id": gid("ClassLesson", lesson.id)}, token=token)
        )["node"]["marks"]
        assert [(m["value"], m["supersededAt"] is not None) for m in history] == [
            (3, True),
            (4, False),
        ]

    async def test_the_same_marks_sent_twice_are_kept_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        for _ in range(2):
            await hub.data(
                RECORD_MARKS, _marks(s, lesson, {"value": 5}), token=teacher_token(hub, s)
            )
        assert await session.scalar(select(func.count()).select_from(Mark)) == 1

    async def test_marks_entered_twice_at_once_are_decided_one_after_the_other(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson and two devices sending its marks at the same moment, one of them
        # with another value for the second pupil
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        token = teacher_token(hub, s)
        same = _marks(s, lesson, {"value": 5}, {"value": 4})
        other = _marks(s, lesson, {"value": 5}, {"value": 3})

        # when both run in concurrent transactions
        answers = await asyncio.gather(
            hub.data(RECORD_MARKS, same, token=token),
            hub.data(RECORD_MARKS, other, token=token),
        )

        # then the first wins; the second, seeing another mark, asks for a reason
        codes = sorted(
            [e["code"] for e in a["recordMarks"]["userErrors"]] or ["OK"] for a in answers
        )
        assert codes == [["CORRECTION_NEEDS_REASON"], ["OK"]]
        current = await session.scalar(select(func.count()).where(Mark.superseded_at.is_(None)))
        assert current == 2

    async def test_marking_a_class_costs_the_same_statements_for_few_pupils_or_many(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given classes of 2 and of 29 pupils, each with a lesson
        counts, written = [], []
        for pupils in (2, 29):
            s = await arrange_school(session, grade=6, pupils=pupils)
            lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
            await session.commit()
            marks = [{"value": 2 + i % 4} for i in range(pupils)]
            # when the teacher marks the whole class in one request
            hub.counter.reset()
            data = await hub.data(
                RECORD_MARKS, _marks(s, lesson, *marks), token=teacher_token(hub, s)
            )
            counts.append(hub.counter.count)
            written.append(len(data["recordMarks"]["marks"]))
        # then every mark is written, by one INSERT for the class, whatever its size (S2: each
        # with its scheme; the history and the audit row as for one mark)
        assert written == [2, 29]
        assert counts[0] == counts[1], hub.counter.statements
        inserts = [q for q in hub.counter.statements or [] if q.startswith("INSERT INTO mark")]
        assert len(inserts) == 1
        assert counts[1] <= 11, hub.counter.statements

    async def test_a_teacher_of_another_class_may_not_mark(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s, lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        other = await arrange_school(session, grade=6)
        intruder = hub.token(
            Role.TEACHER, scopes=[f"institution:{other.school.id}"], person_id=other.teacher.id
        )
        data = await hub.data(RECORD_MARKS, _marks(s, lesson, {"value": 5}), token=intruder)
        assert data["recordMarks"]["userErrors"][0]["code"] == "NOT_FOUND"


class TestGradebook:
    async def test_the_term_result_follows_the_declared_rule_and_the_teachers_override(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given three mathematics lessons with marks: 5, 4 and a test of 3 (tests count twice)
        s, first = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        lessons = [first]
        for week in (1, 2):
            lessons.append(
                await make_lesson(session, slot=s.slot, on=first.on_date + timedelta(weeks=week))
            )
        await session.commit()
        token = teacher_token(hub, s)
        given: list[dict[str, Any]] = [{"value": 5}, {"value": 4}, {"value": 3, "work": "TEST"}]
        for lesson, mark in zip(lessons, given, strict=True):
            await hub.data(RECORD_MARKS, _marks(s, lesson, mark), token=token)
        math = gid("Subject", await subject_id(session, "mathematics"))
        term = await _term(session, s, 1)
        variables = {"c": s.class_id, "s": math, "t": term}

        # when the teacher opens the gradebook
        book = (await hub.data(GRADEBOOK, variables, token=token))["gradebook"]

        # then (5 + 4 + 3*2) / 4 = 3.75 rounds to 4
        assert (book["scheme"], book["minValue"], book["maxValue"]) == ("FIVE_POINT", 2, 5)
        assert len(book["lessons"]) == 3
        row = next(r for r in book["rows"] if r["pupil"]["id"] == gid("Person", s.pupils[0].id))
        assert (row["computedResult"], row["result"]) == (4, 4)

        # and when the teacher sets 5 with a reason, it counts, the computed one kept beside it
        await hub.data(
            OVERRIDE,
            {"input": {"classGroupId": s.class_id, "subjectId": math, "pupilId": gid("Person", s.pupils[0].id),
                       "term": 1, "value": 5, "reason": "Олимпиада"}},
            token=token,
        )  # fmt: skip
        book = (await hub.data(GRADEBOOK, variables, token=token))["gradebook"]
        row = next(r for r in book["rows"] if r["pupil"]["id"] == gid("Person", s.pupils[0].id))
        assert row["result"] == 5
        assert row["override"] == {"value": 5, "reason": "Олимпиада", "computedValue": "4"}

    async def test_an_override_needs_a_reason(self, hub: Hub, session: AsyncSession) -> None:
        s, _lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        math = gid("Subject", await subject_id(session, "mathematics"))
        data = await hub.data(
            OVERRIDE,
            {"input": {"classGroupId": s.class_id, "subjectId": math,
                       "pupilId": gid("Person", s.pupils[0].id), "term": 1, "value": 5, "reason": " "}},
            token=teacher_token(hub, s),
        )  # fmt: skip
        assert data["overrideResult"]["userErrors"][0]["code"] == "INVALID_INPUT"

    async def test_a_guardian_reads_no_gradebook(self, hub: Hub, session: AsyncSession) -> None:
        s, _lesson = await _marked_lesson(session, grade=6, model=CurriculumModel.ELEVEN_YEAR)
        math = gid("Subject", await subject_id(session, "mathematics"))
        variables = {"c": s.class_id, "s": math, "t": await _term(session, s, 1)}
        guardian = hub.token(Role.GUARDIAN, person_id=s.guardian.id)
        assert (await hub.data(GRADEBOOK, variables, token=guardian))["gradebook"] is None
        assert (await hub.data(GRADEBOOK, variables, token=admin_token(hub, s)))["gradebook"]

    async def test_the_gradebook_costs_the_same_statements_for_few_pupils_or_many(
        self, resolver_hub: Hub, session: AsyncSession
    ) -> None:
        counts = []
        for pupils in (2, 12):
            s = await arrange_school(session, grade=6, pupils=pupils)
            lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
            await session.commit()
            await resolver_hub.data(
                RECORD_MARKS,
                _marks(s, lesson, *[{"value": 2 + i % 4} for i in range(pupils)]),
                token=teacher_token(resolver_hub, s),
            )
            math = gid("Subject", await subject_id(session, "mathematics"))
            variables = {"c": s.class_id, "s": math, "t": await _term(session, s, 1)}
            resolver_hub.counter.reset()
            await resolver_hub.data(GRADEBOOK, variables, token=teacher_token(resolver_hub, s))
            counts.append(resolver_hub.counter.count)
        assert counts[0] == counts[1]
        # the head, the lessons, one JSON body, the pupils (resolvers/lms/journal.py)
        assert counts[1] <= 4, counts


async def _term(session: AsyncSession, s: School, number: int) -> str:
    from models import Term

    term = await session.scalar(
        select(Term.id).where(
            Term.academic_year_id == s.klass.academic_year_id, Term.number == number
        )
    )
    assert term is not None
    return gid("Term", term)

"""A pupil's feed (``myLearning``, issue 16) is answered by the compiled path in one statement,
byte for byte as the resolvers answer it, for every kind of caller: pupils of different
grades, schools' languages and progress, a pupil without a placement, a non-pupil, a caller
without a person, anonymous callers and partners (the last two take the resolvers).

The feed follows the pupil's grade and their lessons' language (domain.md S5: lessons by grade
x subject x language) from the current quarter on (S3: four quarters, September to May), the
standard their class learns under (S1: the 12-year standard or the legacy 11-year model), and
the unit their class, or their half of it, is on (S4: the lesson topics teachers record)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Date, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ClassLessonStatus,
    ClassMembership,
    ClassMembershipHalf,
    CurriculumModel,
    CurriculumStandard,
    CurriculumUnit,
    Language,
    Lesson,
    LessonProgress,
    LessonStatus,
    LmsPolicy,
    Person,
    ProgressStatus,
)
from resolvers import clock
from resolvers import content as content_service
from resolvers.access import KeyRing, Principal, Role
from resolvers.content.feed import term_of_sql
from resolvers.lms import default_terms
from tests.content.factories import make_lesson, make_pupil, make_unit
from tests.factories import (
    make_academic_year,
    make_bell_schedule,
    make_class_group,
    make_enrollment,
    make_institution,
    make_person,
    make_pupil_in_class,
    make_slot,
    make_teacher,
    make_teaching_assignment,
    school_year_of,
    subject_id,
)
from tests.factories import make_lesson as make_class_lesson
from tests.test_compiled import Pair

# The portal's operation (portals/sanarip-sabak/MyLearning.graphql) and a wider selection.
PORTAL = """
query MyLearning($language: Language, $first: Int = 20) {
  myLearning(language: $language) {
    grade language term standard
    school { id name }
    nextLessons { id title subjectCode term durationSeconds subject { nameKy nameRu } }
    progress(first: $first) {
      totalCount
      nodes { status attempts bestScore secondsSpent completedAt lesson { id title } }
    }
  }
}
"""
WIDE = """
query Feed($subject: String, $status: ProgressStatus, $first: Int) {
  feed: myLearning {
    __typename term grade standard
    maths: nextLessons(subject: $subject) { __typename id title summary grade language position }
    all: nextLessons { title term unitNo topicNo standard status subject { code } }
    school { __typename id name languages kind }
    progress(first: $first, status: $status) {
      __typename totalCount
      pageInfo { hasNextPage hasPreviousPage }
      nodes {
        __typename status attempts bestScore secondsSpent startedAt completedAt updatedAt
        lesson { id title language }
      }
    }
  }
}
"""
# A request that makes the resolvers read the subject codes (once per process), which the
# compiled path needs before it can check a subject argument.
SUBJECTS = 'query { lessons(first: 1, filter: {subject: "mathematics"}) { totalCount } }'
# Teachers of the world (person id -> their school's id): their tokens carry the school.
TEACHERS: dict[int, int] = {}


def _bearer(pair: Pair, role: Role, person: Person | None = None) -> dict[str, str]:
    token = pair.token(role, person_id=None if person is None else person.id)
    return {"Authorization": f"Bearer {token}"}


async def _progress(
    session: AsyncSession,
    learner: Person,
    lesson: Lesson,
    *,
    done: bool,
    score: str | None = None,
    at: datetime,
) -> None:
    session.add(
        LessonProgress(
            learner_id=learner.id,
            lesson_id=lesson.id,
            status=ProgressStatus.COMPLETED if done else ProgressStatus.STARTED,
            attempts=2 if done else 1,
            seconds_spent=725,
            best_score=None if score is None else Decimal(score),
            started_at=at,
            completed_at=at if done else None,
            updated_at=at,
        )
    )
    await session.flush()


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, Person]:
    """Lessons of grades 5 and 6 in every term, in Kyrgyz, Russian and Uzbek, in two subjects
    (with drafts, and titles needing every JSON escape); pupils and other callers."""
    lessons: dict[tuple[int, str, str, int], Lesson] = {}
    units: dict[tuple[int, str, int], CurriculumUnit] = {}
    for grade in (5, 6):
        for subject in ("mathematics", "world_history"):
            for term in (1, 2, 3, 4):
                unit = await make_unit(
                    session,
                    grade=grade,
                    term=term,
                    subject_code=subject,
                    unit_no=term,
                    languages=["ky", "ru", "uz"],
                )
                units[(grade, subject, term)] = unit
                for language in ("ky", "ru", "uz"):
                    for position in (1, 2):
                        lesson = await make_lesson(
                            session,
                            unit=unit,
                            language=language,
                            position=position,
                            title=f'{subject} {grade}.{term}.{position} "{language}" — \\ «бөлчөк»',
                            summary=None if position == 2 else "Кыскача\nмазмуну\t✓",
                            duration_seconds=None if term == 3 else 900 + position,
                        )
                        lessons[(grade, subject, language, term * 10 + position)] = lesson
                await make_lesson(
                    session, unit=unit, position=3, title="Долбоор", status=LessonStatus.DRAFT
                )
    callers: dict[str, Person] = {}
    # A grade 5 pupil of a Kyrgyz and Russian school who has done this term's first lessons.
    term = content_service.current_term(clock.today())
    ky5, _school = await make_pupil(session, grade=5, languages=["ky", "ru"])
    await _progress(
        session,
        ky5,
        lessons[(5, "mathematics", "ky", term * 10 + 1)],
        done=True,
        score="87.50",
        at=datetime(2026, 9, 9, 4, 0, 0, 123400, tzinfo=UTC),
    )
    await _progress(
        session,
        ky5,
        lessons[(5, "world_history", "ky", term * 10 + 1)],
        done=False,
        at=datetime(2026, 9, 10, 5, 30, tzinfo=UTC),
    )
    await _progress(
        session,
        ky5,
        lessons[(5, "world_history", "ky", 11)],
        done=True,
        score="100.00",
        at=datetime(2026, 9, 1, 5, 30, tzinfo=UTC),
    )
    callers["grade 5, Kyrgyz, progress"] = ky5
    # A grade 6 pupil of a school teaching in English and Russian: Russian lessons.
    ru6, _school = await make_pupil(session, grade=6, languages=["en", "ru"])
    await _progress(
        session,
        ru6,
        lessons[(6, "mathematics", "ru", 12)],
        done=False,
        score="0.00",
        at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    callers["grade 6, Russian"] = ru6
    # A pupil of a school whose languages lessons are not made in: Kyrgyz, the default.
    en, _school = await make_pupil(session, grade=6, languages=["en"])
    callers["school without lesson languages"] = en
    # A pupil whose enrollment has not got a class (no class group) in grade 12: no lessons.
    school = await make_institution(session, languages=["uz"])
    no_class = await make_person(session, birth_date=date(2009, 3, 1))
    await make_enrollment(session, person=no_class, institution=school, grade_level=12)
    callers["grade 12, no class"] = no_class
    # No placement: a person who left school, with progress from before.
    left = await make_person(session, birth_date=date(2012, 3, 1))
    await make_enrollment(
        session, person=left, institution=school, grade_level=5, exit_date=date(2026, 6, 1)
    )
    await _progress(
        session,
        left,
        lessons[(5, "mathematics", "uz", 11)],
        done=True,
        at=datetime(2026, 5, 20, 8, tzinfo=UTC),
    )
    callers["left school"] = left
    callers["no enrollment"] = await make_person(session)
    # A teacher of that school (a person, not a pupil): their feed is a person's without a
    # placement.
    teacher = await make_person(session, birth_date=date(1985, 3, 1))
    TEACHERS[teacher.id] = school.id
    callers["a teacher (not a pupil)"] = teacher
    callers.update(await _classes(session, units, lessons))
    callers.update(await _standards(session))
    # A lesson archived after a pupil started it: their progress no longer shows it.
    archived = lessons[(5, "mathematics", "ky", 42)]
    await _progress(session, ky5, archived, done=False, at=datetime(2026, 11, 1, tzinfo=UTC))
    archived.status = LessonStatus.ARCHIVED
    archived.published_at = None
    await session.commit()
    return callers


# The date's term, one ahead of it and one behind it (at the year's ends, the same term):
# where the world's class is in mathematics and in world history.
def _terms() -> tuple[int, int, int]:
    term = content_service.current_term(clock.today())
    return term, min(term + 1, 4), max(term - 1, 1)


async def _classes(
    session: AsyncSession,
    units: dict[tuple[int, str, int], CurriculumUnit],
    lessons: dict[tuple[int, str, str, int], Lesson],
) -> dict[str, Person]:
    """Pupils in classes of the school LMS: a Russian class of a school whose first language is
    Kyrgyz, a class taught in English (no lessons are made in it), and a class whose teachers
    recorded topics: mathematics a unit ahead of the date's term, world history one
    behind it (and lessons that must not count: a later one naming no topic, a cancelled
    one). The classes are last school year's, whose days are all past (a lesson falls in a term
    of its year), their pupils still in them (the year not closed)."""
    _term, ahead, behind = _terms()
    year = await make_academic_year(session, start_year=school_year_of(clock.today()) - 1)
    days = {
        t.number: t.starts_on + timedelta(days=2)
        for t in default_terms(year.starts_on, year.ends_on)
    }
    school = await make_institution(session, languages=["ky", "ru"])
    callers: dict[str, Person] = {}
    russian = await make_class_group(
        session, school=school, year=year, grade=5, letter="Б", language=Language.RU
    )
    callers["grade 5, Russian class of a Kyrgyz school"] = (
        await make_pupil_in_class(session, klass=russian)
    )[0]
    english = await make_class_group(
        session, school=school, year=year, grade=6, letter="Е", language=Language.EN
    )
    callers["grade 6, English class"] = (await make_pupil_in_class(session, klass=english))[0]
    # Russian: the world's archived lesson is a Kyrgyz one, which would end a unit early.
    klass = await make_class_group(
        session, school=school, year=year, grade=5, letter="В", language=Language.RU
    )
    pupil, _ = await make_pupil_in_class(session, klass=klass)
    callers["grade 5, a class on recorded units"] = pupil
    teacher, post = await make_teacher(session, school=school)
    await make_bell_schedule(session, school=school)
    slots = {}
    for period, subject in enumerate(("mathematics", "world_history"), start=1):
        await make_teaching_assignment(
            session, klass=klass, subject=subject, teacher=teacher, post=post
        )
        slots[subject] = await make_slot(
            session, klass=klass, subject=subject, teacher=teacher, weekday=1, period=period
        )

    async def taught(subject: str, on: date, term: int | None, **kwargs: Any) -> None:
        unit = None if term is None else units[(5, subject, term)].id
        await make_class_lesson(
            session, slot=slots[subject], on=on, curriculum_unit_id=unit, **kwargs
        )

    await taught("mathematics", days[1], 1)
    await taught("mathematics", days[2], ahead)
    await taught("mathematics", days[3], 4, status=ClassLessonStatus.CANCELLED)
    await taught("world_history", days[1], 4)
    await taught("world_history", days[2], behind)
    await taught("world_history", days[3], None, topic="Экскурсия")
    # The pupil has done the first lesson of the unit mathematics is on.
    await _progress(
        session,
        pupil,
        lessons[(5, "mathematics", "ru", ahead * 10 + 1)],
        done=True,
        at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    return callers


STANDARDS = {CurriculumStandard.TWELVE_YEAR: "twelve", CurriculumStandard.ELEVEN_YEAR: "legacy"}
TWELVE, LEGACY = CurriculumStandard.TWELVE_YEAR, CurriculumStandard.ELEVEN_YEAR


async def _standards(session: AsyncSession) -> dict[str, Person]:
    """Lessons of both standards (S1), in Kyrgyz, titled by their standard: grade 7 algebra in
    both, geometry in the 12-year standard only, physics in the legacy model only (its units
    numbered 11-14, the 12-year standard's 1-4), grade 2 mathematics in both. Pupils without a
    class: of grade 7 (a legacy cohort), of grade 2 (a 12-year cohort) and of grade 2 at a
    school whose policy keeps its cohorts on the legacy model. Last year's grade-7 classes: one
    of each model. The 12-year class learns algebra in halves: the whole class on a term-1
    unit, then at one time half 1 on a term-3 unit and half 2 on a term-2 unit; three of its
    pupils are in half 1, in half 2 and in neither. The legacy class's teachers recorded a
    12-year algebra unit (a unit of the other standard) and a 12-year geometry unit."""
    units: dict[tuple[CurriculumStandard, str, int, int], CurriculumUnit] = {}
    courses = (
        (TWELVE, 7, ("algebra", "geometry")),
        (LEGACY, 7, ("algebra", "physics")),
        (TWELVE, 2, ("mathematics",)),
        (LEGACY, 2, ("mathematics",)),
    )
    for standard, grade, subjects in courses:
        for subject in subjects:
            for term in (1, 2, 3, 4):
                unit = await make_unit(
                    session,
                    grade=grade,
                    term=term,
                    subject_code=subject,
                    unit_no=term + (10 if standard == LEGACY else 0),
                    standard=standard,
                )
                units[(standard, subject, grade, term)] = unit
                for position in (1, 2):
                    await make_lesson(
                        session,
                        unit=unit,
                        position=position,
                        title=f"{STANDARDS[standard]} {subject} {grade}.{term}.{position}",
                    )
    callers: dict[str, Person] = {}
    callers["grade 7, no class"] = (await make_pupil(session, grade=7, languages=["ky"]))[0]
    callers["grade 2, no class"] = (await make_pupil(session, grade=2, languages=["ky"]))[0]
    old, old_school = await make_pupil(session, grade=2, languages=["ky"])
    session.add(
        LmsPolicy(
            institution_id=old_school.id,
            twelve_year_from=2100,
            max_class_size=36,
            school_days=5,
            min_marks_for_result=3,
            concern_reports_per_day=3,
        )
    )
    callers["grade 2, no class, a school staying on the legacy model"] = old
    year = await make_academic_year(session, start_year=school_year_of(clock.today()) - 1)
    days = {
        t.number: t.starts_on + timedelta(days=2)
        for t in default_terms(year.starts_on, year.ends_on)
    }
    school = await make_institution(session, languages=["ky"])
    await make_bell_schedule(session, school=school)
    twelve = await make_class_group(
        session,
        school=school,
        year=year,
        grade=7,
        letter="А",
        curriculum_model=CurriculumModel.TWELVE_YEAR,
    )
    legacy = await make_class_group(
        session,
        school=school,
        year=year,
        grade=7,
        letter="Б",
        curriculum_model=CurriculumModel.ELEVEN_YEAR,
    )
    halves = {}
    for name, half in (("half 1", 1), ("half 2", 2), ("no half", None)):
        pupil, _ = await make_pupil_in_class(session, klass=twelve)
        callers[f"grade 7, a 12-year class, {name}"] = pupil
        halves[pupil.id] = half
    callers["grade 7, a legacy class"] = (await make_pupil_in_class(session, klass=legacy))[0]
    first, post = await make_teacher(session, school=school)
    second, second_post = await make_teacher(session, school=school)
    for teacher, teacher_post in ((first, post), (second, second_post)):
        await make_teaching_assignment(
            session, klass=twelve, subject="algebra", teacher=teacher, post=teacher_post
        )
    for subject in ("algebra", "geometry"):
        await make_teaching_assignment(
            session, klass=legacy, subject=subject, teacher=second, post=second_post
        )
    whole = await make_slot(
        session, klass=twelve, subject="algebra", teacher=first, weekday=1, period=1
    )
    one = await make_slot(
        session, klass=twelve, subject="algebra", teacher=first, weekday=2, period=1, subgroup=1
    )
    two = await make_slot(
        session, klass=twelve, subject="algebra", teacher=second, weekday=2, period=1, subgroup=2
    )
    for slot, term in ((whole, 1), (one, 3), (two, 2)):
        on = days[1] if slot is whole else days[2]
        named = units[(TWELVE, "algebra", 7, term)].id
        await make_class_lesson(session, slot=slot, on=on, curriculum_unit_id=named)
    algebra = await subject_id(session, "algebra")
    memberships = await session.execute(
        select(ClassMembership.id, ClassMembership.pupil_id).where(
            ClassMembership.class_group_id == twelve.id
        )
    )
    for membership, pupil_id in memberships:
        if halves[pupil_id] is not None:
            session.add(
                ClassMembershipHalf(
                    membership_id=membership,
                    subject_id=algebra,
                    class_group_id=twelve.id,
                    subgroup=halves[pupil_id],
                )
            )
    _term, ahead, behind = _terms()
    for period, (subject, term) in enumerate((("algebra", ahead), ("geometry", behind)), start=3):
        slot = await make_slot(
            session, klass=legacy, subject=subject, teacher=second, weekday=3, period=period
        )
        named = units[(TWELVE, subject, 7, term)].id
        await make_class_lesson(session, slot=slot, on=days[2], curriculum_unit_id=named)
    await session.flush()
    return callers


def _headers(pair: Pair, world: dict[str, Person]) -> dict[str, dict[str, str]]:
    headers = {}
    for name, person in world.items():
        if person.id in TEACHERS:
            scopes = [f"institution:{TEACHERS[person.id]}"]
            token = pair.token(Role.TEACHER, person_id=person.id, scopes=scopes)
            headers[name] = {"Authorization": f"Bearer {token}"}
        else:
            headers[name] = _bearer(pair, Role.PUPIL, person)
    staff = world["grade 6, Russian"]
    headers["a content editor with a person"] = _bearer(pair, Role.CONTENT_EDITOR, staff)
    headers["the ministry, no person"] = _bearer(pair, Role.MINISTRY)
    return headers


class TestCompiledFeed:
    async def test_the_portals_feed_is_the_resolvers_in_one_statement(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        for name, headers in _headers(pair, world).items():
            for variables in ({}, {"language": "UZ"}, {"first": 1}, {"first": 0}):
                # when the feed is asked through both paths
                fast, _slow, statements = await pair.both(PORTAL, variables, headers)
                # then the answers are the same bytes, from one statement
                assert statements == 1, (name, variables)
                assert "errors" not in fast, (name, fast)
        feed = (await pair.both(PORTAL, {}, _headers(pair, world)["grade 5, Kyrgyz, progress"]))[0]
        mine = feed["data"]["myLearning"]
        assert (mine["grade"], mine["language"]) == (5, "KY")
        assert mine["progress"]["totalCount"] == 3  # the archived lesson's progress is left out

    async def test_every_field_it_knows_is_the_resolvers(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        await pair.both(SUBJECTS, {}, {})  # the subject codes, read once by the resolvers
        for name, headers in _headers(pair, world).items():
            for variables in (
                {"subject": "MATHEMATICS", "first": 20},
                {"subject": "world_history", "status": "COMPLETED", "first": 1},
                {"status": "STARTED", "first": 2},
            ):
                fast, _slow, statements = await pair.both(WIDE, variables, headers)
                assert statements == 1, (name, variables)
                assert "errors" not in fast, (name, fast)

    async def test_the_next_lessons_follow_grade_language_and_progress(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        headers = _headers(pair, world)
        term = content_service.current_term(clock.today())
        fast, _, _ = await pair.both(PORTAL, {}, headers["grade 5, Kyrgyz, progress"])
        nexts = fast["data"]["myLearning"]["nextLessons"]
        # S5: the pupil's grade and language; S3: from this quarter on, minus what is done
        assert [(n["subjectCode"], n["term"]) for n in nexts] == [
            ("mathematics", term),
            ("world_history", term),
        ]
        assert nexts[0]["title"].startswith(f"mathematics 5.{term}.2")
        assert nexts[1]["title"].startswith(f"world_history 5.{term}.1")
        fast, _, _ = await pair.both(PORTAL, {}, headers["grade 6, Russian"])
        assert fast["data"]["myLearning"]["language"] == "RU"
        fast, _, _ = await pair.both(PORTAL, {}, headers["school without lesson languages"])
        assert fast["data"]["myLearning"]["language"] == "KY"
        fast, _, _ = await pair.both(PORTAL, {}, headers["grade 12, no class"])
        assert fast["data"]["myLearning"]["nextLessons"] == []
        for nobody in ("left school", "no enrollment"):
            fast, _, _ = await pair.both(PORTAL, {}, headers[nobody])
            feed = fast["data"]["myLearning"]
            assert (feed["grade"], feed["school"], feed["nextLessons"]) == (None, None, [])
        fast, _, _ = await pair.both(PORTAL, {}, headers["the ministry, no person"])
        assert fast["data"]["myLearning"] is None

    async def test_anonymous_callers_and_partners_take_the_resolvers(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        fast, slow, statements = await pair.both(PORTAL, {}, {})
        assert fast["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert fast == slow
        assert statements == 0
        del world

    async def test_a_subject_it_does_not_know_is_the_resolvers_error(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        headers = _headers(pair, world)["grade 5, Kyrgyz, progress"]
        await pair.both(SUBJECTS, {}, {})
        one = "query($s: String) { myLearning { nextLessons(subject: $s) { id } } }"
        fast, slow, _ = await pair.both(one, {"s": "ASTROLOGY"}, headers)
        assert fast["errors"][0]["extensions"]["code"] == "UNKNOWN_SUBJECT"
        assert fast == slow


class TestTheFeedReadsTheLms:
    """The pupil's class in the school LMS decides the language of their lessons and, per
    subject, the unit the next lesson starts at (issue 16; domain.md S5: lessons by grade x
    subject x language; S4: the lesson topics teachers record)."""

    async def test_the_classs_language_comes_before_the_schools(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        headers = _headers(pair, world)
        term, _ahead, _behind = _terms()
        # given a pupil of a Russian class at a school whose first language is Kyrgyz
        fast, _, statements = await pair.both(
            PORTAL, {}, headers["grade 5, Russian class of a Kyrgyz school"]
        )
        feed = fast["data"]["myLearning"]
        # then their lessons are in Russian, from the date's term on (no topic recorded)
        assert statements == 1
        assert feed["language"] == "RU"
        assert [(n["subjectCode"], n["term"]) for n in feed["nextLessons"]] == [
            ("mathematics", term),
            ("world_history", term),
        ]
        assert all('"ru"' in n["title"] for n in feed["nextLessons"])
        # and the pupil may still ask for another language
        fast, _, _ = await pair.both(
            PORTAL, {"language": "UZ"}, headers["grade 5, Russian class of a Kyrgyz school"]
        )
        assert fast["data"]["myLearning"]["language"] == "UZ"
        # given a class taught in English, in which no lessons are made: the school's first
        fast, _, _ = await pair.both(PORTAL, {}, headers["grade 6, English class"])
        assert fast["data"]["myLearning"]["language"] == "KY"

    async def test_the_next_lesson_starts_at_the_unit_the_class_is_on(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        headers = _headers(pair, world)["grade 5, a class on recorded units"]
        _term, ahead, behind = _terms()
        # when the pupil of a class whose teachers recorded topics opens their feed
        fast, _, statements = await pair.both(PORTAL, {}, headers)
        nexts = fast["data"]["myLearning"]["nextLessons"]
        # then mathematics starts at the unit the teacher last taught (ahead of the date's
        # term), past the lesson the pupil completed; world history at its unit, behind it;
        # the later lesson without a topic and the cancelled one do not move the class
        assert statements == 1
        assert [(n["subjectCode"], n["term"]) for n in nexts] == [
            ("mathematics", ahead),
            ("world_history", behind),
        ]
        assert nexts[0]["title"].startswith(f"mathematics 5.{ahead}.2")
        assert nexts[1]["title"].startswith(f"world_history 5.{behind}.1")
        # and in another language, the first lesson of the unit (nothing done in it)
        fast, _, _ = await pair.both(PORTAL, {"language": "UZ"}, headers)
        titles = [n["title"] for n in fast["data"]["myLearning"]["nextLessons"]]
        assert titles[0].startswith(f"mathematics 5.{ahead}.1")

    async def test_a_kept_statement_reads_the_class_as_of_the_day_it_runs(
        self, pair: Pair, world: dict[str, Person], session: AsyncSession
    ) -> None:
        # given the feed's statement as the compiled path keeps it for the class's pupil
        pupil = world["grade 5, a class on recorded units"]
        principal = Principal(subject=f"person:{pupil.id}", role=Role.PUPIL, person_id=pupil.id)
        plan = pair.compiler.plan(PORTAL, None)
        sql, args = pair.compiler.prepared(plan, principal, {}, KeyRing.load(pair.settings).cursors)
        year = school_year_of(clock.today()) - 1
        terms = default_terms(date(year, 9, 1), date(year + 1, 5, 31))
        # when it runs on a day between the class's first recorded lessons and its second
        moment = f"{terms[1].starts_on.isoformat()} 12:00:00+06"
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        answer = await raw.fetchval(sql.replace("now()", f"'{moment}'::timestamptz"), *args)
        # then the class is where its lessons up to that day put it: mathematics on the unit
        # of term 1, world history on the unit of term 4 (its first recorded topic)
        nexts = json.loads(answer)["myLearning"]["nextLessons"]
        assert [n["title"].split(" ")[:2] for n in nexts] == [
            ["mathematics", "5.1.1"],
            ["world_history", "5.4.1"],
        ]

    async def test_in_the_holidays_the_term_is_the_next_of_the_classs_calendar(
        self,
        pair: Pair,
        world: dict[str, Person],
        session: AsyncSession,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given a day of the spring holidays of the classes' year (S3: four terms, holidays
        # between them), in March: the date alone says the third quarter
        year = school_year_of(clock.today()) - 1
        terms = default_terms(date(year, 9, 1), date(year + 1, 5, 31))
        holiday = terms[3].starts_on - timedelta(days=3)
        assert (holiday.month, content_service.current_term(holiday)) == (3, 3)
        # and both paths on that day: the resolvers' clock, PostgreSQL's for the kept statement
        monkeypatch.setattr(clock, "today", lambda: holiday)
        moment = f"'{holiday.isoformat()} 12:00:00+06'::timestamptz"
        plan = pair.compiler.plan(PORTAL, None)
        cursors = KeyRing.load(pair.settings).cursors
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        headers = _headers(pair, world)
        for name, term in (
            ("grade 5, Russian class of a Kyrgyz school", 4),
            ("grade 5, Kyrgyz, progress", 3),
        ):
            person = world[name]
            principal = Principal(
                subject=f"person:{person.id}", role=Role.PUPIL, person_id=person.id
            )
            sql, args = pair.compiler.prepared(plan, principal, {}, cursors)
            # when the pupil opens their feed
            fast = json.loads(await raw.fetchval(sql.replace("now()", moment), *args))
            slow = await pair.slow.post("/graphql", json={"query": PORTAL}, headers=headers[name])
            # then a pupil in a class is in the term that comes next in its calendar, a pupil
            # without one in the date's; the two paths agree
            assert fast == slow.json()["data"], name
            feed = fast["myLearning"]
            assert feed["term"] == term, name
            assert {n["term"] for n in feed["nextLessons"]} == {term}, name


async def _next(pair: Pair, world: dict[str, Person], name: str) -> tuple[str, list[str]]:
    """A caller's standard and their next lessons' titles (up to the position), both paths
    agreeing, in one statement."""
    fast, _, statements = await pair.both(PORTAL, {}, _headers(pair, world)[name])
    assert statements == 1
    feed = fast["data"]["myLearning"]
    return feed["standard"], [n["title"] for n in feed["nextLessons"]]


class TestTheFeedFollowsTheStandard:
    """S1: the 12-year standard and the legacy 11-year model run side by side; a class learns
    under the one the LMS records for it, and a pupil is offered that standard's lessons."""

    async def test_a_class_is_offered_the_lessons_of_its_curriculum_model(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        _term, ahead, _behind = _terms()
        # given a 12-year class and a legacy one of grade 7, and algebra lessons of both
        # standards: when their pupils open their feeds
        twelve = await _next(pair, world, "grade 7, a 12-year class, no half")
        legacy = await _next(pair, world, "grade 7, a legacy class")
        # then each gets its own model's algebra (S1); the legacy class's teacher named a
        # 12-year unit, whose numbering the legacy curriculum does not share: its term places
        # the class, on the legacy curriculum's first unit of that term
        assert twelve[0] == "TWELVE_YEAR"
        assert twelve[1][0] == "twelve algebra 7.3.1"
        assert legacy[0] == "ELEVEN_YEAR"
        assert legacy[1][0] == f"legacy algebra 7.{ahead}.1"

    async def test_a_subject_its_model_has_no_lessons_of_comes_from_the_other_standard(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        term, _ahead, behind = _terms()
        # given geometry made for the 12-year standard only and physics for the legacy model
        # only: when pupils of a class of each model open their feeds
        _, twelve = await _next(pair, world, "grade 7, a 12-year class, no half")
        _, legacy = await _next(pair, world, "grade 7, a legacy class")
        # then each gets the other standard's lessons in the subject its model has none of
        # (S1: the fallback), placed by the class's recorded unit where it names one
        assert twelve[1:] == [f"twelve geometry 7.{term}.1", f"legacy physics 7.{term}.1"]
        assert legacy[1:] == [f"twelve geometry 7.{behind}.1", f"legacy physics 7.{term}.1"]

    async def test_a_pupil_without_a_class_follows_their_schools_rule_for_their_cohort(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        term = content_service.current_term(clock.today())
        # given pupils without a class: of grade 7 (entered grade 1 before the 12-year
        # standard's first intake), of grade 2 (after it), and of grade 2 at a school whose own
        # policy keeps its cohorts on the legacy model
        seventh = await _next(pair, world, "grade 7, no class")
        second = await _next(pair, world, "grade 2, no class")
        kept = await _next(pair, world, "grade 2, no class, a school staying on the legacy model")
        # then the LMS's rule for the school decides their standard (S1)
        assert seventh == (
            "ELEVEN_YEAR",
            [
                f"legacy algebra 7.{term}.1",
                f"twelve geometry 7.{term}.1",
                f"legacy physics 7.{term}.1",
            ],
        )
        assert second == ("TWELVE_YEAR", [f"twelve mathematics 2.{term}.1"])
        assert kept == ("ELEVEN_YEAR", [f"legacy mathematics 2.{term}.1"])


class TestTheFeedFollowsTheHalf:
    """S4: a class learns some subjects in halves (the timetable's subgroups); a pupil placed in
    a half is placed by the lessons of the whole class and of their own half."""

    async def test_each_pupil_is_placed_by_their_own_halfs_lessons(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        # given the 12-year class's algebra: the whole class on a term-1 unit, then at one time
        # half 1 on a term-3 unit and half 2 on a term-2 unit
        # when a pupil of each half, and one placed in neither, open their feeds
        one = await _next(pair, world, "grade 7, a 12-year class, half 1")
        two = await _next(pair, world, "grade 7, a 12-year class, half 2")
        neither = await _next(pair, world, "grade 7, a 12-year class, no half")
        # then each half's pupil starts algebra at their half's unit; a pupil in no half at the
        # later of the two (as before halves were recorded)
        assert one[1][0] == "twelve algebra 7.3.1"
        assert two[1][0] == "twelve algebra 7.2.1"
        assert neither[1][0] == "twelve algebra 7.3.1"
        # and the other subjects, taught to the whole class, are the same for all three
        assert one[1][1:] == two[1][1:] == neither[1][1:]


class TestTheCallerIsAValueOfTheStatement:
    async def test_pupils_feeds_are_one_statement_text_their_person_an_argument(
        self, pair: Pair, world: dict[str, Person]
    ) -> None:
        # given pupils of different grades, schools and languages, without a class, in a class
        # of another language than their school's, and in a class on recorded units
        plan = pair.compiler.plan(PORTAL, None)
        cursors = KeyRing.load(pair.settings).cursors
        built = []
        for name in (
            "grade 5, Kyrgyz, progress",
            "grade 6, Russian",
            "grade 5, Russian class of a Kyrgyz school",
            "grade 5, a class on recorded units",
        ):
            person = world[name]
            principal = Principal(
                subject=f"person:{person.id}", role=Role.PUPIL, person_id=person.id
            )
            # when the compiled path makes each one's statement
            built.append((person.id, *pair.compiler.prepared(plan, principal, {}, cursors)))
        first, first_sql, first_args = built[0]
        for second, second_sql, second_args in built[1:]:
            # then PostgreSQL gets one text (one prepared plan), each person as an argument
            assert second_sql == first_sql
            differ = [(x, y) for x, y in zip(first_args, second_args, strict=True) if x != y]
            assert differ == [(first, second)]


class TestTheTermIsAValueOfTheStatement:
    async def test_the_sql_term_is_the_python_term_every_month(self, session: AsyncSession) -> None:
        # S3: four quarters from September to May; the summer counts as the first
        for month in range(1, 13):
            for day in (1, 15, 28):
                given = date(2026, month, day)
                term = await session.scalar(select(term_of_sql(literal(given, Date))))
                assert term == content_service.current_term(given), given

    @pytest.mark.parametrize(
        ("moment", "term"),
        [
            ("2026-10-31 23:59:00+06", 1),
            ("2026-10-31 18:01:00+00", 2),  # already November in Bishkek
            ("2027-01-15 12:00:00+06", 3),
            ("2027-05-31 12:00:00+06", 4),
            ("2027-07-01 12:00:00+06", 1),
        ],
    )
    async def test_a_kept_statement_takes_the_term_of_the_day_it_runs(
        self,
        pair: Pair,
        world: dict[str, Person],
        session: AsyncSession,
        moment: str,
        term: int,
    ) -> None:
        # given the feed's statement as the compiled path keeps it for a pupil
        pupil = world["grade 5, Kyrgyz, progress"]
        principal = Principal(subject=f"person:{pupil.id}", role=Role.PUPIL, person_id=pupil.id)
        plan = pair.compiler.plan(PORTAL, None)
        cursors = KeyRing.load(pair.settings).cursors
        sql, args = pair.compiler.prepared(plan, principal, {}, cursors)
        again, _ = pair.compiler.prepared(plan, principal, {}, cursors)
        assert again == sql
        assert "now()" in sql
        # when it runs on another day (PostgreSQL's clock stood in for)
        raw = (await (await session.connection()).get_raw_connection()).driver_connection
        assert raw is not None
        answer = await raw.fetchval(sql.replace("now()", f"'{moment}'::timestamptz"), *args)
        # then its term is that day's in Bishkek: nothing of today was kept in it
        assert json.loads(answer)["myLearning"]["term"] == term
        today = await raw.fetchval(sql, *args)
        assert json.loads(today)["myLearning"]["term"] == content_service.current_term(
            clock.today()
        )

"""`bilim serve --demo` shows something on every portal: after the registry, a slice of learning
content, the school LMS and the libraries is added through the domains' workflows."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassLesson, CurriculumUnit, Subject
from resolvers import demo
from resolvers.access import Role
from resolvers.relay import decode_id
from tests.conftest import Hub

PORTALS = """{
  lessons(first: 5, filter: {grade: 5, subject: "mathematics"}) { totalCount }
  subjects { code }
  openCourses(first: 5) { totalCount nodes { title runs(first: 5) { totalCount } } }
  academicYears(first: 5) { totalCount }
  catalogue(first: 10) { totalCount }
}"""
CLASSES = """{ classGroups(first: 5) {
  totalCount nodes { name pupilCount weeklyHours { scheduled subject { code } } } } }"""
PUPILS = "{ classGroups(first: 1) { nodes { curriculumModel pupils { id } } } }"
FEED = "{ myLearning { standard nextLessons { subjectCode standard term unitNo topicNo } } }"


async def test_the_demo_slice_fills_every_portal(db_url: str, hub: Hub) -> None:
    # given the demo's registry
    await demo.load(db_url, scale=0.002, seed=7, progress=False)

    # when the slice is added (on a Thursday: last week's lessons are in the past)
    started = time.perf_counter()
    added = await demo.load_domains(db_url, day=date(2026, 12, 3))
    took = time.perf_counter() - started
    again = await demo.load_domains(db_url, day=date(2026, 12, 3))

    # then
    assert added["content"]["lessons"] > 0
    assert added["lms"]["class_groups"] == 1
    assert added["library"]["copies"] > 0
    assert again == {}, "a second run adds nothing"
    print(f"demo slice added in {took:.2f} s")  # noqa: T201 - the start-up cost, read with -s
    assert took < 30, "bilim serve --demo starts in reasonable time"
    data = await hub.data(PORTALS, token=hub.token(Role.MINISTRY))
    assert data["lessons"]["totalCount"] == 4  # two topics, Kyrgyz and Russian
    assert {"mathematics", "fine_arts", "alphabet"} <= {s["code"] for s in data["subjects"]}
    assert data["openCourses"]["nodes"][0]["runs"]["totalCount"] == 1
    assert data["academicYears"]["totalCount"] == 1
    assert data["catalogue"]["totalCount"] == 6
    classes = (await hub.data(CLASSES, token=hub.token(Role.MINISTRY)))["classGroups"]
    (klass,) = classes["nodes"]
    assert klass["name"] == "5А"
    assert klass["pupilCount"] == added["lms"]["pupils"] > 0
    week = {h["subject"]["code"]: h["scheduled"] for h in klass["weeklyHours"]}
    assert week["mathematics"] == 5


async def test_the_demo_pupils_feed_follows_their_class(
    db_url: str, hub: Hub, session: AsyncSession
) -> None:
    # given the demo with its slice (last week's lessons name the curriculum's units)
    await demo.load(db_url, scale=0.002, seed=7, progress=False)
    added = await demo.load_domains(db_url, day=date(2026, 12, 3))
    assert added["lms"]["class_groups"] == 1
    (klass,) = (await hub.data(PUPILS, token=hub.token(Role.MINISTRY)))["classGroups"]["nodes"]
    _, pupil = decode_id(klass["pupils"][0]["id"], expected="Person")
    taught = {
        code: (unit.term, unit.unit_no, unit.topic_no)
        for code, unit in (
            await session.execute(
                select(Subject.code, CurriculumUnit)
                .join(ClassLesson, ClassLesson.subject_id == Subject.id)
                .join(CurriculumUnit, CurriculumUnit.id == ClassLesson.curriculum_unit_id)
            )
        ).all()
    }
    assert set(taught) == {
        "mathematics",
        "kyrgyz_language",
        "history_kyrgyzstan",
        "natural_science",
    }

    # when one of the class's pupils opens their feed
    feed = (await hub.data(FEED, token=hub.token(Role.PUPIL, person_id=pupil)))["myLearning"]

    # then it is their class's curriculum model's (S1), and each subject starts at the first
    # lesson of the unit the class's lessons named (S4: topics entered once): natural
    # science on the first term's unit, though the demo's week is in the second term
    assert feed["standard"] == klass["curriculumModel"]
    assert {n["standard"] for n in feed["nextLessons"]} == {klass["curriculumModel"]}
    nexts = {n["subjectCode"]: (n["term"], n["unitNo"], n["topicNo"]) for n in feed["nextLessons"]}
    assert nexts == {code: (term, unit, 1) for code, (term, unit, _topic) in taught.items()}
    assert nexts["natural_science"][0] == 1

"""The open course portal's pages (portals/open-courses: OpenCourses, OpenCourse, MyCourses)
are answered by the compiled path in one statement each, byte for byte as the resolvers answer
them (issue 21): courses with their university and runs (``placesLeft`` computed as the
resolvers compute it), a course's modules, assessments and runs, a learner's enrollments with
run, course, results and certificate, for every kind of caller; partners' keys, bad IDs and
fields the module does not know take the resolvers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssessmentResult,
    CourseAssessment,
    CourseCertificate,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseModule,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.content.factories import make_course, make_run, make_student, make_university
from tests.factories import gid, make_person
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[1] / "portals/open-courses"
OPEN_COURSES = (PORTAL / "OpenCourses.graphql").read_text()
OPEN_COURSE = (PORTAL / "OpenCourse.graphql").read_text()
MY_COURSES = (PORTAL / "MyCourses.graphql").read_text()
ESCAPES = 'Маалымат "базасы" \\ /\t\n\x01\u2028 😀'

COURSES_EVERYTHING = """
query Everything($after: String, $institutionId: ID) {
  openCourses(filter: { institutionId: $institutionId }, orderBy: ID, first: 2, after: $after) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id code title description language level credits programmeCode
      institution { __typename id name kind region { nameRu } }
      modules { __typename position title summary hours }
      assessments { __typename id position title kind weight required }
      runs(first: 2) {
        __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        nodes { __typename id startsOn endsOn enrollmentClosesOn capacity enrolled placesLeft
                openToAll passMark course { id code } }
      }
    }
  }
}
"""
COURSE_EVERYTHING = """
query Everything($id: ID!, $after: String) {
  node(id: $id) {
    __typename id
    ... on OpenCourse {
      code title description language level credits programmeCode
      institution { id name }
      modules { position title summary hours }
      assessments { id position title kind weight required }
      runs(first: 2, after: $after) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        nodes { id placesLeft capacity enrolled }
      }
    }
    ... on Person { fullName }
  }
}
"""
MY_EVERYTHING = """
query Everything($after: String) {
  myLearning {
    __typename
    courseEnrollments(first: 2, after: $after) {
      __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes {
        __typename id status finalScore completedOn recognisedCredits recognisedOn
        recognisedBy { id name }
        run {
          __typename id startsOn placesLeft
          course { id title credits institution { name }
                   modules { title hours } runs(first: 1) { totalCount nodes { id } } }
        }
        results { __typename assessmentId score }
        certificate { __typename id number issuedOn revokedOn }
      }
    }
  }
}
"""


async def _arrange(session: AsyncSession) -> dict[str, Any]:
    """Two universities (one named with every JSON escape), four courses, runs unlimited,
    full and with places; a student enrolled in three runs: completed with results, a
    certificate and recognised credits, enrolled with one result, enrolled with none."""
    university = await make_university(session)
    other = await make_university(session)
    other.name = ESCAPES
    courses = [await make_course(session, university=university) for _ in range(3)]
    odd = await make_course(session, university=other, weights=(100,), credits=Decimal("12.5"))
    odd.title, odd.description, odd.language = ESCAPES, ESCAPES, "ru"
    session.add(
        CourseModule(
            course_id=odd.id, position=2, title=ESCAPES, summary=ESCAPES, hours=Decimal("2.5")
        )
    )
    courses[1].title = "Алгебра"
    runs = []
    for i, course in enumerate([*courses, odd]):
        for k, capacity in enumerate((None, 2, 30, 5)[: 1 + i]):
            run = await make_run(
                session, course=course, capacity=capacity, closes_in_days=10 + k, open_to_all=k == 1
            )
            runs.append(run)
    student = await make_student(session, university=university)
    taken = [runs[2], runs[3], runs[5]]  # full, unlimited, 29 places left
    for run in taken:
        run.enrolled = 2 if run.capacity == 2 else 1
    await session.flush()
    first = CourseEnrollment(
        run_id=taken[0].id,
        person_id=student.id,
        status=CourseEnrollmentStatus.COMPLETED,
        final_score=Decimal("82.50"),
        completed_on=today() - timedelta(days=3),
        recognised_by_institution_id=university.id,
        recognised_credits=Decimal("3.0"),
        recognised_on=today(),
    )
    second = CourseEnrollment(run_id=taken[1].id, person_id=student.id)
    third = CourseEnrollment(run_id=taken[2].id, person_id=student.id)
    session.add_all([first, second, third])
    await session.flush()
    assessments = {
        course.id: [
            a.id
            for a in (
                await session.execute(
                    CourseAssessment.__table__.select()
                    .where(CourseAssessment.course_id == course.id)
                    .order_by(CourseAssessment.position.desc())
                )
            ).all()
        ]
        for course in courses
    }
    run_course = {run.id: run.course_id for run in runs}
    for enrollment, scores in ((first, ("70.00", "91.25")), (second, ("55.5",))):
        ids = assessments[run_course[enrollment.run_id]]
        for assessment, score in zip(ids, scores, strict=False):
            session.add(
                AssessmentResult(
                    enrollment_id=enrollment.id,
                    assessment_id=assessment,
                    score=Decimal(score),
                    recorded_by="test",
                )
            )
    session.add(
        CourseCertificate(
            number="OC-2026-0000000001",
            enrollment_id=first.id,
            issued_on=today(),
            issued_by="test",
        )
    )
    parent = await make_person(session, first_name="Ата")
    await session.commit()
    return {
        "university": university,
        "other": other,
        "courses": courses,
        "odd": odd,
        "student": student,
        "parent": parent,
    }


def _callers(pair: Pair, arranged: dict[str, Any]) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    university = arranged["university"].id
    return {
        "anonymous": {},
        "the learner": bearer(pair.token(Role.PUPIL, person_id=arranged["student"].id)),
        "a guardian": bearer(pair.token(Role.GUARDIAN, person_id=arranged["parent"].id)),
        "the university's course team": bearer(
            pair.token(Role.CONTENT_EDITOR, scopes=[f"institution:{university}"])
        ),
        "the university's admin": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{university}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
    }


async def _partner(session: AsyncSession, settings: Any) -> dict[str, str]:
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key

    _, key = await make_api_key(
        session,
        pepper=load_pepper(settings),
        allowed_fields=[
            "Query.openCourses",
            "Query.node",
            "Query.myLearning",
            *(
                f"{t}.*"
                for t in (
                    "OpenCourse",
                    "CourseRun",
                    "CourseModule",
                    "CourseAssessment",
                    "Institution",
                    "Region",
                    "MyLearning",
                    "CourseEnrollment",
                    "AssessmentResult",
                    "CourseCertificate",
                )
            ),
        ],
    )
    await session.commit()
    return {"X-Api-Key": key}


async def test_the_course_list_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    # given four courses of two universities with runs unlimited, full and with places
    arranged = await _arrange(session)
    callers = {**_callers(pair, arranged), "partner": await _partner(session, settings)}
    for caller, headers in callers.items():
        for document, variables in (
            (OPEN_COURSES, {}),
            (
                OPEN_COURSES,
                {"language": "KY", "level": "BACHELOR", "programmeCode": " he-computing "},
            ),
            (OPEN_COURSES, {"language": "RU", "first": 1}),
            (COURSES_EVERYTHING, {}),
        ):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement (a partner's key decides
            # field by field: the resolvers)
            assert fast == slow, (caller, fast, slow)
            assert "errors" not in fast, (caller, fast)
            if caller != "partner":
                assert statements == 1, (caller, pair.counter.statements)
    page, _, _ = await pair.both(OPEN_COURSES, {}, {})
    nodes = page["data"]["openCourses"]["nodes"]
    assert page["data"]["openCourses"]["totalCount"] == 4
    assert nodes[0]["title"] == "Алгебра"  # by title
    lefts = [r["placesLeft"] for n in nodes for r in n["runs"]["nodes"]]
    assert {None, 0, 2, 29} <= set(lefts)
    odd = next(n for n in nodes if n["title"] == ESCAPES)
    assert odd["institution"]["name"] == ESCAPES
    assert odd["credits"] == "12.5"
    # the pages after the first, of the list and of a course's runs, answer the same
    after = None
    for _ in range(3):
        fast, slow, statements = await pair.both(COURSES_EVERYTHING, {"after": after}, {})
        assert fast == slow
        assert statements == 1
        after = fast["data"]["openCourses"]["pageInfo"]["endCursor"]
        if not fast["data"]["openCourses"]["pageInfo"]["hasNextPage"]:
            break


async def test_a_course_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    arranged = await _arrange(session)
    callers = {**_callers(pair, arranged), "partner": await _partner(session, settings)}
    course_ids = [gid("OpenCourse", c.id) for c in [*arranged["courses"], arranged["odd"]]]
    for caller, headers in callers.items():
        for course_id in course_ids:
            for document in (OPEN_COURSE, COURSE_EVERYTHING):
                fast, slow, statements = await pair.both(document, {"id": course_id}, headers)
                assert fast == slow, (caller, fast, slow)
                if caller == "partner":
                    continue  # its key's grant decides (a person's name is personal data)
                assert "errors" not in fast, (caller, fast)
                assert statements == 1, (caller, pair.counter.statements)
    odd, _, _ = await pair.both(OPEN_COURSE, {"id": course_ids[-1]}, {})
    course = odd["data"]["node"]
    assert [m["hours"] for m in course["modules"]] == ["10.0", "2.5"]
    assert course["modules"][1]["summary"] == ESCAPES
    assert [r["placesLeft"] for r in course["runs"]["nodes"]] == [None, 2, 30, 5]
    # a page of runs after a cursor
    first, _, _ = await pair.both(COURSE_EVERYTHING, {"id": course_ids[-1]}, {})
    cursor = first["data"]["node"]["runs"]["pageInfo"]["endCursor"]
    fast, slow, statements = await pair.both(
        COURSE_EVERYTHING, {"id": course_ids[-1], "after": cursor}, {}
    )
    assert fast == slow
    assert statements == 1
    assert len(fast["data"]["node"]["runs"]["nodes"]) == 2
    # no such course, a person's ID, a malformed ID: the same answers (the last an error)
    for other in (gid("OpenCourse", 10**6), gid("Person", arranged["student"].id), "nope"):
        fast, slow, _ = await pair.both(OPEN_COURSE, {"id": other}, {})
        assert fast == slow, other
    assert fast["errors"][0]["extensions"]["code"] == "INVALID_ID"


async def test_a_learners_courses_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, settings: Any
) -> None:
    arranged = await _arrange(session)
    callers = {**_callers(pair, arranged), "partner": await _partner(session, settings)}
    # a member of staff who is a learner too
    callers["a course team member enrolled"] = {
        "Authorization": "Bearer "
        + pair.token(
            Role.CONTENT_EDITOR,
            scopes=[f"institution:{arranged['other'].id}"],
            person_id=arranged["student"].id,
        )
    }
    counts: dict[str, int | None] = {}
    for caller, headers in callers.items():
        for document in (MY_COURSES, MY_EVERYTHING):
            fast, slow, statements = await pair.both(document, {}, headers)
            assert fast == slow, (caller, fast, slow)
            if caller == "anonymous":
                assert fast["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                continue
            if caller == "partner":
                continue
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, pair.counter.statements)
            mine = fast["data"]["myLearning"]
            counts[caller] = None if mine is None else mine["courseEnrollments"]["totalCount"]
    # the learner reads their three, a guardian their own (none); callers without a person null
    assert counts["the learner"] == counts["a course team member enrolled"] == 3
    assert counts["a guardian"] == 0
    assert counts["ministry"] is None
    learner = callers["the learner"]
    page, _, _ = await pair.both(MY_COURSES, {}, learner)
    nodes = page["data"]["myLearning"]["courseEnrollments"]["nodes"]
    done = nodes[-1]  # the latest first
    assert done["status"] == "COMPLETED"
    assert done["finalScore"] == "82.50"
    assert done["recognisedCredits"] == "3.0"
    assert [r["score"] for r in done["results"]] == ["91.25", "70.00"]  # by assessment
    assert done["certificate"]["number"] == "OC-2026-0000000001"
    assert nodes[0]["certificate"] is None
    assert nodes[0]["results"] == []
    # the pages after the first
    after = None
    for _ in range(3):
        fast, slow, statements = await pair.both(MY_EVERYTHING, {"after": after}, learner)
        assert fast == slow
        assert statements == 1
        connection = fast["data"]["myLearning"]["courseEnrollments"]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    # the feed's other fields with the courses still answer the same
    mixed = MY_COURSES.replace("myLearning {", "myLearning { grade term language")
    assert mixed != MY_COURSES
    fast, slow, statements = await pair.both(mixed, {}, learner)
    assert fast == slow
    assert statements == 1


async def test_unknown_fields_and_bad_filters_take_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    arranged = await _arrange(session)
    learner = _callers(pair, arranged)["the learner"]
    course_id = gid("OpenCourse", arranged["courses"][0].id)
    for document, variables, before, after in (
        (
            OPEN_COURSES,
            {},
            "credits programmeCode",
            "credits allRuns: runs(first: 1) { edges { cursor } }",
        ),
        (
            OPEN_COURSE,
            {"id": course_id},
            "passMark",
            "passMark course { runs(first: 1) { edges { cursor } } }",
        ),
        (
            MY_COURSES,
            {},
            "completedOn",
            "completedOn run { course { runs(first: 1) { edges { cursor } } } }",
        ),
    ):
        unknown = document.replace(before, after, 1)
        assert unknown != document
        fast, slow, statements = await pair.both(unknown, variables, learner)
        assert fast == slow
        assert "errors" not in fast, fast
        assert statements > 1
    edges = OPEN_COURSES.replace("nodes {", "edges { cursor } nodes {", 1)
    fast, slow, statements = await pair.both(edges, {}, {})
    assert fast == slow
    assert statements > 1
    for flt in ({"institutionId": gid("Person", 1)}, {"institutionId": "x"}):
        document = OPEN_COURSES.replace(
            "filter: {", "filter: { institutionId: $institutionId,"
        ).replace("$first: Int = 20", "$first: Int = 20 $institutionId: ID")
        fast, slow, _ = await pair.both(document, flt, {})
        assert fast == slow, flt
        assert "errors" in fast, flt
    # pages too large (the resolvers' INVALID_PAGINATION) on both lists
    for document, headers in ((OPEN_COURSES, {}), (MY_COURSES, learner)):
        fast, slow, _ = await pair.both(document, {"first": 101}, headers)
        assert fast == slow
        assert "errors" in fast
    too_many = OPEN_COURSE.replace("runs(first: 10)", "runs(first: 101)")
    assert too_many != OPEN_COURSE
    fast, slow, _ = await pair.both(too_many, {"id": course_id}, {})
    assert fast == slow
    assert "errors" in fast

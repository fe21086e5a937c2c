"""Learning content's guarded node types through `node` and `nodes`: lessons not yet published
(drafts and lessons in review), open-course enrollments and their certificates. An object the
caller may not read answers exactly as an unknown ID does (null, no error), and a list of IDs
answers the readable ones in place with nulls for the rest (issue 22.7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import CourseCertificate, CourseEnrollment, CourseEnrollmentStatus, LessonStatus
from resolvers.access import Role
from tests.conftest import Hub
from tests.content.factories import (
    course_team,
    editor,
    learner,
    make_course,
    make_lesson,
    make_run,
    make_student,
    make_university,
)
from tests.factories import gid, make_family
from tests.security.test_idor import GUARDED_IN_CONTENT

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
COVERED = {"Lesson", "CourseEnrollment", "CourseCertificate"}


@dataclass
class World:
    draft: str
    in_review: str
    published: str
    university: int
    other_university: int
    student: int
    other_student: int
    enrollment: str
    other_enrollment: str
    certificate: str
    other_certificate: str
    guardian: int

    def unknown(self, type_name: str) -> str:
        return gid(type_name, 2_000_000_000)


async def _completed(
    session: AsyncSession, *, run_id: int, person_id: int, number: str
) -> tuple[CourseEnrollment, CourseCertificate]:
    enrollment = CourseEnrollment(
        run_id=run_id,
        person_id=person_id,
        status=CourseEnrollmentStatus.COMPLETED,
        final_score=Decimal("87.50"),
        completed_on=date(2026, 11, 30),
    )
    session.add(enrollment)
    await session.flush()
    certificate = CourseCertificate(
        number=number,
        enrollment_id=enrollment.id,
        issued_on=date(2026, 12, 1),
        issued_by="content_editor:test",
    )
    session.add(certificate)
    await session.flush()
    return enrollment, certificate


@pytest.fixture
async def world(session: AsyncSession) -> World:
    draft = await make_lesson(session, status=LessonStatus.DRAFT, title="Долбоор")
    in_review = await make_lesson(
        session, status=LessonStatus.IN_REVIEW, title="Карап чыгууда", unit_no=2
    )
    published = await make_lesson(session, title="Жарыяланган", unit_no=3)
    university = await make_university(session)
    other_university = await make_university(session)
    student = await make_student(session, university=university)
    other_student = await make_student(session, university=other_university)
    run = await make_run(session, course=await make_course(session, university=university))
    other_run = await make_run(
        session, course=await make_course(session, university=other_university)
    )
    mine, my_certificate = await _completed(
        session, run_id=run.id, person_id=student.id, number="OC-2026-000001"
    )
    theirs, their_certificate = await _completed(
        session, run_id=other_run.id, person_id=other_student.id, number="OC-2026-000002"
    )
    guardian, _ = await make_family(session)
    await session.commit()
    return World(
        draft=gid("Lesson", draft.id),
        in_review=gid("Lesson", in_review.id),
        published=gid("Lesson", published.id),
        university=university.id,
        other_university=other_university.id,
        student=student.id,
        other_student=other_student.id,
        enrollment=gid("CourseEnrollment", mine.id),
        other_enrollment=gid("CourseEnrollment", theirs.id),
        certificate=gid("CourseCertificate", my_certificate.id),
        other_certificate=gid("CourseCertificate", their_certificate.id),
        guardian=guardian.id,
    )


def _token(hub: Hub, role: Role | None, world: World) -> str | None:
    """A token of ``role`` for a person with no part in the world (a teacher's names a school:
    the second university stands in)."""
    if role is None:
        return None
    scopes = [f"institution:{world.other_university}"] if role == Role.TEACHER else None
    return hub.token(role, person_id=world.guardian, scopes=scopes)


async def _node(hub: Hub, global_id: str, token: str | None) -> object:
    return (await hub.data(NODE, {"id": global_id}, token=token))["node"]


async def _nodes(hub: Hub, ids: list[str], token: str | None) -> list[object]:
    nodes: list[object] = (await hub.data(NODES, {"ids": ids}, token=token))["nodes"]
    return nodes


def test_the_types_covered_here_are_content_guarded_types() -> None:
    assert COVERED <= GUARDED_IN_CONTENT


class TestUnpublishedLessons:
    @pytest.mark.parametrize("role", [None, Role.PUPIL, Role.GUARDIAN, Role.TEACHER])
    async def test_a_reader_who_is_no_editor_gets_null_as_for_an_unknown_id(
        self, hub: Hub, world: World, role: Role | None
    ) -> None:
        # given a caller who is not a lesson editor (anonymous, pupil, guardian, teacher)
        token = _token(hub, role, world)

        # when
        draft = await _node(hub, world.draft, token)
        in_review = await _node(hub, world.in_review, token)
        unknown = await _node(hub, world.unknown("Lesson"), token)
        listed = await _nodes(hub, [world.draft, world.published, world.in_review], token)

        # then drafts and lessons in review answer as an unknown lesson; published ones are read
        assert draft is None
        assert in_review is None
        assert unknown is None
        assert listed == [None, {"__typename": "Lesson", "id": world.published}, None]

    async def test_a_university_course_team_does_not_read_school_lesson_drafts(
        self, hub: Hub, world: World, session: AsyncSession
    ) -> None:
        # given a content editor scoped to a university (open courses, not school lessons)
        from models import Institution

        university = await session.get(Institution, world.university)
        assert university is not None
        token = course_team(hub, university)

        # when / then
        assert await _nodes(hub, [world.draft, world.in_review], token) == [None, None]

    async def test_the_national_content_team_reads_them(self, hub: Hub, world: World) -> None:
        listed = await _nodes(hub, [world.draft, world.in_review], editor(hub))
        assert [n and n["id"] for n in listed] == [world.draft, world.in_review]  # type: ignore[index]


class TestCourseEnrollmentsAndCertificates:
    async def test_a_student_reads_their_own_and_not_anothers(
        self, hub: Hub, world: World, session: AsyncSession
    ) -> None:
        # given the first student
        from models import Person

        student = await session.get(Person, world.student)
        assert student is not None
        token = learner(hub, student)

        # when
        listed = await _nodes(
            hub,
            [world.enrollment, world.other_enrollment, world.certificate, world.other_certificate],
            token,
        )
        by_node = [
            await _node(hub, world.other_enrollment, token),
            await _node(hub, world.other_certificate, token),
        ]
        unknown = [
            await _node(hub, world.unknown("CourseEnrollment"), token),
            await _node(hub, world.unknown("CourseCertificate"), token),
        ]

        # then theirs answers as an unknown ID does
        assert listed == [
            {"__typename": "CourseEnrollment", "id": world.enrollment},
            None,
            {"__typename": "CourseCertificate", "id": world.certificate},
            None,
        ]
        assert by_node == unknown == [None, None]

    async def test_a_course_team_reads_only_its_own_universitys_learners(
        self, hub: Hub, world: World, session: AsyncSession
    ) -> None:
        # given the second university's course team
        from models import Institution

        other = await session.get(Institution, world.other_university)
        assert other is not None
        token = course_team(hub, other)

        # when
        listed = await _nodes(
            hub,
            [world.enrollment, world.other_enrollment, world.certificate, world.other_certificate],
            token,
        )

        # then
        assert [n and n["id"] for n in listed] == [  # type: ignore[index]
            None,
            world.other_enrollment,
            None,
            world.other_certificate,
        ]

    @pytest.mark.parametrize("role", [None, Role.GUARDIAN, Role.TEACHER, Role.PUPIL])
    async def test_others_read_none(self, hub: Hub, world: World, role: Role | None) -> None:
        # given anonymous, or a person who is neither learner, their guardian nor course team
        token = _token(hub, role, world)

        # when
        ids = [world.enrollment, world.other_enrollment, world.certificate, world.other_certificate]
        listed = await _nodes(hub, ids, token)

        # then
        assert listed == [None] * 4

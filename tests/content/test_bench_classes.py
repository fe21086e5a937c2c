"""bench.content gives its learners classes in the school LMS, so the feed it measures is a
pupil's in a class (issue 16): the rows it copies with the triggers off must be what the
workflows would have written."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.content import load_classes, load_content
from models import ClassGroup, ClassLesson, ClassMembership, ClassMembershipHalf
from resolvers import clock, demo
from resolvers import content as content_service

LEARNERS = 300


async def test_the_benchs_learners_are_in_classes_whose_lessons_name_units(
    db_url: str, session: AsyncSession
) -> None:
    # given the bench's registry and lessons, when its learners get their classes
    await demo.load(db_url, scale=0.002, seed=7, progress=False)
    await load_content(db_url, 400, 1)
    loaded = await load_classes(db_url, LEARNERS, 1)
    again = await load_classes(db_url, LEARNERS, 1)

    # then every learner is in one class of their school and grade, each class's count is its
    # pupils, and a second run adds nothing
    assert loaded["memberships"] == LEARNERS
    assert again["classes"] == 0
    open_members = select(func.count()).where(ClassMembership.until.is_(None))
    assert await session.scalar(open_members) == LEARNERS
    counts = await session.execute(
        select(ClassGroup.pupil_count, func.count(ClassMembership.id))
        .join(ClassMembership, ClassMembership.class_group_id == ClassGroup.id)
        .group_by(ClassGroup.id)
    )
    assert all(kept == members <= 30 for kept, members in counts)
    # and the triggers' rules hold though they did not run: open enrollments, lessons in terms
    closed = await session.scalar(
        text(
            "SELECT count(*) FROM class_membership m JOIN enrollment e ON e.id = m.enrollment_id"
            " WHERE e.exit_date IS NOT NULL"
        )
    )
    outside = await session.scalar(
        text(
            "SELECT count(*) FROM class_lesson l WHERE NOT EXISTS (SELECT 1 FROM term t"
            " WHERE t.academic_year_id = l.academic_year_id"
            " AND l.on_date BETWEEN t.starts_on AND t.ends_on)"
        )
    )
    assert (closed, outside) == (0, 0)
    # and the classes' lessons name units, some of them a half's, whose pupils are placed
    named = select(func.count()).where(ClassLesson.curriculum_unit_id.is_not(None))
    assert await session.scalar(named) == loaded["lessons"] > 0
    halves = select(func.count()).select_from(ClassMembershipHalf)
    assert await session.scalar(halves) == loaded["halves"] > 0

    # and a learner's feed takes the class path: their placement has the class and membership
    pupil = await session.scalar(select(ClassMembershipHalf.membership_id).limit(1))
    person = await session.scalar(
        select(ClassMembership.pupil_id).where(ClassMembership.id == pupil)
    )
    assert person is not None
    place = await content_service.placement(session, person, None, clock.today())
    assert place.class_group_id is not None
    assert place.membership_id == pupil
    assert place.standard in {"twelve_year", "eleven_year"}

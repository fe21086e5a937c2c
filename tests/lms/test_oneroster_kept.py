"""OneRoster's users and enrollments kept by the database (issue 15, migration 0038): every
change of a class membership, a teaching assignment, a class's subjects, a person or a school
shows in the rostering service at once, and the kept rows are always exactly what the
service computed from the memberships before (the ``oneroster_*_source`` views)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    ClassMembership,
    ClassSubject,
    Institution,
    Person,
    Subject,
    TeachingAssignment,
    TimetableSlot,
)
from resolvers.lms import oneroster
from tests.conftest import Hub
from tests.factories import gid, make_pupil_in_class
from tests.lms.arrange import arrange_school
from tests.lms.test_oneroster import OSH, ROSTER, get, partner

USERS = """(SELECT row(k.*)::text FROM oneroster_pupil_source k
  UNION ALL SELECT row(k.*)::text FROM oneroster_teacher_source k
  UNION ALL SELECT row(k.*)::text FROM oneroster_guardian_source k)"""
ENROLLMENTS = """(SELECT row(k.*)::text FROM oneroster_pupil_enrollment_source k
  UNION ALL SELECT row(k.*)::text FROM oneroster_teacher_enrollment_source k)"""
DRIFT = f"""SELECT count(*) FROM (
  (SELECT row(k.*)::text FROM oneroster_user k EXCEPT ALL {USERS})
  UNION ALL ({USERS} EXCEPT ALL SELECT row(k.*)::text FROM oneroster_user k)
  UNION ALL (SELECT row(k.*)::text FROM oneroster_enrollment k EXCEPT ALL {ENROLLMENTS})
  UNION ALL ({ENROLLMENTS} EXCEPT ALL SELECT row(k.*)::text FROM oneroster_enrollment k)
) drift"""


async def assert_kept(session: AsyncSession) -> None:
    """The kept tables hold exactly what their source views compute, no more, no less."""
    await session.commit()
    assert await session.scalar(text(DRIFT)) == 0


async def _users_of(hub: Hub, path: str, headers: dict[str, str]) -> set[str]:
    response = await get(hub, path, headers, limit=1000)
    assert response.status_code == 200, response.text
    return {u["sourcedId"] for u in response.json()["users"]}


class TestKeptRoster:
    async def test_a_pupil_put_in_a_class_is_a_student_of_the_class_at_once(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school's class read by a partner
        s = await arrange_school(session, pupils=2)
        headers = await partner(hub, session)
        classes = (await get(hub, f"{ROSTER}/classes", headers, filter=f"school='{s.id}'")).json()
        math = next(c for c in classes["classes"] if c["subjects"] == ["mathematics"])
        path = f"{ROSTER}/classes/{math['sourcedId']}/students"
        assert await _users_of(hub, path, headers) == {gid("Person", p.id) for p in s.pupils}
        # when a third pupil joins the class
        pupil, _ = await make_pupil_in_class(session, klass=s.klass, first_name="Бакыт")
        await assert_kept(session)
        # then the class's and the school's students include them, as a user at this school
        assert gid("Person", pupil.id) in await _users_of(hub, path, headers)
        school = await _users_of(hub, f"{ROSTER}/schools/{s.id}/students", headers)
        assert gid("Person", pupil.id) in school
        user = (await get(hub, f"{ROSTER}/users/{gid('Person', pupil.id)}", headers)).json()
        assert user["user"]["roles"][0]["org"]["sourcedId"] == s.id
        assert user["user"]["grades"] == ["5"]

    async def test_a_withdrawn_pupils_enrollments_end_at_once(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a pupil of this year's class
        s = await arrange_school(session, pupils=2, in_this_year=True)
        headers = await partner(hub, session)
        pupil = gid("Person", s.pupils[1].id)
        before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        # when the school withdraws them (the enrollment's end ends the class membership)
        withdraw = """mutation($id: ID!) { withdrawStudent(input: {enrollmentId: $id,
          date: "2026-11-20", reason: WITHDRAWN}) { userErrors { code } } }"""
        await hub.data(withdraw, {"id": gid("Enrollment", s.enrollments[1].id)}, token=ministry)
        await assert_kept(session)
        # then their enrollments carry the end date and read as changed since before
        changed = await get(
            hub,
            f"{ROSTER}/enrollments",
            headers,
            filter=f"dateLastModified>'{before}'",
            limit=1000,
        )
        ended = changed.json()["enrollments"]
        assert ended
        assert {e["user"]["sourcedId"] for e in ended} == {pupil}
        assert {e["endDate"] for e in ended} == {"2026-11-20"}

    async def test_a_teachers_assignment_and_a_class_subject_change_the_enrollments(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=3)
        headers = await partner(hub, session)
        teachers = f"{ROSTER}/schools/{s.id}/teachers"
        assert await _users_of(hub, teachers, headers) == {gid("Person", s.teacher.id)}
        # when the class takes up a subject outside the plan
        music = await session.scalar(select(Subject.id).where(Subject.code == "music"))
        assert music is not None
        await session.execute(
            delete(ClassSubject).where(
                ClassSubject.class_group_id == s.klass.id, ClassSubject.subject_id == music
            )
        )
        await session.execute(
            insert(ClassSubject).values(class_group_id=s.klass.id, subject_id=music, weekly_hours=1)
        )
        await assert_kept(session)
        subject = await session.scalar(
            select(ClassSubject.gid).where(
                ClassSubject.class_group_id == s.klass.id, ClassSubject.subject_id == music
            )
        )
        enrolled = await get(hub, f"{ROSTER}/enrollments", headers, filter=f"class='{subject}'")
        assert int(enrolled.headers["X-Total-Count"]) == 3
        # when the teacher's assignment is removed, they are no teacher of the school any more
        await session.execute(delete(TimetableSlot).where(TimetableSlot.id == s.slot.id))
        await session.execute(
            delete(TeachingAssignment).where(TeachingAssignment.teacher_id == s.teacher.id)
        )
        await assert_kept(session)
        assert await _users_of(hub, teachers, headers) == set()
        assert (
            await get(hub, f"{ROSTER}/users/{gid('Person', s.teacher.id)}", headers)
        ).status_code == 404

    async def test_a_renamed_pupil_is_a_changed_user(self, hub: Hub, session: AsyncSession) -> None:
        s = await arrange_school(session, pupils=2)
        headers = await partner(hub, session)
        later = datetime.now(UTC) + timedelta(hours=1)
        await session.execute(
            update(Person)
            .where(Person.id == s.pupils[0].id)
            .values(last_name="Жаныбекова", updated_at=later)
        )
        await assert_kept(session)
        since = (later - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        changed = await get(hub, f"{ROSTER}/users", headers, filter=f"dateLastModified>'{since}'")
        assert [(u["sourcedId"], u["familyName"]) for u in changed.json()["users"]] == [
            (gid("Person", s.pupils[0].id), "Жаныбекова")
        ]

    async def test_a_school_moving_region_moves_its_people_for_regional_keys(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=2)
        headers = await partner(hub, session, regions=[OSH])
        assert await _users_of(hub, f"{ROSTER}/users", headers) == set()
        await session.execute(
            update(Institution)
            .where(Institution.id == s.school.id)
            .values(region_id=OSH, district_id=None)
        )
        await assert_kept(session)
        users = await _users_of(hub, f"{ROSTER}/users", headers)
        assert gid("Person", s.pupils[0].id) in users
        enrollments = await get(hub, f"{ROSTER}/enrollments", headers, limit=1000)
        assert int(enrollments.headers["X-Total-Count"]) > 0

    async def test_a_membership_removed_takes_its_enrollments_and_user_with_it(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=2)
        headers = await partner(hub, session)
        pupil = s.pupils[0]
        await session.execute(delete(ClassMembership).where(ClassMembership.pupil_id == pupil.id))
        await assert_kept(session)
        assert (
            await get(hub, f"{ROSTER}/users/{gid('Person', pupil.id)}", headers)
        ).status_code == 404
        mine = await get(
            hub, f"{ROSTER}/enrollments", headers, filter=f"user='{gid('Person', pupil.id)}'"
        )
        assert mine.json()["enrollments"] == []


class TestPagingAtScale:
    async def test_following_next_links_reads_every_object_once_by_keyset(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given 2 schools of 4 pupils (8 students, 32+ enrollments)
        for _ in range(2):
            await arrange_school(session, pupils=4)
        headers = await partner(hub, session)
        everyone = await get(hub, f"{ROSTER}/enrollments", headers, limit=1000)
        expected = [e["sourcedId"] for e in everyone.json()["enrollments"]]
        # when a partner follows the Link header's next URL, 5 at a time
        seen: list[str] = []
        response = await get(hub, f"{ROSTER}/enrollments", headers, limit=5)
        while True:
            seen += [e["sourcedId"] for e in response.json()["enrollments"]]
            links = dict(
                (part.split("; ")[1], part.split("; ")[0].strip("<>"))
                for part in response.headers["Link"].split(", ")
            )
            if 'rel="next"' not in links:
                break
            assert "after=" in links['rel="next"']
            response = await hub.client.get(links['rel="next"'], headers=headers)
        # then every enrollment came once, in order
        assert seen == expected

    async def test_past_the_count_cap_the_total_is_the_planners_estimate(
        self, hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await arrange_school(session, pupils=4)
        headers = await partner(hub, session)
        monkeypatch.setattr(oneroster, "COUNT_CAP", 3)
        hub.counter.reset()
        response = await get(hub, f"{ROSTER}/enrollments", headers, limit=2)
        # the key, the capped count, the estimate (EXPLAIN), the page
        assert hub.counter.count == 4, hub.counter.statements
        assert response.headers["X-Total-Count-Estimated"] == "true"
        assert int(response.headers["X-Total-Count"]) > 3

    @pytest.mark.parametrize(
        ("path", "statements"),
        [
            ("users", 3),
            ("students", 3),
            ("enrollments?filter=role%3D'student'", 3),
            ("schools/{school}/students", 4),
            ("schools/{school}/enrollments", 4),
            ("classes/{class}/students", 4),
            ("users/{pupil}/classes", 4),
            ("users/{pupil}", 2),
            ("demographics/{pupil}", 2),
        ],
    )
    async def test_users_and_enrollments_cost_the_same_statements_however_many_schools(
        self, hub: Hub, session: AsyncSession, path: str, statements: int
    ) -> None:
        headers = await partner(hub, session)
        counts = []
        for pupils in (2, 4):
            s = await arrange_school(session, pupils=pupils)
            klass = await session.scalar(
                select(ClassSubject.gid).where(ClassSubject.class_group_id == s.klass.id).limit(1)
            )
            url = path.format(school=s.id, pupil=gid("Person", s.pupils[0].id), **{"class": klass})
            hub.counter.reset()
            response = await hub.client.get(f"{ROSTER}/{url}", headers=headers)
            assert response.status_code == 200, response.text
            counts.append(hub.counter.count)
        assert counts == [statements, statements], hub.counter.statements

"""A class membership ends with its enrollment, and a class counts its pupils, once per
statement (issue 15: a school's year-end closure (S3) ends all its enrollments in one
statement). Many rows in one statement end every membership and count every class right; a
class is never fuller than its size (F5), also when one statement brings several pupils, and
two transactions filling one class at once wait for each other."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import ClassGroup, ClassMembership, Enrollment, Person
from resolvers.mutations import constraint_of
from tests.factories import make_class_group, make_enrollment, make_person, make_pupil_in_class
from tests.lms.arrange import School, arrange_school
from tests.lms.test_oneroster_kept import assert_kept

INSERT = (
    "INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id, institution_id,"
    " academic_year_id, grade, since)"
    " SELECT :c, e.id, e.person_id, e.institution_id, :y, e.grade_level, :s"
    " FROM enrollment e WHERE e.id = ANY(:ids) ORDER BY e.id"
)
CALLS = (
    "SELECT f.funcname, f.calls FROM pg_stat_xact_user_functions f"
    " WHERE f.funcname IN ('lms_enrollments_ended', 'lms_class_sizes',"
    " 'oneroster_membership_changed', 'oneroster_membership_guardians',"
    " 'oneroster_refresh_users', 'oneroster_refresh_guardians')"
)


async def _counted(session: AsyncSession, *classes: ClassGroup) -> list[tuple[int, int]]:
    """Each class's kept pupil count beside its open memberships counted now."""
    rows = await session.execute(
        text(
            "SELECT c.pupil_count, (SELECT count(*) FROM class_membership m"
            " WHERE m.class_group_id = c.id AND m.until IS NULL)"
            " FROM class_group c WHERE c.id = ANY(:ids) ORDER BY array_position(:ids, c.id)"
        ),
        {"ids": [c.id for c in classes]},
    )
    return [(r[0], r[1]) for r in rows]


async def _second_class(
    session: AsyncSession, s: School, pupils: int
) -> tuple[ClassGroup, list[Enrollment]]:
    other = await make_class_group(session, school=s.school, year=s.this_year, letter="Б")
    enrollments = [(await make_pupil_in_class(session, klass=other))[1] for _ in range(pupils)]
    await session.commit()
    return other, enrollments


async def _waiting(session: AsyncSession, s: School, count: int) -> list[Enrollment]:
    """Pupils enrolled at the school in the class's grade, in no class yet."""
    out = []
    for _ in range(count):
        pupil: Person = await make_person(session)
        out.append(
            await make_enrollment(
                session,
                person=pupil,
                institution=s.school,
                grade_level=s.klass.grade,
                entry_date=s.this_year.starts_on,
            )
        )
    await session.commit()
    return out


async def _calls(session: AsyncSession) -> dict[str, int]:
    """How often this transaction called each trigger function of the chain."""
    return {r[0]: int(r[1]) for r in await session.execute(text(CALLS))}


async def _track_functions(session: AsyncSession) -> None:
    await session.execute(text("SET LOCAL track_functions = 'pl'"))


class TestEndingEnrollments:
    async def test_ending_many_enrollments_in_one_statement_ends_all_their_memberships(
        self, session: AsyncSession
    ) -> None:
        # given 5А of three pupils and 5Б of two, one of whom joined 5Б only after the day the
        # statement will end their enrollment on
        s = await arrange_school(session, pupils=3, in_this_year=True)
        other, theirs = await _second_class(session, s, pupils=1)
        ended_on = s.this_year.starts_on + timedelta(days=60)
        late_pupil = await make_person(session)
        late_enrollment = await make_enrollment(
            session, person=late_pupil, institution=s.school, grade_level=5,
            entry_date=s.this_year.starts_on,
        )  # fmt: skip
        late_since = ended_on + timedelta(days=10)
        await make_pupil_in_class(session, klass=other, pupil=late_pupil, since=late_since)
        await session.commit()
        ending = [s.enrollments[0].id, s.enrollments[1].id, theirs[0].id, late_enrollment.id]

        # when one statement ends four of the five enrollments (two in each class)
        await _track_functions(session)
        await session.execute(
            text(
                "UPDATE enrollment SET exit_date = :d, exit_reason = 'withdrawn'"
                " WHERE id = ANY(:ids)"
            ),
            {"d": ended_on, "ids": ending},
        )

        # then every one of their memberships ended: on the exit day, or on its first day for
        # the one that began later; the open one is untouched
        ends = dict(
            (
                await session.execute(
                    select(ClassMembership.enrollment_id, ClassMembership.until).where(
                        ClassMembership.institution_id == s.school.id
                    )
                )
            ).all()
        )
        assert ends == {
            s.enrollments[0].id: ended_on,
            s.enrollments[1].id: ended_on,
            s.enrollments[2].id: None,
            theirs[0].id: ended_on,
            late_enrollment.id: late_since,
        }
        # and each class counts its pupils right (5А one, 5Б none)
        assert await _counted(session, s.klass, other) == [(1, 1), (0, 0)]
        # in one pass: one trigger call ended the memberships, in one UPDATE of class_membership
        # (one call of each of its statement triggers), not one per pupil; and as an end
        # changes no pupil's user row nor their guardians' (school, grade, first day), none was
        # rebuilt
        calls = await _calls(session)
        assert calls == {
            "lms_enrollments_ended": 1,
            "lms_class_sizes": 1,
            "oneroster_membership_changed": 1,
            "oneroster_membership_guardians": 1,
        }
        # and the kept OneRoster rows are what their views compute
        await assert_kept(session)

    async def test_a_membership_update_that_moves_its_first_day_rebuilds_the_users(
        self, session: AsyncSession
    ) -> None:
        # given a class whose first pupil has a guardian (a OneRoster user at the pupil's
        # latest class's school)
        s = await arrange_school(session, pupils=2, in_this_year=True)
        await _track_functions(session)
        # when one statement moves every membership's first day (what the users read)
        await session.execute(
            text("UPDATE class_membership SET since = since + 1 WHERE class_group_id = :c"),
            {"c": s.klass.id},
        )
        # then the pupils' and the guardian's rows were rebuilt, once, and equal their views
        calls = await _calls(session)
        assert calls["oneroster_refresh_users"] == 1
        assert calls["oneroster_refresh_guardians"] == 1
        await assert_kept(session)

    async def test_an_update_ending_no_enrollment_touches_no_membership(
        self, session: AsyncSession
    ) -> None:
        s = await arrange_school(session, pupils=2, in_this_year=True)
        await _track_functions(session)
        await session.execute(
            text("UPDATE enrollment SET class_group = '5А' WHERE institution_id = :i"),
            {"i": s.school.id},
        )
        calls = await _calls(session)
        assert calls == {"lms_enrollments_ended": 1}
        assert await _counted(session, s.klass) == [(2, 2)]


class TestClassSize:
    async def test_a_multi_row_insert_past_a_classs_size_is_refused_whole(
        self, session: AsyncSession
    ) -> None:
        # given a class of size 4 (F5's limit, lowered for the test) with three pupils, and
        # two pupils waiting
        s = await arrange_school(session, pupils=3, in_this_year=True)
        s.klass.capacity = 4
        waiting = await _waiting(session, s, 2)
        params = {"c": s.klass.id, "y": s.this_year.id, "s": s.this_year.starts_on}

        # when one statement puts both in
        with pytest.raises(IntegrityError) as refused:
            async with session.begin_nested():
                await session.execute(text(INSERT), {**params, "ids": [e.id for e in waiting]})

        # then the class's size refuses the statement whole
        assert constraint_of(refused.value) == "ck_class_group_size"
        assert await _counted(session, s.klass) == [(3, 3)]
        # and one statement bringing one fills the last place
        await session.execute(text(INSERT), {**params, "ids": [waiting[0].id]})
        assert await _counted(session, s.klass) == [(4, 4)]

    async def test_many_rows_moved_or_removed_in_one_statement_count_every_class(
        self, session: AsyncSession
    ) -> None:
        # given 5А of four pupils and 5Б of one
        s = await arrange_school(session, pupils=4, in_this_year=True)
        other, _ = await _second_class(session, s, pupils=1)
        ids = [e.id for e in s.enrollments]
        await _track_functions(session)

        # when one statement moves three of 5А to 5Б
        await session.execute(
            text(
                "UPDATE class_membership SET class_group_id = :to WHERE enrollment_id = ANY(:ids)"
            ),
            {"to": other.id, "ids": ids[:3]},
        )
        assert await _counted(session, s.klass, other) == [(1, 1), (4, 4)]

        # and another ends one of them and removes two others
        await session.execute(
            text("UPDATE class_membership SET until = since WHERE enrollment_id = :e"),
            {"e": ids[0]},
        )
        await session.execute(
            text("DELETE FROM class_membership WHERE enrollment_id = ANY(:ids)"),
            {"ids": ids[1:3]},
        )

        # then every class counts its open memberships, one count per statement
        assert await _counted(session, s.klass, other) == [(1, 1), (1, 1)]
        calls = await _calls(session)
        assert calls["lms_class_sizes"] == 3
        await assert_kept(session)

    async def test_two_statements_filling_one_class_at_once_never_overfill_it(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        # given a class of size 4 (F5's limit, lowered for the test) with one pupil, and two
        # pairs of pupils put in by two transactions at once, each pair in one statement
        s = await arrange_school(session, pupils=1, in_this_year=True)
        s.klass.capacity = 4
        waiting = await _waiting(session, s, 4)
        params = {"c": s.klass.id, "y": s.this_year.id, "s": s.this_year.starts_on}

        async def insert(pair: list[Enrollment]) -> str:
            async with engine.connect() as conn:
                try:
                    await conn.execute(text(INSERT), {**params, "ids": [e.id for e in pair]})
                    await asyncio.sleep(0.3)  # the other statement now waits for the class
                    await conn.commit()
                    return "ok"
                except IntegrityError as err:
                    return "full" if constraint_of(err) == "ck_class_group_size" else str(err)

        # when both commit
        outcomes = await asyncio.gather(insert(waiting[:2]), insert(waiting[2:]))

        # then the second saw the first's count: one pair got in, the other was refused
        assert sorted(outcomes) == ["full", "ok"]
        await session.commit()
        assert await _counted(session, s.klass) == [(3, 3)]

    async def test_statements_filling_two_classes_in_opposite_orders_both_commit(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        # given 5А and 5Б with room, and two transactions each putting a pupil in both classes
        # in one statement, listing the classes in opposite orders
        s = await arrange_school(session, pupils=1, in_this_year=True)
        other, _ = await _second_class(session, s, pupils=1)
        waiting = await _waiting(session, s, 4)
        both = (
            "INSERT INTO class_membership (class_group_id, enrollment_id, pupil_id,"
            " institution_id, academic_year_id, grade, since)"
            " SELECT k.c, e.id, e.person_id, e.institution_id, :y, e.grade_level, :s"
            " FROM unnest(CAST(:classes AS integer[]), CAST(:ids AS integer[])) AS k(c, e_id)"
            " JOIN enrollment e ON e.id = k.e_id"
        )

        async def insert(classes: list[int], pair: list[Enrollment]) -> str:
            async with engine.connect() as conn:
                await conn.execute(
                    text(both),
                    {"classes": classes, "ids": [e.id for e in pair], "y": s.this_year.id,
                     "s": s.this_year.starts_on},
                )  # fmt: skip
                await asyncio.sleep(0.3)
                await conn.commit()
                return "ok"

        # when both commit
        outcomes = await asyncio.gather(
            insert([s.klass.id, other.id], waiting[:2]),
            insert([other.id, s.klass.id], waiting[2:]),
        )

        # then neither was lost nor deadlocked: each class counts both newcomers
        assert outcomes == ["ok", "ok"]
        await session.commit()
        assert await _counted(session, s.klass, other) == [(3, 3), (3, 3)]

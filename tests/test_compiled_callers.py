"""One kept statement serves every caller of a role (schema/compiled/cache.py).

The caller's own keys (their person, their regions, districts and institutions) are arguments
of the compiled statement, as the keys of global IDs and cursors' values are: two teachers, two
region officers or two guardians send the same SQL text (so PostgreSQL's prepared plan is
reused), and each still reads only their own rows (the row rules of the design's "Access"
decision: an officer or school reads the people of the institutions in their scope, a teacher
the pupils of the classes they teach (issue 15; S4's diary serves ~100k teachers), a guardian
themself and their own children). Whether a scope is empty changes the rule itself, so callers
with and without one never share a statement."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Enrollment, Institution, InstitutionKind, LessonStatus, Person
from resolvers.access import Role
from resolvers.relay import decode_id
from tests.content.factories import make_lesson
from tests.factories import (
    BISHKEK,
    CHUY,
    gid,
    make_class_teacher,
    make_guardianship,
    make_institution,
    make_person,
)
from tests.test_compiled import Pair, World, pair, portal, world

__all__ = ["pair", "world"]

PERSON = portal("emis/PersonById")
PEOPLE = """query($first: Int!, $after: String) {
  persons(first: $first, after: $after, orderBy: ID) {
    totalCount nodes { id lastName } pageInfo { hasNextPage endCursor }
  }
}"""


def bearer(pair: Pair, role: Role, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair.token(role, **kwargs)}"}


async def _pupil_of_5a(session: AsyncSession, institution_id: int) -> int:
    pupil = await session.scalar(
        select(Enrollment.person_id)
        .where(
            Enrollment.institution_id == institution_id,
            Enrollment.class_group == "5А",
            Enrollment.exit_date.is_(None),
        )
        .order_by(Enrollment.person_id)
        .limit(1)
    )
    assert pupil is not None
    return pupil


class Built:
    """How many statements the compiler kept, and built in all, since it was made."""

    def __init__(self, pair: Pair) -> None:
        self.compiler = pair.compiler
        self.templates = self.compiler.templates_built
        self.statements = self.compiler.statements_built

    def since(self) -> tuple[int, int]:
        return (
            self.compiler.templates_built - self.templates,
            self.compiler.statements_built - self.statements,
        )


@pytest.fixture
async def second_school(pair: Pair, world: World, session: AsyncSession) -> dict[str, Any]:
    """A teacher of 5А at the Chuy school of the world (the world's teacher teaches 5А in
    Bishkek), and a father who is the guardian of the world's son only."""
    _, elsewhere_id = decode_id(world.ids["elsewhere"])
    _, school_id = decode_id(world.ids["school"])
    elsewhere = await session.get_one(Institution, elsewhere_id)  # the Chuy school
    teacher = await make_person(session, last_name="Токтогулова")
    await make_class_teacher(session, school=elsewhere, teacher=teacher, class_name="5А")
    await session.commit()
    return {
        "teacher": teacher.id,
        "chuy school": elsewhere_id,
        "bishkek school": school_id,
        "bishkek pupil": await _pupil_of_5a(session, school_id),
        "chuy pupil": await _pupil_of_5a(session, elsewhere_id),
    }


async def test_two_teachers_share_one_statement_and_each_reads_only_their_pupils(
    pair: Pair, world: World, second_school: dict[str, Any]
) -> None:
    # given two teachers of 5А at two schools in two regions
    teachers = {
        "bishkek": world.callers["teacher"],
        "chuy": bearer(
            pair,
            Role.TEACHER,
            scopes=[f"institution:{second_school['chuy school']}"],
            person_id=second_school["teacher"],
        ),
    }
    pupils = {
        "bishkek": gid("Person", second_school["bishkek pupil"]),
        "chuy": gid("Person", second_school["chuy pupil"]),
    }
    # and a shape already built for some other role
    await pair.both(PERSON, {"id": pupils["bishkek"]}, world.callers["ministry"])
    built = Built(pair)
    read: dict[tuple[str, str], bool] = {}
    texts: set[str] = set()
    for teacher, headers in teachers.items():
        for school, pupil in pupils.items():
            # when each teacher opens each pupil
            fast, slow, statements = await pair.both(PERSON, {"id": pupil}, headers)
            # then the answer is the resolvers', in one statement
            assert fast == slow, (teacher, school, fast, slow)
            assert statements == 1
            assert pair.counter.statements is not None
            texts.update(pair.counter.statements)
            read[teacher, school] = fast["data"]["node"] is not None
    # and each reads the pupil of the class they teach, never the other school's
    assert read == {
        ("bishkek", "bishkek"): True,
        ("bishkek", "chuy"): False,
        ("chuy", "bishkek"): False,
        ("chuy", "chuy"): True,
    }
    # and one statement was built for both teachers and sent as one SQL text
    assert built.since() == (1, 1)
    assert len(texts) == 1


async def test_officers_and_guardians_of_a_role_share_one_statement_for_their_own_rows(
    pair: Pair, world: World, session: AsyncSession, second_school: dict[str, Any]
) -> None:
    # given a region officer of Bishkek and one of Chuy and Bishkek together
    bishkek = bearer(pair, Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"])
    both = bearer(pair, Role.REGION_OFFICER, scopes=[f"region:{CHUY}", f"region:{BISHKEK}"])
    chuy_pupil = gid("Person", second_school["chuy pupil"])
    built = Built(pair)
    seen: dict[str, set[str]] = {}
    for name, headers in (("bishkek", bishkek), ("both", both)):
        # when each reads a Chuy pupil, and the first page of everyone they may read
        fast, slow, _ = await pair.both(PERSON, {"id": chuy_pupil}, headers)
        assert fast == slow
        assert (fast["data"]["node"] is not None) == (name == "both")
        listed, slow_list, _ = await pair.both(PEOPLE, {"first": 100}, headers)
        assert listed == slow_list
        seen[name] = {n["id"] for n in listed["data"]["persons"]["nodes"]}
    # then a scope of one region and one of two share each statement (two shapes, two
    # statements), and the wider scope reads more
    assert built.since() == (2, 2)
    assert seen["bishkek"] < seen["both"]
    assert chuy_pupil in seen["both"] - seen["bishkek"]
    # given two guardians: the world's mother of two and a father of the son only
    father = await make_person(session, last_name="Байышев")
    _, son = decode_id(world.ids["son"])
    await make_guardianship(session, guardian=father, child=await session.get_one(Person, son))
    await session.commit()
    guardians = {
        "mother": world.callers["guardian"],
        "father": bearer(pair, Role.GUARDIAN, person_id=father.id),
    }
    built = Built(pair)
    for name, headers in guardians.items():
        for child in ("son", "daughter"):
            fast, slow, _ = await pair.both(PERSON, {"id": world.ids[child]}, headers)
            assert fast == slow
            # then each reads their own children only (a father not the daughter)
            assert (fast["data"]["node"] is not None) == (name == "mother" or child == "son")
    assert built.since() == (1, 1)


async def test_a_caller_with_an_empty_scope_never_shares_a_scoped_callers_statement(
    pair: Pair, session: AsyncSession
) -> None:
    # given a draft lesson: the national content team (no scope) reads every state, a
    # university's course team (an institution scope) reads published lessons only
    await make_lesson(session, title="Долбоор", status=LessonStatus.DRAFT)
    await make_lesson(session, title="Жарыяланган")
    university = await make_institution(session, kind=InstitutionKind.UNIVERSITY)
    await session.commit()
    national = bearer(pair, Role.CONTENT_EDITOR)
    team = bearer(pair, Role.CONTENT_EDITOR, scopes=[f"institution:{university.id}"])
    query = """query($filter: LessonFilterInput) {
      lessons(filter: $filter, first: 10) { totalCount nodes { title status } }
    }"""
    await pair.both(query, {}, {})  # the resolvers read the subjects once per process
    built = Built(pair)
    # (the course team reads what the public reads, so its list is a kept answer under the
    # lesson list's version: read first, then the statement; asked again, the version alone)
    for headers, drafts, sent in ((team, 0, 2), (national, 1, 1), (team, 0, 1), (national, 1, 1)):
        # when both ask for drafts, one after the other
        fast, slow, statements = await pair.both(query, {"filter": {"status": "DRAFT"}}, headers)
        # then each gets what the resolvers give them, from a statement of their own
        assert fast == slow
        assert statements == sent
        assert fast["data"]["lessons"]["totalCount"] == drafts
    assert built.since() == (2, 2)


async def test_a_rule_writing_a_scope_id_by_id_builds_per_request_and_stays_right(
    pair: Pair, world: World, second_school: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net: a row rule that puts a caller's scope into the SQL id by id (``IN``)
    would make a kept statement the stand-in caller's; the compiler sees it and builds that
    shape's statement for each request instead."""
    monkeypatch.setattr("resolvers.people.rules.among", lambda column, ids: column.in_(ids))
    chuy = bearer(
        pair,
        Role.TEACHER,
        scopes=[f"institution:{second_school['chuy school']}"],
        person_id=second_school["teacher"],
    )
    built = Built(pair)
    for headers in (world.callers["teacher"], chuy, world.callers["teacher"]):
        for pupil in ("bishkek pupil", "chuy pupil"):
            fast, slow, _ = await pair.both(
                PERSON, {"id": gid("Person", second_school[pupil])}, headers
            )
            assert fast == slow
    kept, statements = built.since()
    assert kept == 1
    assert statements == 1 + 6

"""The first-grade portal's queries cost a fixed number of SQL statements, however many
applications a school has."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import FirstGradeStatus
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_first_grade_application, make_first_grade_quota
from tests.first_grade.test_first_grade import School, arrange, child_of, school_admin

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "first-grade"

# The most SQL statements each query may send, whatever the number of rows.
STATEMENT_BUDGET = {
    "MyFirstGradeApplications": 9,
    # a kept page's first request after a change: its set's version, then the resolvers (2)
    "FirstGradeSeason": 3,
    "SchoolFirstGradeApplications": 6,
}
# Pages answered from the worker's kept answers until their data changes (schema/http/kept.py):
# asked again, one statement (the version).
KEPT = {"FirstGradeSeason"}


async def _arrange(
    session: AsyncSession, school: School | None, n: int
) -> tuple[School, dict[str, Any]]:
    s = school or await arrange(session)
    if school is None:
        await make_first_grade_quota(session, school=s.school, season=s.season, places=50)
    for i in range(n):
        child = await child_of(session, s, born=date(s.season.year - 6, 1, 1 + i % 28))
        await make_first_grade_application(
            session,
            child=child,
            guardian=s.mother,
            school=s.school,
            season=s.season,
            benefit="military" if i % 3 == 0 else None,
            status=FirstGradeStatus.ADMITTED if i % 4 == 0 else FirstGradeStatus.VERIFIED,
        )
    await session.commit()
    return s, {"seasonId": gid("IntakeSeason", s.season.id), "schoolId": s.id, "first": 50}


@pytest.mark.parametrize("name", sorted(STATEMENT_BUDGET))
async def test_portal_query_statement_count_does_not_grow_with_rows(
    name: str, hub: Hub, session: AsyncSession
) -> None:
    document = (PORTAL / f"{name}.graphql").read_text()
    counts = []
    school = None
    for n in (2, 30):
        # given a school with `n` more applications
        school, variables = await _arrange(session, school, n)
        token = (
            hub.token(Role.GUARDIAN, person_id=school.mother.id)
            if name.startswith("My") or name.endswith("Season")
            else school_admin(hub, school)
        )
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        # when the portal sends its query (a kept page as the first request after a change)
        hub.forget_kept_answers()
        hub.counter.reset()
        body = await hub.gql(document, used, token=token)
        # then it succeeds within its budget, the same count for few rows as for many
        assert "errors" not in body, body
        counts.append(hub.counter.count)
    assert counts[0] == counts[1], hub.counter.statements
    assert counts[1] <= STATEMENT_BUDGET[name], hub.counter.statements
    if name in KEPT:
        # and asked again, it is the kept answer: one statement
        hub.counter.reset()
        assert "errors" not in await hub.gql(document, used, token=token)
        assert hub.counter.count == 1, hub.counter.statements


def test_every_query_of_the_portal_is_pinned() -> None:
    queries = {p.stem for p in PORTAL.glob("*.graphql") if "\nquery " in "\n" + p.read_text()}
    assert queries == set(STATEMENT_BUDGET)

"""The study-abroad portal's queries cost a fixed number of SQL statements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers import clock
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_foreign_programme, make_person

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "study-abroad"
QUERIES = [
    p
    for p in sorted(PORTAL.glob("*.graphql"))
    if next(
        d for d in parse(p.read_text()).definitions if isinstance(d, OperationDefinitionNode)
    ).operation
    == OperationType.QUERY
]
TEXT = {p: p.read_text() for p in sorted(PORTAL.glob("*.graphql"))}
# The most statements each query may send, whatever the number of rows.
STATEMENT_BUDGET = {
    "ForeignProgrammes": 1,  # the compiled path (schema/compiled/abroad.py)
    "MyForeignApplications": 3,  # the list, then programme and stage results (docs/performance.md)
    "ProgrammeCandidates": 1,  # the compiled path
}
APPLY = """
mutation($input: ApplyToForeignProgrammeInput!) { applyToForeignProgramme(input: $input) { application { id } userErrors { code } } }
"""
ADVANCE = """
mutation($input: AdvanceForeignApplicationInput!) { advanceForeignApplication(input: $input) { userErrors { code } } }
"""


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path, hub: Hub, ministry: str, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given programmes in three countries, each with applicants past a stage
    monkeypatch.setattr(clock, "today", lambda: date(2026, 3, 15))
    programmes = [await make_foreign_programme(session, country_code=c) for c in ("CN", "RU", "TR")]
    people = [await make_person(session, birth_date=date(2007, 5, 1)) for _ in range(6)]
    await session.commit()
    for programme in programmes:
        for person in people:
            body = await hub.data(
                APPLY,
                {
                    "input": {
                        "programmeId": gid("ForeignProgramme", programme.id),
                        "personId": gid("Person", person.id),
                        "fieldOfStudy": "engineering",
                        "schoolAverage": "4.6",
                    }
                },
                token=hub.token(Role.PUPIL, person_id=person.id),
            )
            app_id = body["applyToForeignProgramme"]["application"]["id"]
            await hub.data(
                ADVANCE,
                {
                    "input": {
                        "applicationId": app_id,
                        "stage": "DOCUMENT_CHECK",
                        "decision": "PASSED",
                    }
                },
                token=ministry,
            )
    variables = {
        "personId": gid("Person", people[0].id),
        "programmeId": gid("ForeignProgramme", programmes[0].id),
    }
    document = TEXT[path]
    op = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    used = {v.variable.name.value for v in op.variable_definitions or ()}
    token = (
        hub.token(Role.PUPIL, person_id=people[0].id) if path.stem.startswith("My") else ministry
    )
    # when the portal sends its query
    hub.counter.reset()
    body = await hub.gql(document, {k: v for k, v in variables.items() if k in used}, token=token)
    # then it succeeds within its statement budget
    assert "errors" not in body, body
    assert hub.counter.count <= STATEMENT_BUDGET[path.stem], hub.counter.statements

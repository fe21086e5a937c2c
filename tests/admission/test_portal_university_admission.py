"""The university-admission portal's queries cost a fixed number of SQL statements, however
many programmes, applicants and offers they return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import Role
from tests.admission.arrange import PUBLICATION, REGISTRATION, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import gid

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "university-admission"


def _queries(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.glob("*.graphql")):
        (op,) = [
            d for d in parse(path.read_text()).definitions if isinstance(d, OperationDefinitionNode)
        ]
        if op.operation == OperationType.QUERY:
            found.append(path)
    return found


TEXT = {p: p.read_text() for p in sorted(PORTAL.glob("*.graphql"))}
# The most statements each query may send, whatever the number of rows.
STATEMENT_BUDGET = {
    # a kept page's first request after a change: its set's version, then the resolvers (3)
    "AdmissionSeasons": 4,
    "ProgrammeCatalogue": 1,  # the compiled path (schema/compiled/admission.py)
    "MyApplications": 1,  # the compiled path
    # one: the application, its programme, the last round and each category's standing
    "RankExplanation": 1,
    "ProgrammeApplicants": 5,
}
# Pages answered from the worker's kept answers until their data changes (schema/http/kept.py):
# asked again, one statement (the version).
KEPT = {"AdmissionSeasons"}

APPLY = """
mutation($input: ApplyToProgrammesInput!) { applyToProgrammes(input: $input) { userErrors { code } } }
"""


async def _arrange(
    hub: Hub, session: AsyncSession, on_day: Callable[[date], None], ministry: str
) -> dict[str, Any]:
    campaign = await arrange_campaign(session)
    applicants = []
    for i in range(8):
        applicants.append(
            await make_applicant(
                session,
                campaign,
                main=140 + 7 * i,
                rural=i % 2 == 0,
                subjects={"math": 80 + i, "chemistry": 70 + i, "biology": 75},
                name=f"Абитуриент{i}",
            )
        )
    await session.commit()
    on_day(REGISTRATION)
    for person, cert in applicants:
        body = await hub.data(
            APPLY,
            {
                "input": {
                    "seasonId": gid("AdmissionSeason", campaign.season.id),
                    "personId": gid("Person", person.id),
                    "certificateNumber": cert.certificate_number,
                    "choices": [
                        {"programmeId": gid("Programme", p.id), "funding": "BOTH"}
                        for p in campaign.programmes.values()
                    ],
                }
            },
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        assert body["applyToProgrammes"]["userErrors"] == []
    on_day(PUBLICATION)
    published = await hub.data(
        "mutation($id: ID!) { publishRound(input: {roundId: $id}) { recommended } }",
        {"id": gid("AdmissionRound", campaign.round1.id)},
        token=ministry,
    )
    assert published["publishRound"]["recommended"] > 0
    person = applicants[-1][0]
    mine = await hub.data(
        "query($p: ID!) { admissionApplications(filter: {personId: $p}, first: 1) { nodes { id } } }",
        {"p": gid("Person", person.id)},
        token=ministry,
    )
    return {
        "year": 2026,
        "seasonId": gid("AdmissionSeason", campaign.season.id),
        "personId": gid("Person", person.id),
        "applicationId": mine["admissionApplications"]["nodes"][0]["id"],
        "programmeId": gid("Programme", campaign.programmes["informatics"].id),
        "_person": person.id,
        "_university": campaign.university.id,
    }


@pytest.mark.parametrize("path", _queries(PORTAL), ids=lambda p: p.stem)
async def test_portal_query_statement_count_does_not_grow_with_rows(
    path: Path,
    hub: Hub,
    ministry: str,
    session: AsyncSession,
    on_day: Callable[[date], None],
) -> None:
    # given a published round with applicants to every programme
    variables = await _arrange(hub, session, on_day, ministry)
    document = TEXT[path]
    (op,) = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    used = {v.variable.name.value for v in op.variable_definitions or ()}
    # when the portal sends its query as the person who would (applicant, officer)
    if path.stem in ("MyApplications", "RankExplanation"):
        token = hub.token(Role.PUPIL, person_id=variables["_person"])
    elif path.stem == "ProgrammeApplicants":
        token = hub.token(
            Role.ADMISSION_OFFICER, scopes=[f"institution:{variables['_university']}"]
        )
    else:
        token = ministry
    sent = {k: v for k, v in variables.items() if k in used}
    hub.forget_kept_answers()  # a kept page as the first request after a change
    hub.counter.reset()
    body = await hub.gql(document, sent, token=token)
    # then it succeeds, returns rows, within its statement budget
    assert "errors" not in body, body
    assert all(v for v in body["data"].values()), body
    assert hub.counter.count <= STATEMENT_BUDGET[path.stem], hub.counter.statements
    if path.stem in KEPT:
        # and asked again, it is the kept answer: one statement
        hub.counter.reset()
        assert "errors" not in await hub.gql(document, sent, token=token)
        assert hub.counter.count == 1, hub.counter.statements

"""The rank explanation (U3's "Explaining"): one entry per category an application competes in
(its grant pool or quota, then contract), before any round is published and after, with the
latest offer and the round's cut-off, read in one SQL statement, and nothing for a caller who
may not read the application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import Person
from resolvers.access import Role
from tests.admission.arrange import PUBLICATION, REGISTRATION, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import gid

APPLY = """
mutation Apply($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) { applications { id } userErrors { code message } }
}
"""
EXPLAIN = """
query Explain($id: ID!) {
  rankExplanation(applicationId: $id) {
    totalScore pool
    entries {
      category rank competing places roundNumber vacancies recommended cutOffScore offerStatus
      explanation
    }
  }
}
"""

ENTRY = (
    "category",
    "rank",
    "competing",
    "places",
    "roundNumber",
    "vacancies",
    "recommended",
    "cutOffScore",
    "offerStatus",
    "explanation",
)


async def _apply(
    hub: Hub, campaign: Any, person: Person, cert: Any, programme: str, funding: str
) -> str:
    body = await hub.data(
        APPLY,
        {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "personId": gid("Person", person.id),
                "certificateNumber": cert.certificate_number,
                "choices": [
                    {
                        "programmeId": gid("Programme", campaign.programmes[programme].id),
                        "funding": funding,
                    }
                ],
            }
        },
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    payload = body["applyToProgrammes"]
    assert payload["userErrors"] == [], payload
    return str(payload["applications"][0]["id"])


async def _explain(hub: Hub, person: Person, application_id: str) -> dict[str, Any] | None:
    body = await hub.data(
        EXPLAIN, {"id": application_id}, token=hub.token(Role.PUPIL, person_id=person.id)
    )
    explanation: dict[str, Any] | None = body["rankExplanation"]
    return explanation


def _entries(explanation: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(e[k] for k in ENTRY) for e in explanation["entries"]]


async def test_two_categories_before_and_after_a_round_in_one_statement(
    hub: Hub,
    ministry: str,
    session: AsyncSession,
    on_day: Callable[[date], None],
) -> None:
    # given informatics (one Bishkek grant place, one contract place): two applicants for a
    # grant or a contract, and one for a contract only
    campaign = await arrange_campaign(session)
    top, c1 = await make_applicant(session, campaign, main=170, subjects={"math": 90}, name="T")
    rival, c2 = await make_applicant(session, campaign, main=150, subjects={"math": 80}, name="R")
    payer, c3 = await make_applicant(session, campaign, main=140, subjects={"math": 70}, name="P")
    await session.commit()
    on_day(REGISTRATION)
    await _apply(hub, campaign, top, c1, "informatics", "BOTH")
    rivals = await _apply(hub, campaign, rival, c2, "informatics", "BOTH")
    payers = await _apply(hub, campaign, payer, c3, "informatics", "CONTRACT")

    # when the rival asks before any round is published, in one statement
    hub.counter.reset()
    before = await _explain(hub, rival, rivals)
    assert hub.counter.count == 1, hub.counter.statements
    # then the grant pool comes first, then contract, with no round yet
    assert before is not None
    assert (before["totalScore"], before["pool"]) == (230, "BISHKEK")
    assert _entries(before) == [
        (
            "BISHKEK", 2, 2, 1, None, None, None, None, None,
            "Score 230, rank 2 of 2 for 1 bishkek places; no round has been published yet",
        ),
        (
            "CONTRACT", 2, 3, 1, None, None, None, None, None,
            "Score 230, rank 2 of 3 for 1 contract places; no round has been published yet",
        ),
    ]  # fmt: skip
    # and a contract-only application has no pool and one entry
    payer_before = await _explain(hub, payer, payers)
    assert payer_before is not None
    assert payer_before["pool"] is None
    assert [e["category"] for e in payer_before["entries"]] == ["CONTRACT"]
    assert payer_before["entries"][0]["rank"] == 3

    # when round 1 is published (the top applicant takes the grant, the rival the contract)
    on_day(PUBLICATION)
    published = await hub.data(
        "mutation($id: ID!) { publishRound(input: {roundId: $id}) { recommended } }",
        {"id": gid("AdmissionRound", campaign.round1.id)},
        token=ministry,
    )
    assert published["publishRound"]["recommended"] == 2
    hub.counter.reset()
    after = await _explain(hub, rival, rivals)
    assert hub.counter.count == 1, hub.counter.statements
    # then each entry shows the round's cut-off and the category's latest offer
    assert after is not None
    assert _entries(after) == [
        (
            "BISHKEK", 2, 2, 1, 1, 1, 1, 260, None,
            "Score 230, rank 2 of 2 for 1 bishkek places; below round 1's cut-off of 260",
        ),
        (
            "CONTRACT", 2, 3, 1, 1, 1, 1, 230, "RECOMMENDED",
            "Score 230, rank 2 of 3 for 1 contract places; round 1 recommended this place "
            "(recommended)",
        ),
    ]  # fmt: skip
    payer_after = await _explain(hub, payer, payers)
    assert payer_after is not None
    assert _entries(payer_after) == [
        (
            "CONTRACT", 3, 3, 1, 1, 1, 1, 230, None,
            "Score 210, rank 3 of 3 for 1 contract places; below round 1's cut-off of 230",
        ),
    ]  # fmt: skip

    # when another applicant asks about the rival's application, then there is nothing
    assert await _explain(hub, payer, rivals) is None


async def test_an_officer_reads_the_explanations_of_their_university_only(
    hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
) -> None:
    # given an application to informatics, at the campaign's first university
    campaign = await arrange_campaign(session)
    person, cert = await make_applicant(session, campaign, name="A")
    await session.commit()
    on_day(REGISTRATION)
    application = await _apply(hub, campaign, person, cert, "informatics", "GRANT")

    def officer(university: Any) -> str:
        return hub.token(Role.ADMISSION_OFFICER, scopes=[f"institution:{university.id}"])

    # when its university's officer asks, then the explanation is read, in one statement
    hub.counter.reset()
    body = await hub.data(EXPLAIN, {"id": application}, token=officer(campaign.university))
    assert hub.counter.count == 1, hub.counter.statements
    assert [e["category"] for e in body["rankExplanation"]["entries"]] == ["BISHKEK"]
    # and another university's officer gets nothing
    other = await hub.data(EXPLAIN, {"id": application}, token=officer(campaign.other_university))
    assert other["rankExplanation"] is None

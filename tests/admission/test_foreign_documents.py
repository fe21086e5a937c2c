"""Foreign applicants' documents (issue 14.9; domain.md U6): the ministry recognises a foreign
education document by a route, or refuses it, and the decision changes eligibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from models import Person
from resolvers.access import Role
from tests.admission.arrange import REGISTRATION, Campaign, arrange_campaign, make_applicant
from tests.conftest import Hub
from tests.factories import gid

DECIDE = """
mutation Decide($input: DecideDocumentRecognitionInput!) {
  decideDocumentRecognition(input: $input) { route status userErrors { field code } }
}
"""
APPLY = """
mutation Apply($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) {
    applications { id }
    userErrors { field code message }
  }
}
"""


def decision(campaign: Campaign, person: Person, route: str, recognised: bool) -> dict[str, Any]:
    return {
        "input": {
            "seasonId": gid("AdmissionSeason", campaign.season.id),
            "personId": gid("Person", person.id),
            "country": "Tajikistan",
            "documentNumber": "АТ 0012345",
            "route": route,
            "recognised": recognised,
            "reference": "Эквивалентность №77/2026",
        }
    }


async def apply(hub: Hub, campaign: Campaign, person: Person, cert: Any) -> list[str]:
    body = await hub.data(
        APPLY,
        {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "personId": gid("Person", person.id),
                "certificateNumber": cert.certificate_number,
                "choices": [
                    {
                        "programmeId": gid("Programme", campaign.programmes["informatics"].id),
                        "funding": "CONTRACT",
                    }
                ],
            }
        },
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    return [e["code"] for e in body["applyToProgrammes"]["userErrors"]]


class TestForeignDocuments:
    async def test_u6_a_refused_foreign_certificate_makes_the_applicant_ineligible(
        self, hub: Hub, session: Any, ministry: str, on_day: Callable[[date], None]
    ) -> None:
        # given an applicant from abroad with good scores, whose certificate the ministry refused
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, subjects={"math": 100})
        await session.commit()
        decided = await hub.data(
            DECIDE, decision(campaign, person, "EQUIVALENCE", False), token=ministry
        )
        assert decided["decideDocumentRecognition"] == {
            "route": "EQUIVALENCE",
            "status": "REFUSED",
            "userErrors": [],
        }
        on_day(REGISTRATION)

        # when they apply, then every choice is refused with the reason
        assert await apply(hub, campaign, person, cert) == ["DOCUMENTS_NOT_RECOGNISED"]

    async def test_u6_a_test_exemption_waives_the_state_language_test(
        self, hub: Hub, session: Any, ministry: str, on_day: Callable[[date], None]
    ) -> None:
        # given two compatriots from abroad who did not pass the state-language test
        campaign = await arrange_campaign(session)
        exempt, exempt_cert = await make_applicant(
            session, campaign, subjects={"math": 100}, state_language=20
        )
        other, other_cert = await make_applicant(
            session, campaign, subjects={"math": 100}, state_language=20
        )
        await session.commit()
        # when the ministry recognises one's certificate with a test exemption, the other's
        # by equivalence only
        for person, route in ((exempt, "TEST_EXEMPTION"), (other, "EQUIVALENCE")):
            body = await hub.data(DECIDE, decision(campaign, person, route, True), token=ministry)
            assert body["decideDocumentRecognition"]["status"] == "RECOGNISED"
        on_day(REGISTRATION)

        # then the exempt one may apply, the other still needs the state-language test
        assert await apply(hub, campaign, exempt, exempt_cert) == []
        assert await apply(hub, campaign, other, other_cert) == ["STATE_LANGUAGE_NOT_PASSED"]

    async def test_u6_only_the_ministry_recognises_documents(self, hub: Hub, session: Any) -> None:
        campaign = await arrange_campaign(session)
        person, _ = await make_applicant(session, campaign, subjects={"math": 100})
        await session.commit()
        body = await hub.gql(
            DECIDE,
            decision(campaign, person, "EQUIVALENCE", True),
            token=hub.token(Role.PUPIL, person_id=person.id),
        )
        codes = [e["code"] for e in body["data"]["decideDocumentRecognition"]["userErrors"]]
        assert codes == ["FORBIDDEN"]

"""Reviewing licence applications: documents requested (the clock pauses), approval into a
licence, refusal; deadlines, scope and who reads which files."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import Licence, LicenceApplication, LicenceApplicationStep, Ownership
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import CHUY, CHUY_SOKULUK, gid, make_institution, make_licence_application
from tests.licensing.helpers import (
    APPLY_FOR_LICENCE,
    REVIEW,
    SUPPLEMENT,
    count,
    document,
    dossier,
    move_clock,
    payload,
    today,
    topics,
)

APPLICATIONS = """
query LicenceApplications($filter: LicenceApplicationFilter) {
  licenceApplications(first: 20, filter: $filter) { totalCount nodes { id status overdue institution { name } } }
}
"""


async def _filed(hub: Hub, session: AsyncSession, **kwargs: object) -> tuple[str, str, str]:
    """A private school's application, filed through the hub: (application id, admin token,
    school id)."""
    school = await make_institution(session, ownership=Ownership.PRIVATE, **kwargs)  # type: ignore[arg-type]
    await session.commit()
    admin = hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{school.id}"])
    result = await payload(
        hub, APPLY_FOR_LICENCE, "applyForLicence", admin, dossier(gid("Institution", school.id))
    )
    assert result["userErrors"] == []
    return result["application"]["id"], admin, gid("Institution", school.id)


class TestReviewLicenceApplication:
    async def test_officer_approves_and_an_open_ended_licence_is_issued(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an application under review and a national licensing officer
        app_id, _, _ = await _filed(hub, session)
        officer = hub.token(Role.LICENSING_OFFICER)
        # when the officer approves it with no end date
        result = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {"applicationId": app_id, "decision": "APPROVE"},
        )
        # then a numbered licence is in force with the application's scope
        assert result["userErrors"] == []
        app = result["application"]
        assert app["status"] == "APPROVED"
        assert app["decidedOn"] == today().isoformat()
        licence = app["licence"]
        assert licence["number"].startswith(f"KG-LIC-{today().year}-")
        assert licence["status"] == "ACTIVE"
        assert licence["validUntil"] is None
        assert licence["validToday"] is True
        assert [h["action"] for h in app["history"]] == ["SUBMITTED", "APPROVED"]
        assert await topics(session) == [
            "licensing.application_submitted",
            "licensing.licence_issued",
            "licensing.application_approved",
        ]

    async def test_requesting_documents_pauses_the_clock_until_they_come(
        self, hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an application filed today, due in 20 days
        app_id, admin, _ = await _filed(hub, session)
        officer = hub.token(Role.LICENSING_OFFICER)
        filed_on = today()
        # when, 5 days later, the officer asks for a curriculum ...
        move_clock(monkeypatch, filed_on + timedelta(days=5))
        asked = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {
                "applicationId": app_id,
                "decision": "REQUEST_DOCUMENTS",
                "requestedDocuments": "Учебный план",
            },
        )
        assert asked["application"]["status"] == "AWAITING_DOCUMENTS"
        assert asked["application"]["daysLeft"] == 15
        # ... it cannot be approved while they are awaited ...
        early = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {"applicationId": app_id, "decision": "APPROVE"},
        )
        assert [e["code"] for e in early["userErrors"]] == ["WRONG_APPLICATION_STATE"]
        # ... and the school supplies it 7 days later
        move_clock(monkeypatch, filed_on + timedelta(days=12))
        supplied = await payload(
            hub,
            SUPPLEMENT,
            "supplementLicenceApplication",
            admin,
            {"applicationId": app_id, "documents": [document("CURRICULUM")]},
        )
        # then the deadline moved back by the 7 paused days
        app = supplied["application"]
        assert supplied["userErrors"] == []
        assert app["status"] == "SUBMITTED"
        assert app["pausedOn"] is None
        assert app["dueOn"] == (filed_on + timedelta(days=27)).isoformat()
        assert app["daysLeft"] == 15
        assert [h["action"] for h in app["history"]] == [
            "SUBMITTED",
            "DOCUMENTS_REQUESTED",
            "DOCUMENTS_SUPPLIED",
        ]

    async def test_refusal_needs_reasons_and_closes_the_case(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an application and an officer
        app_id, _, _ = await _filed(hub, session)
        officer = hub.token(Role.LICENSING_OFFICER)
        # when refused without reasons, then nothing changes
        bare = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {"applicationId": app_id, "decision": "REFUSE"},
        )
        assert [(e["code"], e["field"]) for e in bare["userErrors"]] == [
            ("INVALID_INPUT", "reasons")
        ]
        # when refused with reasons
        refused = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {"applicationId": app_id, "decision": "REFUSE", "reasons": "Нет пожарного выхода"},
        )
        assert refused["application"]["status"] == "REFUSED"
        assert refused["application"]["decisionReasons"] == "Нет пожарного выхода"
        steps = await count(session, LicenceApplicationStep)
        # then reviewing the closed case again is refused and writes nothing
        again = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            officer,
            {"applicationId": app_id, "decision": "APPROVE"},
        )
        assert [e["code"] for e in again["userErrors"]] == ["CASE_CLOSED"]
        assert await count(session, Licence) == 0
        assert await count(session, LicenceApplicationStep) == steps

    async def test_officer_scoped_to_another_region_cannot_decide(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a Bishkek school's application and a Chuy licensing officer
        app_id, _, _ = await _filed(hub, session)
        chuy_officer = hub.token(Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"])
        # when the Chuy officer approves it
        result = await payload(
            hub,
            REVIEW,
            "reviewLicenceApplication",
            chuy_officer,
            {"applicationId": app_id, "decision": "APPROVE"},
        )
        # then the officer does not even see the file: it is not there for them (issue 22.7)
        assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]
        listed = await hub.data(APPLICATIONS, token=chuy_officer)
        assert listed["licenceApplications"]["totalCount"] == 0
        assert await count(session, Licence) == 0

    async def test_applicants_see_their_own_files_and_officers_their_region(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given applications of a Bishkek school and of a Chuy school
        _, bishkek_admin, _ = await _filed(hub, session)
        await _filed(hub, session, region_id=CHUY, district_id=CHUY_SOKULUK)
        chuy_officer = hub.token(Role.LICENSING_OFFICER, scopes=[f"region:{CHUY}"])
        # when each lists applications, then each sees only theirs
        own = await hub.data(APPLICATIONS, token=bishkek_admin)
        assert own["licenceApplications"]["totalCount"] == 1
        regional = await hub.data(APPLICATIONS, token=chuy_officer)
        assert regional["licenceApplications"]["totalCount"] == 1
        national = await hub.data(APPLICATIONS, token=hub.token(Role.LICENSING_OFFICER))
        assert national["licenceApplications"]["totalCount"] == 2
        # and a guardian sees none, an anonymous caller is told to sign in
        guardian = hub.token(Role.GUARDIAN, person_id=1)
        assert (await hub.data(APPLICATIONS, token=guardian))["licenceApplications"][
            "totalCount"
        ] == 0
        body = await hub.gql(APPLICATIONS)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def test_overdue_reviews_are_visible(self, hub: Hub, session: AsyncSession) -> None:
        # given one application past its deadline and one within it
        late_school = await make_institution(session, ownership=Ownership.PRIVATE, name="Поздняя")
        await make_licence_application(
            session,
            institution=late_school,
            submitted_on=today() - timedelta(days=30),
            due_on=today() - timedelta(days=10),
        )
        fresh_school = await make_institution(session, ownership=Ownership.PRIVATE)
        await make_licence_application(session, institution=fresh_school, submitted_on=today())
        await session.commit()
        # when the ministry asks for overdue reviews
        data = await hub.data(
            APPLICATIONS, {"filter": {"overdue": True}}, token=hub.token(Role.MINISTRY)
        )
        # then only the late one is listed, flagged overdue
        nodes = data["licenceApplications"]["nodes"]
        assert [(n["institution"]["name"], n["overdue"]) for n in nodes] == [("Поздняя", True)]

    async def test_two_officers_approving_at_once_issue_one_licence(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an application and two officers
        app_id, _, _ = await _filed(hub, session)
        officers = [hub.token(Role.LICENSING_OFFICER, subject=f"officer:{i}") for i in range(2)]
        # when both approve in concurrent transactions
        results = await asyncio.gather(
            *(
                payload(
                    hub,
                    REVIEW,
                    "reviewLicenceApplication",
                    t,
                    {"applicationId": app_id, "decision": "APPROVE"},
                )
                for t in officers
            )
        )
        # then one succeeds, the other finds the case closed, and one licence exists
        codes = sorted(tuple(e["code"] for e in r["userErrors"]) for r in results)
        assert codes == [(), ("CASE_CLOSED",)]
        assert await count(session, Licence) == 1
        assert await count(session, LicenceApplication) == 1

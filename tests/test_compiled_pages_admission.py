"""University admission's officers' page (portals/university-admission/ProgrammeApplicants) is
answered by the compiled path in one statement, byte for byte as the resolvers answer it
(issue 21): a programme's applicants ranked by score (U3) with their recommended places of the
published round (U5), under the row rules (a university's admission officer reads its
applicants, an officer of another university nothing) for every kind of caller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from models import ProgrammePlaces
from resolvers import clock
from resolvers.access import Role
from resolvers.relay import decode_id
from tests.admission.arrange import PUBLICATION, REGISTRATION, arrange_campaign, make_applicant
from tests.factories import gid
from tests.test_compiled import Pair, pair

__all__ = ["pair"]

PAGE = (
    Path(__file__).resolve().parents[1] / "portals/university-admission/ProgrammeApplicants.graphql"
).read_text()
EVERYTHING = """
query Everything($programmeId: ID!) {
  admissionApplications(filter: { programmeId: $programmeId }, orderBy: ID, first: 100) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id preference funding grantCategory status mainScore subjectScore creativeScore
      totalScore roundNumber createdAt
      applicant { id fullName pin birthDate }
      offers {
        __typename id category rank totalScore status decidedAt
        round { id number registrationOpens publicationOn status publishedAt }
      }
    }
  }
}
"""
APPLY = """mutation($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) { userErrors { code } }
}"""
PUBLISH = "mutation($id: ID!) { publishRound(input: {roundId: $id}) { recommended } }"


async def _send(pair: Pair, document: str, variables: dict[str, Any], token: str) -> Any:
    response = await pair.slow.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _arrange(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, dict[str, Any]]:
    """Eight applicants to every programme of a campaign, rural and not, the first round
    published (recommended places)."""
    campaign = await arrange_campaign(session)
    applicants = [
        await make_applicant(
            session, campaign, main=140 + 7 * i, rural=i % 2 == 0, name=f"Абитуриент{i}",
            subjects={"math": 80 + i, "chemistry": 70 + i, "biology": 75},
        )
        for i in range(8)
    ]  # fmt: skip
    await session.commit()
    ministry = pair.token(Role.MINISTRY)
    monkeypatch.setattr(clock, "today", lambda: REGISTRATION)
    for person, cert in applicants:
        choices = [
            {"programmeId": gid("Programme", p.id), "funding": "BOTH"}
            for p in campaign.programmes.values()
        ]
        done = await _send(pair, APPLY, {"input": {
            "seasonId": gid("AdmissionSeason", campaign.season.id),
            "personId": gid("Person", person.id),
            "certificateNumber": cert.certificate_number, "choices": choices,
        }}, pair.token(Role.PUPIL, person_id=person.id))  # fmt: skip
        assert done["applyToProgrammes"]["userErrors"] == []
    monkeypatch.setattr(clock, "today", lambda: PUBLICATION)
    published = await _send(pair, PUBLISH, {"id": gid("AdmissionRound", campaign.round1.id)},
                            ministry)  # fmt: skip
    assert published["publishRound"]["recommended"] > 0
    return campaign, {"programmeId": gid("Programme", campaign.programmes["informatics"].id)}


def _callers(pair: Pair, campaign: Any, person_id: int) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return {
        "admission officer of the university": bearer(
            pair.token(Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.university.id}"])
        ),
        "admission officer of another university": bearer(
            pair.token(
                Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.other_university.id}"]
            )
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "applicant": bearer(pair.token(Role.PUPIL, person_id=person_id)),
        "guardian": bearer(pair.token(Role.GUARDIAN, person_id=person_id)),
    }


async def test_the_applicants_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a campaign whose first round is published
    campaign, variables = await _arrange(pair, session, monkeypatch)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    first, _, _ = await pair.both(PAGE, variables, ministry)
    applicant_id = first["data"]["admissionApplications"]["nodes"][0]["applicant"]["id"]
    person_id = decode_id(applicant_id)[1]
    seen: dict[str, int] = {}
    for caller, headers in _callers(pair, campaign, person_id).items():
        for document in (PAGE, EVERYTHING):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, pair.counter.statements)
            nodes = fast["data"]["admissionApplications"]["nodes"]
            seen[caller] = len(nodes)
    # and the university's officer reads its programme's applicants, ranked by score (U3)
    assert seen["admission officer of the university"] == seen["ministry"] == 8
    assert seen["admission officer of another university"] == 0
    assert seen["applicant"] == 1
    officer = _callers(pair, campaign, person_id)["admission officer of the university"]
    page, _, _ = await pair.both(PAGE, variables, officer)
    nodes = page["data"]["admissionApplications"]["nodes"]
    scores = [n["totalScore"] for n in nodes]
    assert scores == sorted(scores, reverse=True)
    assert any(n["offers"] for n in nodes)  # the round recommended places (U5)
    # a page after the first answers the same on both paths
    cursor = page["data"]["admissionApplications"]["pageInfo"]["endCursor"]
    fast, slow, statements = await pair.both(PAGE, {**variables, "after": cursor}, officer)
    assert fast == slow
    assert statements == 1


async def test_bad_ids_anonymous_and_unknown_fields_take_the_resolvers(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign, variables = await _arrange(pair, session, monkeypatch)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    for changed in (
        {"programmeId": gid("Person", 1)},
        {"programmeId": "nope"},
        {"programmeId": gid("Programme", 10**6)},
    ):
        fast, slow, _ = await pair.both(PAGE, changed, ministry)
        assert fast == slow, changed
    anonymous, _, _ = await pair.both(PAGE, variables, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    unknown = PAGE.replace("creativeScore", "creativeScore testResult { id }")
    assert unknown != PAGE
    fast, slow, statements = await pair.both(unknown, variables, ministry)
    assert fast == slow
    assert statements > 1
    del campaign


CATALOGUE = (
    Path(__file__).resolve().parents[1] / "portals/university-admission/ProgrammeCatalogue.graphql"
).read_text()
CATALOGUE_EVERYTHING = """
query Everything($seasonId: ID!, $after: String) {
  programmes(filter: { seasonId: $seasonId }, orderBy: ID, first: 2, after: $after) {
    __typename totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename id code name fieldOfStudy requiredSubjects creativeTest programmeCode
      institution { __typename id name kind languages region { nameRu } }
      places { __typename category places filled }
    }
  }
}
"""


async def test_the_programme_catalogue_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # given a published round, and a programme whose name needs JSON's escapes, with no
    # required subject, a creative test and no places
    from resolvers.access.keys import load_pepper
    from tests.factories import make_api_key, make_programme

    campaign, _ = await _arrange(pair, session, monkeypatch)
    art = await make_programme(
        session, season=campaign.season, university=campaign.other_university, code="ART",
        name='Дизайн "Илим" \\ /\t\n\x01\u2028 😀', required_subjects=[], creative_test=True,
    )  # fmt: skip
    await session.execute(delete(ProgrammePlaces).where(ProgrammePlaces.programme_id == art.id))
    _, partner = await make_api_key(
        session, pepper=load_pepper(settings), allowed_fields=["Query.programmes", "Programme.*"]
    )
    await session.commit()
    variables = {"seasonId": gid("AdmissionSeason", campaign.season.id), "after": None}
    callers = {
        **_callers(pair, campaign, 1),
        "anonymous": {},
        "partner": {"X-Api-Key": partner},
    }
    for caller, headers in callers.items():
        for document in (CATALOGUE, CATALOGUE_EVERYTHING):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement (a partner's key decides
            # field by field: the resolvers)
            assert fast == slow, (caller, fast, slow)
            if caller == "partner":
                continue
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, pair.counter.statements)
            programmes = fast["data"]["programmes"]
            assert programmes["totalCount"] == 4
    anonymous, _, _ = await pair.both(CATALOGUE, variables, {})
    nodes = anonymous["data"]["programmes"]["nodes"]
    assert [n["code"] for n in nodes] == ["ART", "MED", "INF", "ECO"]  # by name
    art = next(n for n in nodes if n["code"] == "ART")
    assert art["places"] == []
    assert art["requiredSubjects"] == []
    assert art["creativeTest"]
    # the pages after the first answer the same on both paths
    after = None
    for _ in range(3):
        fast, slow, statements = await pair.both(
            CATALOGUE_EVERYTHING, {**variables, "after": after}, {}
        )
        assert fast == slow
        assert statements == 1
        after = fast["data"]["programmes"]["pageInfo"]["endCursor"]
        if not fast["data"]["programmes"]["pageInfo"]["hasNextPage"]:
            break
    # a bad season ID, a long name and a field the module does not know take the resolvers
    for changed in ({"seasonId": gid("Person", 1)}, {"seasonId": "nope"}):
        fast, slow, _ = await pair.both(CATALOGUE, changed, {})
        assert fast == slow, changed
        assert "errors" in fast, changed
    long_name = CATALOGUE.replace("{ seasonId: $seasonId }", '{ name: "' + "x" * 101 + '" }')
    fast, slow, _ = await pair.both(long_name, {}, {})
    assert fast == slow
    assert "errors" in fast
    unknown = CATALOGUE.replace("creativeTest", "creativeTest season { id }")
    assert unknown != CATALOGUE
    fast, slow, statements = await pair.both(unknown, variables, {})
    assert fast == slow
    assert statements > 1


MY_APPLICATIONS = (
    Path(__file__).resolve().parents[1] / "portals/university-admission/MyApplications.graphql"
).read_text()
MY_EVERYTHING = """
query Everything($personId: ID!) {
  testResults(filter: { personId: $personId }, first: 5, orderBy: CERTIFICATE) {
    __typename totalCount pageInfo { hasNextPage endCursor }
    nodes { __typename id certificateNumber year mainScore stateLanguageScore
            subjectScores { __typename subject score } }
  }
  admissionApplications(filter: { personId: $personId }, first: 2) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes {
      id status
      season { __typename id year intake name status maxChoices mainScoreMax subjectScoreMax
               stateLanguageScoreMax mainThreshold subjectThreshold stateLanguageThreshold
               studiesStart }
      programme { id code name fieldOfStudy requiredSubjects creativeTest
                  institution { id name } places { category places filled } }
      offers { id category rank totalScore status decidedAt round { id number status } }
    }
  }
}
"""


async def test_an_applicants_page_is_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a campaign whose first round is published, each applicant with three subject
    # scores and an application to every programme
    campaign, programme = await _arrange(pair, session, monkeypatch)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    first, _, _ = await pair.both(PAGE, programme, ministry)
    nodes = first["data"]["admissionApplications"]["nodes"]
    recommended = next(n for n in nodes if n["offers"])
    person_id = decode_id(recommended["applicant"]["id"])[1]
    variables = {"personId": recommended["applicant"]["id"]}
    counts: dict[str, tuple[int, int]] = {}
    callers = {**_callers(pair, campaign, person_id), "anonymous": {}}
    for caller, headers in callers.items():
        for document in (MY_APPLICATIONS, MY_EVERYTHING):
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement (anonymous: the resolvers'
            # UNAUTHENTICATED)
            assert fast == slow, (caller, fast, slow)
            if caller == "anonymous":
                assert fast["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
                continue
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, pair.counter.statements)
            data = fast["data"]
            counts[caller] = (
                len(data["testResults"]["nodes"]),
                len(data["admissionApplications"]["nodes"]),
            )
    # and the applicant reads their certificate and applications, their university's officer
    # them too, another university's officer nothing
    assert counts["applicant"] == counts["ministry"] == (1, 2)
    assert counts["admission officer of the university"][0] == 1
    assert counts["admission officer of another university"][1] in (0, 1)
    page, _, _ = await pair.both(MY_APPLICATIONS, variables, callers["applicant"])
    (certificate,) = page["data"]["testResults"]["nodes"]
    subjects = [s["subject"] for s in certificate["subjectScores"]]
    assert subjects == sorted(subjects) == ["biology", "chemistry", "math"]
    assert any(n["offers"] for n in page["data"]["admissionApplications"]["nodes"])
    # a long certificate number and an unknown field take the resolvers
    long_number = MY_APPLICATIONS.replace(
        "filter: { personId: $personId }, first: 5",
        'filter: { personId: $personId, certificateNumber: "' + "X" * 21 + '" }, first: 5',
    )
    assert long_number != MY_APPLICATIONS
    fast, slow, _ = await pair.both(long_number, variables, callers["applicant"])
    assert fast == slow
    assert "errors" in fast
    unknown = MY_APPLICATIONS.replace("season { id name }", "season { id name rounds { id } }")
    assert unknown != MY_APPLICATIONS
    fast, slow, statements = await pair.both(unknown, variables, callers["applicant"])
    assert fast == slow
    assert statements > 1

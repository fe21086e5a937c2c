"""OneRoster 1.2's assessment results profile (issue 15) over the national test (U1): each
year's tests are assessmentLineItems (main, state language, each subject test), each score of
a certificate an assessmentResult of the person tested. Scores are personal data: read only by
a key naming the national test results in its subgraph, with the personal-data grant; a key
limited to regions reads the results of its regions' students only."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Hub
from tests.factories import gid, make_admission_season, make_person, make_test_result
from tests.lms.arrange import arrange_school
from tests.lms.oneroster_schema import STATUS_INFO, collection_schema, object_schema
from tests.lms.test_oneroster import GRADEBOOK, OSH, get, partner, valid

FIELDS = ("ClassGroup.*", "Person.*", "NationalTestResult.*")


class TestAssessments:
    async def test_a_certificates_scores_are_results_of_the_years_tests(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a pupil's national test certificate of 2026 and the season's scale
        s = await arrange_school(session)
        await make_admission_season(session, year=2026)
        cert = await make_test_result(
            session, person=s.pupils[0], main_score=150, subject_scores={"math": 96}
        )
        await session.commit()
        headers = await partner(hub, session, fields=FIELDS)
        # when a partner reads the tests and the results
        items = await get(hub, f"{GRADEBOOK}/assessmentLineItems", headers)
        results = await get(hub, f"{GRADEBOOK}/assessmentResults", headers)
        # then three tests of 2026, and the three scores of the certificate
        assert items.status_code == 200, items.text
        valid(items.json(), collection_schema("assessmentLineItems"))
        titles = {i["sourcedId"]: i["title"] for i in items.json()["assessmentLineItems"]}
        assert titles == {
            "ort-2026-main": "National test 2026: Main test",
            "ort-2026-math": "National test 2026: Subject test: math",
            "ort-2026-state_language": "National test 2026: State-language test",
        }
        assert results.status_code == 200, results.text
        valid(results.json(), collection_schema("assessmentResults"))
        scores = {
            r["assessmentLineItem"]["sourcedId"]: (r["score"], r["student"]["sourcedId"])
            for r in results.json()["assessmentResults"]
        }
        pupil = gid("Person", s.pupils[0].id)
        assert scores == {
            "ort-2026-main": (150.0, pupil),
            "ort-2026-math": (96.0, pupil),
            "ort-2026-state_language": (90.0, pupil),
        }
        one = await get(hub, f"{GRADEBOOK}/assessmentResults/ort-{cert.id}-math", headers)
        assert one.status_code == 200, one.text
        valid(one.json(), object_schema("assessmentResults"))
        main = await get(hub, f"{GRADEBOOK}/assessmentLineItems/ort-2026-main", headers)
        valid(main.json(), object_schema("assessmentLineItems"))
        assert main.json()["assessmentLineItem"]["resultValueMax"] > 0

    async def test_scores_need_the_grant_and_stay_in_the_keys_regions(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a certificate of a pupil in Bishkek and one of a person at no school
        s = await arrange_school(session)
        await make_test_result(session, person=s.pupils[0])
        await make_test_result(session, person=await make_person(session))
        await session.commit()
        plain = await partner(hub, session, fields=FIELDS, personal=False)
        no_scope = await partner(hub, session)
        osh = await partner(hub, session, fields=FIELDS, regions=[OSH])
        everyone = await partner(hub, session, fields=FIELDS)
        # when each reads the results
        for headers in (plain, no_scope):
            refused = await get(hub, f"{GRADEBOOK}/assessmentResults", headers)
            assert refused.status_code == 403, refused.text
            valid(refused.json(), STATUS_INFO)
        # then a key of another region reads none, a national key both
        elsewhere = await get(hub, f"{GRADEBOOK}/assessmentResults", osh)
        assert elsewhere.json()["assessmentResults"] == []
        national = await get(hub, f"{GRADEBOOK}/assessmentResults", everyone)
        assert national.headers["X-Total-Count"] == "6"

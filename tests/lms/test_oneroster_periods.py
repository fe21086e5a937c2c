"""OneRoster 1.2 grading periods (issue 15): the quarters of the school year (S3) are the
periods marks count in, served as academicSessions of type gradingPeriod (``/gradingPeriods``,
``/gradingPeriods/{id}``, ``/terms/{id}/gradingPeriods``), each the child of its quarter as a
term, and named by the gradebook's lineItems as their ``academicSession``; validated against
the binding's getAllGradingPeriods/getGradingPeriod payloads (tests/lms/oneroster_schema.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Hub
from tests.lms.arrange import arrange_school
from tests.lms.oneroster_schema import (
    STATUS_INFO,
    collection_schema,
    grading_period_schema,
    grading_periods_schema,
)
from tests.lms.test_oneroster import GRADEBOOK, ROSTER, _marked, get, partner, valid


class TestGradingPeriods:
    async def test_each_quarter_is_a_grading_period_within_its_term(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two school years of four quarters (S3)
        await arrange_school(session)
        headers = await partner(hub, session)
        # when a partner reads the grading periods and the terms
        periods = await get(hub, f"{ROSTER}/gradingPeriods", headers)
        terms = await get(hub, f"{ROSTER}/terms", headers)
        # then there is one per quarter, valid, a child of its term with the term's dates
        assert periods.status_code == 200, periods.text
        valid(periods.json(), grading_periods_schema())
        listed = periods.json()["academicSessions"]
        assert int(periods.headers["X-Total-Count"]) == len(listed) == 8
        by_term = {t["sourcedId"]: t for t in terms.json()["academicSessions"]}
        for period in listed:
            term = by_term[period["parent"]["sourcedId"]]
            assert period["parent"]["type"] == "academicSession"
            assert (period["startDate"], period["endDate"]) == (term["startDate"], term["endDate"])
            assert period["schoolYear"] == term["schoolYear"]
            assert period["sourcedId"] == f"grading-{term['sourcedId']}"
        # and each is one object by its sourcedId; a term is not a grading period
        one = await get(hub, f"{ROSTER}/gradingPeriods/{listed[0]['sourcedId']}", headers)
        assert one.status_code == 200, one.text
        valid(one.json(), grading_period_schema())
        not_one = await get(hub, f"{ROSTER}/gradingPeriods/{next(iter(by_term))}", headers)
        assert not_one.status_code == 404
        valid(not_one.json(), STATUS_INFO)

    async def test_a_terms_grading_periods_are_its_own(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange_school(session)
        headers = await partner(hub, session)
        terms = (await get(hub, f"{ROSTER}/terms", headers)).json()["academicSessions"]
        for term in terms:
            response = await get(hub, f"{ROSTER}/terms/{term['sourcedId']}/gradingPeriods", headers)
            valid(response.json(), grading_periods_schema())
            [period] = response.json()["academicSessions"]
            assert period["parent"]["sourcedId"] == term["sourcedId"]
        # a grading period (or nothing) named as the term is not found
        for nothing in (f"grading-{terms[0]['sourcedId']}", "nothing-here"):
            missing = await get(hub, f"{ROSTER}/terms/{nothing}/gradingPeriods", headers)
            assert missing.status_code == 404
        # and grading periods are academic sessions too
        sessions = await get(
            hub, f"{ROSTER}/academicSessions", headers, filter="type='gradingPeriod'"
        )
        valid(sessions.json(), collection_schema("academicSessions"))
        assert len(sessions.json()["academicSessions"]) == len(terms)

    async def test_a_line_item_counts_in_the_grading_period_of_its_lessons_quarter(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a marked lesson
        s = await _marked(hub, session)
        headers = await partner(hub, session)
        [item] = (await get(hub, f"{GRADEBOOK}/lineItems", headers)).json()["lineItems"]
        # when the partner follows the lineItem's academicSession
        ref = item["academicSession"]
        period = (await get(hub, f"{ROSTER}/gradingPeriods/{ref['sourcedId']}", headers)).json()
        # then it is the grading period whose dates hold the lesson's day
        day = s.extra["lesson"].on_date.isoformat()
        assert period["academicSession"]["type"] == "gradingPeriod"
        assert period["academicSession"]["startDate"] <= day <= period["academicSession"]["endDate"]
        assert ref["href"].endswith(f"/rostering/v1p2/academicSessions/{ref['sourcedId']}")

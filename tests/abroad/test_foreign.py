"""Foreign programmes: applications in the window, within the age limits and the field's
minimum school average, moving through the stages to nomination, never beyond the quota."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import ForeignApplication, ForeignProgramme, OutboxEvent, Person
from resolvers import clock
from resolvers.access import Role
from tests.conftest import Hub
from tests.factories import gid, make_foreign_programme, make_person

IN_WINDOW = date(2026, 3, 15)

APPLY = """
mutation Apply($input: ApplyToForeignProgrammeInput!) {
  applyToForeignProgramme(input: $input) {
    application { id stage status fieldOfStudy }
    userErrors { field code message }
  }
}
"""
ADVANCE = """
mutation Advance($input: AdvanceForeignApplicationInput!) {
  advanceForeignApplication(input: $input) {
    application { stage status stageResults { stage decision score reason } programme { nominated } }
    userErrors { field code message }
  }
}
"""


@pytest.fixture(autouse=True)
def in_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: IN_WINDOW)


async def _apply(
    hub: Hub, programme: Any, person: Person, *, field: str = "engineering", average: str = "4.5"
) -> dict[str, Any]:
    body = await hub.data(
        APPLY,
        {
            "input": {
                "programmeId": gid("ForeignProgramme", programme.id),
                "personId": gid("Person", person.id),
                "fieldOfStudy": field,
                "schoolAverage": average,
            }
        },
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    payload: dict[str, Any] = body["applyToForeignProgramme"]
    return payload


async def _advance(
    hub: Hub, token: str, application_id: str, stage: str, decision: str = "PASSED", **extra: Any
) -> dict[str, Any]:
    body = await hub.data(
        ADVANCE,
        {
            "input": {
                "applicationId": application_id,
                "stage": stage,
                "decision": decision,
                **extra,
            }
        },
        token=token,
    )
    payload: dict[str, Any] = body["advanceForeignApplication"]
    return payload


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ForeignApplication)) or 0)


class TestApplyToForeignProgramme:
    async def test_applicant_within_limits_applies_and_starts_at_the_first_stage(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        programme = await make_foreign_programme(session)
        person = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        payload = await _apply(hub, programme, person)
        assert payload["userErrors"] == []
        assert payload["application"]["stage"] == "DOCUMENT_CHECK"
        assert payload["application"]["status"] == "IN_PROGRESS"

    @pytest.mark.parametrize(
        ("birth", "field", "average", "code"),
        [
            (date(2000, 1, 1), "engineering", "4.5", "AGE_OUT_OF_RANGE"),  # 26 on the date
            (date(2009, 6, 1), "engineering", "4.5", "AGE_OUT_OF_RANGE"),  # 17 on the date
            (date(2007, 5, 1), "engineering", "3.9", "SCHOOL_AVERAGE_TOO_LOW"),
            (date(2007, 5, 1), "medicine", "5.0", "NOT_ELIGIBLE"),
            (date(2007, 5, 1), "engineering", "5.5", "SCORE_OUT_OF_RANGE"),
        ],
    )
    async def test_ineligible_applicant_gets_a_typed_error_and_nothing_is_written(
        self, hub: Hub, session: AsyncSession, birth: date, field: str, average: str, code: str
    ) -> None:
        programme = await make_foreign_programme(session)
        person = await make_person(session, birth_date=birth)
        await session.commit()
        payload = await _apply(hub, programme, person, field=field, average=average)
        assert [e["code"] for e in payload["userErrors"]] == [code]
        assert await _count(session) == 0

    async def test_applying_outside_the_window_or_twice_is_refused(
        self, hub: Hub, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        programme = await make_foreign_programme(session)
        person = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        assert (await _apply(hub, programme, person))["userErrors"] == []
        again = await _apply(hub, programme, person)
        assert again["userErrors"][0]["code"] == "ALREADY_APPLIED"
        monkeypatch.setattr(clock, "today", lambda: date(2026, 5, 1))
        other = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        late = await _apply(hub, programme, other)
        assert late["userErrors"][0]["code"] == "WINDOW_CLOSED"
        assert await _count(session) == 1


class TestAdvanceForeignApplication:
    async def test_stages_record_score_decision_and_reason_up_to_nomination(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        programme = await make_foreign_programme(session)
        person = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        app_id = (await _apply(hub, programme, person))["application"]["id"]
        await _advance(hub, ministry, app_id, "DOCUMENT_CHECK")
        # skipping or repeating a stage is refused
        skipped = await _advance(hub, ministry, app_id, "NOMINATION")
        assert skipped["userErrors"][0]["code"] == "WRONG_STAGE"
        await _advance(hub, ministry, app_id, "INTERVIEW", score="87.5")
        done = await _advance(hub, ministry, app_id, "NOMINATION")
        application = done["application"]
        assert application["status"] == "NOMINATED"
        assert [(r["stage"], r["decision"]) for r in application["stageResults"]] == [
            ("DOCUMENT_CHECK", "PASSED"),
            ("INTERVIEW", "PASSED"),
            ("NOMINATION", "PASSED"),
        ]
        assert application["stageResults"][1]["score"] == "87.50"
        assert application["programme"]["nominated"] == 1
        topics = (
            (await session.execute(select(OutboxEvent.topic).order_by(OutboxEvent.id)))
            .scalars()
            .all()
        )
        assert topics[-1] == "abroad.applicant_nominated"

    async def test_failing_a_stage_needs_a_reason_and_ends_the_application(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        programme = await make_foreign_programme(session)
        person = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        app_id = (await _apply(hub, programme, person))["application"]["id"]
        no_reason = await _advance(hub, ministry, app_id, "DOCUMENT_CHECK", "FAILED")
        assert no_reason["userErrors"][0]["code"] == "INVALID_INPUT"
        failed = await _advance(
            hub, ministry, app_id, "DOCUMENT_CHECK", "FAILED", reason="No certified translation"
        )
        assert failed["application"]["status"] == "REJECTED"
        assert failed["application"]["stageResults"][0]["reason"] == "No certified translation"

    async def test_simultaneous_nominations_never_exceed_the_quota(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        # given five applicants at the nomination stage of a programme with a quota of two
        programme = await make_foreign_programme(session, quota=2, stages=["nomination"])
        people = [await make_person(session, birth_date=date(2007, 5, 1)) for _ in range(5)]
        await session.commit()
        ids = [(await _apply(hub, programme, p))["application"]["id"] for p in people]
        # when the ministry nominates all five at once
        results = await asyncio.gather(*[_advance(hub, ministry, i, "NOMINATION") for i in ids])
        # then two are nominated and three are told the quota is full
        codes = sorted(r["userErrors"][0]["code"] if r["userErrors"] else "OK" for r in results)
        assert codes == ["OK", "OK", "QUOTA_FULL", "QUOTA_FULL", "QUOTA_FULL"]
        await session.refresh(programme)
        nominated = await session.scalar(
            select(ForeignProgramme.nominated).where(ForeignProgramme.id == programme.id)
        )
        assert nominated == 2

    async def test_applicants_read_only_their_own_applications(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        programme = await make_foreign_programme(session)
        a = await make_person(session, birth_date=date(2007, 5, 1))
        b = await make_person(session, birth_date=date(2007, 5, 1))
        await session.commit()
        await _apply(hub, programme, a)
        await _apply(hub, programme, b)
        query = "{ foreignApplications(first: 10) { totalCount } }"
        mine = await hub.data(query, token=hub.token(Role.PUPIL, person_id=a.id))
        assert mine["foreignApplications"]["totalCount"] == 1
        assert (await hub.data(query, token=ministry))["foreignApplications"]["totalCount"] == 2
        # and only the ministry decides
        app_id = gid("ForeignApplication", 1)
        refused = await _advance(
            hub, hub.token(Role.PUPIL, person_id=a.id), app_id, "DOCUMENT_CHECK"
        )
        assert refused["userErrors"][0]["code"] == "FORBIDDEN"


class TestCreateForeignProgramme:
    async def test_ministry_announces_a_programme_with_rules_and_stages(
        self, hub: Hub, ministry: str, session: AsyncSession
    ) -> None:
        document = """mutation($input: CreateForeignProgrammeInput!) { createForeignProgramme(input: $input) {
            programme { countryCode quota stages fieldRules { fieldOfStudy minAverage } } userErrors { field code } } }"""
        base = {
            "year": 2026,
            "countryCode": "tr",
            "name": "Türkiye Bursları",
            "level": "BACHELOR",
            "quota": 40,
            "opensOn": "2026-01-10",
            "closesOn": "2026-02-20",
            "minAge": 17,
            "maxAge": 21,
            "ageOn": "2026-09-01",
            "stages": ["DOCUMENT_CHECK", "INTERVIEW", "NOMINATION"],
            "fieldRules": [{"fieldOfStudy": "health", "minAverage": "4.5"}],
        }
        body = await hub.data(document, {"input": base}, token=ministry)
        assert body["createForeignProgramme"]["programme"] == {
            "countryCode": "TR",
            "quota": 40,
            "stages": ["DOCUMENT_CHECK", "INTERVIEW", "NOMINATION"],
            "fieldRules": [{"fieldOfStudy": "health", "minAverage": "4.50"}],
        }
        bad = await hub.data(document, {"input": {**base, "stages": ["INTERVIEW"]}}, token=ministry)
        assert bad["createForeignProgramme"]["userErrors"][0]["field"] == "stages"
        home = await hub.data(document, {"input": {**base, "countryCode": "KG"}}, token=ministry)
        assert home["createForeignProgramme"]["userErrors"][0]["code"] == "INVALID_INPUT"
        assert await session.scalar(select(func.count()).select_from(ForeignProgramme)) == 1

"""The disclosure rule is a policy row the ministry sets (domain.md, preamble: what no public
source fixes is stored as data, never a constant): a changed threshold changes what anonymous
callers, officers and partners' keys see, never what the ministry sees; every change is
audited and cites its source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditEntry, Sex
from resolvers.access import Role
from resolvers.access.keys import load_pepper
from tests.analytics.helpers import add_pupils
from tests.conftest import Hub
from tests.factories import make_api_key, make_institution

BY_GRADE = """
{ statistics(measure: PUPILS, groupBy: [GRADE], censusDate: "2026-09-15") {
    total exact cells { grade count suppressed } } }
"""
POLICY = "{ disclosurePolicy { threshold secondarySuppression source changedAt } }"
SET_POLICY = """
mutation Set($input: SetDisclosurePolicyInput!) {
  setDisclosurePolicy(input: $input) {
    policy { threshold secondarySuppression source }
    userErrors { field code message }
  }
}
"""
DECREE = "Order of the National Statistical Committee on confidentiality, 2027, item 4"


async def arrange(session: AsyncSession) -> None:
    """Grade 1: 6 pupils, grade 2: 7, grade 3: 20 (all over the shipped threshold of 5)."""
    school = await make_institution(session)
    await add_pupils(session, school, n=6, grade=1)
    await add_pupils(session, school, n=7, grade=2)
    await add_pupils(session, school, n=12, grade=3)
    await add_pupils(session, school, n=8, grade=3, sex=Sex.MALE)
    await session.commit()


def by_grade(data: dict[str, Any]) -> dict[int, int | None]:
    return {c["grade"]: c["count"] for c in data["statistics"]["cells"]}


async def set_threshold(hub: Hub, threshold: int, **more: Any) -> dict[str, Any]:
    body = await hub.data(
        SET_POLICY,
        {"input": {"threshold": threshold, "source": DECREE, **more}},
        token=hub.token(Role.MINISTRY),
    )
    return body["setDisclosurePolicy"]


class TestDisclosurePolicy:
    async def test_the_shipped_rule_is_threshold_five_with_its_source(self, hub: Hub) -> None:
        policy = (await hub.data(POLICY))["disclosurePolicy"]
        assert policy["threshold"] == 5
        assert policy["secondarySuppression"] is True
        assert "Hundepool" in policy["source"]

    async def test_a_raised_threshold_hides_more_from_anonymous_callers(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given: grades of 6, 7 and 20 pupils, all shown under the threshold of 5
        await arrange(session)
        assert by_grade(await hub.data(BY_GRADE)) == {1: 6, 2: 7, 3: 20}
        # when the ministry raises the threshold to 7
        payload = await set_threshold(hub, 7)
        assert payload["userErrors"] == []
        assert payload["policy"]["threshold"] == 7
        # then grade 1 (6) is hidden, and grade 2 with it (the total would give it away)
        assert by_grade(await hub.data(BY_GRADE)) == {1: None, 2: None, 3: 20}

    async def test_officers_and_partner_keys_follow_the_new_threshold(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange(session)
        _, key = await make_api_key(
            session,
            pepper=load_pepper(hub.settings),
            allowed_fields=["Query.statistics", "StatisticsTable.*", "StatisticsCell.*"],
        )
        await session.commit()
        await set_threshold(hub, 7)
        officer = await hub.data(
            BY_GRADE, token=hub.token(Role.REGION_OFFICER, scopes=["region:8"])
        )
        assert by_grade(officer)[1] is None
        response = await hub.post(BY_GRADE, headers={"Authorization": f"Bearer {key}"})
        assert by_grade(response.json()["data"]) == {1: None, 2: None, 3: 20}

    async def test_the_ministry_sees_exact_counts_whatever_the_threshold(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange(session)
        await set_threshold(hub, 50)
        body = await hub.data(BY_GRADE, token=hub.token(Role.MINISTRY))
        assert by_grade(body) == {1: 6, 2: 7, 3: 20}
        assert body["statistics"]["exact"] is True

    async def test_secondary_suppression_can_be_turned_off_by_the_policy(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange(session)
        await set_threshold(hub, 7, secondarySuppression=False)
        assert by_grade(await hub.data(BY_GRADE)) == {1: None, 2: 7, 3: 20}

    async def test_a_lower_threshold_shows_more_indicator_parts(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given 33 pupils in classes in Bishkek, the class size indicator's numerator
        await arrange(session)
        query = (
            '{ indicators(kinds: [CLASS_SIZE], censusDate: "2026-09-15") '
            "{ values { numerator region { code } } } }"
        )
        await set_threshold(hub, 50)
        hidden = await hub.data(query)
        assert all(v["numerator"] is None for v in hidden["indicators"]["values"])
        await set_threshold(hub, 5)
        shown = await hub.data(query)
        assert any(v["numerator"] == 33 for v in shown["indicators"]["values"])

    async def test_only_the_ministry_sets_the_rule_and_each_change_is_audited(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # when an officer tries, then FORBIDDEN and the rule is unchanged
        body = await hub.data(
            SET_POLICY,
            {"input": {"threshold": 2, "source": DECREE}},
            token=hub.token(Role.REGION_OFFICER, scopes=["region:8"]),
        )
        assert body["setDisclosurePolicy"]["userErrors"][0]["code"] == "FORBIDDEN"
        assert (await hub.data(POLICY))["disclosurePolicy"]["threshold"] == 5
        # when an anonymous caller tries, then the request is refused outright
        anonymous = await hub.gql(SET_POLICY, {"input": {"threshold": 2, "source": DECREE}})
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # when the ministry sets it, then the change and the refusal are in the audit trail
        await set_threshold(hub, 8)
        policy = (await hub.data(POLICY))["disclosurePolicy"]
        assert (policy["threshold"], policy["source"]) == (8, DECREE)
        outcomes = list(
            await session.scalars(
                select(AuditEntry.outcome)
                .where(AuditEntry.operation == "analytics.set_disclosure_policy")
                .order_by(AuditEntry.id)
            )
        )
        assert [o.value for o in outcomes] == ["forbidden", "succeeded"]

    async def test_a_rule_without_a_source_or_out_of_range_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        for threshold, source, field in ((1, DECREE, "threshold"), (5, "  ", "source")):
            body = await hub.data(
                SET_POLICY,
                {"input": {"threshold": threshold, "source": source}},
                token=hub.token(Role.MINISTRY),
            )
            errors = body["setDisclosurePolicy"]["userErrors"]
            assert [(e["field"], e["code"]) for e in errors] == [(field, "INVALID_INPUT")]
        row = await session.execute(text("SELECT threshold, source FROM disclosure_policy"))
        assert row.one()[0] == 5

"""Registering children in the kindergarten queue, and what a family sees of its place."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import InstitutionKind, KindergartenApplication, OutboxEvent
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import gid, make_institution, make_kindergarten_application, make_person
from tests.preschool.helpers import (
    add_child,
    arrange_queue,
    born_for_group,
    count_rows,
    errors_of,
    guardian_token,
    officer_token,
)

APPLY = """
mutation Apply($input: ApplyToKindergartenQueueInput!) {
  applyToKindergartenQueue(input: $input) {
    application {
      id status ageGroup intakeYear registeredAt benefitStatus
      child { id }
      preferences { rank kindergarten { id } queuePosition { position ahead } }
      statusHistory { status actor reason }
    }
    userErrors { field code message }
  }
}
"""

MY_APPLICATIONS = """
query Mine {
  kindergartenApplications(first: 10) {
    totalCount
    nodes {
      id status ageGroup registeredAt
      child { id }
      preferences {
        rank
        kindergarten { id }
        queuePosition { position ahead aheadWithBenefit aheadRegisteredLater benefitVerified }
      }
    }
  }
}
"""


class TestApplyToKindergartenQueue:
    async def test_guardian_registers_child_with_age_group_and_history(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a mother and her son, 3 on the coming 1 September
        queue = await arrange_queue(session)
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        await session.commit()
        # when she registers him with two kindergartens
        body = await hub.gql(
            APPLY,
            {
                "input": {
                    "childId": gid("Person", child.id),
                    "kindergartenIds": [queue.kg(1), queue.kg(0)],
                    "contactPhone": "+996 555 123 456",
                }
            },
            token=guardian_token(hub, queue.mother),
        )
        # then the application waits in group 3-4 of this intake, in her order
        assert errors_of(body, "applyToKindergartenQueue") == []
        app = body["data"]["applyToKindergartenQueue"]["application"]
        assert app["status"] == "WAITING"
        assert (app["ageGroup"], app["intakeYear"]) == ("3-4", queue.season.year)
        assert [p["kindergarten"]["id"] for p in app["preferences"]] == [queue.kg(1), queue.kg(0)]
        assert [p["queuePosition"]["position"] for p in app["preferences"]] == [1, 1]
        assert app["statusHistory"] == [
            {"status": "WAITING", "actor": f"person:{queue.mother.id}", "reason": None}
        ]
        async with engine.connect() as conn:
            topics = (await conn.execute(select(OutboxEvent.topic))).scalars().all()
        assert "preschool.application_registered" in topics

    async def test_infant_waits_for_the_first_intake_with_a_group_for_their_age(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a baby of 8 months
        queue = await arrange_queue(session)
        child = await add_child(session, queue, born=today() - timedelta(days=245))
        await session.commit()
        # when registered
        body = await hub.gql(
            APPLY,
            {"input": {"childId": gid("Person", child.id), "kindergartenIds": [queue.kg()]}},
            token=guardian_token(hub, queue.mother),
        )
        # then the child waits in the youngest group of the first September they are 2 by
        app = body["data"]["applyToKindergartenQueue"]["application"]
        assert app["ageGroup"] == "2-3"
        turns_two = child.birth_date.replace(year=child.birth_date.year + 2)
        expected = turns_two.year if turns_two <= date(turns_two.year, 9, 1) else turns_two.year + 1
        assert app["intakeYear"] == expected

    async def test_bad_input_gets_a_typed_error_and_writes_nothing(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given children too young, too old and just right, a school, and another family's child
        queue = await arrange_queue(session)
        too_young = await add_child(session, queue, born=today() - timedelta(days=90))
        too_old = await add_child(session, queue, born=today() - timedelta(days=365 * 7 + 30))
        child = await add_child(session, queue, born=born_for_group(queue.season, 4))
        stranger = await make_person(session, birth_date=born_for_group(queue.season, 4))
        await session.commit()
        token = guardian_token(hub, queue.mother)
        cases: list[tuple[dict[str, Any], str]] = [
            ({"childId": gid("Person", too_young.id)}, "CHILD_TOO_YOUNG"),
            ({"childId": gid("Person", too_old.id)}, "CHILD_TOO_OLD"),
            ({"kindergartenIds": [gid("Institution", queue.school.id)]}, "WRONG_INSTITUTION_KIND"),
            ({"benefitCategory": "astronaut", "benefitProof": "x"}, "UNKNOWN_BENEFIT_CATEGORY"),
            ({"benefitCategory": "military"}, "INVALID_INPUT"),
            (
                {"kindergartenIds": [queue.kg(0), queue.kg(1), queue.kg(2), queue.kg(0)]},
                "INVALID_INPUT",
            ),
            ({"kindergartenIds": []}, "INVALID_INPUT"),
            # a kindergarten that is not there, named after one that is
            ({"kindergartenIds": [queue.kg(0), gid("Institution", 10**9)]}, "NOT_FOUND"),
            # a child she may not read is not there for her (issue 22.7)
            ({"childId": gid("Person", stranger.id)}, "NOT_FOUND"),
            ({"kindergartenIds": ["bm9wZQ"]}, "INVALID_ID"),
        ]
        before = await count_rows(engine)
        for change, code in cases:
            # when the mother applies with one thing wrong
            body = await hub.gql(
                APPLY,
                {
                    "input": {
                        "childId": gid("Person", child.id),
                        "kindergartenIds": [queue.kg(0)],
                        **change,
                    }
                },
                token=token,
            )
            # then she gets that error's code, and nothing is written
            assert errors_of(body, "applyToKindergartenQueue") == [code], (change, body)
        after = await count_rows(engine)
        assert before == after

    async def test_officer_cannot_apply_for_a_child(self, hub: Hub, session: AsyncSession) -> None:
        queue = await arrange_queue(session)
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        await session.commit()
        body = await hub.gql(
            APPLY,
            {"input": {"childId": gid("Person", child.id), "kindergartenIds": [queue.kg()]}},
            token=officer_token(hub, queue.kindergartens[0]),
        )
        assert errors_of(body, "applyToKindergartenQueue") == ["FORBIDDEN"]

    async def test_second_application_for_a_child_is_a_duplicate_even_when_concurrent(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child
        queue = await arrange_queue(session)
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        await session.commit()
        token = guardian_token(hub, queue.mother)
        # when five applications for the child arrive at once
        bodies = await asyncio.gather(
            *(
                hub.gql(
                    APPLY,
                    {
                        "input": {
                            "childId": gid("Person", child.id),
                            "kindergartenIds": [queue.kg(i % 3)],
                        }
                    },
                    token=token,
                )
                for i in range(5)
            )
        )
        # then exactly one is registered; the others are duplicates
        codes = sorted(tuple(errors_of(b, "applyToKindergartenQueue")) for b in bodies)
        assert codes == [(), *[("DUPLICATE_APPLICATION",)] * 4]
        async with engine.connect() as conn:
            rows = (await conn.execute(select(KindergartenApplication.id))).all()
        assert len(rows) == 1


VERIFY = """
mutation Verify($input: VerifyKindergartenBenefitInput!) {
  verifyKindergartenBenefit(input: $input) {
    application { id benefitStatus statusHistory { status reason } }
    userErrors { field code message }
  }
}
"""


class TestVerifyKindergartenBenefit:
    async def test_officer_of_a_named_kindergarten_verifies_then_rejects_a_claimed_benefit(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an application naming the second kindergarten with a claimed benefit, and one
        # claiming none
        queue = await arrange_queue(session)
        born = born_for_group(queue.season, 3)
        named = [queue.kindergartens[1]]
        claimed, plain = [
            await make_kindergarten_application(
                session,
                child=await add_child(session, queue, born=born),
                guardian=queue.mother,
                kindergartens=named,
                season=queue.season,
                benefit=benefit,
            )
            for benefit in ("military", None)
        ]
        await session.commit()
        officer = officer_token(hub, queue.kindergartens[1])

        async def verify(
            application: KindergartenApplication,
            verified: bool,
            reason: str | None = None,
            token: str = officer,
        ) -> dict[str, Any]:
            variables = {
                "applicationId": gid("KindergartenApplication", application.id),
                "verified": verified,
                "reason": reason,
            }
            return await hub.gql(VERIFY, {"input": variables}, token=token)

        # when the first kindergarten's officer, whom the application does not name, checks it
        stranger = await verify(claimed, True, token=officer_token(hub, queue.kindergartens[0]))
        # then it is not there for them
        assert errors_of(stranger, "verifyKindergartenBenefit") == ["NOT_FOUND"]
        # when the named kindergarten's officer verifies it, verifies it again, then rejects it
        bodies = [
            await verify(claimed, True, "certificate  seen"),
            await verify(claimed, True),
            await verify(claimed, False),
        ]
        # then each check is kept, with its reason
        assert [errors_of(b, "verifyKindergartenBenefit") for b in bodies] == [[], [], []]
        written = [b["data"]["verifyKindergartenBenefit"]["application"] for b in bodies]
        assert [a["benefitStatus"] for a in written] == ["VERIFIED", "VERIFIED", "REJECTED"]
        reasons = [h["reason"] for h in written[-1]["statusHistory"]]
        assert {"benefit verified: certificate seen", "benefit rejected"} <= set(reasons)
        # and an application claiming no benefit has none to check
        nothing = await verify(plain, True)
        assert errors_of(nothing, "verifyKindergartenBenefit") == ["INVALID_INPUT"]


class TestQueuePosition:
    async def test_position_explains_a_later_registrant_with_a_benefit_ahead(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given, in group 3-4 of one kindergarten: an early registrant, then our child, then a
        # later registrant with a verified benefit
        queue = await arrange_queue(session)
        other_mother = await make_person(session, birth_date=date(1991, 5, 5))
        born = born_for_group(queue.season, 3)
        early = await add_child(session, queue, born=born, guardian=other_mother)
        later = await add_child(session, queue, born=born, guardian=other_mother)
        ours = await add_child(session, queue, born=born)
        t0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
        kg = queue.kindergartens[0]
        for child, minutes, benefit in (
            (early, 0, None),
            (ours, 10, None),
            (later, 20, "military"),
        ):
            await make_kindergarten_application(
                session,
                child=child,
                guardian=other_mother if child is not ours else queue.mother,
                kindergartens=[kg],
                season=queue.season,
                registered_at=t0 + timedelta(minutes=minutes),
                benefit=benefit,
            )
        await session.commit()
        # when the mother looks at her applications
        data = await hub.data(MY_APPLICATIONS, token=guardian_token(hub, queue.mother))
        # then she sees only her child's, third in line, and why
        apps = data["kindergartenApplications"]
        assert apps["totalCount"] == 1
        assert apps["nodes"][0]["child"]["id"] == gid("Person", ours.id)
        position = apps["nodes"][0]["preferences"][0]["queuePosition"]
        assert position == {
            "position": 3,
            "ahead": 2,
            "aheadWithBenefit": 1,
            "aheadRegisteredLater": 1,
            "benefitVerified": False,
        }

    async def test_officers_see_their_kindergartens_applications_only(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given applications to two different kindergartens
        queue = await arrange_queue(session)
        born = born_for_group(queue.season, 3)
        for i in range(2):
            child = await add_child(session, queue, born=born)
            await make_kindergarten_application(
                session,
                child=child,
                guardian=queue.mother,
                kindergartens=[queue.kindergartens[i]],
                season=queue.season,
            )
        teacher_person = await make_person(session, birth_date=date(1990, 1, 1))
        await session.commit()
        # when each kindergarten's officer, the district's officer and the ministry list them
        first = await hub.data(MY_APPLICATIONS, token=officer_token(hub, queue.kindergartens[0]))
        district = hub.token(
            Role.DISTRICT_OFFICER, scopes=[f"district:{queue.kindergartens[0].district_id}"]
        )
        both = await hub.data(MY_APPLICATIONS, token=district)
        teacher = hub.token(
            Role.TEACHER,
            scopes=[f"institution:{queue.kindergartens[0].id}"],
            person_id=teacher_person.id,
        )
        none = await hub.data(MY_APPLICATIONS, token=teacher)
        # then each sees their own (with the child's name), the district both, a teacher none
        assert first["kindergartenApplications"]["totalCount"] == 1
        assert first["kindergartenApplications"]["nodes"][0]["child"] is not None
        assert both["kindergartenApplications"]["totalCount"] == 2
        assert none["kindergartenApplications"]["totalCount"] == 0

    async def test_guardian_cannot_see_other_childrens_applications(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await arrange_queue(session)
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        app = await make_kindergarten_application(
            session,
            child=child,
            guardian=queue.mother,
            kindergartens=[queue.kindergartens[0]],
            season=queue.season,
        )
        stranger = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        token = guardian_token(hub, stranger)
        data = await hub.data(MY_APPLICATIONS, token=token)
        node = await hub.data(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": gid("KindergartenApplication", app.id)},
            token=token,
        )
        assert data["kindergartenApplications"]["totalCount"] == 0
        assert node["node"] is None


async def test_a_school_is_not_a_kindergarten_for_the_officer_either(
    hub: Hub, session: AsyncSession
) -> None:
    school = await make_institution(session, kind=InstitutionKind.SCHOOL)
    await session.commit()
    body = await hub.gql(
        """mutation($input: DeclareFreePlacesInput!) { declareFreePlaces(input: $input) {
             places { freePlaces } userErrors { code } } }""",
        {
            "input": {
                "kindergartenId": gid("Institution", school.id),
                "ageGroup": "3-4",
                "freePlaces": 3,
            }
        },
        token=hub.token(Role.MINISTRY),
    )
    assert errors_of(body, "declareFreePlaces") == ["WRONG_INSTITUTION_KIND"]

"""Rounds: ranking per programme and pool, recommended lists, confirmation, vacancies for the
next round, the rank explanation, and the admission order that closes the season."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    Enrollment,
    OutboxEvent,
    Person,
    ProgrammePlaces,
    Sector,
)
from resolvers.access import Role
from tests.admission.arrange import (
    AFTER_ROUND_1,
    AFTER_SEASON,
    PUBLICATION,
    PUBLICATION_2,
    REGISTRATION,
    Campaign,
    arrange_campaign,
    make_applicant,
)
from tests.conftest import Hub
from tests.factories import gid, make_person

APPLY = """
mutation Apply($input: ApplyToProgrammesInput!) {
  applyToProgrammes(input: $input) { applications { id } userErrors { code message } }
}
"""
PUBLISH = """
mutation Publish($input: PublishRoundInput!) {
  publishRound(input: $input) { round { status } recommended expired userErrors { code message } }
}
"""
CONFIRM = """
mutation Confirm($input: ConfirmPlaceInput!) {
  confirmPlace(input: $input) { offer { status category } userErrors { code message } }
}
"""
MY_APPLICATIONS = """
query Mine($personId: ID!) {
  admissionApplications(filter: {personId: $personId}, first: 10) {
    nodes { id preference status programme { code } offers { id status category rank round { number } } }
  }
}
"""
EXPLAIN = """
query Explain($id: ID!) {
  rankExplanation(applicationId: $id) {
    totalScore pool tieBreakers
    entries { category rank competing places roundNumber cutOffScore offerStatus explanation }
  }
}
"""
ORDER = """
mutation Order($input: IssueAdmissionOrderInput!) {
  issueAdmissionOrder(input: $input) { order { number enrollments } userErrors { code message } }
}
"""


async def _apply(
    hub: Hub, campaign: Campaign, person: Person, cert: Any, *choices: tuple[str, str]
) -> None:
    body = await hub.data(
        APPLY,
        {
            "input": {
                "seasonId": gid("AdmissionSeason", campaign.season.id),
                "personId": gid("Person", person.id),
                "certificateNumber": cert.certificate_number,
                "choices": [
                    {"programmeId": gid("Programme", campaign.programmes[p].id), "funding": f}
                    for p, f in choices
                ],
            }
        },
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    assert body["applyToProgrammes"]["userErrors"] == [], body


async def _publish(hub: Hub, ministry: str, rnd: Any) -> dict[str, Any]:
    body = await hub.data(
        PUBLISH, {"input": {"roundId": gid("AdmissionRound", rnd.id)}}, token=ministry
    )
    payload: dict[str, Any] = body["publishRound"]
    return payload


async def _mine(hub: Hub, person: Person) -> list[dict[str, Any]]:
    body = await hub.data(
        MY_APPLICATIONS,
        {"personId": gid("Person", person.id)},
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    nodes: list[dict[str, Any]] = body["admissionApplications"]["nodes"]
    return nodes


async def _offer_of(hub: Hub, person: Person) -> str:
    for app in await _mine(hub, person):
        for offer in app["offers"]:
            if offer["status"] == "RECOMMENDED":
                return str(offer["id"])
    raise AssertionError("no open recommendation")


async def _confirm(hub: Hub, person: Person, offer_id: str) -> dict[str, Any]:
    body = await hub.data(
        CONFIRM,
        {"input": {"offerId": offer_id}},
        token=hub.token(Role.PUPIL, person_id=person.id),
    )
    payload: dict[str, Any] = body["confirmPlace"]
    return payload


class TestPublishRound:
    async def test_best_applicants_of_each_pool_are_recommended_at_their_highest_preference(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given one Bishkek grant place, one rural and one contract place in informatics
        campaign = await arrange_campaign(session)
        top, top_cert = await make_applicant(session, campaign, main=200, name="Top")
        second, second_cert = await make_applicant(session, campaign, main=180, name="Second")
        rural, rural_cert = await make_applicant(session, campaign, main=130, rural=True)
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, top, top_cert, ("informatics", "GRANT"))
        await _apply(hub, campaign, second, second_cert, ("informatics", "BOTH"))
        await _apply(hub, campaign, rural, rural_cert, ("informatics", "GRANT"))
        # when the ministry publishes round 1
        on_day(PUBLICATION)
        payload = await _publish(hub, ministry, campaign.round1)
        # then the top Bishkek applicant gets the grant, the second the contract place,
        # the rural applicant the rural grant despite a lower score
        assert payload["userErrors"] == []
        assert payload["recommended"] == 3
        categories = {}
        for person in (top, second, rural):
            (app,) = await _mine(hub, person)
            categories[person.first_name] = [o["category"] for o in app["offers"]]
        assert categories == {"Top": ["BISHKEK"], "Second": ["CONTRACT"], "Айбек": ["RURAL"]}
        # and each recommendation is an outbox event
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.topic == "admission.place_recommended")
        )
        assert events == 3

    async def test_ties_are_broken_by_main_score_then_earlier_application(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        # same total 240: the higher main score wins; then the earlier application
        strong_main, c1 = await make_applicant(
            session, campaign, main=160, subjects={"math": 80}, name="A"
        )
        weak_main, c2 = await make_applicant(
            session, campaign, main=150, subjects={"math": 90}, name="B"
        )
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, weak_main, c2, ("informatics", "GRANT"))
        await _apply(hub, campaign, strong_main, c1, ("informatics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        (winner,) = await _mine(hub, strong_main)
        (loser,) = await _mine(hub, weak_main)
        assert winner["offers"][0]["rank"] == 1
        assert loser["offers"] == []
        # the loser's explanation shows score, pool, rank and the cut-off
        body = await hub.data(
            EXPLAIN, {"id": loser["id"]}, token=hub.token(Role.PUPIL, person_id=weak_main.id)
        )
        explanation = body["rankExplanation"]
        assert explanation["totalScore"] == 240
        assert explanation["pool"] == "BISHKEK"
        assert explanation["tieBreakers"][0] == "higher main test score"
        (entry,) = explanation["entries"]
        assert (entry["rank"], entry["competing"], entry["places"]) == (2, 2, 1)
        assert (entry["roundNumber"], entry["cutOffScore"]) == (1, 240)
        assert "tie-breaks" in entry["explanation"]

    async def test_publishing_before_registration_closes_or_twice_is_refused(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        await session.commit()
        on_day(REGISTRATION)
        early = await _publish(hub, ministry, campaign.round1)
        assert early["userErrors"][0]["code"] == "ROUND_NOT_READY"
        on_day(PUBLICATION)
        assert (await _publish(hub, ministry, campaign.round1))["userErrors"] == []
        again = await _publish(hub, ministry, campaign.round1)
        assert again["userErrors"][0]["code"] == "ROUND_ALREADY_PUBLISHED"

    async def test_only_the_ministry_publishes(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        await session.commit()
        on_day(PUBLICATION)
        officer = hub.token(
            Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.university.id}"]
        )
        payload = await _publish(hub, officer, campaign.round1)
        assert payload["userErrors"][0]["code"] == "FORBIDDEN"


class TestConfirmPlace:
    async def test_confirming_takes_the_place_and_withdraws_lower_preferences(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, person, cert, ("informatics", "GRANT"), ("economics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        # when the applicant confirms the recommended place
        payload = await _confirm(hub, person, await _offer_of(hub, person))
        # then it is theirs, counted in the places, and the lower preference is withdrawn
        assert payload["userErrors"] == []
        assert payload["offer"]["status"] == "CONFIRMED"
        statuses = [a["status"] for a in await _mine(hub, person)]
        assert statuses == ["CONFIRMED", "WITHDRAWN"]
        filled = await session.scalar(
            select(ProgrammePlaces.filled).where(
                ProgrammePlaces.programme_id == campaign.programmes["informatics"].id,
                ProgrammePlaces.category == "bishkek",
            )
        )
        assert filled == 1

    async def test_confirming_twice_is_refused_even_when_simultaneous(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, person, cert, ("informatics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        offer_id = await _offer_of(hub, person)
        # when the applicant's two tabs confirm at once
        results = await asyncio.gather(*[_confirm(hub, person, offer_id) for _ in range(4)])
        # then exactly one confirms and the others are told it is already confirmed
        codes = sorted(r["userErrors"][0]["code"] if r["userErrors"] else "OK" for r in results)
        assert codes == ["ALREADY_CONFIRMED"] * 3 + ["OK"]
        filled = await session.scalar(
            select(func.sum(ProgrammePlaces.filled)).where(
                ProgrammePlaces.programme_id == campaign.programmes["informatics"].id
            )
        )
        assert filled == 1

    async def test_confirming_after_the_window_is_refused(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, person, cert, ("informatics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        offer_id = await _offer_of(hub, person)
        on_day(AFTER_ROUND_1)
        payload = await _confirm(hub, person, offer_id)
        assert payload["userErrors"][0]["code"] == "WINDOW_CLOSED"
        confirmed = await session.scalar(
            select(func.count())
            .select_from(AdmissionOffer)
            .where(AdmissionOffer.status == "confirmed")
        )
        assert confirmed == 0


class TestNextRound:
    async def test_unconfirmed_place_goes_to_the_next_applicant_in_round_two(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        # given two applicants for one Bishkek grant place
        campaign = await arrange_campaign(session)
        first, c1 = await make_applicant(session, campaign, main=200, name="First")
        second, c2 = await make_applicant(session, campaign, main=180, name="Second")
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, first, c1, ("informatics", "GRANT"))
        await _apply(hub, campaign, second, c2, ("informatics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        # when the first does not confirm and round 2 publishes
        on_day(PUBLICATION_2)
        payload = await _publish(hub, ministry, campaign.round2)
        # then the first's recommendation expired and the second is recommended
        assert (payload["expired"], payload["recommended"]) == (1, 1)
        (first_app,) = await _mine(hub, first)
        assert first_app["status"] == "DECLINED"
        assert first_app["offers"][0]["status"] == "EXPIRED"
        (second_app,) = await _mine(hub, second)
        assert [(o["round"]["number"], o["status"]) for o in second_app["offers"]] == [
            (2, "RECOMMENDED")
        ]


class TestAdmissionOrder:
    async def test_order_enrolls_confirmed_applicants_and_closes_the_season(
        self, hub: Hub, ministry: str, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        person, cert = await make_applicant(session, campaign, main=200)
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, person, cert, ("informatics", "GRANT"))
        on_day(PUBLICATION)
        await _publish(hub, ministry, campaign.round1)
        await _confirm(hub, person, await _offer_of(hub, person))
        on_day(PUBLICATION_2)
        await _publish(hub, ministry, campaign.round2)
        on_day(AFTER_SEASON)
        body = await hub.data(
            ORDER,
            {"input": {"seasonId": gid("AdmissionSeason", campaign.season.id), "number": "№ 451"}},
            token=ministry,
        )
        assert body["issueAdmissionOrder"]["userErrors"] == []
        assert body["issueAdmissionOrder"]["order"]["enrollments"] == 1
        enrollment = (
            await session.execute(
                select(Enrollment).where(
                    Enrollment.person_id == person.id, Enrollment.sector == Sector.HIGHER
                )
            )
        ).scalar_one()
        assert enrollment.institution_id == campaign.university.id
        assert enrollment.entry_date == date(2026, 9, 1)
        assert enrollment.programme == "Прикладная информатика"
        status = await session.scalar(
            select(AdmissionApplication.status).where(AdmissionApplication.person_id == person.id)
        )
        assert status == "enrolled"
        # and the closed season takes no more applications
        again = await hub.data(
            ORDER,
            {"input": {"seasonId": gid("AdmissionSeason", campaign.season.id), "number": "2"}},
            token=ministry,
        )
        assert again["issueAdmissionOrder"]["userErrors"][0]["code"] == "SEASON_CLOSED"


class TestReadingApplications:
    async def test_officers_see_their_universitys_applications_applicants_their_own(
        self, hub: Hub, session: AsyncSession, on_day: Callable[[date], None]
    ) -> None:
        campaign = await arrange_campaign(session)
        a, ca = await make_applicant(session, campaign, name="A")
        b, cb = await make_applicant(session, campaign, name="B")
        await session.commit()
        on_day(REGISTRATION)
        await _apply(hub, campaign, a, ca, ("informatics", "GRANT"))
        await _apply(hub, campaign, b, cb, ("economics", "GRANT"))
        query = """{ admissionApplications(first: 10) { nodes { programme { code } applicant { firstName } } } }"""
        officer = hub.token(
            Role.ADMISSION_OFFICER, scopes=[f"institution:{campaign.university.id}"]
        )
        seen = (await hub.data(query, token=officer))["admissionApplications"]["nodes"]
        assert seen == [{"programme": {"code": "INF"}, "applicant": {"firstName": "A"}}]
        own = (await hub.data(query, token=hub.token(Role.PUPIL, person_id=b.id)))[
            "admissionApplications"
        ]["nodes"]
        assert own == [{"programme": {"code": "ECO"}, "applicant": {"firstName": "B"}}]
        lecturer = await make_person(session, first_name="Лектор", birth_date=date(1980, 1, 1))
        await session.commit()
        teacher = hub.token(
            Role.TEACHER, scopes=[f"institution:{campaign.university.id}"], person_id=lecturer.id
        )
        assert (await hub.data(query, token=teacher))["admissionApplications"]["nodes"] == []


# Statements of publishing a round and of the admission order in this scenario (savepoint,
# audit row and events included; the ranking's applications read and the offers' COPY go
# through the driver and are not counted), whatever the number of places: issue 21.
PUBLISH_STATEMENTS = 10
ORDER_STATEMENTS = 10


class TestBatchStatements:
    @pytest.mark.parametrize("applicants", [1, 2])
    async def test_round_and_order_statements_do_not_grow_with_the_places(
        self,
        applicants: int,
        hub: Hub,
        ministry: str,
        session: AsyncSession,
        on_day: Callable[[date], None],
    ) -> None:
        # given one or two applicants for economics' Bishkek grant places (U3, U4: two places)
        campaign = await arrange_campaign(session)
        people = [await make_applicant(session, campaign, main=200) for _ in range(applicants)]
        await session.commit()
        on_day(REGISTRATION)
        for person, cert in people:
            await _apply(hub, campaign, person, cert, ("economics", "GRANT"))
        # when round 1 is published
        on_day(PUBLICATION)
        hub.counter.reset()
        published = await _publish(hub, ministry, campaign.round1)
        publish_statements = hub.counter.count
        assert published["recommended"] == applicants
        # and every recommended place confirmed, round 2 published and the order issued (U5)
        for person, _ in people:
            await _confirm(hub, person, await _offer_of(hub, person))
        on_day(PUBLICATION_2)
        await _publish(hub, ministry, campaign.round2)
        on_day(AFTER_SEASON)
        hub.counter.reset()
        body = await hub.data(
            ORDER,
            {"input": {"seasonId": gid("AdmissionSeason", campaign.season.id), "number": "7"}},
            token=ministry,
        )
        # then each cost the same statements however many places they handled
        assert body["issueAdmissionOrder"]["order"]["enrollments"] == applicants
        assert (publish_statements, hub.counter.count) == (PUBLISH_STATEMENTS, ORDER_STATEMENTS)

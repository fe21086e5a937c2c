"""Free places, offers and their deadlines, acceptance, admission, transfer and withdrawal."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    Enrollment,
    ExitReason,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    PublicHoliday,
    Sector,
)
from resolvers import intake as intake_service
from resolvers import jobs
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_kindergarten_application,
    make_kindergarten_places,
    make_person,
)
from tests.preschool.helpers import (
    Queue,
    add_child,
    arrange_queue,
    born_for_group,
    count_rows,
    errors_of,
    guardian_token,
    officer_token,
)

DECLARE = """
mutation Declare($input: DeclareFreePlacesInput!) {
  declareFreePlaces(input: $input) { places { ageGroup freePlaces } userErrors { field code } }
}
"""
OFFER = """
mutation Offer($input: OfferPlacesInput!) {
  offerPlaces(input: $input) {
    offers { id status deadline ageGroup application { id child { id } } }
    userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation Accept($input: OfferDecisionInput!) {
  acceptOffer(input: $input) { offer { id status } userErrors { code } }
}
"""
DECLINE = """
mutation Decline($input: OfferDecisionInput!) {
  declineOffer(input: $input) { offer { id status application { status registeredAt } } userErrors { code } }
}
"""
CONFIRM = """
mutation Confirm($input: ConfirmAdmissionInput!) {
  confirmAdmission(input: $input) {
    offer { status application { status enrollment { sector entryDate institution { id } } statusHistory { status } } }
    userErrors { code }
  }
}
"""
TRANSFER = """
mutation Transfer($input: TransferKindergartenApplicationInput!) {
  transferKindergartenApplication(input: $input) {
    application { status registeredAt preferences { kindergarten { id } } }
    userErrors { code }
  }
}
"""
WITHDRAW = """
mutation Withdraw($input: WithdrawKindergartenApplicationInput!) {
  withdrawKindergartenApplication(input: $input) { application { status } userErrors { code } }
}
"""
EXPIRE = """
mutation Expire { processExpiredOffers(input: {}) { expired userErrors { code } } }
"""
POLICY = """
mutation Policy($input: UpdateIntakePolicyInput!) {
  updateIntakePolicy(input: $input) { season { declineRule offerDeadlineWorkingDays } userErrors { field code } }
}
"""


async def waiting_children(
    session: AsyncSession, queue: Queue, n: int, *, kg: int = 0, benefit_from: int | None = None
) -> list[KindergartenApplication]:
    """``n`` children of group 3-4 waiting at one kindergarten, registered a minute apart;
    those from index ``benefit_from`` on hold a verified benefit."""
    t0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    apps = []
    for i in range(n):
        child = await add_child(session, queue, born=born_for_group(queue.season, 3))
        apps.append(
            await make_kindergarten_application(
                session,
                child=child,
                guardian=queue.mother,
                kindergartens=[queue.kindergartens[kg]],
                season=queue.season,
                registered_at=t0 + timedelta(minutes=i),
                benefit="military" if benefit_from is not None and i >= benefit_from else None,
            )
        )
    return apps


async def offer(hub: Hub, queue: Queue, token: str | None = None, **extra: object) -> dict:
    return await hub.gql(
        OFFER,
        {"input": {"kindergartenId": queue.kg(), **extra}},
        token=token or officer_token(hub, queue.kindergartens[0]),
    )


def working_days_after(start: date, n: int, holidays: set[date]) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        if day.isoweekday() < 6 and day not in holidays:
            n -= 1
    return day


class TestDeclareFreePlaces:
    async def test_officer_declares_places_within_the_group_cap(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await arrange_queue(session)
        await session.commit()
        token = officer_token(hub, queue.kindergartens[0])
        ok = await hub.gql(
            DECLARE,
            {"input": {"kindergartenId": queue.kg(), "ageGroup": "2-3", "freePlaces": 25}},
            token=token,
        )
        too_many = await hub.gql(
            DECLARE,
            {"input": {"kindergartenId": queue.kg(), "ageGroup": "2-3", "freePlaces": 26}},
            token=token,
        )
        unknown = await hub.gql(
            DECLARE,
            {"input": {"kindergartenId": queue.kg(), "ageGroup": "9-10", "freePlaces": 1}},
            token=token,
        )
        other = await hub.gql(
            DECLARE,
            {"input": {"kindergartenId": queue.kg(1), "ageGroup": "2-3", "freePlaces": 1}},
            token=token,
        )
        assert ok["data"]["declareFreePlaces"]["places"] == {"ageGroup": "2-3", "freePlaces": 25}
        assert errors_of(too_many, "declareFreePlaces") == ["EXCEEDS_GROUP_SIZE"]
        assert errors_of(unknown, "declareFreePlaces") == ["UNKNOWN_AGE_GROUP"]
        assert errors_of(other, "declareFreePlaces") == ["FORBIDDEN"]


class TestOfferPlaces:
    async def test_benefit_holder_is_offered_before_earlier_registrant(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given three waiting children, the last one with a verified benefit, and two places
        queue = await arrange_queue(session)
        apps = await waiting_children(session, queue, 3, benefit_from=2)
        await make_kindergarten_places(
            session, kindergarten=queue.kindergartens[0], season=queue.season, free_places=2
        )
        await session.commit()
        # when the officer offers the places
        body = await offer(hub, queue)
        # then the benefit holder and the earliest registrant get them, with a deadline of
        # 15 working days that skips weekends and public holidays
        assert errors_of(body, "offerPlaces") == []
        offers = body["data"]["offerPlaces"]["offers"]
        offered = {o["application"]["id"] for o in offers}
        assert offered == {
            gid("KindergartenApplication", apps[2].id),
            gid("KindergartenApplication", apps[0].id),
        }
        async with engine.connect() as conn:
            decreed = set((await conn.execute(select(PublicHoliday.day))).scalars())
            holidays = decreed | {
                day
                for year in (today().year, today().year + 1)
                for day in intake_service.statutory_holidays(year)
            }
            free = (await conn.execute(select(KindergartenPlaces.free_places))).scalar_one()
        assert {o["deadline"] for o in offers} == {
            working_days_after(today(), 15, holidays).isoformat()
        }
        assert free == 0

    async def test_fifty_concurrent_offer_calls_for_ten_places_make_exactly_ten_offers(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given 30 waiting children at two kindergartens they both name, and 10 places
        queue = await arrange_queue(session)
        t0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
        for i in range(30):
            child = await add_child(session, queue, born=born_for_group(queue.season, 3))
            await make_kindergarten_application(
                session,
                child=child,
                guardian=queue.mother,
                kindergartens=queue.kindergartens[:2],
                season=queue.season,
                registered_at=t0 + timedelta(minutes=i),
            )
        for kg in queue.kindergartens[:2]:
            await make_kindergarten_places(
                session, kindergarten=kg, season=queue.season, free_places=5
            )
        await session.commit()
        tokens = [officer_token(hub, kg) for kg in queue.kindergartens[:2]]
        # when 50 offer calls (one place each) arrive at once from both kindergartens' officers
        bodies = await asyncio.gather(
            *(
                hub.gql(
                    OFFER,
                    {"input": {"kindergartenId": queue.kg(i % 2), "count": 1}},
                    token=tokens[i % 2],
                )
                for i in range(50)
            )
        )
        # then exactly 10 offers exist, no child has two, and no place is oversold
        made = sum(len(b["data"]["offerPlaces"]["offers"]) for b in bodies)
        refused = {c for b in bodies for c in errors_of(b, "offerPlaces")}
        async with engine.connect() as conn:
            offers = (await conn.execute(select(KindergartenOffer.application_id))).scalars().all()
            free = (
                await conn.execute(select(func.sum(KindergartenPlaces.free_places)))
            ).scalar_one()
        assert made == len(offers) == 10
        assert len(set(offers)) == 10
        assert free == 0
        assert refused <= {"NO_FREE_PLACES"}

    async def test_offer_to_a_child_not_in_the_queue_or_out_of_turn_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given two waiting children here, one waiting elsewhere, and a free place
        queue = await arrange_queue(session)
        first, second = await waiting_children(session, queue, 2)
        (elsewhere,) = await waiting_children(session, queue, 1, kg=1)
        await make_kindergarten_places(
            session, kindergarten=queue.kindergartens[0], season=queue.season, free_places=1
        )
        await session.commit()
        before = await count_rows(engine)
        # when the officer names a child of another queue, or the second in line
        not_here = await offer(
            hub, queue, applicationId=gid("KindergartenApplication", elsewhere.id)
        )
        skipping = await offer(hub, queue, applicationId=gid("KindergartenApplication", second.id))
        # then both are refused and nothing is written; the first in line may be named
        assert errors_of(not_here, "offerPlaces") == ["NOT_IN_QUEUE"]
        assert errors_of(skipping, "offerPlaces") == ["OUT_OF_TURN"]
        assert await count_rows(engine) == before
        ok = await offer(hub, queue, applicationId=gid("KindergartenApplication", first.id))
        assert errors_of(ok, "offerPlaces") == []

    async def test_wrong_role_and_no_places_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await arrange_queue(session)
        await waiting_children(session, queue, 1)
        await session.commit()
        no_places = await offer(hub, queue)
        other_officer = await offer(hub, queue, token=officer_token(hub, queue.kindergartens[1]))
        guardian = await offer(hub, queue, token=guardian_token(hub, queue.mother))
        assert errors_of(no_places, "offerPlaces") == ["NO_FREE_PLACES"]
        assert errors_of(other_officer, "offerPlaces") == ["FORBIDDEN"]
        assert errors_of(guardian, "offerPlaces") == ["FORBIDDEN"]


async def offered(
    session: AsyncSession, hub: Hub, *, n: int = 1
) -> tuple[Queue, list[KindergartenApplication], list[str]]:
    queue = await arrange_queue(session)
    apps = await waiting_children(session, queue, n)
    await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season, free_places=n
    )
    await session.commit()
    body = await offer(hub, queue)
    return queue, apps, [o["id"] for o in body["data"]["offerPlaces"]["offers"]]


class TestDecisions:
    async def test_a_transferring_child_admitted_elsewhere_leaves_the_held_place_that_day(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child admitted to the first kindergarten, whose family moves to the second
        queue, apps, (offer_id,) = await offered(session, hub)
        guardian = guardian_token(hub, queue.mother)
        await hub.gql(ACCEPT, {"input": {"offerId": offer_id}}, token=guardian)
        first = await hub.gql(
            CONFIRM,
            {"input": {"offerId": offer_id}},
            token=officer_token(hub, queue.kindergartens[0]),
        )
        assert errors_of(first, "confirmAdmission") == []
        variables = {
            "applicationId": gid("KindergartenApplication", apps[0].id),
            "kindergartenIds": [queue.kg(1)],
        }
        moved = await hub.gql(TRANSFER, {"input": variables}, token=guardian)
        assert errors_of(moved, "transferKindergartenApplication") == []
        await make_kindergarten_places(
            session, kindergarten=queue.kindergartens[1], season=queue.season, free_places=1
        )
        await session.commit()
        second_officer = officer_token(hub, queue.kindergartens[1])
        offered_again = await offer(hub, queue, token=second_officer, kindergartenId=queue.kg(1))
        (second_offer,) = [o["id"] for o in offered_again["data"]["offerPlaces"]["offers"]]
        await hub.gql(ACCEPT, {"input": {"offerId": second_offer}}, token=guardian)
        # when the second kindergarten admits the child
        second = await hub.gql(CONFIRM, {"input": {"offerId": second_offer}}, token=second_officer)
        # then the child attends it, and the first place ended that day, linked as the previous
        assert errors_of(second, "confirmAdmission") == []
        app = second["data"]["confirmAdmission"]["offer"]["application"]
        assert (app["status"], app["enrollment"]["institution"]["id"]) == ("ADMITTED", queue.kg(1))
        async with engine.connect() as conn:
            places = (
                await conn.execute(
                    select(
                        Enrollment.id,
                        Enrollment.institution_id,
                        Enrollment.exit_date,
                        Enrollment.exit_reason,
                        Enrollment.previous_enrollment_id,
                    )
                    .where(Enrollment.person_id == apps[0].child_id)
                    .order_by(Enrollment.id)
                )
            ).all()
        (old, new) = places
        assert (old.institution_id, old.exit_date, old.exit_reason) == (
            queue.kindergartens[0].id,
            today(),
            ExitReason.TRANSFERRED,
        )
        assert (new.institution_id, new.exit_date, new.previous_enrollment_id) == (
            queue.kindergartens[1].id,
            None,
            old.id,
        )

    async def test_accepted_offer_confirmed_by_the_kindergarten_becomes_an_enrollment(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given an open offer
        queue, _apps, (offer_id,) = await offered(session, hub)
        guardian = guardian_token(hub, queue.mother)
        officer = officer_token(hub, queue.kindergartens[0])
        # when the family accepts it and the kindergarten confirms after checking documents
        too_early = await hub.gql(CONFIRM, {"input": {"offerId": offer_id}}, token=officer)
        accepted = await hub.gql(ACCEPT, {"input": {"offerId": offer_id}}, token=guardian)
        confirmed = await hub.gql(CONFIRM, {"input": {"offerId": offer_id}}, token=officer)
        # then the child is enrolled at the kindergarten, and the history shows each step
        assert errors_of(too_early, "confirmAdmission") == ["OFFER_NOT_ACCEPTED"]
        assert errors_of(accepted, "acceptOffer") == []
        assert errors_of(confirmed, "confirmAdmission") == []
        app = confirmed["data"]["confirmAdmission"]["offer"]["application"]
        assert app["status"] == "ADMITTED"
        assert app["enrollment"]["sector"] == "PRESCHOOL"
        assert app["enrollment"]["institution"]["id"] == queue.kg()
        assert [h["status"] for h in app["statusHistory"]] == ["OFFERED", "ACCEPTED", "ADMITTED"]

    async def test_accept_after_the_deadline_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        queue, _apps, (offer_id,) = await offered(session, hub)
        async with engine.begin() as conn:
            await conn.execute(
                update(KindergartenOffer).values(deadline=today() - timedelta(days=1))
            )
        body = await hub.gql(
            ACCEPT, {"input": {"offerId": offer_id}}, token=guardian_token(hub, queue.mother)
        )
        assert errors_of(body, "acceptOffer") == ["OFFER_EXPIRED"]

    async def test_declined_offer_returns_to_the_queue_keeping_the_registration_time(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        queue, apps, (offer_id,) = await offered(session, hub)
        body = await hub.gql(
            DECLINE, {"input": {"offerId": offer_id}}, token=guardian_token(hub, queue.mother)
        )
        declined = body["data"]["declineOffer"]["offer"]
        assert declined["status"] == "DECLINED"
        assert declined["application"]["status"] == "WAITING"
        assert (
            datetime.fromisoformat(declined["application"]["registeredAt"]) == apps[0].registered_at
        )
        async with engine.connect() as conn:
            assert (await conn.execute(select(KindergartenPlaces.free_places))).scalar_one() == 1

    async def test_declined_offer_under_the_remove_rule_takes_the_child_out_once(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, ministry: str
    ) -> None:
        # given the ministry's rule "removed after a decline" and an open offer
        queue, _apps, (offer_id,) = await offered(session, hub)
        policy = await hub.gql(
            POLICY,
            {"input": {"seasonId": gid("IntakeSeason", queue.season.id), "declineRule": "REMOVE"}},
            token=ministry,
        )
        assert errors_of(policy, "updateIntakePolicy") == []
        guardian = guardian_token(hub, queue.mother)
        # when the family declines it, then declines it again
        body = await hub.gql(DECLINE, {"input": {"offerId": offer_id}}, token=guardian)
        again = await hub.gql(DECLINE, {"input": {"offerId": offer_id}}, token=guardian)
        # then the child is out of the queue and the place is free, once
        declined = body["data"]["declineOffer"]["offer"]
        assert (declined["status"], declined["application"]["status"]) == ("DECLINED", "REMOVED")
        assert errors_of(again, "declineOffer") == ["OFFER_NOT_OPEN"]
        async with engine.connect() as conn:
            assert (await conn.execute(select(KindergartenPlaces.free_places))).scalar_one() == 1

    async def test_expiry_job_applies_the_seasons_remove_rule(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, ministry: str
    ) -> None:
        # given the ministry's rule "removed after a decline", and two offers past their deadline
        queue, _apps, _offer_ids = await offered(session, hub, n=2)
        policy = await hub.gql(
            POLICY,
            {"input": {"seasonId": gid("IntakeSeason", queue.season.id), "declineRule": "REMOVE"}},
            token=ministry,
        )
        assert errors_of(policy, "updateIntakePolicy") == []
        async with engine.begin() as conn:
            await conn.execute(
                update(KindergartenOffer).values(deadline=today() - timedelta(days=1))
            )
        # when a guardian tries the job, then the ministry runs it, then `bilim jobs run` runs
        forbidden = await hub.gql(EXPIRE, token=guardian_token(hub, queue.mother))
        ran = await hub.gql(EXPIRE, token=ministry)
        again = await jobs.run_all(hub.settings.database_url or "")
        # then both offers expired once, their places are free again and both children are out
        assert errors_of(forbidden, "processExpiredOffers") == ["FORBIDDEN"]
        assert ran["data"]["processExpiredOffers"]["expired"] == 2
        assert again["expired_offers"] == 0
        async with engine.connect() as conn:
            statuses = (await conn.execute(select(KindergartenApplication.status))).scalars().all()
            free = (await conn.execute(select(KindergartenPlaces.free_places))).scalar_one()
        assert sorted(statuses) == ["removed", "removed"]
        assert free == 2

    async def test_only_the_ministry_changes_policy_and_bad_values_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        queue = await arrange_queue(session)
        await session.commit()
        season = gid("IntakeSeason", queue.season.id)
        officer = await hub.gql(
            POLICY,
            {"input": {"seasonId": season, "offerDeadlineWorkingDays": 5}},
            token=officer_token(hub, queue.kindergartens[0]),
        )
        bad = await hub.gql(
            POLICY,
            {"input": {"seasonId": season, "weekendDays": [0, 9]}},
            token=hub.token(Role.MINISTRY),
        )
        ok = await hub.gql(
            POLICY,
            {"input": {"seasonId": season, "offerDeadlineWorkingDays": 5}},
            token=hub.token(Role.MINISTRY),
        )
        assert errors_of(officer, "updateIntakePolicy") == ["FORBIDDEN"]
        assert errors_of(bad, "updateIntakePolicy") == ["INVALID_POLICY"]
        assert ok["data"]["updateIntakePolicy"]["season"]["offerDeadlineWorkingDays"] == 5


class TestTransferAndWithdrawal:
    async def test_transfer_keeps_the_original_registration_time_and_frees_the_offer(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        queue, apps, (_offer_id,) = await offered(session, hub)
        body = await hub.gql(
            TRANSFER,
            {
                "input": {
                    "applicationId": gid("KindergartenApplication", apps[0].id),
                    "kindergartenIds": [queue.kg(2)],
                }
            },
            token=guardian_token(hub, queue.mother),
        )
        moved = body["data"]["transferKindergartenApplication"]["application"]
        assert moved["status"] == "WAITING"
        assert [p["kindergarten"]["id"] for p in moved["preferences"]] == [queue.kg(2)]
        assert datetime.fromisoformat(moved["registeredAt"]) == apps[0].registered_at
        async with engine.connect() as conn:
            assert (await conn.execute(select(KindergartenPlaces.free_places))).scalar_one() == 1

    async def test_transfer_names_kindergartens_again_in_a_new_order_but_not_the_attended_one(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child admitted to the first kindergarten
        queue, apps, (offer_id,) = await offered(session, hub)
        guardian = guardian_token(hub, queue.mother)
        await hub.gql(ACCEPT, {"input": {"offerId": offer_id}}, token=guardian)
        await hub.gql(
            CONFIRM,
            {"input": {"offerId": offer_id}},
            token=officer_token(hub, queue.kindergartens[0]),
        )
        application = gid("KindergartenApplication", apps[0].id)

        async def transfer(*kindergartens: int) -> dict[str, Any]:
            ids = [queue.kg(k) for k in kindergartens]
            variables = {"input": {"applicationId": application, "kindergartenIds": ids}}
            return await hub.gql(TRANSFER, variables, token=guardian)

        # when the family names the kindergarten the child attends
        attended = await transfer(0)
        # then it is refused
        assert errors_of(attended, "transferKindergartenApplication") == ["INVALID_INPUT"]
        # when it moves to two others, then names the same two in the other order
        moved = await transfer(1, 2)
        again = await transfer(2, 1)
        # then the child waits for each in the family's last order, with those two rows only
        assert errors_of(moved, "transferKindergartenApplication") == []
        assert errors_of(again, "transferKindergartenApplication") == []
        first = moved["data"]["transferKindergartenApplication"]["application"]
        last = again["data"]["transferKindergartenApplication"]["application"]
        assert (first["status"], last["status"]) == ("WAITING", "WAITING")
        assert [p["kindergarten"]["id"] for p in last["preferences"]] == [queue.kg(2), queue.kg(1)]
        async with engine.connect() as conn:
            kept = (
                await conn.execute(
                    select(KindergartenPreference.kindergarten_id, KindergartenPreference.rank)
                    .where(KindergartenPreference.application_id == apps[0].id)
                    .order_by(KindergartenPreference.rank)
                )
            ).all()
        assert [tuple(row) for row in kept] == [
            (queue.kindergartens[2].id, 1),
            (queue.kindergartens[1].id, 2),
        ]

    async def test_withdrawal_frees_the_place_for_the_next_child(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a child admitted to the only place and another child waiting behind
        queue, apps, (offer_id,) = await offered(session, hub)
        (_next,) = await waiting_children(session, queue, 1)
        await session.commit()
        guardian = guardian_token(hub, queue.mother)
        officer = officer_token(hub, queue.kindergartens[0])
        await hub.gql(ACCEPT, {"input": {"offerId": offer_id}}, token=guardian)
        await hub.gql(CONFIRM, {"input": {"offerId": offer_id}}, token=officer)
        # when the family withdraws the admitted child
        body = await hub.gql(
            WITHDRAW,
            {"input": {"applicationId": gid("KindergartenApplication", apps[0].id)}},
            token=guardian,
        )
        again = await hub.gql(
            WITHDRAW,
            {"input": {"applicationId": gid("KindergartenApplication", apps[0].id)}},
            token=guardian,
        )
        # then the enrollment ends, and the next offer goes to the child waiting behind
        assert (
            body["data"]["withdrawKindergartenApplication"]["application"]["status"] == "WITHDRAWN"
        )
        assert errors_of(again, "withdrawKindergartenApplication") == ["APPLICATION_CLOSED"]
        async with engine.connect() as conn:
            ended = (
                await conn.execute(
                    select(Enrollment.exit_date).where(Enrollment.sector == Sector.PRESCHOOL)
                )
            ).scalar_one()
        assert ended == today()
        next_offer = await offer(hub, queue)
        assert [o["application"]["id"] for o in next_offer["data"]["offerPlaces"]["offers"]] == [
            gid("KindergartenApplication", _next.id)
        ]

    async def test_another_guardian_cannot_withdraw_or_decline(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        _queue, apps, (offer_id,) = await offered(session, hub)
        stranger = await make_person(session, birth_date=date(1980, 1, 1))
        await session.commit()
        token = guardian_token(hub, stranger)
        withdraw = await hub.gql(
            WITHDRAW,
            {"input": {"applicationId": gid("KindergartenApplication", apps[0].id)}},
            token=token,
        )
        decline = await hub.gql(DECLINE, {"input": {"offerId": offer_id}}, token=token)
        # then another family's application and offer are not there for them (issue 22.7)
        assert errors_of(withdraw, "withdrawKindergartenApplication") == ["NOT_FOUND"]
        assert errors_of(decline, "declineOffer") == ["NOT_FOUND"]

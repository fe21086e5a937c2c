"""The queue knows the school-entry rule (issue 14.6; domain.md F4, K3): a child who starts
school by the day a kindergarten place would begin is offered no place, keeps their queue
time, and their guardian reads why (``offerHold``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import IntakeKind, IntakeSeason, KindergartenApplication
from tests.conftest import Hub
from tests.factories import (
    gid,
    make_intake_season,
    make_kindergarten_application,
    make_kindergarten_places,
)
from tests.preschool.helpers import Queue, add_child, errors_of, guardian_token, officer_token

OFFER = """
mutation Offer($input: OfferPlacesInput!) {
  offerPlaces(input: $input) {
    offers { application { id } }
    userErrors { field code }
  }
}
"""
MINE = """
query Mine {
  kindergartenApplications(first: 10) {
    nodes { id ageGroup startsSchoolOn offerHold }
  }
}
"""
T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


async def queue_for_next_september(session: AsyncSession) -> Queue:
    """A kindergarten intake whose places begin on 1 September 2027 (offered today, in
    advance), a kindergarten with a free place in the 6-7 and the 5-6 groups, and a family."""
    from tests.preschool.helpers import arrange_queue

    queue = await arrange_queue(session, kindergartens=1)
    queue.season = await make_intake_season(session, kind=IntakeKind.KINDERGARTEN, year=2027)
    for group in ("6-7", "5-6"):
        await make_kindergarten_places(
            session, kindergarten=queue.kindergartens[0], season=queue.season, age_group=group
        )
    return queue


async def wait_in(
    session: AsyncSession, queue: Queue, born: date, minutes: int, group: str = "6-7"
) -> KindergartenApplication:
    child = await add_child(session, queue, born=born)
    return await make_kindergarten_application(
        session,
        child=child,
        guardian=queue.mother,
        kindergartens=queue.kindergartens,
        season=queue.season,
        age_group=group,
        registered_at=T0 + timedelta(minutes=minutes),
    )


class TestSchoolEntryInTheQueue:
    async def test_f4_child_due_at_school_on_1_september_is_not_offered_that_days_place(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a child waiting in the 6-7 group of 1 September 2027, born in 2021 (Y-6: grade
        # 1 on 1 September 2027); every child of that group is born in 2020 or 2021
        queue = await queue_for_next_september(session)
        due = await wait_in(session, queue, date(2021, 3, 1), 0)
        await session.commit()

        # when the officer offers the 6-7 place
        body = await hub.gql(
            OFFER,
            {"input": {"kindergartenId": queue.kg()}},
            token=officer_token(hub, queue.kindergartens[0]),
        )

        # then nobody is offered it: the child would leave for school the day it begins
        assert errors_of(body, "offerPlaces") == ["NOT_IN_QUEUE"]
        mine = await hub.data(MINE, token=guardian_token(hub, queue.mother))
        [application] = mine["kindergartenApplications"]["nodes"]
        assert application == {
            "id": gid("KindergartenApplication", due.id),
            "ageGroup": "6-7",
            "startsSchoolOn": "2027-09-01",
            "offerHold": "STARTS_SCHOOL",
        }

    async def test_f4_a_named_offer_to_a_child_due_at_school_says_why(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given
        queue = await queue_for_next_september(session)
        due = await wait_in(session, queue, date(2021, 3, 1), 0)
        await session.commit()

        # when the officer names the child
        body = await hub.gql(
            OFFER,
            {
                "input": {
                    "kindergartenId": queue.kg(),
                    "applicationId": gid("KindergartenApplication", due.id),
                }
            },
            token=officer_token(hub, queue.kindergartens[0]),
        )

        # then
        assert errors_of(body, "offerPlaces") == ["STARTS_SCHOOL_FIRST"]

    async def test_f4_the_seasons_entry_age_decides_who_is_due_at_school(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given the same child, and a season whose policy sends children to school a year
        # later (the 11-year model's entry at seven)
        queue = await queue_for_next_september(session)
        due = await wait_in(session, queue, date(2021, 3, 1), 0)
        await session.execute(
            update(IntakeSeason)
            .where(IntakeSeason.id == queue.season.id)
            .values(grade1_birth_year_offset=7, grade2_birth_year_offset=8)
        )
        await session.commit()

        # when
        body = await hub.gql(
            OFFER,
            {"input": {"kindergartenId": queue.kg()}},
            token=officer_token(hub, queue.kindergartens[0]),
        )

        # then the child starts school in 2028 and is offered the place
        offers = body["data"]["offerPlaces"]["offers"]
        assert [o["application"]["id"] for o in offers] == [gid("KindergartenApplication", due.id)]

    async def test_f4_a_child_due_at_school_is_passed_over_for_the_next_in_the_queue(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given two children of the 5-6 group of 1 September 2027 (born September 2021 to
        # August 2022): the earlier registrant born in October 2021 (grade 1 in 2027), the
        # later one born in March 2022 (grade 1 in 2028); and one in the 6-7 group
        queue = await queue_for_next_september(session)
        await wait_in(session, queue, date(2021, 3, 1), 0)
        await wait_in(session, queue, date(2021, 10, 1), 1, "5-6")
        later = await wait_in(session, queue, date(2022, 3, 1), 5, "5-6")
        await session.commit()

        # when
        body = await hub.gql(
            OFFER,
            {"input": {"kindergartenId": queue.kg()}},
            token=officer_token(hub, queue.kindergartens[0]),
        )

        # then the 5-6 place goes to the younger child, and none is offered in 6-7
        offers = body["data"]["offerPlaces"]["offers"]
        assert [o["application"]["id"] for o in offers] == [
            gid("KindergartenApplication", later.id)
        ]

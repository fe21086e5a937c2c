"""GraphQL subscriptions over graphql-transport-ws (issue 18): the caller authenticated from
connection_init as on HTTP, the same row rules (a guardian only their children's
applications), the socket closed when the token expires, and the limits."""

from __future__ import annotations

import time
from datetime import date

import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import Role
from tests.events.conftest import LiveHub, serve
from tests.events.ws import connected
from tests.factories import (
    gid,
    make_kindergarten_application,
    make_kindergarten_places,
    make_person,
)
from tests.preschool.helpers import Queue, add_child, arrange_queue, born_for_group

STATUS = """
subscription Status($id: ID) {
  applicationStatusChanged(applicationId: $id) {
    eventType status
    application { ... on KindergartenApplication { id status } }
  }
}
"""
QUEUE = """
subscription Queue($id: ID!) {
  queuePositionChanged(applicationId: $id) { eventType positions { kindergartenId position ahead } }
}
"""
OFFER = """
mutation Offer($input: OfferPlacesInput!) {
  offerPlaces(input: $input) { offers { id } userErrors { code message } }
}
"""
WITHDRAW = """
mutation Withdraw($input: WithdrawKindergartenApplicationInput!) {
  withdrawKindergartenApplication(input: $input) { application { status } userErrors { code } }
}
"""


async def two_families(session: AsyncSession) -> tuple[Queue, list[int], object]:
    """Two children of group 3-4 waiting at one kindergarten, of two mothers, and a free
    place for each."""
    queue = await arrange_queue(session, kindergartens=1)
    other_mother = await make_person(session, birth_date=date(1988, 5, 6), first_name="Айгуль")
    apps = []
    for mother in (queue.mother, other_mother):
        child = await add_child(
            session, queue, born=born_for_group(queue.season, 3), guardian=mother
        )
        app = await make_kindergarten_application(
            session,
            child=child,
            guardian=mother,
            kindergartens=[queue.kindergartens[0]],
            season=queue.season,
        )
        apps.append(app.id)
    await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season, free_places=2
    )
    await session.commit()
    return queue, apps, other_mother


def officer(hub: LiveHub, queue: Queue) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{queue.kindergartens[0].id}"])


class TestApplicationStatusChanged:
    async def test_guardian_is_told_when_their_child_is_offered_a_place(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a guardian following their child's application
        queue, apps, _ = await two_families(session)
        mine = gid("KindergartenApplication", apps[0])
        socket = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=queue.mother.id)
        )
        await socket.subscribe("1", STATUS, {"id": mine})
        # when the kindergarten offers its places
        body = await live_hub.data(
            OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(live_hub, queue)
        )
        assert len(body["offerPlaces"]["offers"]) == 2
        # then the guardian gets their child's new status, and only theirs
        message = await socket.next()
        assert message["type"] == "next", message
        change = message["payload"]["data"]["applicationStatusChanged"]
        assert change["eventType"] == "preschool.place_offered"
        assert change["status"] == "offered"
        assert change["application"] == {"id": mine, "status": "OFFERED"}
        await socket.close()

    async def test_guardian_following_every_application_sees_only_their_childrens(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a guardian following all they may read, and another family in the queue
        queue, apps, _ = await two_families(session)
        socket = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=queue.mother.id)
        )
        await socket.subscribe("all", STATUS)
        # when both children are offered places, and then the other child's is withdrawn
        await live_hub.data(
            OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(live_hub, queue)
        )
        first = await socket.next()
        # then only their own child's change arrives
        seen = first["payload"]["data"]["applicationStatusChanged"]["application"]["id"]
        assert seen == gid("KindergartenApplication", apps[0])
        with pytest.raises(TimeoutError):
            await socket.next(within=2.0)
        await socket.close()

    async def test_guardian_cannot_follow_another_familys_application(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        queue, apps, _ = await two_families(session)
        socket = await connected(
            live_hub.ws_url, live_hub.token(Role.GUARDIAN, person_id=queue.mother.id)
        )
        # when they name the other family's application
        await socket.subscribe("1", STATUS, {"id": gid("KindergartenApplication", apps[1])})
        message = await socket.next()
        # then the operation ends with an error, telling nothing of it
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
        await socket.close()


class TestConnections:
    async def test_a_connection_without_credentials_is_refused(self, live_hub: LiveHub) -> None:
        from tests.events.ws import Socket

        socket = await Socket.open(live_hub.ws_url, {})
        closed = await socket.closed()
        assert closed.code == 4403

    async def test_a_bad_token_is_refused_as_on_http(self, live_hub: LiveHub) -> None:
        from tests.events.ws import Socket

        socket = await Socket.open(live_hub.ws_url, {"Authorization": "Bearer not-a-token"})
        assert (await socket.closed()).code == 4403

    async def test_the_socket_closes_when_the_token_expires(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given a token that expires in two seconds
        person = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        now = int(time.time())
        ring, s = live_hub.keyring, live_hub.settings
        token = jwt.encode(
            {
                "iss": s.jwt_issuer,
                "aud": s.jwt_audience,
                "iat": now,
                "nbf": now,
                "exp": now + 2,
                "sub": f"person:{person.id}",
                "role": "guardian",
                "pid": person.id,
                "scope": [],
            },
            ring.keys[ring.active],
            algorithm="HS256",
            headers={"kid": ring.active},
        )
        socket = await connected(live_hub.ws_url, token)
        # when it expires, then the hub closes the socket (4401)
        closed = await socket.closed(within=10)
        assert closed.code == 4401

    async def test_connections_per_caller_are_limited(
        self, events_settings: object, session: AsyncSession
    ) -> None:
        from tests.events.ws import Socket

        person = await make_person(session, birth_date=date(1985, 1, 1))
        await session.commit()
        settings = events_settings.model_copy(update={"ws_connections_per_principal": 2})  # type: ignore[attr-defined]
        async with serve(settings) as hub:
            token = hub.token(Role.GUARDIAN, person_id=person.id)
            kept = [await connected(hub.ws_url, token) for _ in range(2)]
            third = await Socket.open(hub.ws_url, {"Authorization": f"Bearer {token}"})
            assert (await third.closed()).code == 4403
            # a closed connection frees its place
            await kept[0].close()
            await connected(hub.ws_url, token)


class TestQueuePositionChanged:
    async def test_a_waiting_child_moves_up_when_the_child_ahead_leaves(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        # given two children waiting, the other family's first
        queue, apps, other_mother = await two_families(session)
        second = await make_person(session, birth_date=date(1991, 1, 1))
        await session.commit()
        mine = apps[1]
        socket = await connected(
            live_hub.ws_url,
            live_hub.token(Role.GUARDIAN, person_id=other_mother.id),  # type: ignore[attr-defined]
        )
        await socket.subscribe("q", QUEUE, {"id": gid("KindergartenApplication", mine)})
        await _settle()
        # when the child ahead is withdrawn by its guardian
        body = await live_hub.data(
            WITHDRAW,
            {"input": {"applicationId": gid("KindergartenApplication", apps[0])}},
            token=live_hub.token(Role.GUARDIAN, person_id=queue.mother.id),
        )
        assert body["withdrawKindergartenApplication"]["userErrors"] == []
        # then the subscriber's position becomes 1
        message = await socket.next()
        change = message["payload"]["data"]["queuePositionChanged"]
        assert change["eventType"] == "preschool.application_withdrawn"
        assert [p["position"] for p in change["positions"]] == [1]
        assert second.id  # an unrelated person changes nothing
        await socket.close()


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(0.5)

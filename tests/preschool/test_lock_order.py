"""Withdrawals racing an acceptance or a confirmation of the same offer never deadlock (issue
12, finding 3): every transition on one child locks the child, then the application, then the
offer (resolvers/locks.py). Each test stops one transaction between two of its locks, sends the
other workflow through the hub, then lets the first go on: in the old order (withdrawal:
application then offer; acceptance: offer then application) the two waited for each other."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import OfferStatus, QueueStatus, database
from resolvers import preschool as preschool_service
from resolvers.access import Principal, Role
from resolvers.preschool import exits, rows
from tests.conftest import Hub
from tests.factories import gid
from tests.first_grade.test_withdrawal import blocked_on_a_lock
from tests.preschool.helpers import errors_of
from tests.preschool.test_leaving_for_school import (
    Seat,
    Town,
    a_seat,
    admin_of,
    arrange_town,
    guardian,
    kindergarten_side,
)
from tests.preschool.test_offers import ACCEPT, CONFIRM, WITHDRAW

# How long a paused transaction may take to reach its pause (it holds its first locks then).
REACH_SECONDS = 10


class Pause:
    """Stop the first call of a workflow step until released, holding the locks taken before
    it; later calls (the other racer's) pass straight through."""

    def __init__(self, step: Callable[..., Awaitable[Any]]) -> None:
        self.step = step
        self.reached = asyncio.Event()
        self.release = asyncio.Event()
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.reached.set()
            await self.release.wait()
        return await self.step(*args, **kwargs)


def mother(town: Town) -> Principal:
    return Principal(subject="guardian:race", role=Role.GUARDIAN, person_id=town.s.mother.id)


def officer(town: Town) -> Principal:
    return Principal(
        subject="kindergarten:race",
        role=Role.SCHOOL_ADMIN,
        institution_ids=frozenset({town.kindergarten.id}),
    )


def withdraw_input(seat: Seat) -> dict[str, Any]:
    return {"input": {"applicationId": gid("KindergartenApplication", seat.application.id)}}


def offer_input(seat: Seat) -> dict[str, Any]:
    return {"input": {"offerId": gid("KindergartenOffer", seat.offer.id)}}


async def race(
    engine: AsyncEngine,
    pause: Pause,
    first: Callable[[AsyncSession], Coroutine[Any, Any, Any]],
    second: Coroutine[Any, Any, dict[str, Any]],
) -> dict[str, Any]:
    """Run ``first`` in a transaction of its own until ``pause``; send ``second`` through the
    hub and wait until it waits for a lock; release ``first``, commit it; ``second``'s answer."""
    async with database.session_factory(engine)() as session:
        running: asyncio.Task[Any] = asyncio.create_task(first(session))
        await asyncio.wait_for(pause.reached.wait(), REACH_SECONDS)
        other = asyncio.create_task(second)
        await blocked_on_a_lock(engine, other)
        pause.release.set()
        await running
        await session.commit()
    return await other


async def withdrawn_with_both_seats_free(engine: AsyncEngine, seat: Seat) -> None:
    after = await kindergarten_side(engine, seat)
    assert (after["application"], after["offer"], after["free"]) == (
        QueueStatus.WITHDRAWN,
        OfferStatus.CANCELLED,
        2,
    ), after


class TestWithdrawalRacingAcceptance:
    async def test_withdrawal_between_its_locks_then_acceptance_waits_and_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an open offer, and its withdrawal stopped after locking the application and
        # before cancelling the offer
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await session.commit()
        pause = Pause(exits.cancel_live_offer)
        monkeypatch.setattr(exits, "cancel_live_offer", pause)

        # when the mother accepts the offer meanwhile, and the withdrawal then goes on
        body = await race(
            engine,
            pause,
            lambda s: preschool_service.withdraw_application(
                s, mother(town), application_id=seat.application.id, reason=None
            ),
            hub.gql(ACCEPT, offer_input(seat), token=guardian(hub, town)),
        )

        # then no deadlock: the acceptance waited, found the offer gone and was refused
        assert errors_of(body, "acceptOffer") == ["OFFER_NOT_OPEN"]
        await withdrawn_with_both_seats_free(engine, seat)

    async def test_acceptance_between_its_locks_then_withdrawal_waits_and_withdraws(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an open offer, and its acceptance stopped after locking the application and
        # before locking the offer
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.OPEN)
        await session.commit()
        pause = Pause(rows.offer_for_update)
        monkeypatch.setattr(rows, "offer_for_update", pause)

        # when the mother withdraws the application meanwhile, and the acceptance goes on
        body = await race(
            engine,
            pause,
            lambda s: preschool_service.accept_offer(s, mother(town), offer_id=seat.offer.id),
            hub.gql(WITHDRAW, withdraw_input(seat), token=guardian(hub, town)),
        )

        # then no deadlock: the withdrawal waited, then withdrew the accepted application and
        # gave its seat back
        assert errors_of(body, "withdrawKindergartenApplication") == []
        await withdrawn_with_both_seats_free(engine, seat)


class TestWithdrawalRacingConfirmation:
    async def test_withdrawal_between_its_locks_then_confirmation_waits_and_is_refused(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an accepted offer, and its withdrawal stopped between its locks
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await session.commit()
        pause = Pause(exits.cancel_live_offer)
        monkeypatch.setattr(exits, "cancel_live_offer", pause)

        # when the kindergarten confirms the admission meanwhile
        body = await race(
            engine,
            pause,
            lambda s: preschool_service.withdraw_application(
                s, mother(town), application_id=seat.application.id, reason=None
            ),
            hub.gql(CONFIRM, offer_input(seat), token=admin_of(hub, town.kindergarten)),
        )

        # then no deadlock: the confirmation waited and was refused, no place was opened
        assert errors_of(body, "confirmAdmission") == ["OFFER_NOT_ACCEPTED"]
        await withdrawn_with_both_seats_free(engine, seat)
        assert (await kindergarten_side(engine, seat))["enrollments"] == []

    async def test_confirmation_between_its_locks_then_withdrawal_waits_and_ends_the_place(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # given an accepted offer, and its confirmation stopped between its locks
        town = await arrange_town(session)
        seat = await a_seat(session, town, OfferStatus.ACCEPTED)
        await session.commit()
        pause = Pause(rows.offer_for_update)
        monkeypatch.setattr(rows, "offer_for_update", pause)

        # when the mother withdraws the application meanwhile
        body = await race(
            engine,
            pause,
            lambda s: preschool_service.confirm_admission(
                s, officer(town), offer_id=seat.offer.id, entry_date=None
            ),
            hub.gql(WITHDRAW, withdraw_input(seat), token=guardian(hub, town)),
        )

        # then no deadlock: the withdrawal waited for the admission, then ended the new place
        # that same day and gave the seat back
        assert errors_of(body, "withdrawKindergartenApplication") == []
        after = await kindergarten_side(engine, seat)
        assert (after["application"], after["offer"], after["free"]) == (
            QueueStatus.WITHDRAWN,
            OfferStatus.ADMITTED,
            2,
        ), after
        ((_sector, entry, exit_date, _reason),) = after["enrollments"]
        assert exit_date == entry

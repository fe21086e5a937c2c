"""Notices to families (issue 18; domain.md K5): the guardian is told when a place is offered,
two working days before its deadline, when it expires and when the status changes, in their
language, through e-mail (SMTP), SMS (an HTTP gateway) or the local .eml folder; attempts and
failures are recorded and visible to the officer."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import KindergartenApplication, Notice
from resolvers import preschool as preschool_service
from resolvers.access import Principal, Role
from resolvers.clock import today
from resolvers.settings import Settings
from tests.events.conftest import LiveHub, eventually, free_port, serve
from tests.events.receivers import receiver
from tests.factories import gid, make_kindergarten_application, make_kindergarten_places
from tests.preschool.helpers import Queue, add_child, arrange_queue, born_for_group

OFFER = """
mutation Offer($input: OfferPlacesInput!) {
  offerPlaces(input: $input) { offers { id deadline } userErrors { code message } }
}
"""
PREFERENCES = """
mutation Prefs($input: SetNoticePreferencesInput!) {
  setNoticePreferences(input: $input) { noticePreferences { language email phone } userErrors { field code } }
}
"""
NOTICES = """
query Notices($id: ID!) {
  familyNotices(applicationId: $id, first: 10) {
    nodes { eventType channel language status attempts lastError title body attemptLog { ok error } }
  }
}
"""


async def waiting_child(
    session: AsyncSession, phone: str | None = "+996 555 123 456"
) -> tuple[Queue, int]:
    queue = await arrange_queue(session, kindergartens=1)
    child = await add_child(session, queue, born=born_for_group(queue.season, 3))
    app = await make_kindergarten_application(
        session,
        child=child,
        guardian=queue.mother,
        kindergartens=[queue.kindergartens[0]],
        season=queue.season,
    )
    app.contact_phone = phone
    await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season
    )
    await session.commit()
    return queue, app.id


def officer(hub: LiveHub, queue: Queue) -> str:
    return hub.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{queue.kindergartens[0].id}"])


async def notices(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(Notice).order_by(Notice.id)))


class TestOfferNotice:
    async def test_the_family_is_told_of_an_offer_in_kyrgyz_through_the_mail_folder(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a waiting child whose application left a phone, and no SMS gateway set up
        queue, app_id = await waiting_child(session)
        # when the kindergarten offers the place
        await live_hub.data(
            OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(live_hub, queue)
        )
        # then a notice is sent, in Kyrgyz by default, to the local folder as an .eml
        mail = Path(live_hub.settings.data_dir) / "mail"
        files = await eventually(lambda: _files(mail))
        message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert message["Subject"] == "Бала бакчадан орун сунушталды"
        assert message["X-Bilim-Channel"] == "sms"
        body = message.get_content()
        assert f"№{app_id}" in body
        assert "Бала бакча №1" in body
        # and the officer sees it with its attempt
        await eventually(lambda: _delivered(engine))
        body = await live_hub.data(
            NOTICES, {"id": gid("KindergartenApplication", app_id)}, token=officer(live_hub, queue)
        )
        (notice,) = body["familyNotices"]["nodes"]
        assert notice["eventType"] == "preschool.place_offered"
        assert notice["status"] == "DELIVERED"
        assert notice["language"] == "KY"
        assert notice["attemptLog"] == [{"ok": True, "error": None}]

    async def test_a_family_that_chose_russian_and_email_gets_an_email_over_smtp(
        self, events_settings: Settings, session: AsyncSession
    ) -> None:
        # given an SMTP server and a guardian who asked for Russian and e-mail
        received: list[bytes] = []
        envelopes: list[tuple[str, list[str]]] = []

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                received.append(envelope.content)
                envelopes.append((envelope.mail_from, envelope.rcpt_tos))
                return "250 OK"

        port = free_port()
        smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
        smtp.start()
        settings = events_settings.model_copy(
            update={
                "notice_email": "smtp",
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_security": "none",
            }
        )
        try:
            queue, _ = await waiting_child(session, phone=None)
            async with serve(settings) as hub:
                mother = hub.token(Role.GUARDIAN, person_id=queue.mother.id)
                prefs = await hub.data(
                    PREFERENCES,
                    {"input": {"language": "RU", "email": "mama@example.kg"}},
                    token=mother,
                )
                assert prefs["setNoticePreferences"]["userErrors"] == []
                # when the place is offered
                await hub.data(
                    OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(hub, queue)
                )
                # then an e-mail in Russian reaches the server
                await eventually(lambda: _value(received))
        finally:
            smtp.stop()
        message = message_from_bytes(received[0], policy=policy.default)
        assert message["To"] == "mama@example.kg"
        assert message["Subject"] == "Предложено место в детском саду"
        assert message["Content-Language"] == "ru"
        assert "Бала бакча №1" in message.get_content()
        # the envelope: from the hub's own address, to the family's
        assert envelopes == [("noreply@bilim.edu.kg", ["mama@example.kg"])]

    async def test_failed_sms_attempts_are_recorded_and_retried(
        self, events_settings: Settings, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an SMS gateway that fails once, then works
        async with receiver("/sms") as gateway:
            gateway.answers = [503]
            settings = events_settings.model_copy(
                update={"sms_gateway_url": gateway.url, "sms_gateway_token": "t0ken"}
            )
            queue, app_id = await waiting_child(session)
            async with serve(settings) as hub:
                await hub.data(
                    OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(hub, queue)
                )
                # when the first attempt fails
                await eventually(lambda: _attempted(engine))
                body = await hub.data(
                    NOTICES,
                    {"id": gid("KindergartenApplication", app_id)},
                    token=officer(hub, queue),
                )
                (first,) = body["familyNotices"]["nodes"]
                assert first["status"] == "PENDING"
                assert first["lastError"] == "RuntimeError: SMS gateway answered 503"
                # and its retry comes due (a minute later; here, now)
                async with engine.begin() as conn:
                    await conn.execute(update(Notice).values(next_attempt_at=text("now()")))
                # then it is sent, and the officer sees both attempts
                await eventually(lambda: _delivered(engine))
                body = await hub.data(
                    NOTICES,
                    {"id": gid("KindergartenApplication", app_id)},
                    token=officer(hub, queue),
                )
        (notice,) = body["familyNotices"]["nodes"]
        assert [a["ok"] for a in notice["attemptLog"]] == [False, True]
        request = gateway.got[-1]
        assert request.headers["authorization"] == "Bearer t0ken"
        assert b'"to":"+996 555 123 456"' in request.body.replace(b", ", b",").replace(b": ", b":")

    async def test_another_guardian_cannot_read_the_familys_notices(
        self, live_hub: LiveHub, session: AsyncSession
    ) -> None:
        queue, app_id = await waiting_child(session)
        stranger = live_hub.token(Role.GUARDIAN, person_id=queue.mother.id + 10_000)
        body = await live_hub.gql(
            NOTICES, {"id": gid("KindergartenApplication", app_id)}, token=stranger
        )
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


class TestReminder:
    async def test_the_family_is_reminded_once_two_working_days_before_the_deadline(
        self, live_hub: LiveHub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given an offer made
        queue, app_id = await waiting_child(session)
        await live_hub.data(
            OFFER, {"input": {"kindergartenId": queue.kg()}}, token=officer(live_hub, queue)
        )
        await eventually(lambda: _count(engine, 1))
        # when the reminder job runs (twice) on the day its deadline is two working days away
        async with engine.connect() as conn:
            deadline = await conn.scalar(text("SELECT deadline FROM kindergarten_offer"))
        day = deadline - timedelta(days=2)
        while day.isoweekday() > 5 or (deadline - day).days > 4:
            day += timedelta(days=1)
        system = Principal(subject="job:test", role=Role.MINISTRY)
        for _ in range(2):
            async with session.begin():
                reminded = await preschool_service.remind_expiring_offers(session, system, on=day)
            assert reminded == 1
        # then one reminder notice is written, naming the deadline
        found = await eventually(lambda: _count(engine, 2))
        reminder = found[1]
        assert reminder.event_type == "preschool.offer_expiring"
        assert deadline.strftime("%d.%m.%Y") in reminder.body
        await asyncio.sleep(1.0)
        assert len(await notices(engine)) == 2
        assert today() <= deadline
        assert app_id == reminder.subject_id


async def _files(folder: Path) -> list[Path]:
    return await asyncio.to_thread(lambda: sorted(folder.glob("*.eml")))


async def _value(found: list[Any]) -> list[Any]:
    return found


async def _attempted(engine: AsyncEngine) -> bool:
    return any(n.attempts >= 1 for n in await notices(engine))


async def _delivered(engine: AsyncEngine) -> bool:
    return any(n.status == "delivered" for n in await notices(engine))


async def _count(engine: AsyncEngine, n: int) -> list[Any]:
    found = await notices(engine)
    return found if len(found) >= n else []


__all__ = ["KindergartenApplication", "date"]

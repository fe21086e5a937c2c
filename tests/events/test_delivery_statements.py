"""What delivering an event costs in statements (issue 21: the dispatcher was half of a
mutation's CPU), and the guarantees that hold with it: a round of a worker that holds its
lease is a read and an acknowledgement; a lease lost meanwhile costs a repeat, never an
event; a batch offered again adds no notice and no webhook delivery; a claim of notices for
the mail folder is sent in one claim and one record."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import DeliveryAttempt, Notice, NoticeChannel, NoticeLanguage, WebhookDelivery, database
from models.database import StatementCounter
from resolvers.access import Principal, Role
from resolvers.access.keys import load_pepper
from resolvers.events import (
    Dispatcher,
    DispatchSettings,
    Event,
    EventsRuntime,
    NoticeRequest,
    Position,
    read_after,
)
from resolvers.events.consumers import ensure_consumers
from resolvers.events.direct import Direct
from resolvers.events.notices import MailFolder, NoticeConsumer, NoticeSender, Smtp
from resolvers.events.webhooks import WebhookFanout
from resolvers.settings import Settings
from tests.events.conftest import free_port
from tests.events.test_dispatcher import add_events
from tests.factories import make_api_key

SENDER = "Bilim Hub <noreply@bilim.edu.kg>"


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[int] = []

    async def deliver(self, events: Sequence[Event]) -> None:
        self.seen.extend(e.id for e in events)


async def counted(engine: AsyncEngine, work: Any) -> tuple[Any, list[str]]:
    """What ``work()`` returns, and the statements it sent on ``engine``."""
    counter = StatementCounter()
    counter.reset()
    counter.attach(engine)
    try:
        result = await work()
    finally:
        counter.detach(engine)
    return result, list(counter.statements or [])


async def consumer_row(engine: AsyncEngine, name: str) -> Any:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT xmin::text AS version, after_id, lease_owner, delivered "
                    "FROM event_consumer WHERE name = :name"
                ),
                {"name": name},
            )
        ).one()


class TestRounds:
    async def test_a_worker_holding_its_lease_reads_and_acknowledges_nothing_more(
        self, engine: AsyncEngine
    ) -> None:
        # given a consumer whose lease this worker took in its first round (nothing to do yet)
        recorder = Recorder("rounds")
        async with engine.begin() as conn:
            await ensure_consumers(conn, ["rounds"])
        dispatcher = Dispatcher(engine, [recorder], None, DispatchSettings(lease_seconds=30.0))
        busy, first = await counted(engine, lambda: dispatcher._round(recorder))
        assert not busy
        assert len(first) == 1  # the lease and the read, one statement
        # when three events commit and the next round runs
        ids = await add_events(engine, 3)
        busy, statements = await counted(engine, lambda: dispatcher._round(recorder))
        # then it delivered them in two statements: the read and the acknowledgement
        assert recorder.seen == ids
        assert len(statements) == 2
        assert statements[0].lstrip().startswith("SELECT")
        assert statements[1].lstrip().startswith("UPDATE event_consumer SET after_txid")
        row = await consumer_row(engine, "rounds")
        assert (row.after_id, row.lease_owner, row.delivered) == (ids[-1], dispatcher.worker, 3)
        # and a round that finds nothing is one read, writing nothing
        _, idle = await counted(engine, lambda: dispatcher._round(recorder, peek=True))
        assert len(idle) == 1
        assert (await consumer_row(engine, "rounds")).version == row.version

    async def test_once_half_the_lease_is_gone_an_idle_round_asks_before_it_takes_it(
        self, engine: AsyncEngine
    ) -> None:
        # given a worker whose lease (0.4 s) is less than half left
        recorder = Recorder("stale")
        async with engine.begin() as conn:
            await ensure_consumers(conn, ["stale"])
        dispatcher = Dispatcher(engine, [recorder], None, DispatchSettings(lease_seconds=0.4))
        await dispatcher._round(recorder)
        await asyncio.sleep(0.25)
        before = await consumer_row(engine, "stale")
        # when it looks with nothing there, then with an event there
        _, idle = await counted(engine, lambda: dispatcher._round(recorder, peek=True))
        ids = await add_events(engine, 1)
        _, busy = await counted(engine, lambda: dispatcher._round(recorder, peek=True))
        # then the first look is a read and writes nothing; the second asks, takes the lease
        # with the read, and acknowledges
        assert len(idle) == 1
        assert len(busy) == 3
        assert "FOR UPDATE SKIP LOCKED" in busy[1]
        assert recorder.seen == ids
        assert before.version != (await consumer_row(engine, "stale")).version


class TestLeaseLost:
    async def test_a_lease_taken_by_another_worker_repeats_events_and_loses_none(
        self, engine: AsyncEngine
    ) -> None:
        # given a worker that holds its consumer's lease and has delivered an event
        recorder = Recorder("taken")
        async with engine.begin() as conn:
            await ensure_consumers(conn, ["taken"])
        dispatcher = Dispatcher(engine, [recorder], None, DispatchSettings(lease_seconds=30.0))
        await dispatcher._round(recorder)
        first = await add_events(engine, 1)
        await dispatcher._round(recorder)
        # when another worker takes the lease while this one still believes it holds it
        # (the database's clock stepped forward), and two more events commit
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE event_consumer SET lease_owner = 'other', "
                    "lease_until = clock_timestamp() + interval '1 hour' WHERE name = 'taken'"
                )
            )
        more = await add_events(engine, 2)
        busy = await dispatcher._round(recorder)
        # then this worker offers them (a repeat the consumers absorb), but its acknowledgement
        # fails: the position stays where the lease holder will read from
        assert not busy
        assert recorder.seen == first + more
        row = await consumer_row(engine, "taken")
        assert (row.after_id, row.lease_owner) == (first[-1], "other")
        # and it stops: the next round finds the lease another's
        assert not await dispatcher._round(recorder)
        assert recorder.seen == first + more
        # when the other worker lets go, this one takes over from the position: the two
        # events come again, and nothing is lost
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE event_consumer SET lease_owner = NULL WHERE name = 'taken'")
            )
        await dispatcher._round(recorder)
        assert recorder.seen == first + more + more
        row = await consumer_row(engine, "taken")
        assert (row.after_id, row.lease_owner) == (more[-1], dispatcher.worker)


def request(key: str, person_id: int | None = 1) -> NoticeRequest:
    return NoticeRequest(
        dedupe_key=key,
        event_id=None,
        event_type="tests.happened",
        subject_type="KindergartenApplication",
        subject_id=1,
        person_id=person_id,
        channel=NoticeChannel.EMAIL,
        address="mama@example.kg",
        language=NoticeLanguage.KY,
        title="Бала бакчадан орун сунушталды",
        body="№1 арыз боюнча орун сунушталды.",
    )


class TestNotices:
    async def test_a_batch_offered_again_adds_no_notice_and_each_is_one_statement(
        self, engine: AsyncEngine
    ) -> None:
        # given recipients naming three notices for a batch
        async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
            return [request(f"event:{n}") for n in range(3)]

        kicks: list[int] = []
        consumer = NoticeConsumer(engine, recipients, lambda: kicks.append(1))
        # when the batch is delivered twice (a crash before its acknowledgement)
        _, first = await counted(engine, lambda: consumer.deliver([]))
        _, again = await counted(engine, lambda: consumer.deliver([]))
        # then three notices exist, each written once, by one statement a delivery
        assert len(first) == len(again) == 1
        async with engine.connect() as conn:
            keys = (await conn.execute(select(Notice.dedupe_key).order_by(Notice.id))).scalars()
            assert list(keys) == ["event:0", "event:1", "event:2"]
        assert kicks == [1, 1]

    async def test_a_claim_for_the_mail_folder_is_one_claim_and_one_record(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        # given five notices due
        async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
            return [request(f"mail:{n}") for n in range(5)]

        await NoticeConsumer(engine, recipients, lambda: None).deliver([])
        folder = tmp_path / "mail"
        sender = NoticeSender(engine, {NoticeChannel.EMAIL: MailFolder(folder, SENDER)})
        # when the sender runs
        tried, statements = await counted(engine, sender.send_due)
        # then the five are written to the folder and recorded delivered, in two statements
        assert tried == 5
        assert len(statements) == 2
        assert len(list(folder.glob("*.eml"))) == 5
        assert not list(folder.glob("*.tmp"))
        async with engine.connect() as conn:
            statuses = (await conn.execute(select(Notice.status))).scalars().all()
            attempts = await conn.scalar(
                select(func.count()).select_from(DeliveryAttempt).where(DeliveryAttempt.ok)
            )
        assert set(statuses) == {"delivered"}
        assert attempts == 5
        # and a claim that finds nothing is one statement
        tried, statements = await counted(engine, sender.send_due)
        assert (tried, len(statements)) == (0, 1)

    async def test_notices_handed_to_the_sender_beside_are_sent_without_a_claim(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        # given a consumer handing the notices it writes to the sender in its process
        async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
            return [request(f"handed:{n}") for n in range(3)]

        folder = tmp_path / "mail"
        sender = NoticeSender(engine, {NoticeChannel.EMAIL: MailFolder(folder, SENDER)})
        consumer = NoticeConsumer(engine, recipients, lambda: None, handoff=sender.take)
        # when a batch is delivered
        _, written = await counted(engine, lambda: consumer.deliver([]))
        assert len(written) == 1
        # then another worker's sender finds none of them to claim
        other = NoticeSender(engine, {NoticeChannel.EMAIL: MailFolder(tmp_path / "o", SENDER)})
        assert await other.send_due() == 0
        # and this one sends the three with one statement, the record of their attempts
        tried, statements = await counted(engine, sender.send_due)
        assert (tried, len(statements)) == (3, 1)
        assert len(list(folder.glob("*.eml"))) == 3
        async with engine.connect() as conn:
            assert set((await conn.execute(select(Notice.status))).scalars()) == {"delivered"}
        # and the batch offered again hands nothing over
        await consumer.deliver([])
        assert not sender.handed

    async def test_notices_handed_to_a_sender_that_died_are_sent_once_the_lease_passes(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        # given notices written claimed for a sender that never sends them (its process died)
        async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
            return [request(f"orphan:{n}") for n in range(2)]

        lost: list[Any] = []
        await NoticeConsumer(engine, recipients, lambda: None, handoff=lost.extend).deliver([])
        folder = tmp_path / "mail"
        sender = NoticeSender(engine, {NoticeChannel.EMAIL: MailFolder(folder, SENDER)})
        assert len(lost) == 2
        assert await sender.send_due() == 0
        # when their claim's lease passes
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE notice SET next_attempt_at = now()"))
        # then any sender claims and sends them
        assert await sender.send_due() == 2
        assert len(list(folder.glob("*.eml"))) == 2

    async def test_a_folder_that_cannot_be_written_fails_each_attempt_for_a_retry(
        self, engine: AsyncEngine, tmp_path: Path
    ) -> None:
        # given two notices due, and a file where the mail folder should be
        async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
            return [request(f"broken:{n}") for n in range(2)]

        await NoticeConsumer(engine, recipients, lambda: None).deliver([])
        blocked = tmp_path / "mail"
        blocked.write_text("not a folder")
        sender = NoticeSender(engine, {NoticeChannel.EMAIL: MailFolder(blocked, SENDER)})
        # when the sender runs
        assert await sender.send_due() == 2
        # then both attempts failed, are recorded with their kind of failure, and the notices
        # wait for their retry
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        Notice.status, Notice.attempts, Notice.last_error, Notice.next_attempt_at
                    )
                )
            ).all()
            now = await conn.scalar(text("SELECT now()"))
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
        assert all(r.last_error.startswith("FileExistsError") for r in rows)
        assert all(r.next_attempt_at > now for r in rows)


class TestSmtp:
    async def test_a_claims_mails_go_in_one_session_and_a_refused_one_fails_alone(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        # given an SMTP server that refuses one recipient, and four notices due
        sessions: set[Any] = set()
        received: list[tuple[str, list[str], bytes]] = []

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address.startswith("nobody@"):
                    return "550 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sessions.add(session.peer)
                received.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
                return "250 OK"

        port = free_port()
        smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
        smtp.start()
        try:
            addresses = ["a@example.kg", "nobody@example.kg", "b@example.kg", "c@example.kg"]

            async def recipients(events: Sequence[Event]) -> list[NoticeRequest]:
                return [
                    replace(request(f"smtp:{n}"), address=address)
                    for n, address in enumerate(addresses)
                ]

            await NoticeConsumer(engine, recipients, lambda: None).deliver([])
            config = settings.model_copy(
                update={
                    "notice_email": "smtp",
                    "smtp_host": "127.0.0.1",
                    "smtp_port": port,
                    "smtp_security": "none",
                }
            )
            sender = NoticeSender(engine, {NoticeChannel.EMAIL: Smtp(config)})
            # when the sender runs
            assert await sender.send_due() == 4
        finally:
            smtp.stop()
        # then three mails went, in one session, each to its family from the hub's address
        assert len(sessions) == 1
        assert sorted((f, r) for f, r, _ in received) == [
            ("noreply@bilim.edu.kg", [a]) for a in addresses if not a.startswith("nobody")
        ]
        message = message_from_bytes(received[0][2], policy=policy.default)
        assert message["Subject"] == "Бала бакчадан орун сунушталды"
        # and the refused one failed alone, to be tried again
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Notice.address, Notice.status))).all()
        assert sorted(rows) == [
            ("a@example.kg", "delivered"),
            ("b@example.kg", "delivered"),
            ("c@example.kg", "delivered"),
            ("nobody@example.kg", "pending"),
        ]


class TestWebhookFanout:
    async def test_a_batch_offered_again_adds_no_delivery(
        self, engine: AsyncEngine, session: AsyncSession, settings: Settings
    ) -> None:
        # given a partner's endpoint for institutions' events
        key, _ = await make_api_key(
            session, pepper=load_pepper(settings), allowed_fields=["Institution.*"]
        )
        await session.commit()
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO webhook_endpoint (api_key_id, url, event_types, secret, status, "
                    "created_by) VALUES (:key, 'https://partner.example/hook', "
                    "ARRAY['institutions.*', 'preschool.place_offered'], 'whsec_x', 'active', 't')"
                ),
                {"key": key.id},
            )
        ids = await add_events(engine, 3, "institutions.institution_updated")
        await add_events(engine, 1, "lms.marks_recorded")
        async with engine.connect() as conn:
            events = await read_after(conn, Position(0, 0), 10)
        partner = Principal(subject="key:test", role=Role.PARTNER)

        async def principal_of_key(key_id: int) -> Principal:
            return partner

        async def exposure(principal: Principal, events: Sequence[Event]) -> list[Any]:
            return [{"id": str(e.aggregate_id)} for e in events]

        fanout = WebhookFanout(engine, principal_of_key, exposure, lambda: None)
        # when the batch is delivered twice
        _, first = await counted(engine, lambda: fanout.deliver(events))
        _, again = await counted(engine, lambda: fanout.deliver(events))
        # then each institution event has one delivery (the LMS's none): the endpoints read
        # and one insert, each time
        async with engine.connect() as conn:
            delivered = (
                (await conn.execute(select(WebhookDelivery.event_id).order_by(WebhookDelivery.id)))
                .scalars()
                .all()
            )
        assert delivered == ids
        assert len(first) == len(again) == 2


class TestSenderLoop:
    async def test_after_a_claim_short_of_full_the_sender_waits_for_a_kick(
        self, settings: Settings
    ) -> None:
        # given a sender whose claims take 3 rows of at most 5 (nothing more was due)
        runtime = EventsRuntime(settings.model_copy(update={"events_poll_seconds": 30.0}))
        claims: list[int] = []

        async def step() -> int:
            claims.append(1)
            return 3

        kick = asyncio.Event()
        task = asyncio.create_task(runtime._loop(step, kick, 5))
        try:
            # when it has run once
            await asyncio.sleep(0.3)
            # then it claims no more (no empty claim after each one) until rows are written
            assert len(claims) == 1
            kick.set()
            await asyncio.sleep(0.3)
            assert len(claims) == 2
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await runtime.stop()


class TestBrokenConnection:
    async def test_a_connection_the_server_dropped_is_not_handed_out_again(
        self, engine: AsyncEngine, settings: Settings
    ) -> None:
        # given the events' statements on a pool of one connection
        assert settings.database_url
        own = database.create_engine(
            settings.database_url, pool_size=1, max_overflow=0, pgbouncer=settings.pgbouncer
        )
        try:
            direct = Direct(own)
            (row,) = await direct.fetch("SELECT pg_backend_pid()")
            # when the server drops that connection (a restart, an administrator)
            async with engine.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": row[0]})
            await asyncio.sleep(0.3)
            # then the statement on it fails, and the next one runs on a new connection
            with pytest.raises(Exception, match=r"(?i)connection|closed"):
                await direct.fetch("SELECT 1")
            (again,) = await direct.fetch("SELECT pg_backend_pid()")
            assert again[0] != row[0]
        finally:
            await own.dispose()

"""Notices to families: what the dispatcher's ``notices`` consumer writes (one row per
person and event, through the recipients a layer above names), and the sender that delivers
them (e-mail over SMTP, SMS through an HTTP gateway, or a local folder of ``.eml`` files for
development and the demo), recording every attempt and retrying with backoff."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from models import DeliveryStatus, Notice, NoticeChannel, NoticeLanguage
from resolvers.events.outbox import Event
from resolvers.events.sending import Attempt, HttpClient, Schedule, claim_due, record_attempts
from resolvers.settings import Settings

log = logging.getLogger("bilim.events")

SCHEDULE = Schedule(
    tuple(
        timedelta(seconds=s) for s in (60, 300, 1800, 7200, 21600, 43200)
    )  # 1 min ... 12 h: about 20 hours of tries
)
CLAIM = 50
LEASE_SECONDS = 120.0
NOTICE_COLUMNS = "t.id, t.channel, t.address, t.language, t.title, t.body, t.attempts"


@dataclass(frozen=True)
class NoticeRequest:
    """A notice a layer above decided to send (see :class:`Recipients`)."""

    dedupe_key: str
    event_id: int | None
    event_type: str
    subject_type: str
    subject_id: int
    person_id: int
    channel: NoticeChannel
    address: str | None
    language: NoticeLanguage
    title: str
    body: str


Recipients = Callable[[Sequence[Event]], Awaitable[list[NoticeRequest]]]
"""Who the events concern and what to tell them: the families of the applications they are
about, read through the domains' public functions (schema/events/families.py)."""


class NoticeConsumer:
    """The ``notices`` consumer: writes the notices the recipients name (a re-delivered
    event adds none: one per dedupe key) and wakes the sender."""

    name = "notices"

    def __init__(
        self, engine: AsyncEngine, recipients: Recipients, kick: Callable[[], None]
    ) -> None:
        self.engine = engine
        self.recipients = recipients
        self.kick = kick

    async def deliver(self, events: Sequence[Event]) -> None:
        requests = await self.recipients(events)
        if not requests:
            return
        rows = [{**asdict(r), "status": DeliveryStatus.PENDING} for r in requests]
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(Notice)
                .values(rows)
                .on_conflict_do_nothing(constraint="uq_notice_dedupe_key")
            )
        log.info("events.notices_queued", extra={"count": len(rows)})
        self.kick()


class Transport(Protocol):
    async def send(self, notice: Any) -> None:
        """Hand the notice on; raise on failure."""


class MailFolder:
    """One ``.eml`` file per message in ``<data dir>/mail/`` (e-mail and SMS alike): what a
    developer or a demo reads instead of a mailbox."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, notice: Any) -> None:
        message = email_message(notice, self.sender)
        if notice.channel != NoticeChannel.EMAIL:
            message.replace_header("To", f"{notice.channel}-{notice.id}@notices.invalid")
            message["X-Bilim-Channel"] = str(notice.channel)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{notice.id}.eml"
        await asyncio.to_thread(self._write, path, bytes(message))

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def email_message(notice: Any, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.address or "family@notices.invalid"
    message["Subject"] = notice.title
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(idstring=f"notice-{notice.id}", domain="bilim.edu.kg")
    message["Content-Language"] = str(notice.language)
    message.set_content(notice.body)
    return message


class Smtp:
    """E-mail through an SMTP server (aiosmtplib)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, notice: Any) -> None:
        # Imported when a mail leaves: a worker that never sends one does not hold it.
        import aiosmtplib

        s = self.settings
        await aiosmtplib.send(
            email_message(notice, s.notice_from),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )


class SmsGateway:
    """SMS through an HTTP gateway: ``POST {to, text, sender, reference}`` with a bearer
    token; any 2xx is accepted (an operator's gateway fits behind a small adapter)."""

    def __init__(self, url: str, token: str, sender: str, client: HttpClient) -> None:
        self.url = url
        self.token = token
        self.sender = sender
        self.client = client

    async def send(self, notice: Any) -> None:
        body = {
            "to": notice.address,
            "text": notice.body,
            "sender": self.sender,
            "reference": f"notice-{notice.id}",
        }
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        answer = await self.client.post(self.url, body=orjson.dumps(body), headers=headers)
        if not answer.ok:
            raise RuntimeError(f"SMS gateway answered {answer.status}")


def transports(settings: Settings, client: HttpClient) -> dict[NoticeChannel, Transport]:
    """How each channel leaves the hub under these settings (the folder unless configured)."""
    folder = MailFolder(settings.data_dir / "mail", settings.notice_from)
    return {
        NoticeChannel.EMAIL: Smtp(settings) if settings.notice_email == "smtp" else folder,
        NoticeChannel.SMS: (
            SmsGateway(
                settings.sms_gateway_url, settings.sms_gateway_token, settings.sms_sender, client
            )
            if settings.sms_gateway_url
            else folder
        ),
        NoticeChannel.FILE: folder,
    }


class NoticeSender:
    """Sends due notices (any number of workers at once, none twice) and records each
    attempt; a notice that failed every try stays failed, visible to the officer."""

    def __init__(
        self, engine: AsyncEngine, channels: dict[NoticeChannel, Transport], concurrency: int = 8
    ) -> None:
        self.engine = engine
        self.channels = channels
        self.limit = asyncio.Semaphore(concurrency)
        self.sent = 0

    async def send_due(self) -> int:
        """Send one claim of due notices; how many were tried."""
        async with self.engine.begin() as conn:
            due = await claim_due(conn, "notice", NOTICE_COLUMNS, CLAIM, LEASE_SECONDS)
        if not due:
            return 0
        attempts = await asyncio.gather(*(self._send(n) for n in due))
        async with self.engine.begin() as conn:
            await record_attempts(
                conn, "notice", attempts, {n.id: n.attempts for n in due}, SCHEDULE
            )
        self.sent += sum(a.ok for a in attempts)
        return len(due)

    async def _send(self, notice: Any) -> Attempt:
        started = time.perf_counter()
        async with self.limit:
            try:
                await self.channels[NoticeChannel(notice.channel)].send(notice)
            except Exception as err:  # recorded with the attempt; the family's data stays out
                log.warning(
                    "events.notice_failed",
                    extra={"notice_id": notice.id, "error": type(err).__name__},
                )
                return Attempt(
                    notice.id, False, _ms(started), error=f"{type(err).__name__}: {err}"[:300]
                )
        return Attempt(notice.id, True, _ms(started))


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

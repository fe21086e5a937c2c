"""Notices to families: what the dispatcher's ``notices`` consumer writes (one row per
person and event, through the recipients a layer above names), and the sender that delivers
them (e-mail over SMTP, SMS through an HTTP gateway, or a local folder of ``.eml`` files for
development and the demo), recording every attempt and retrying with backoff."""

from __future__ import annotations

import asyncio
import base64
import collections
import email.policy
import email.utils
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from models import NoticeChannel, NoticeLanguage
from resolvers.events.direct import Direct
from resolvers.events.outbox import Event
from resolvers.events.sending import (
    Attempt,
    HttpClient,
    Schedule,
    as_objects,
    claim_due,
    record_attempts,
)
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
    # None: a partner, told about its webhook endpoint.
    person_id: int | None
    channel: NoticeChannel
    address: str | None
    language: NoticeLanguage
    title: str
    body: str


Recipients = Callable[[Sequence[Event]], Awaitable[list[NoticeRequest]]]
"""Who the events concern and what to tell them: the families of the applications they are
about, read through the domains' public functions (schema/events/families.py)."""


# One statement whatever the number of notices (SQLAlchemy compiled a multi-row VALUES anew for
# each count, and the driver prepared each anew); a re-delivered event's notice is left out by
# the dedupe key.
_INSERT = (
    "INSERT INTO notice (dedupe_key, event_id, event_type, subject_type, subject_id, "
    "person_id, channel, address, language, title, body, status, next_attempt_at) "
    "SELECT k, e, t, st, si, p, c, a, l, ti, b, 'pending', {next_attempt} FROM unnest("
    "$1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], "
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) "
    "AS v(k, e, t, st, si, p, c, a, l, ti, b) "
    "ON CONFLICT ON CONSTRAINT uq_notice_dedupe_key DO NOTHING"
)
INSERT_SQL = _INSERT.format(next_attempt="now()")
# The same, the new notices claimed for this worker's sender as they are written (their next
# attempt a lease ahead, as a claim sets it) and returned to it: no claim of their own.
INSERT_CLAIMED_SQL = (
    _INSERT.format(next_attempt="clock_timestamp() + make_interval(secs => $12)")
    + " RETURNING id, channel, address, language, title, body, attempts"
)


def insert_args(requests: Sequence[NoticeRequest]) -> tuple[list[Any], ...]:
    """:data:`INSERT_SQL`'s arrays for these notices."""
    return (
        [r.dedupe_key for r in requests],
        [r.event_id for r in requests],
        [r.event_type for r in requests],
        [r.subject_type for r in requests],
        [r.subject_id for r in requests],
        [r.person_id for r in requests],
        [str(r.channel) for r in requests],
        [r.address for r in requests],
        [str(r.language) for r in requests],
        [r.title for r in requests],
        [r.body for r in requests],
    )


class NoticeConsumer:
    """The ``notices`` consumer: writes the notices the recipients name (a re-delivered
    event adds none: one per dedupe key) and wakes the sender. With ``handoff`` (the
    process's sender runs beside it) the new notices are written claimed for it and handed
    over: sent without a claim of their own; were the process to die first, they are due
    again once the claim's lease passes, for any sender."""

    name = "notices"

    def __init__(
        self,
        engine: AsyncEngine,
        recipients: Recipients,
        kick: Callable[[], None],
        handoff: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.direct = Direct(engine)
        self.recipients = recipients
        self.kick = kick
        self.handoff = handoff

    async def deliver(self, events: Sequence[Event]) -> None:
        requests = await self.recipients(events)
        if not requests:
            return
        if self.handoff is None:
            await self.direct.execute(INSERT_SQL, *insert_args(requests))
        else:
            written = await self.direct.fetch(
                INSERT_CLAIMED_SQL, *insert_args(requests), LEASE_SECONDS
            )
            if written:
                self.handoff(as_objects(written))
        log.info("events.notices_queued", extra={"count": len(requests)})
        self.kick()


class Transport(Protocol):
    async def send(self, notice: Any) -> None:
        """Hand the notice on; raise on failure."""


@runtime_checkable
class BatchTransport(Transport, Protocol):
    async def send_many(self, notices: Sequence[Any]) -> list[Exception | None]:
        """Hand the notices on together; each one's failure, or None."""


class MailFolder:
    """One ``.eml`` file per message in ``<data dir>/mail/`` (e-mail and SMS alike): what a
    developer or a demo reads instead of a mailbox. Each file is written under a temporary
    name and renamed, so a reader never finds half a message; a claim's files are written by
    one call in a thread (a thread per file cost more than the file)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    async def send(self, notice: Any) -> None:
        (failed,) = await self.send_many([notice])
        if failed is not None:
            raise failed

    async def send_many(self, notices: Sequence[Any]) -> list[Exception | None]:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        files = [
            (self.folder / f"{stamp}-{notice.id}.eml", self._message(notice)) for notice in notices
        ]
        return await asyncio.to_thread(self._write, files)

    def _message(self, notice: Any) -> bytes:
        if notice.channel == NoticeChannel.EMAIL:
            return message_bytes(notice, self.sender)
        # An SMS kept in the folder: addressed to no one, its channel named.
        return message_bytes(
            notice,
            self.sender,
            to=f"{notice.channel}-{notice.id}@notices.invalid",
            extra=(("X-Bilim-Channel", str(notice.channel)),),
        )

    def _write(self, files: Sequence[tuple[Path, bytes]]) -> list[Exception | None]:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            return [err] * len(files)
        done: list[Exception | None] = []
        for path, data in files:
            tmp = path.with_suffix(".tmp")
            try:
                tmp.write_bytes(data)
                tmp.replace(path)
            except OSError as err:
                done.append(err)
            else:
                done.append(None)
        return done


# An address written into a header as it is: an ASCII addr-spec of a dot-atom and a domain
# name (what almost every family's address is). Any other goes through the e-mail package's
# header registry, which quotes and encodes what needs it.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# RFC 2047: a line holding encoded words is at most 76 characters. 39 bytes of UTF-8 are 52
# of base64, so a word is 64 characters and "Subject: " and a word fit in one line.
WORD_BYTES = 39
SUBJECT_PLAIN = 76 - len("Subject: ")


def plain_address(address: str) -> bool:
    return len(address) <= 254 and PLAIN_ADDRESS.fullmatch(address) is not None


@functools.lru_cache(maxsize=16)
def address_header(name: str, value: str) -> str:
    """A header naming addresses (``Name <addr>``, a list ...), as the e-mail package's
    header registry writes it; kept per value (the sender's is the same for every message)."""
    header = email.policy.default.header_factory(name, value)
    folded: str = header.fold(policy=email.policy.default)
    return folded


@functools.lru_cache(maxsize=16)
def envelope_sender(sender: str) -> str | None:
    """The sender's own address (``noreply@...`` of ``Bilim Hub <noreply@...>``), or None when
    it is not a plain ASCII one."""
    address = email.utils.parseaddr(sender)[1]
    return address if plain_address(address) else None


def encoded_words(text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, base64), a character never split between
    two, one word a line: readers join them back without the folding whitespace."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode())
        if size + width > WORD_BYTES and chunk:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    if chunk:
        words.append("".join(chunk))
    return "\n ".join(
        "=?utf-8?b?" + base64.b64encode(word.encode()).decode("ascii") + "?=" for word in words
    )


def subject_header(title: str) -> str:
    plain = (
        len(title) <= SUBJECT_PLAIN
        and title.isascii()
        and title.isprintable()
        and "=?" not in title
        and title == title.strip()
    )
    return f"Subject: {title if plain or not title else encoded_words(title)}\n"


def message_bytes(
    notice: Any,
    sender: str,
    *,
    to: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The notice as an RFC 5322 message: a UTF-8 text body in base64, the subject in encoded
    words (Kyrgyz and Russian), lines ending in LF (SMTP's client sends them as CRLF).

    Written here rather than by ``EmailMessage`` with the default policy, whose header
    registry parsed and refolded every header of every message (~1 ms each, half of what the
    dispatcher spent on a family's notice); an address that is not a plain ASCII one still
    goes through the registry (:func:`address_header`). ``extra`` headers must be ASCII."""
    recipient = to or notice.address or "family@notices.invalid"
    to_line = f"To: {recipient}\n" if plain_address(recipient) else address_header("To", recipient)
    body = notice.body.encode()
    lines = [
        address_header("From", sender),
        to_line,
        subject_header(notice.title),
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}\n",
        "Message-ID: "
        f"{email.utils.make_msgid(idstring=f'notice-{notice.id}', domain='bilim.edu.kg')}\n",
        f"Content-Language: {notice.language}\n",
        "MIME-Version: 1.0\n",
        'Content-Type: text/plain; charset="utf-8"\n',
        "Content-Transfer-Encoding: base64\n",
        *(f"{name}: {value}\n" for name, value in extra),
        "\n",
    ]
    # The body's lines end in LF, the last one too (as the e-mail package writes a text part).
    text = b"\n".join(body.splitlines()) + b"\n"
    return "".join(lines).encode("ascii") + base64.encodebytes(text)


def email_message(notice: Any, sender: str) -> EmailMessage:
    """The notice as the e-mail package builds it (an address that is not a plain one)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.address or "family@notices.invalid"
    message["Subject"] = notice.title
    message["Date"] = email.utils.format_datetime(datetime.now(UTC))
    message["Message-ID"] = email.utils.make_msgid(
        idstring=f"notice-{notice.id}", domain="bilim.edu.kg"
    )
    message.set_content(notice.body)
    # After the content: setting it drops every Content-* header set before.
    message["Content-Language"] = str(notice.language)
    return message


class Smtp:
    """E-mail through an SMTP server (aiosmtplib): a claim's messages in one session (a
    connection, its TLS and login per message cost more than the message), each message's
    failure its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, notice: Any) -> None:
        (failed,) = await self.send_many([notice])
        if failed is not None:
            raise failed

    async def send_many(self, notices: Sequence[Any]) -> list[Exception | None]:
        # Imported when a mail leaves: a worker that never sends one does not hold it.
        import aiosmtplib

        s = self.settings
        done: list[Exception | None] = []
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )
        try:
            async with client:
                for notice in notices:
                    try:
                        await self._send(client, notice)
                    except Exception as err:  # this message's; the session goes on
                        done.append(err)
                    else:
                        done.append(None)
        except Exception as err:  # no session, or it broke: the messages not sent failed
            done += [err] * (len(notices) - len(done))
        return done

    async def _send(self, client: Any, notice: Any) -> None:
        sender = self.settings.notice_from
        address = notice.address or ""
        envelope = envelope_sender(sender)
        if envelope is not None and plain_address(address):
            await client.sendmail(envelope, [address], message_bytes(notice, sender))
        else:
            # aiosmtplib reads the envelope from the headers (and asks for SMTPUTF8 if needed).
            await client.send_message(email_message(notice, sender))


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
        self.direct = Direct(engine)
        self.channels = channels
        self.limit = asyncio.Semaphore(concurrency)
        self.sent = 0
        # Notices the consumer wrote claimed for this sender, with when they were handed over.
        self.handed: collections.deque[tuple[float, Any]] = collections.deque()

    def take(self, notices: Sequence[Any]) -> None:
        """Notices written claimed for this sender (:class:`NoticeConsumer`'s ``handoff``)."""
        now = time.monotonic()
        self.handed.extend((now, notice) for notice in notices)

    def _handed(self) -> list[Any]:
        """Up to a claim of the notices handed over, those still well within their claim's
        lease (older ones are left to a claim once it passes: never sent twice at once)."""
        fresh = time.monotonic() - LEASE_SECONDS / 2
        due: list[Any] = []
        while self.handed and len(due) < CLAIM:
            at, notice = self.handed.popleft()
            if at > fresh:
                due.append(notice)
        return due

    async def send_due(self) -> int:
        """Send the notices handed over, else one claim of due notices; how many were tried."""
        due = self._handed()
        if not due:
            async with self.direct.connection() as conn:
                due = await claim_due(conn, "notice", NOTICE_COLUMNS, CLAIM, LEASE_SECONDS)
        if not due:
            return 0
        # Notices of a transport that sends many at once go together (the mail folder). Each
        # transport is asked once a claim whether it does (``isinstance`` with a protocol
        # walks its members: ~20 us, asked for every notice before).
        together: dict[int, tuple[BatchTransport, list[Any]]] = {}
        single: set[int] = set()
        alone: list[Any] = []
        for notice in due:
            transport = self.channels[NoticeChannel(notice.channel)]
            group = together.get(id(transport))
            if group is not None:
                group[1].append(notice)
            elif id(transport) not in single and isinstance(transport, BatchTransport):
                together[id(transport)] = (transport, [notice])
            else:
                single.add(id(transport))
                alone.append(notice)
        jobs = [self._send_many(transport, notices) for transport, notices in together.values()]
        jobs += [self._send_alone(n) for n in alone]
        parts = [await jobs[0]] if len(jobs) == 1 else await asyncio.gather(*jobs)
        attempts = [a for part in parts for a in part]
        async with self.direct.connection() as conn:
            await record_attempts(
                conn, "notice", attempts, {n.id: n.attempts for n in due}, SCHEDULE
            )
        self.sent += sum(a.ok for a in attempts)
        return len(due)

    async def _send_alone(self, notice: Any) -> list[Attempt]:
        return [await self._send(notice)]

    async def _send_many(self, transport: BatchTransport, notices: list[Any]) -> list[Attempt]:
        started = time.perf_counter()
        try:
            failures = await transport.send_many(notices)
        except Exception as err:
            failures = [err] * len(notices)
        took = _ms(started)
        return [
            Attempt(notice.id, True, took) if failed is None else _failed(notice, failed, took)
            for notice, failed in zip(notices, failures, strict=True)
        ]

    async def _send(self, notice: Any) -> Attempt:
        started = time.perf_counter()
        async with self.limit:
            try:
                await self.channels[NoticeChannel(notice.channel)].send(notice)
            except Exception as err:
                return _failed(notice, err, _ms(started))
        return Attempt(notice.id, True, _ms(started))


def _failed(notice: Any, err: Exception, took: int) -> Attempt:
    """A failed attempt (recorded with the attempt; the family's data stays out of the log)."""
    log.warning("events.notice_failed", extra={"notice_id": notice.id, "error": type(err).__name__})
    return Attempt(notice.id, False, took, error=f"{type(err).__name__}: {err}"[:300])


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

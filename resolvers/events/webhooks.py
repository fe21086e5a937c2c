"""Partners' webhooks: endpoints (validated against request forgery), the ``webhooks``
consumer that turns events into deliveries for the endpoints that asked for them, and the
sender that signs each delivery as Standard Webhooks says and retries it for days.

Signing (standardwebhooks.com, spec 1.0): headers ``webhook-id`` (the event's id, the same on
every retry: the partner's idempotency key), ``webhook-timestamp`` (this attempt, Unix
seconds) and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``
with the endpoint's ``whsec_`` secret), through the ``standardwebhooks`` package. Retries
follow the spec's example schedule (5 s ... 24 h, three days in all, with jitter); when the
last one fails, or the receiver answers ``410 Gone``, the endpoint is disabled and an
``events.webhook_endpoint_disabled`` event says so."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import logging
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    DeliveryStatus,
    EndpointStatus,
    NoticeChannel,
    NoticeLanguage,
    WebhookDelivery,
    WebhookEndpoint,
)
from resolvers.access import Principal
from resolvers.errors import DomainError, ErrorCode
from resolvers.events import notices
from resolvers.events.direct import Direct, Statements
from resolvers.events.errors import EventsCode
from resolvers.events.outbox import Event
from resolvers.events.sending import (
    Answer,
    Attempt,
    HttpClient,
    Schedule,
    SendFailed,
    as_objects,
    claim_due,
    outcomes,
    record_attempts,
)

if TYPE_CHECKING:
    from standardwebhooks import Webhook

log = logging.getLogger("bilim.events")

# Standard Webhooks' example schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
SCHEDULE = Schedule(
    tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400))
)
EVENT_TYPE = re.compile(r"^[a-z_]{2,30}\.([a-z0-9_]{2,60}|\*)$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EVENT_TYPES = 50
CLAIM = 500
LEASE_SECONDS = 60.0
DNS_CACHE_SECONDS = 60.0

Exposure = Callable[[Principal, Sequence[Event]], Awaitable[list[dict[str, Any] | None]]]
"""What a partner's key may learn of each event: the delivery's ``data`` (thin: the object's
global ID and type, what happened, and the event's fields the key may read), or None when
the object is outside the key's subgraph or rows. Given by the schema layer, which knows the
graph's types, the personal fields and the row rules (schema/events/exposure.py)."""


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes it: ``whsec_`` and 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


_SIGNERS: dict[str, Webhook] = {}


def signer(secret: str) -> Webhook:
    """The endpoint's signer, kept (decoding the secret per delivery showed in profiles);
    the package is imported when the first delivery is signed."""
    found = _SIGNERS.get(secret)
    if found is None:
        from standardwebhooks import Webhook

        if len(_SIGNERS) > 10_000:
            _SIGNERS.clear()
        found = _SIGNERS[secret] = Webhook(secret)
    return found


def sign(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    signature = signer(secret).sign(msg_id=msg_id, timestamp=at, data=body)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "BilimHub-Webhooks/1",
    }


# --- request forgery -------------------------------------------------------------------


def _refused(message: str) -> DomainError:
    return DomainError(EventsCode.WEBHOOK_URL_REFUSED, message, field="url")


def internal(address: str) -> bool:
    """Is this an address of the hub's own network (loopback, private, link-local, ...)?"""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def resolve(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def check_url(url: str, *, allow_private: bool) -> str:
    """The URL if a partner may register it: https (http too when private addresses are
    allowed), no credentials in it, and a host that resolves to public addresses only (unless
    allowed), so the hub cannot be made to call into its own network."""
    if len(url) > 2000:
        raise _refused("The URL is longer than 2,000 characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise _refused("The URL is malformed") from None
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise _refused("Use an https:// URL")
    if parts.username or parts.password:
        raise _refused("The URL must not carry credentials")
    if allow_private:
        return url
    try:
        addresses = await resolve(parts.hostname)
    except OSError:
        raise _refused("The URL's host does not resolve") from None
    if not addresses or any(internal(a) for a in addresses):
        raise _refused("The URL leads to a loopback, private or reserved address")
    return url


class HostCheck:
    """The request-forgery check again at sending time (a name may resolve elsewhere since it
    was registered), remembered for a minute per host."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.known: dict[str, tuple[float, bool]] = {}

    async def allowed(self, url: str) -> bool:
        if self.allow_private:
            return True
        host = urlsplit(url).hostname or ""
        seen = self.known.get(host)
        if seen is not None and time.monotonic() - seen[0] < DNS_CACHE_SECONDS:
            return seen[1]
        try:
            ok = all(not internal(a) for a in await resolve(host))
        except OSError:
            ok = False
        self.known[host] = (time.monotonic(), ok)
        return ok


# --- endpoints -------------------------------------------------------------------------


def matches(event_types: Sequence[str], topic: str) -> bool:
    """Does an endpoint's list take this event (``domain.*`` takes the whole domain)?"""
    domain = topic.partition(".")[0]
    return topic in event_types or f"{domain}.*" in event_types


def clean_event_types(event_types: Sequence[str]) -> list[str]:
    types = sorted(set(event_types))
    if not types or len(types) > MAX_EVENT_TYPES:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Name 1 to {MAX_EVENT_TYPES} event types",
            field="eventTypes",
        )
    bad = [t for t in types if not EVENT_TYPE.match(t)]
    if bad:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "Event types are 'domain.event' or 'domain.*': " + ", ".join(bad[:5]),
            field="eventTypes",
        )
    return types


async def create_endpoint(
    session: AsyncSession,
    principal: Principal,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    allow_private: bool,
    max_per_key: int,
    contact_email: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register a partner's endpoint for event types (their scope is checked by the caller,
    which knows the graph); return it with its signing secret, shown once. The contact
    e-mail, if given, is told when the endpoint is disabled."""
    assert principal.grant is not None
    contact = (contact_email or "").strip() or None
    if contact is not None and (len(contact) > 200 or not EMAIL.match(contact)):
        raise DomainError(ErrorCode.INVALID_INPUT, "Not an e-mail address", field="contactEmail")
    await check_url(url, allow_private=allow_private)
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookEndpoint)
        .where(WebhookEndpoint.api_key_id == principal.grant.key_id)
    )
    if (count or 0) >= max_per_key:
        raise DomainError(
            EventsCode.TOO_MANY_ENDPOINTS, f"A key has at most {max_per_key} endpoints"
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        api_key_id=principal.grant.key_id,
        url=url,
        event_types=event_types,
        description=(description or "").strip()[:200] or None,
        secret=secret,
        status=EndpointStatus.ACTIVE,
        contact_email=contact,
        created_by=principal.subject,
    )
    session.add(endpoint)
    await session.flush()
    log.info("events.webhook_endpoint_created", extra={"endpoint_id": endpoint.id})
    return endpoint, secret


async def endpoint_of_key(
    session: AsyncSession, principal: Principal, endpoint_id: int, *, field: str
) -> WebhookEndpoint:
    """The caller's own endpoint (a partner acts only on its key's endpoints; the ministry on
    any), locked; NOT_FOUND otherwise."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    mine = endpoint is not None and (
        principal.is_ministry
        or (principal.grant is not None and endpoint.api_key_id == principal.grant.key_id)
    )
    if not mine:
        raise DomainError(ErrorCode.NOT_FOUND, "No such webhook subscription", field=field)
    assert endpoint is not None
    return endpoint


async def set_endpoint_enabled(
    session: AsyncSession, principal: Principal, *, endpoint_id: int, enabled: bool
) -> WebhookEndpoint:
    """Disable an endpoint, or enable it again (its failed deliveries stay failed: replay
    them by id)."""
    endpoint = await endpoint_of_key(session, principal, endpoint_id, field="id")
    endpoint.status = EndpointStatus.ACTIVE if enabled else EndpointStatus.DISABLED
    endpoint.disabled_at = None if enabled else datetime.now(UTC)
    endpoint.disabled_reason = None if enabled else f"disabled by {principal.subject}"[:200]
    await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, *, endpoint_id: int
) -> WebhookEndpoint:
    """Remove an endpoint and its deliveries."""
    endpoint = await endpoint_of_key(session, principal, endpoint_id, field="id")
    await session.delete(endpoint)
    await session.flush()
    return endpoint


async def replay_delivery(
    session: AsyncSession, principal: Principal, *, delivery_id: int
) -> WebhookDelivery:
    """Send a delivery again now, with a fresh retry schedule (the same ``webhook-id``, so a
    receiver that already took it can tell)."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such delivery", field="deliveryId")
    endpoint = await endpoint_of_key(session, principal, delivery.endpoint_id, field="deliveryId")
    if endpoint.status != EndpointStatus.ACTIVE:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The endpoint is disabled: enable it first",
            field="deliveryId",
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = datetime.now(UTC)
    await session.flush()
    return delivery


# --- the consumer: events become deliveries ----------------------------------------------


def body_of(event: Event, data: dict[str, Any]) -> str:
    """The delivery's body, as signed: Standard Webhooks' ``type``, ``timestamp``, ``data``."""
    return orjson.dumps(
        {"type": event.topic, "timestamp": event.at.isoformat(), "data": data}
    ).decode()


ACTIVE_ENDPOINTS_SQL = (
    "SELECT id, api_key_id, event_types FROM webhook_endpoint WHERE status = 'active'"
)
INSERT_DELIVERIES_SQL = (
    "INSERT INTO webhook_delivery (endpoint_id, event_id, event_type, body, status) "
    "SELECT e, ev, t, b, 'pending' FROM unnest($1::int[], $2::bigint[], $3::text[], "
    "$4::text[]) AS v(e, ev, t, b) "
    "ON CONFLICT ON CONSTRAINT uq_webhook_delivery_event DO NOTHING"
)


class WebhookFanout:
    """The ``webhooks`` consumer: for each active endpoint that asked for an event's type,
    a delivery carrying what the endpoint's key may read (one per endpoint and event: a
    re-delivered batch adds none)."""

    name = "webhooks"

    def __init__(
        self,
        engine: AsyncEngine,
        principal_of_key: Callable[[int], Awaitable[Principal | None]],
        exposure: Exposure,
        kick: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.direct = Direct(engine)
        self.principal_of_key = principal_of_key
        self.exposure = exposure
        self.kick = kick

    async def deliver(self, events: Sequence[Event]) -> None:
        endpoints = as_objects(await self.direct.fetch(ACTIVE_ENDPOINTS_SQL))
        rows: list[tuple[int, int, str, str]] = []
        for key_id in sorted({e.api_key_id for e in endpoints}):
            mine = [e for e in endpoints if e.api_key_id == key_id]
            wanted = [ev for ev in events if any(matches(e.event_types, ev.topic) for e in mine)]
            if not wanted:
                continue
            principal = await self.principal_of_key(key_id)
            if principal is None:
                continue  # revoked or expired key: nothing leaves for it
            shown = await self.exposure(principal, wanted)
            for event, data in zip(wanted, shown, strict=True):
                if data is None:
                    continue
                body = body_of(event, data)
                rows += [
                    (e.id, event.id, event.topic, body)
                    for e in mine
                    if matches(e.event_types, event.topic)
                ]
        if not rows:
            return
        chunks = [rows[start : start + 1000] for start in range(0, len(rows), 1000)]
        # One statement, or several in one transaction (a batch of 500 events for many
        # endpoints: the statement's arrays stay bounded).
        async with (
            self.direct.connection() if len(chunks) == 1 else self.direct.transaction()
        ) as conn:
            for chunk in chunks:
                await conn.execute(
                    INSERT_DELIVERIES_SQL,
                    [r[0] for r in chunk],
                    [r[1] for r in chunk],
                    [r[2] for r in chunk],
                    [r[3] for r in chunk],
                )
        self.kick()


# --- the sender ------------------------------------------------------------------------

DELIVERY_COLUMNS = (
    "t.id, t.endpoint_id, t.event_id, t.body, t.attempts, "
    "(SELECT url FROM webhook_endpoint WHERE id = t.endpoint_id) AS url, "
    "(SELECT secret FROM webhook_endpoint WHERE id = t.endpoint_id) AS secret"
)
ACTIVE_ENDPOINT = "endpoint_id IN (SELECT id FROM webhook_endpoint WHERE status = 'active')"


class WebhookSender:
    """Posts due deliveries, signed, many at once (one keep-alive pool, at most
    ``per_endpoint`` at once to one endpoint), and records how each went, a claim at a time;
    disables endpoints that are gone or failed for days."""

    def __init__(
        self,
        engine: AsyncEngine,
        client: HttpClient,
        *,
        concurrency: int,
        allow_private: bool,
        per_endpoint: int = 16,
    ) -> None:
        self.engine = engine
        self.direct = Direct(engine)
        self.client = client
        self.limit = asyncio.Semaphore(concurrency)
        self.per_endpoint = per_endpoint
        self.endpoint_limits: dict[int, asyncio.Semaphore] = {}
        self.hosts = HostCheck(allow_private)
        self.sent = 0
        self.claim = max(CLAIM, concurrency * 2)

    async def send_due(self) -> int:
        """Send one claim of due deliveries; how many were tried."""
        async with self.direct.connection() as conn:
            due = await claim_due(
                conn,
                "webhook_delivery",
                DELIVERY_COLUMNS,
                self.claim,
                LEASE_SECONDS,
                where=ACTIVE_ENDPOINT,
            )
        if not due:
            return 0
        attempts = await asyncio.gather(*(self._post(d) for d in due))
        tries = {d.id: d.attempts for d in due}
        gone = {d.endpoint_id for d, a in zip(due, attempts, strict=True) if a.give_up}
        # (Which attempts were the last is decided by the schedule, not its jitter: the record
        # below finds the same.)
        failed = set(outcomes(attempts, tries, SCHEDULE)[2])
        failing = {d.endpoint_id for d in due if d.id in failed} - gone
        if not gone and not failing:
            async with self.direct.connection() as conn:
                await record_attempts(conn, "webhook_delivery", attempts, tries, SCHEDULE)
        else:
            # The endpoints are disabled in the same transaction as the attempts that ended
            # them are recorded.
            async with self.direct.transaction() as conn:
                await record_attempts(conn, "webhook_delivery", attempts, tries, SCHEDULE)
                await self._disable(conn, gone, "the receiver answered 410 Gone")
                await self._disable(conn, failing, "deliveries failed for three days")
        self.sent += sum(a.ok for a in attempts)
        return len(due)

    async def _post(self, delivery: Any) -> Attempt:
        started = time.perf_counter()
        if not await self.hosts.allowed(delivery.url):
            return Attempt(delivery.id, False, 0, error="The URL leads to an internal address")
        endpoint_limit = self.endpoint_limits.get(delivery.endpoint_id)
        if endpoint_limit is None:
            endpoint_limit = asyncio.Semaphore(self.per_endpoint)
            self.endpoint_limits[delivery.endpoint_id] = endpoint_limit
        async with endpoint_limit, self.limit:
            # Signed when it leaves: a delivery queued behind its endpoint's limit carries the
            # time it is sent, not the time it was claimed.
            msg_id = f"msg_{delivery.event_id}"
            headers = sign(delivery.secret, msg_id, datetime.now(UTC), delivery.body)
            try:
                answer = await self.client.post(
                    delivery.url, body=delivery.body.encode(), headers=headers
                )
            except SendFailed as err:
                return Attempt(delivery.id, False, _ms(started), error=str(err))
        code = answer.status
        if answer.ok:
            return Attempt(delivery.id, True, _ms(started), status_code=code)
        return Attempt(
            delivery.id,
            False,
            _ms(started),
            status_code=code,
            error=f"HTTP {code}",
            retry_after=_retry_after(answer),
            give_up=code == 410,
        )

    async def _disable(self, conn: Statements, endpoint_ids: set[int], reason: str) -> None:
        """Disable endpoints and say so: in the outbox (the partner's key sees it in the
        change feed and the endpoint's status), and in a message to the partner's contact
        e-mail, sent and retried as notices are."""
        if not endpoint_ids:
            return
        disabled = as_objects(
            await conn.fetch(
                "UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = $2, "
                "disabled_at = now() WHERE id = ANY($1::int[]) AND status = 'active' "
                "RETURNING id, url, contact_email, disabled_at",
                sorted(endpoint_ids),
                reason,
            )
        )
        for endpoint in disabled:
            await conn.execute(
                "INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload) "
                "VALUES ('events.webhook_endpoint_disabled', 'WebhookSubscription', $1, "
                "$2::jsonb)",
                endpoint.id,
                orjson.dumps({"reason": reason}).decode(),
            )
            if endpoint.contact_email:
                await conn.execute(
                    notices.INSERT_SQL, *notices.insert_args([disabled_notice(endpoint, reason)])
                )
            log.warning("events.webhook_endpoint_disabled", extra={"endpoint_id": endpoint.id})


def disabled_notice(endpoint: Any, reason: str) -> notices.NoticeRequest:
    """The message to a partner whose endpoint was disabled (Russian and English: partners
    are organisations, the hub's partner documentation is in both)."""
    title = "Bilim Hub: вебхук отключён / webhook endpoint disabled"
    body = (
        f"Адрес {endpoint.url} больше не получает события Bilim Hub: {reason}.\n"
        "Исправьте приёмник, включите подписку снова (setWebhookSubscriptionEnabled) и "
        "повторите пропущенные доставки (replayWebhookDelivery).\n\n"
        f"The endpoint {endpoint.url} no longer receives Bilim Hub events: {reason}.\n"
        "Fix the receiver, enable the subscription again (setWebhookSubscriptionEnabled) and "
        "replay the deliveries it missed (replayWebhookDelivery).\n"
    )
    return notices.NoticeRequest(
        dedupe_key=f"webhook-disabled:{endpoint.id}:{endpoint.disabled_at.timestamp():.0f}",
        event_id=None,
        event_type="events.webhook_endpoint_disabled",
        subject_type="WebhookSubscription",
        subject_id=endpoint.id,
        person_id=None,
        channel=NoticeChannel.EMAIL,
        address=endpoint.contact_email,
        language=NoticeLanguage.RU,
        title=title,
        body=body,
    )


def _retry_after(answer: Answer) -> float | None:
    value = answer.retry_after or ""
    return float(value) if value.isdigit() else None


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


async def pending_backlog(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT count(*) FROM webhook_delivery WHERE status = 'pending'")
        )
    return int(value or 0)

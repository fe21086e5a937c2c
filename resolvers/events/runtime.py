"""Everything of the events domain that runs in a process: the wake-up listener, the
dispatcher with its consumers (notices, webhooks), the senders of notices and deliveries, the
retention job, and the live feed of this worker's subscriptions. ``bilim serve`` runs it in
each worker (app lifespan); ``bilim events run`` runs the dispatching part alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import ApiKey, database
from resolvers.access import KeyGrant, Principal, Role
from resolvers.events.collector import LongLived
from resolvers.events.consumers import Consumer
from resolvers.events.dispatcher import Dispatcher, DispatchSettings, worker_name
from resolvers.events.notices import CLAIM as NOTICE_CLAIM
from resolvers.events.notices import NoticeConsumer, NoticeSender, Recipients, transports
from resolvers.events.retention import prune
from resolvers.events.sending import HttpClient
from resolvers.events.subscriptions import ConnectionLimits, LiveFeed
from resolvers.events.wakeup import Wakeup, wait_for
from resolvers.events.webhooks import Exposure, WebhookFanout, WebhookSender
from resolvers.settings import Settings

log = logging.getLogger("bilim.events")

RETENTION_EVERY_SECONDS = 3600.0
# The events engine's pool in each process (the dispatcher's consumers, the live feed).
POOL_SIZE = 6
POOL_MAX_OVERFLOW = 4


def dispatches(settings: Settings) -> bool:
    """Does a hub worker run the dispatcher under these settings?"""
    if settings.event_dispatcher is not None:
        return settings.event_dispatcher
    return settings.environment != "test"


async def key_principal(engine: AsyncEngine, key_id: int) -> Principal | None:
    """The partner behind a key as its requests see it, or None once revoked or expired."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    ApiKey.prefix,
                    ApiKey.allowed_fields,
                    ApiKey.personal_data,
                    ApiKey.region_ids,
                    ApiKey.points_per_hour,
                ).where(
                    ApiKey.id == key_id,
                    ApiKey.revoked_at.is_(None),
                    ApiKey.expires_at > datetime.now(UTC),
                )
            )
        ).first()
    if row is None:
        return None
    return Principal(
        subject=f"key:{row.prefix}",
        role=Role.PARTNER,
        region_ids=frozenset(row.region_ids or ()),
        api_key_prefix=row.prefix,
        grant=KeyGrant(
            key_id=key_id,
            fields=frozenset(row.allowed_fields or ()),
            personal_data=row.personal_data,
            points_per_hour=row.points_per_hour,
        ),
    )


class EventsRuntime:
    """The events machinery of one process."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url
        self.settings = settings
        self.engine = database.create_engine(
            settings.database_url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_MAX_OVERFLOW,
            statement_timeout_ms=60_000,
            application_name="bilim-hub-events",
            pgbouncer=settings.pgbouncer,
        )
        listen = settings.events_listen_url or (
            None if settings.pgbouncer else settings.database_url
        )
        self.wakeup = Wakeup(listen)
        self.worker = worker_name()
        self.limits = ConnectionLimits(settings.ws_connections_per_principal)
        # Freezing the subscribers' objects (collector.py) is for a worker that lives: tests'
        # processes start and stop many hubs, as app.py's own freeze is skipped for them.
        self.live = LiveFeed(
            self.engine,
            self.wakeup,
            settings.events_poll_seconds,
            long_lived=LongLived() if settings.environment != "test" else None,
        )
        # What the live feed's router read for the subscribers (given by the schema layer).
        self.audience: Any = None
        self.client = HttpClient(
            timeout=settings.webhook_timeout_seconds, connections=settings.webhook_concurrency
        )
        self.notice_kick = asyncio.Event()
        self.webhook_kick = asyncio.Event()
        self.notice_sender = NoticeSender(self.engine, transports(settings, self.client))
        self.webhook_sender = WebhookSender(
            self.engine,
            self.client,
            concurrency=settings.webhook_concurrency,
            per_endpoint=settings.webhook_concurrency_per_endpoint,
            allow_private=settings.webhook_allow_private,
        )
        self.consumers: list[Consumer] = []
        self.tasks: list[asyncio.Task[Any]] = []

    def add_consumers(
        self,
        *,
        recipients: Recipients | None = None,
        exposure: Exposure | None = None,
        others: Sequence[Consumer] = (),
    ) -> None:
        """The durable consumers this process serves when it dispatches: notices to the
        families ``recipients`` names, webhooks carrying what ``exposure`` lets out."""
        if recipients is not None:
            # The notices it writes go to this process's sender, which runs beside it.
            self.consumers.append(
                NoticeConsumer(
                    self.engine, recipients, self.notice_kick.set, handoff=self.notice_sender.take
                )
            )
        if exposure is not None:
            self.consumers.append(
                WebhookFanout(
                    self.engine,
                    lambda key_id: key_principal(self.engine, key_id),
                    exposure,
                    self.webhook_kick.set,
                )
            )
        self.consumers.extend(others)

    def dispatcher(self) -> Dispatcher:
        s = self.settings
        return Dispatcher(
            self.engine,
            self.consumers,
            self.wakeup,
            DispatchSettings(
                batch=s.events_batch,
                lease_seconds=s.events_lease_seconds,
                poll_seconds=s.events_poll_seconds,
                gather_seconds=s.events_gather_seconds,
                busy_gather_seconds=s.events_busy_gather_seconds,
            ),
            worker=self.worker,
        )

    async def start(self, *, dispatch: bool) -> None:
        """Listen for new events; with ``dispatch``, also serve the consumers, send notices
        and deliveries, and prune."""
        if dispatch:
            self.wakeup.start()
            self._spawn(self.dispatcher().run(), "events-dispatcher")
            self._spawn(
                self._loop(self.notice_sender.send_due, self.notice_kick, NOTICE_CLAIM), "notices"
            )
            # Several claims in flight: one is posted while another is claimed or recorded
            # (each its own rows: SKIP LOCKED), so the network and the database overlap.
            for n in range(self.settings.webhook_claims_in_flight):
                self._spawn(
                    self._loop(
                        self.webhook_sender.send_due, self.webhook_kick, self.webhook_sender.claim
                    ),
                    f"webhooks-{n}",
                )
            self._spawn(self._retention(), "events-retention")

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        self.tasks.append(asyncio.create_task(work, name=name))  # type: ignore[arg-type]

    async def _loop(
        self, step: Callable[[], Awaitable[int]], kick: asyncio.Event, full: int
    ) -> None:
        """Send claim after claim while they come full; after one that took fewer than
        ``full`` rows (nothing more was due), wait for a kick (rows written) or the poll."""
        while True:
            try:
                done = await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("events.sender_failed")
                done = 0
                await asyncio.sleep(self.settings.events_poll_seconds)
            if done < full:
                await wait_for(kick, self.settings.events_poll_seconds)

    async def _retention(self) -> None:
        while True:
            try:
                await prune(self.engine, retention_days=self.settings.events_retention_days)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("events.prune_failed")
            await asyncio.sleep(RETENTION_EVERY_SECONDS)

    async def feed(self) -> LiveFeed:
        """This worker's live feed, started on first use."""
        self.wakeup.start()
        await self.live.start()
        return self.live

    async def stop(self) -> None:
        await self.live.stop()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.wakeup.stop()
        await self.client.aclose()
        await self.engine.dispose()

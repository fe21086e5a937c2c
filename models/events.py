"""The audit trail (append-only, enforced by a trigger), the security events (refused writes
and failed authentications, counted per minute), the transactional outbox, and what reads the
outbox: each consumer's progress, partners' webhook endpoints and their deliveries, notices to
families with their delivery attempts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column

# The current transaction's id as a number (xid8 is 64 bits with the epoch: it never wraps).
TXID_SQL = "(pg_current_xact_id()::text)::bigint"


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FORBIDDEN = "forbidden"
    # An unexpected fault, or a change rolled back after it was made (its payload failed, or
    # the request's transaction did not commit): nothing of the attempt was kept.
    ERROR = "error"


class AuditEntry(Base):
    """Who did what, when, and with what outcome. Rows are never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_request_id", "request_id"),
        Index("ix_audit_log_api_key_prefix", "api_key_prefix"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    request_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40))
    api_key_prefix: Mapped[str | None] = mapped_column(String(20))
    operation: Mapped[str] = mapped_column(String(80))
    # The GraphQL operation the client named, and its variables with secrets redacted.
    operation_name: Mapped[str | None] = mapped_column(String(120))
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    target_type: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[Outcome] = enum_column(Outcome)
    error_codes: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


class SecurityEvent(Base):
    """Refused attempts to write and failed authentications of one source, for one reason and
    action, within one minute: the first is written at once, the rest only counted, so a flood
    adds a row per source and reason a minute, not a row per request. Rows are never deleted;
    an update may only raise ``count`` and move ``last_at`` (a trigger holds both)."""

    __tablename__ = "security_event"
    __table_args__ = (
        Index(
            "uq_security_event_minute_source",
            "minute",
            "source",
            "reason",
            "why",
            "action",
            unique=True,
        ),
        Index("ix_security_event_last_at", "last_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    last_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # Who: "ip:<address>" (anonymous callers, refused credentials), "sub:<role>:<subject>" (a
    # token), "key:<prefix>" (a partner's key); "*" gathers sources past the per-minute cap.
    source: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    # Why: the stable code the caller got (UNAUTHENTICATED, FORBIDDEN, FIELD_NOT_IN_SCOPE, ...)
    # and a word from a fixed list saying more (expired_token, anonymous_write, ...).
    reason: Mapped[str] = mapped_column(String(60))
    why: Mapped[str] = mapped_column(String(60))
    # What: the mutation's root fields or audited operation, or the kind of request.
    action: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer)
    # The first request of the row, as the hub's logs name it.
    request_id: Mapped[str | None] = mapped_column(String(64))


class OutboxEvent(Base):
    """A domain event written in the transaction that caused it. Readers take events in
    ``(txid, id)`` order and only below the oldest transaction still running (the snapshot's
    xmin), so an event whose transaction commits late is never skipped
    (resolvers/events/outbox.py). Every insert statement wakes the dispatchers (a trigger
    sends ``NOTIFY bilim_outbox``)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_txid_id", "txid", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    topic: Mapped[str] = mapped_column(String(80))
    aggregate_type: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The writing transaction's id (xid8 as a number), set by the database.
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text(TXID_SQL))


class EventConsumer(Base):
    """One durable reader of the outbox: how far it got (the last event it acknowledged, in
    ``(txid, id)`` order) and which worker holds it now. A worker takes a consumer by lease, so
    several dispatchers can run and each consumer is served by one of them at a time."""

    __tablename__ = "event_consumer"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    after_txid: Mapped[int] = mapped_column(BigInteger)
    after_id: Mapped[int] = mapped_column(BigInteger)
    delivered: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxRetention(Base):
    """What the retention job removed: events up to this ``(txid, id)`` are gone, so a change
    feed cursor before it can no longer be resumed (one row)."""

    __tablename__ = "outbox_retention"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    pruned_txid: Mapped[int] = mapped_column(BigInteger)
    pruned_id: Mapped[int] = mapped_column(BigInteger)
    pruned_total: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    pruned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EndpointStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class WebhookEndpoint(Base):
    """A partner's URL that receives signed deliveries (Standard Webhooks) of the event types
    it chose, within its key's subgraph."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index("ix_webhook_endpoint_api_key", "api_key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    url: Mapped[str] = mapped_column(String(2000))
    # Event types ("preschool.place_offered") or a domain's all ("preschool.*").
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(80)))
    description: Mapped[str | None] = mapped_column(String(200))
    # The signing secret as Standard Webhooks writes it ("whsec_" + base64); shown once.
    secret: Mapped[str] = mapped_column(String(100))
    status: Mapped[EndpointStatus] = enum_column(EndpointStatus)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the partner is told when the endpoint is disabled (never logged).
    contact_email: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(Base):
    """One event for one endpoint: its body (signed as sent), and where its attempts stand."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    # The outbox event (no foreign key: the outbox is pruned, deliveries stay for replays).
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    # A local folder of .eml files (<data dir>/mail/): development and the demo.
    FILE = "file"


class NoticeLanguage(enum.StrEnum):
    KY = "ky"
    RU = "ru"


class Notice(Base):
    """A message to a family about an application (an offer made, about to expire, expired, a
    status change), in their language, through one channel; sent with retries."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notice_dedupe_key"),
        Index("ix_notice_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_notice_subject", "subject_type", "subject_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # One notice per event and person (or per reminder): a re-delivered event adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(160))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(80))
    # The application (GraphQL type and key) it is about: who may read it may read the notice.
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int] = mapped_column(BigInteger)
    # The person told (null: a partner, told about its webhook endpoint).
    person_id: Mapped[int | None] = mapped_column(BigInteger)
    channel: Mapped[NoticeChannel] = enum_column(NoticeChannel)
    # The e-mail address or phone number (never logged).
    address: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[NoticeLanguage] = enum_column(NoticeLanguage)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticePreference(Base):
    """How a person wants to be told: their language and contacts (a guardian sets them)."""

    __tablename__ = "notice_preference"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    language: Mapped[NoticeLanguage] = enum_column(NoticeLanguage)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class DeliveryAttempt(Base):
    """One attempt to send a notice or a webhook delivery, and how it went."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (
        CheckConstraint("(notice_id IS NULL) <> (delivery_id IS NULL)", name="one_target"),
        Index(
            "ix_delivery_attempt_notice",
            "notice_id",
            postgresql_where=text("notice_id IS NOT NULL"),
        ),
        Index(
            "ix_delivery_attempt_delivery",
            "delivery_id",
            postgresql_where=text("delivery_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    notice_id: Mapped[int | None] = mapped_column(BigInteger)
    delivery_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)

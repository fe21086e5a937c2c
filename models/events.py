"""The audit trail (append-only, enforced by a trigger), the security events (refused writes
and failed authentications, counted per minute) and the transactional outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column


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
    """A domain event written in the transaction that caused it, published later."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    topic: Mapped[str] = mapped_column(String(80))
    aggregate_type: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

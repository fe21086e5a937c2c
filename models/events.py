"""The audit trail (append-only, enforced by a trigger) and the transactional outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.types import enum_column


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    FORBIDDEN = "forbidden"


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

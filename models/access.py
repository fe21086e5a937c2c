"""Data partners' API keys, the hourly cost budgets every caller spends, and the persisted
(automatic persisted-query) documents the workers share."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class ApiKey(Base):
    """A data partner's key: the secret is stored only as an HMAC (with the server's pepper),
    the prefix stays visible so people can tell keys apart in logs and the audit trail."""

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint("prefix ~ '^[a-z0-9]{8}$'", name="prefix_format"),
        CheckConstraint("points_per_hour > 0", name="points_per_hour"),
        CheckConstraint("expires_at > created_at", name="expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(120))
    # The partner's subgraph: "Type.field" or "Type.*" entries (root fields as "Query.name").
    allowed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(120)))
    personal_data: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # Rows the key reads: institutions of these regions (empty: the whole country).
    region_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{}'::integer[]")
    )
    points_per_hour: Mapped[int] = mapped_column(Integer)
    # The OneRoster write grant (issue 15): institutions whose gradebook the key may write
    # through the OneRoster gradebook service; empty: none.
    oneroster_write_institution_ids: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), server_default=text("'{}'::integer[]")
    )


class CostBudget(Base):
    """Points a caller (key, token subject or anonymous address) spent in one hour window:
    what the workers leased from it (resolvers.cost.Ledger), outside the requests'
    transactions; leased points count as spent."""

    __tablename__ = "cost_budget"
    __table_args__ = (Index("ix_cost_budget_window_start", "window_start"),)

    subject: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)


class PersistedQuery(Base):
    """A document registered through the automatic persisted-query protocol, by its sha256."""

    __tablename__ = "persisted_query"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_format"),
        CheckConstraint("length(document) <= 100000", name="document_size"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

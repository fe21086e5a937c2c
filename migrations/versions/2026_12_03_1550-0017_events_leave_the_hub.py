"""Events leave the hub: the outbox in transaction order with a wake-up trigger, each
consumer's progress, partners' webhook endpoints and deliveries, notices to families and
their delivery attempts, and the retention mark of the change feed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TXID_SQL = "(pg_current_xact_id()::text)::bigint"


def _now() -> sa.sql.elements.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    # --- the outbox: transaction order, wake-up -------------------------------------------
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_column("outbox", "published_at")
    # Events written before this revision are all settled: they take txid 0 (a volatile
    # default would rewrite the table with this migration's own transaction id anyway).
    op.add_column(
        "outbox", sa.Column("txid", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.alter_column("outbox", "txid", server_default=sa.text(TXID_SQL))
    op.create_index("ix_outbox_txid_id", "outbox", ["txid", "id"])
    op.execute(
        """
        CREATE FUNCTION outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- One notification per statement; PostgreSQL folds repeats within a transaction
            -- and delivers them at commit, so a reader never wakes before the rows are there.
            PERFORM pg_notify('bilim_outbox', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_wake AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake()"
    )

    # --- consumers and retention ---------------------------------------------------------
    op.create_table(
        "event_consumer",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("after_txid", sa.BigInteger(), nullable=False),
        sa.Column("after_id", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_owner", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_consumer")),
    )
    op.create_table(
        "outbox_retention",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("pruned_txid", sa.BigInteger(), nullable=False),
        sa.Column("pruned_id", sa.BigInteger(), nullable=False),
        sa.Column("pruned_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_outbox_retention_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_retention")),
    )

    # --- webhooks ------------------------------------------------------------------------
    op.create_table(
        "webhook_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=80)), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="endpointstatus", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_webhook_endpoint_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index("ix_webhook_endpoint_api_key", "webhook_endpoint", ["api_key_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "delivered", "failed", name="deliverystatus", native_enum=False,
                create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
        ),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_delivery_event"),
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_delivery_endpoint", "webhook_delivery", ["endpoint_id", "id"])

    # --- notices -------------------------------------------------------------------------
    op.create_table(
        "notice",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum("email", "sms", "file", name="noticechannel", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column(
            "language",
            sa.Enum("ky", "ru", name="noticelanguage", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "delivered", "failed", name="deliverystatus", native_enum=False,
                create_constraint=True, length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
        ),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("dedupe_key", name="uq_notice_dedupe_key"),
    )
    op.create_index(
        "ix_notice_due",
        "notice",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_notice_subject", "notice", ["subject_type", "subject_id", "id"])
    op.create_table(
        "notice_preference",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "language",
            sa.Enum("ky", "ru", name="noticelanguage", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_notice_preference_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notice_preference")),
    )
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("notice_id", sa.BigInteger(), nullable=True),
        sa.Column("delivery_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(notice_id IS NULL) <> (delivery_id IS NULL)",
            name=op.f("ck_delivery_attempt_one_target"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempt")),
    )
    op.create_index(
        "ix_delivery_attempt_notice",
        "delivery_attempt",
        ["notice_id"],
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )
    op.create_index(
        "ix_delivery_attempt_delivery",
        "delivery_attempt",
        ["delivery_id"],
        postgresql_where=sa.text("delivery_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("delivery_attempt")
    op.drop_table("notice_preference")
    op.drop_table("notice")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_endpoint")
    op.drop_table("outbox_retention")
    op.drop_table("event_consumer")
    op.execute("DROP TRIGGER outbox_wake ON outbox")
    op.execute("DROP FUNCTION outbox_wake()")
    op.drop_index("ix_outbox_txid_id", table_name="outbox")
    op.drop_column("outbox", "txid")
    op.add_column(
        "outbox", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
    )

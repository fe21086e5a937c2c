"""Every mutation attempt audited, every refusal recorded: the audit trail's outcome accepts
'error' (an unexpected fault, or a change rolled back after it was made), and the
``security_event`` table holds refused attempts to write and failed authentications, one row
per source, reason and action a minute with a count (issues 12.6 and 22.5).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here (not imported from models) so the migration stays as it was run.
BEFORE = ("succeeded", "rejected", "forbidden")
AFTER = (*BEFORE, "error")
# op.f: the name is final, not a ``constraint_name`` for the naming convention to wrap.
OUTCOME_CHECK = "ck_audit_log_outcome"


def _outcome_check(outcomes: tuple[str, ...], *, valid: bool = True) -> None:
    op.drop_constraint(op.f(OUTCOME_CHECK), "audit_log", type_="check")
    values = ", ".join(f"'{o}'" for o in outcomes)
    op.execute(
        f"ALTER TABLE audit_log ADD CONSTRAINT {OUTCOME_CHECK} CHECK (outcome IN ({values}))"
        + ("" if valid else " NOT VALID")
    )


def upgrade() -> None:
    _outcome_check(AFTER)
    op.create_table(
        "security_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "last_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("why", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )
    op.create_index(
        "uq_security_event_minute_source",
        "security_event",
        ["minute", "source", "reason", "why", "action"],
        unique=True,
    )
    op.create_index("ix_security_event_last_at", "security_event", ["last_at"], unique=False)
    # Evidence, as the audit trail is: no row is removed, and an update may only add to the
    # count of a row and move its last time.
    op.execute(
        """
        CREATE FUNCTION security_event_count_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE'
               AND NEW.count >= OLD.count AND NEW.last_at >= OLD.last_at
               AND (NEW.id, NEW.minute, NEW.first_at, NEW.source, NEW.role, NEW.reason,
                    NEW.why, NEW.action, NEW.request_id)
                   IS NOT DISTINCT FROM
                   (OLD.id, OLD.minute, OLD.first_at, OLD.source, OLD.role, OLD.reason,
                    OLD.why, OLD.action, OLD.request_id)
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'security_event only counts (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER security_event_count_only BEFORE UPDATE OR DELETE ON security_event "
        "FOR EACH ROW EXECUTE FUNCTION security_event_count_only()"
    )
    op.execute(
        "CREATE TRIGGER security_event_no_truncate BEFORE TRUNCATE ON security_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION security_event_count_only()"
    )


def downgrade() -> None:
    op.drop_table("security_event")
    op.execute("DROP FUNCTION security_event_count_only()")
    # The trail is append-only, so rows that say 'error' stay: the old CHECK comes back for new
    # rows only (NOT VALID).
    _outcome_check(BEFORE, valid=False)

"""First-grade applications can be withdrawn: the status CHECK of the application and of its
history accept 'withdrawn', and a withdrawn application no longer holds the child's one open
application of the season (the partial unique index ignores it, as it ignores rejected and
cancelled ones).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out here (not imported from models) so the migration stays as it was run.
BEFORE = ("submitted", "verified", "rejected", "waitlisted", "admitted", "cancelled")
AFTER = (*BEFORE, "withdrawn")
TABLES = ("first_grade_application", "first_grade_application_event")
INDEX = "uq_first_grade_application_active_child"


def _status_check(table: str, statuses: tuple[str, ...]) -> None:
    # op.f: the name is final, not a ``constraint_name`` for the naming convention to wrap.
    name = op.f(f"ck_{table}_firstgradestatus")
    op.drop_constraint(name, table, type_="check")
    values = ", ".join(f"'{s}'" for s in statuses)
    op.create_check_constraint(name, table, f"status IN ({values})")


def _active_child_index(closed: tuple[str, ...]) -> None:
    op.drop_index(INDEX, table_name="first_grade_application")
    values = ", ".join(f"'{s}'" for s in closed)
    op.create_index(
        INDEX,
        "first_grade_application",
        ["child_id", "season_id"],
        unique=True,
        postgresql_where=sa.text(f"status NOT IN ({values})"),
    )


def upgrade() -> None:
    for table in TABLES:
        _status_check(table, AFTER)
    _active_child_index(("rejected", "cancelled", "withdrawn"))


def downgrade() -> None:
    # Before 0010 the nearest meaning of a withdrawal is a cancellation: withdrawn rows become
    # cancelled, which the old CHECK accepts and the old index ignores as it ignored them.
    for table in TABLES:
        op.execute(f"UPDATE {table} SET status = 'cancelled' WHERE status = 'withdrawn'")
        _status_check(table, BEFORE)
    _active_child_index(("rejected", "cancelled"))

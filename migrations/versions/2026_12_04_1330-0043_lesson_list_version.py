"""The lesson list's version: a value every write to the lessons or to the subject register
changes, so a worker may keep the anonymous lesson list's answers for a version and know when
they are stale (issue 16's lesson list target; schema/http/kept.py).

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A random value rather than a counter, as the catalogue's version (a database cloned from a
# template or restored from a backup never reuses a version for other lessons).
BUMP = """
CREATE FUNCTION lesson_list_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lesson_list_version
       SET version = (random() * 9.2e18)::bigint, changed_at = now()
     WHERE id = 1;
    RETURN NULL;
END $$
"""
# What a kept lesson list reads: the lessons (their curriculum place, title, summary, length and
# status are the lesson's own columns) and the subject register's names.
TABLES = ("lesson", "subject")


def upgrade() -> None:
    op.create_table(
        "lesson_list_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_lesson_list_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_list_version")),
    )
    op.execute(
        "INSERT INTO lesson_list_version (id, version) VALUES (1, (random() * 9.2e18)::bigint)"
    )
    op.execute(BUMP)
    for table in TABLES:
        # Per statement: a curriculum import that moves thousands of lessons changes it once.
        op.execute(
            f"CREATE TRIGGER {table}_lesson_list_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lesson_list_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_lesson_list_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS lesson_list_bump()")
    op.drop_table("lesson_list_version")

"""The statistics' version: a value every write to what a statistics answer reads changes, so a
worker may keep the /stats page's answers for a version and know when they are stale (issue
21's page target; schema/http/kept.py, docs/domains/analytics.md "The /stats page").

A statistics answer reads the rollups (``stat_cell``, and ``stat_refresh``: which census dates
are rolled up, the latest of them the default), the disclosure rule (``disclosure_policy``),
the geography it names and joins (``region``, ``district``) and the population the ratios
divide by (``population``). The nightly job's refresh, ``setDisclosurePolicy``, a geography
change and ``bilim import population`` each change it. A date without a rollup is counted live
from the registry, which no version covers: such an answer is never kept.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0047"
down_revision: str | None = "0046"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A random value rather than a counter, as the catalogue's and the lesson list's versions (a
# database cloned from a template or restored from a backup never reuses a version for other
# figures).
BUMP = """
CREATE FUNCTION stat_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stat_version
       SET version = (random() * 9.2e18)::bigint, changed_at = now()
     WHERE id = 1;
    RETURN NULL;
END $$
"""
TABLES = ("stat_cell", "stat_refresh", "disclosure_policy", "region", "district", "population")


def upgrade() -> None:
    op.create_table(
        "stat_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_stat_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_version")),
    )
    op.execute("INSERT INTO stat_version (id, version) VALUES (1, (random() * 9.2e18)::bigint)")
    op.execute(BUMP)
    for table in TABLES:
        # Per statement: a refresh that rewrites a date's hundreds of thousands of cells, or a
        # population file of thousands of rows, changes it once.
        op.execute(
            f"CREATE TRIGGER {table}_stat_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stat_version_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_stat_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS stat_version_bump()")
    op.drop_table("stat_version")

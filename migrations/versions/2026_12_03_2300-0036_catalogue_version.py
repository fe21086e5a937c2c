"""The catalogue's version: a value every write to the catalogue's records or textbook
approvals changes, so a worker may keep search answers for a version and know when they
are stale (issue 17's search target; resolvers/library/windows.py).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A random value rather than a counter: databases cloned from one template (the tests') or
# restored from one backup start from the same count and would otherwise reuse one version for
# different catalogues in a worker that served both. Two databases share a version only when
# they share the history that produced it, so answers kept for it are theirs too. A rolled
# back write takes its version with it, and its answers are never asked for again.
BUMP = """
CREATE FUNCTION library_catalogue_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE library_catalogue_version
       SET version = (random() * 9.2e18)::bigint, changed_at = now()
     WHERE id = 1;
    RETURN NULL;
END $$
"""
TABLES = ("bib_record", "textbook_approval")


def upgrade() -> None:
    op.create_table(
        "library_catalogue_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_library_catalogue_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_catalogue_version")),
    )
    op.execute(
        "INSERT INTO library_catalogue_version (id, version) "
        "VALUES (1, (random() * 9.2e18)::bigint)"
    )
    op.execute(BUMP)
    for table in TABLES:
        # Per statement: a MARC import of thousands of records changes the version once.
        op.execute(
            f"CREATE TRIGGER {table}_catalogue_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION library_catalogue_bump()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS library_catalogue_bump()")
    op.drop_table("library_catalogue_version")

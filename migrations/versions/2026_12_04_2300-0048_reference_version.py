"""The reference data's versions: per set of reference data (the accreditation agencies, the
licensing policies with the programme classifier, the intake seasons, the admission seasons), a
value every write to its tables changes, so a worker may keep the answers of the public pages
that read it and know when they are stale (issue 21's reference pages; schema/http/kept.py).

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0048"
down_revision: str | None = "0047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A random value rather than a counter, as the lesson list's version (a database cloned from a
# template or restored from a backup never reuses a version for other data). The set is the
# trigger's argument.
BUMP = """
CREATE FUNCTION reference_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_version
       SET version = (random() * 9.2e18)::bigint, changed_at = now()
     WHERE name = TG_ARGV[0];
    RETURN NULL;
END $$
"""
# Each set and the tables its pages read.
SETS = {
    "accreditation_agencies": ("accreditation_agency",),
    "licensing_reference": ("licensing_policy", "programme_code"),
    "intake_seasons": ("intake_season", "kindergarten_age_group", "benefit_category"),
    "admission_seasons": ("admission_season", "admission_round", "admission_field_threshold"),
}


def upgrade() -> None:
    op.create_table(
        "reference_version",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reference_version")),
    )
    op.execute(BUMP)
    for name, tables in SETS.items():
        op.execute(
            "INSERT INTO reference_version (name, version) "
            f"VALUES ('{name}', (random() * 9.2e18)::bigint)"
        )
        for table in tables:
            # Per statement: an import that writes many rows changes it once.
            op.execute(
                f"CREATE TRIGGER {table}_reference_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION reference_version_bump('{name}')"
            )


def downgrade() -> None:
    for tables in SETS.values():
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_reference_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS reference_version_bump()")
    op.drop_table("reference_version")

"""EMIS statistics (issue 19): refresh the census rollups only where the registry changed.

Triggers on the tables the census counts (enrollment, staff_position, institution,
kindergarten_application, person, district, region) note each changed *area* (a region and
its district; the district is null for an institution directly under a region) in
``stat_dirty`` with the earliest census date the change can alter. The nightly refresh
recounts only those areas of the rolled-up dates on or after that date
(resolvers/analytics/rollups.py). Statement-level triggers over transition tables: one insert
per statement, not per row, so bulk loads (COPY) stay cheap; plain inserts without a unique
key, so concurrent writers never wait on each other's marks.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Insert the marks of a statement (a query yielding region_id, district_id, since), skipping
# an area already marked as far back.
MARK = """
INSERT INTO stat_dirty (region_id, district_id, since)
SELECT m.region_id, m.district_id, min(m.since)
FROM ({marks}) AS m
WHERE m.region_id IS NOT NULL
GROUP BY m.region_id, m.district_id
HAVING NOT EXISTS (
    SELECT 1 FROM stat_dirty AS s
    WHERE s.region_id = m.region_id AND s.district_id IS NOT DISTINCT FROM m.district_id
      AND s.since <= min(m.since)
)"""

# For each table: the marks of inserted or deleted rows (``{rows}`` is the transition table)
# and of updated ones (``old_rows`` joined to ``new_rows`` by id, only when a counted column
# changed).
INSTITUTION_AREA = "(SELECT region_id, district_id FROM institution WHERE id = {inst})"

ENROLLMENT_ROWS = """
SELECT i.region_id, i.district_id, r.entry_date AS since
FROM {rows} AS r JOIN institution AS i ON i.id = r.institution_id"""
# A change of anything but the exit date alters every census from the earlier entry date on;
# an exit date moved alters the census dates between the old and the new exit.
ENROLLMENT_UPDATE = """
SELECT i.region_id, i.district_id, c.since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
CROSS JOIN LATERAL (SELECT CASE
    WHEN (o.institution_id, o.person_id, o.sector, o.grade_level, o.class_group, o.entry_date)
         IS DISTINCT FROM
         (n.institution_id, n.person_id, n.sector, n.grade_level, n.class_group, n.entry_date)
    THEN least(o.entry_date, n.entry_date)
    WHEN o.exit_date IS DISTINCT FROM n.exit_date
    THEN least(coalesce(o.exit_date, 'infinity'), coalesce(n.exit_date, 'infinity'))
    END AS since) AS c
JOIN institution AS i ON i.id IN (o.institution_id, n.institution_id)
WHERE c.since IS NOT NULL"""

STAFF_ROWS = """
SELECT i.region_id, i.district_id, r.start_date AS since
FROM {rows} AS r JOIN institution AS i ON i.id = r.institution_id"""
STAFF_UPDATE = """
SELECT i.region_id, i.district_id, c.since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
CROSS JOIN LATERAL (SELECT CASE
    WHEN (o.institution_id, o.person_id, o.role, o.start_date)
         IS DISTINCT FROM (n.institution_id, n.person_id, n.role, n.start_date)
    THEN least(o.start_date, n.start_date)
    WHEN o.end_date IS DISTINCT FROM n.end_date
    THEN least(coalesce(o.end_date, 'infinity'), coalesce(n.end_date, 'infinity'))
    END AS since) AS c
JOIN institution AS i ON i.id IN (o.institution_id, n.institution_id)
WHERE c.since IS NOT NULL"""

INSTITUTION_ROWS = "SELECT r.region_id, r.district_id, '-infinity'::date AS since FROM {rows} AS r"
INSTITUTION_UPDATE = """
SELECT a.region_id, a.district_id, '-infinity'::date AS since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
CROSS JOIN LATERAL (VALUES (o.region_id, o.district_id), (n.region_id, n.district_id))
    AS a (region_id, district_id)
WHERE (o.kind, o.ownership, o.region_id, o.district_id, o.languages, o.design_capacity,
       o.opened_on, o.closed_on)
      IS DISTINCT FROM
      (n.kind, n.ownership, n.region_id, n.district_id, n.languages, n.design_capacity,
       n.opened_on, n.closed_on)"""

# The queue is counted by the child's registered district and its current status.
QUEUE_ROWS = """
SELECT d.region_id, d.id AS district_id, r.registered_at::date AS since
FROM {rows} AS r JOIN person AS p ON p.id = r.child_id
JOIN district AS d ON d.id = p.registered_district_id"""
QUEUE_UPDATE = """
SELECT d.region_id, d.id AS district_id, least(o.registered_at, n.registered_at)::date AS since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
JOIN person AS p ON p.id IN (o.child_id, n.child_id)
JOIN district AS d ON d.id = p.registered_district_id
WHERE (o.status, o.age_group, o.registered_at, o.child_id)
      IS DISTINCT FROM (n.status, n.age_group, n.registered_at, n.child_id)"""

# A person's sex, birth date or registered district is in every cell that counts them.
PERSON_UPDATE = """
WITH changed AS (
    SELECT n.id, o.registered_district_id AS old_district, n.registered_district_id
    FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
    WHERE (o.sex, o.birth_date, o.registered_district_id)
          IS DISTINCT FROM (n.sex, n.birth_date, n.registered_district_id)
)
SELECT i.region_id, i.district_id, '-infinity'::date AS since
FROM changed AS c JOIN enrollment AS e ON e.person_id = c.id
JOIN institution AS i ON i.id = e.institution_id
UNION ALL
SELECT i.region_id, i.district_id, '-infinity'::date
FROM changed AS c JOIN staff_position AS s ON s.person_id = c.id
JOIN institution AS i ON i.id = s.institution_id
UNION ALL
SELECT d.region_id, d.id, '-infinity'::date
FROM changed AS c JOIN district AS d ON d.id IN (c.old_district, c.registered_district_id)
WHERE EXISTS (SELECT 1 FROM kindergarten_application AS a WHERE a.child_id = c.id)"""

# Geography: a district's kind (urban/rural) or region changes its cells on every date.
DISTRICT_UPDATE = """
SELECT a.region_id, n.id AS district_id, '-infinity'::date AS since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
CROSS JOIN LATERAL (VALUES (o.region_id), (n.region_id)) AS a (region_id)
WHERE (o.kind, o.region_id) IS DISTINCT FROM (n.kind, n.region_id)"""
REGION_UPDATE = """
SELECT n.id AS region_id, d.id AS district_id, '-infinity'::date AS since
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
LEFT JOIN district AS d ON d.region_id = n.id
WHERE o.kind IS DISTINCT FROM n.kind
UNION ALL
SELECT n.id, NULL::int, '-infinity'::date
FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
WHERE o.kind IS DISTINCT FROM n.kind"""

# table -> (marks of inserted/deleted rows or None, marks of updated rows)
WATCHED: dict[str, tuple[str | None, str]] = {
    "enrollment": (ENROLLMENT_ROWS, ENROLLMENT_UPDATE),
    "staff_position": (STAFF_ROWS, STAFF_UPDATE),
    "institution": (INSTITUTION_ROWS, INSTITUTION_UPDATE),
    "kindergarten_application": (QUEUE_ROWS, QUEUE_UPDATE),
    "person": (None, PERSON_UPDATE),
    "district": (None, DISTRICT_UPDATE),
    "region": (None, REGION_UPDATE),
}


def _function(table: str, rows: str | None, update: str) -> str:
    branches = f"IF TG_OP = 'UPDATE' THEN\n{MARK.format(marks=update)};\n"
    if rows is not None:
        branches += (
            f"ELSIF TG_OP = 'INSERT' THEN\n{MARK.format(marks=rows.format(rows='new_rows'))};\n"
            f"ELSE\n{MARK.format(marks=rows.format(rows='old_rows'))};\n"
        )
    return f"""
CREATE FUNCTION stat_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{branches}END IF;
RETURN NULL;
END $$"""


def upgrade() -> None:
    op.create_table(
        "stat_dirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
    )
    op.create_index("ix_stat_dirty_area", "stat_dirty", ["region_id", "district_id"])
    op.add_column("stat_refresh", sa.Column("areas", sa.Integer(), nullable=True))
    for table, (rows, update) in WATCHED.items():
        op.execute(_function(table, rows, update))
        op.execute(
            f"CREATE TRIGGER stat_mark_update AFTER UPDATE ON {table} "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION stat_mark_{table}()"
        )
        if rows is not None:
            op.execute(
                f"CREATE TRIGGER stat_mark_insert AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS new_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION stat_mark_{table}()"
            )
            op.execute(
                f"CREATE TRIGGER stat_mark_delete AFTER DELETE ON {table} "
                "REFERENCING OLD TABLE AS old_rows "
                f"FOR EACH STATEMENT EXECUTE FUNCTION stat_mark_{table}()"
            )


def downgrade() -> None:
    for table in WATCHED:
        op.execute(f"DROP FUNCTION stat_mark_{table}() CASCADE")
    op.drop_column("stat_refresh", "areas")
    op.drop_table("stat_dirty")

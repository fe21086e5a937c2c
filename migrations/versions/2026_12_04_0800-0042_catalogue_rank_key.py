"""The catalogue's standing order: a rank key per record, walked by a b-tree (issue 17's search
target; resolvers/library/search.py, docs/domains/library.md "Search").

A new search by relevance walks the records in this order and stops once it has a window of
matches, instead of building the GIN bitmap of every match of a common word. The key says
what a reader of the e-library wants first when the words match equally: a record anyone
may read online (``open_access``), then a textbook by the latest school year the ministry
approved it for, then the newest edition (``year``); the b-tree's ``id`` breaks ties (the
newest record first).

* ``approved_year``: the latest school year a textbook is approved for, kept by a row trigger
  on ``textbook_approval`` (insert, update, delete), null for a record never approved.
* ``rank_key``: a stored generated column over ``open_access``, ``approved_year`` and
  ``year``, so every write of those (a record created, a file opened to all, an approval) keeps
  it without code remembering to: ``open_access`` x 2^24 + ``approved_year`` x 2^12 + ``year``
  (a year is below 4,096).
* ``ix_bib_record_rank`` on ``(rank_key, id)``: walked backwards.

Adding a stored generated column rewrites the table once (500,000 records: its indexes are
rebuilt, about a minute); only approved textbooks are then updated.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-04 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANK_KEY = (
    "CASE WHEN open_access THEN 16777216 ELSE 0 END"
    " + COALESCE(approved_year, 0) * 4096 + COALESCE(year, 0)"
)

# Per row: approvals are written one at a time by the ministry (approveTextbook); the record's
# UPDATE also changes the catalogue's version (its statement trigger), as the approval did.
APPROVED_YEAR = """
CREATE FUNCTION library_approved_year() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        touched := ARRAY[NEW.record_id];
    ELSIF TG_OP = 'DELETE' THEN
        touched := ARRAY[OLD.record_id];
    ELSE
        touched := ARRAY[NEW.record_id, OLD.record_id];
    END IF;
    UPDATE bib_record b
       SET approved_year = (SELECT max(a.school_year) FROM textbook_approval a
                             WHERE a.record_id = b.id)
     WHERE b.id = ANY (touched)
       AND b.approved_year IS DISTINCT FROM (SELECT max(a.school_year) FROM textbook_approval a
                                              WHERE a.record_id = b.id);
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.add_column("bib_record", sa.Column("approved_year", sa.SmallInteger(), nullable=True))
    op.add_column(
        "bib_record",
        sa.Column("rank_key", sa.Integer(), sa.Computed(RANK_KEY, persisted=True), nullable=False),
    )
    op.execute(
        "UPDATE bib_record b SET approved_year = a.latest FROM "
        "(SELECT record_id, max(school_year) AS latest FROM textbook_approval GROUP BY record_id) a "
        "WHERE a.record_id = b.id"
    )
    op.create_index("ix_bib_record_rank", "bib_record", ["rank_key", "id"], unique=False)
    op.execute(APPROVED_YEAR)
    op.execute(
        "CREATE TRIGGER textbook_approval_year AFTER INSERT OR UPDATE OR DELETE "
        "ON textbook_approval FOR EACH ROW EXECUTE FUNCTION library_approved_year()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS textbook_approval_year ON textbook_approval")
    op.execute("DROP FUNCTION IF EXISTS library_approved_year()")
    op.drop_index("ix_bib_record_rank", table_name="bib_record")
    op.drop_column("bib_record", "rank_key")
    op.drop_column("bib_record", "approved_year")

"""The catalogue's lexemes, and its filters in the search index (issue 17's search target;
resolvers/library/windows.py, docs/domains/library.md "Search").

* ``library_lexeme``: every lexeme of the records' search vectors that begins with a folded
  letter or digit, once, in byte order (``COLLATE "C"``, so a prefix is a range of the primary
  key), kept by a statement trigger on ``bib_record`` (insert, update) like ``library_word``.
  A search word is matched as a prefix (``kitep:*``); the GIN index reads a prefix by
  collecting every posting of every lexeme it begins into a bitmap, which for a common word
  costs several times what the same lexemes cost as exact entries, which the index intersects
  with the other words' (skipping). The window statement reads the lexemes a word begins here
  (a range of this table) and asks the index for those; the records found are the same.
* ``ix_bib_record_search`` becomes a GIN index over the search vector **and** the language,
  kind and open access (``btree_gin``): a word searched with one of those filters reads only
  the records that have both, instead of every record with the word (the planner read the
  whole table for "tugolbai" among textbooks: 35,000 pages for no match).

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-04 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A lexeme a folded search word (``[0-9a-z]+``) can begin.
FOLDED_START = "'^[0-9a-z]'"

LEXEMES_FUNCTION = f"""
CREATE FUNCTION library_lexemes_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO library_lexeme (lexeme)
    SELECT DISTINCT l FROM new_rows, unnest(tsvector_to_array(new_rows.search_vector)) AS l
    WHERE l ~ {FOLDED_START}
    ORDER BY l
    ON CONFLICT (lexeme) DO NOTHING;
    RETURN NULL;
END
$$
"""
LEXEMES_TRIGGERS = (
    "CREATE TRIGGER library_lexemes_insert AFTER INSERT ON bib_record "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION library_lexemes_add()",
    "CREATE TRIGGER library_lexemes_update AFTER UPDATE ON bib_record "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION library_lexemes_add()",
)

# A folded search word as a tsquery: the lexemes it begins (at most ``most``: the range of
# ``library_lexeme`` it is a prefix of) as exact entries, or, when it begins none or more than
# ``most``, the word as a prefix (``word:*``). The records it matches are the same either way.
# A folded word is ``[0-9a-z]+``, so its range ends at the word with its last letter's next.
# Each lexeme is quoted for the tsquery syntax (a quote or backslash in it doubled).
PREFIX_FUNCTION = r"""
CREATE FUNCTION library_prefix_query(word text, most integer) RETURNS tsquery
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN count(*) BETWEEN 1 AND most THEN
            string_agg('''' || replace(replace(l.lexeme, '\', '\\'), '''', '''''') || '''',
                       ' | ' ORDER BY l.lexeme)::tsquery
        ELSE to_tsquery('simple'::regconfig, word || ':*')
    END
    FROM (SELECT lexeme FROM library_lexeme
          WHERE lexeme >= word COLLATE "C"
            AND lexeme < (left(word, -1) || chr(ascii(right(word, 1)) + 1)) COLLATE "C"
          ORDER BY lexeme LIMIT most + 1) AS l
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_table(
        "library_lexeme",
        sa.Column("lexeme", sa.Text(collation="C"), nullable=False),
        sa.PrimaryKeyConstraint("lexeme", name=op.f("pk_library_lexeme")),
    )
    op.execute(
        "INSERT INTO library_lexeme (lexeme) SELECT DISTINCT l FROM bib_record, "
        f"unnest(tsvector_to_array(search_vector)) AS l WHERE l ~ {FOLDED_START}"
    )
    op.execute(LEXEMES_FUNCTION)
    for statement in LEXEMES_TRIGGERS:
        op.execute(statement)
    op.execute(PREFIX_FUNCTION)
    op.drop_index("ix_bib_record_search", table_name="bib_record")
    op.create_index(
        "ix_bib_record_search",
        "bib_record",
        ["search_vector", "language", "kind", "open_access"],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_bib_record_search", table_name="bib_record")
    op.create_index(
        "ix_bib_record_search",
        "bib_record",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    for name in ("library_lexemes_insert", "library_lexemes_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON bib_record")
    op.execute("DROP FUNCTION IF EXISTS library_prefix_query(text, integer)")
    op.execute("DROP FUNCTION IF EXISTS library_lexemes_add()")
    op.drop_table("library_lexeme")

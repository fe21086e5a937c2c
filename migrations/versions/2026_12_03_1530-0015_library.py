"""The libraries (issue 17): one catalogue (records, their digital files, textbook approvals),
the copies libraries hold, loans and holds, circulation policy rows (the hub's default: 14 days,
2 renewals, 5 loans, 3 days to pick up a hold), and the holdings summary kept by statement
triggers on library_item.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The holdings summary (library_holding) follows the copies: statement-level triggers with
# transition tables, so a bulk load of a library's copies (or COPY) adds its counts once per
# statement instead of once per row. Rows come in key order, so two statements touching the
# same summaries lock them in the same order.
_COUNTS = """
    SELECT institution_id, record_id,
           {sign} count(*) FILTER (WHERE status NOT IN ('lost', 'withdrawn')) AS held,
           {sign} count(*) FILTER (WHERE status = 'on_loan') AS on_loan,
           {sign} count(*) FILTER (WHERE status = 'available') AS available
    FROM {table} GROUP BY institution_id, record_id
"""
_UPSERT = """
    INSERT INTO library_holding AS h (institution_id, record_id, held, on_loan, available)
    SELECT institution_id, record_id, sum(held), sum(on_loan), sum(available)
    FROM ({rows}) AS c
    GROUP BY institution_id, record_id
    HAVING sum(held) <> 0 OR sum(on_loan) <> 0 OR sum(available) <> 0
    ORDER BY institution_id, record_id
    ON CONFLICT (institution_id, record_id) DO UPDATE
    SET held = h.held + excluded.held, on_loan = h.on_loan + excluded.on_loan,
        available = h.available + excluded.available;
"""
_PLUS = _COUNTS.format(sign="", table="new_rows")
_MINUS = _COUNTS.format(sign="-", table="old_rows")
HOLDING_FUNCTION = f"""
CREATE FUNCTION library_holding_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_UPSERT.format(rows=_PLUS)}
    ELSIF TG_OP = 'DELETE' THEN
        {_UPSERT.format(rows=_MINUS)}
    ELSE
        {_UPSERT.format(rows=_PLUS + " UNION ALL " + _MINUS)}
    END IF;
    RETURN NULL;
END
$$
"""
HOLDING_TRIGGERS = (
    "CREATE TRIGGER library_holding_insert AFTER INSERT ON library_item "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION library_holding_apply()",
    "CREATE TRIGGER library_holding_update AFTER UPDATE ON library_item "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION library_holding_apply()",
    "CREATE TRIGGER library_holding_delete AFTER DELETE ON library_item "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION library_holding_apply()",
)

# The catalogue's words, each once: what a misspelt search word is compared with.
WORDS_FUNCTION = """
CREATE FUNCTION library_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO library_word (word)
    SELECT DISTINCT w FROM new_rows, unnest(string_to_array(new_rows.folded, ' ')) AS w
    WHERE length(w) BETWEEN 3 AND 100
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$
"""
WORDS_TRIGGERS = (
    "CREATE TRIGGER library_words_insert AFTER INSERT ON bib_record "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION library_words_add()",
    "CREATE TRIGGER library_words_update AFTER UPDATE ON bib_record "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION library_words_add()",
)


def upgrade() -> None:
    op.create_table('bib_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('BibRecord:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('kind', sa.Enum('book', 'textbook', 'periodical', 'thesis', 'audiovisual', 'other', name='bibkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('subtitle', sa.String(length=500), nullable=True),
    sa.Column('authors', postgresql.ARRAY(sa.String(length=200)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('isbn', sa.String(length=13), nullable=True),
    sa.Column('language', sa.Enum('ky', 'ru', 'uz', 'tg', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('publisher', sa.String(length=300), nullable=True),
    sa.Column('year', sa.SmallInteger(), nullable=True),
    sa.Column('subjects', postgresql.ARRAY(sa.String(length=200)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('audience', sa.Enum('general', 'children', 'school', 'higher', 'professional', name='audience', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('school_subject', sa.String(length=100), nullable=True),
    sa.Column('grade', sa.SmallInteger(), nullable=True),
    sa.Column('curriculum', sa.Enum('twelve_year', 'eleven_year', name='curriculum', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('open_access', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('words', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('folded', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('russian'::regconfig, words), 'A') || to_tsvector('english'::regconfig, words) || to_tsvector('simple'::regconfig, folded)", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("isbn IS NULL OR isbn ~ '^(97[89])?[0-9]{9}[0-9X]$'", name=op.f('ck_bib_record_isbn_format')),
    sa.CheckConstraint("kind = 'textbook' OR (grade IS NULL AND school_subject IS NULL)", name=op.f('ck_bib_record_textbook_fields')),
    sa.CheckConstraint('grade IS NULL OR grade BETWEEN 1 AND 12', name=op.f('ck_bib_record_grade')),
    sa.CheckConstraint('length(btrim(title)) > 0', name=op.f('ck_bib_record_title')),
    sa.CheckConstraint('year IS NULL OR year BETWEEN 1000 AND 2200', name=op.f('ck_bib_record_year')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bib_record'))
    )
    op.create_table('library_word',
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_library_word'))
    )
    op.create_index('ix_library_word_trgm', 'library_word', [sa.literal_column('word gin_trgm_ops')], unique=False, postgresql_using='gin')
    op.execute(WORDS_FUNCTION)
    for statement in WORDS_TRIGGERS:
        op.execute(statement)
    op.create_index('ix_bib_record_search', 'bib_record', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_bib_record_textbook', 'bib_record', ['grade', 'school_subject', 'language', 'id'], unique=False)
    op.create_index('ix_bib_record_updated', 'bib_record', ['updated_at', 'id'], unique=False)
    op.create_index('uq_bib_record_isbn', 'bib_record', ['isbn'], unique=True, postgresql_where=sa.text('isbn IS NOT NULL'))
    op.create_table('textbook_approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('school_year', sa.SmallInteger(), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('school_year BETWEEN 2000 AND 2100', name=op.f('ck_textbook_approval_school_year')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_textbook_approval_record_id_bib_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_textbook_approval'))
    )
    op.create_index('ix_textbook_approval_year', 'textbook_approval', ['school_year', 'record_id'], unique=False)
    op.create_index('uq_textbook_approval', 'textbook_approval', ['record_id', 'school_year'], unique=True)
    op.create_table('bib_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('BibFile:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.Enum('pdf', 'epub', name='fileformat', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('access', sa.Enum('open', 'signed_in', 'institution', name='fileaccess', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('licence', sa.String(length=100), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(access = 'institution') = (institution_id IS NOT NULL)", name=op.f('ck_bib_file_institution_access')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_bib_file_institution_id_institution')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_bib_file_record_id_bib_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['file_object.sha256'], name=op.f('fk_bib_file_sha256_file_object')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bib_file'))
    )
    op.create_index('ix_bib_file_record', 'bib_file', ['record_id', 'id'], unique=False)
    op.create_table('library_holding',
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('on_loan', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('available', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_library_holding_institution_id_institution')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_library_holding_record_id_bib_record')),
    sa.PrimaryKeyConstraint('institution_id', 'record_id', name=op.f('pk_library_holding'))
    )
    op.create_index('ix_library_holding_record', 'library_holding', ['record_id', 'institution_id'], unique=False)
    op.create_table('library_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('LibraryItem:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('barcode', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('available', 'on_loan', 'on_hold_shelf', 'lost', 'withdrawn', name='itemstatus', native_enum=False, create_constraint=True, length=32), server_default=sa.text("'available'"), nullable=False),
    sa.Column('shelf_mark', sa.String(length=60), nullable=True),
    sa.Column('acquired_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("barcode ~ '^[0-9A-Za-z-]{1,40}$'", name=op.f('ck_library_item_barcode_format')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_library_item_institution_id_institution')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_library_item_record_id_bib_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_item'))
    )
    op.create_index('ix_library_item_record', 'library_item', ['record_id', 'institution_id', 'status'], unique=False)
    op.create_index('uq_library_item_barcode', 'library_item', ['institution_id', 'barcode'], unique=True)
    op.create_table('library_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('loan_days', sa.SmallInteger(), nullable=False),
    sa.Column('max_renewals', sa.SmallInteger(), nullable=False),
    sa.Column('max_loans', sa.SmallInteger(), nullable=False),
    sa.Column('hold_pickup_days', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('hold_pickup_days BETWEEN 1 AND 60', name=op.f('ck_library_policy_hold_pickup_days')),
    sa.CheckConstraint('loan_days BETWEEN 1 AND 400', name=op.f('ck_library_policy_loan_days')),
    sa.CheckConstraint('max_loans BETWEEN 1 AND 500', name=op.f('ck_library_policy_max_loans')),
    sa.CheckConstraint('max_renewals BETWEEN 0 AND 20', name=op.f('ck_library_policy_max_renewals')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_library_policy_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_policy'))
    )
    op.create_index('uq_library_policy_institution', 'library_policy', [sa.literal_column('coalesce(institution_id, 0)')], unique=True)
    op.create_table('library_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('Hold:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'ready', 'fulfilled', 'cancelled', 'expired', name='holdstatus', native_enum=False, create_constraint=True, length=32), server_default=sa.text("'waiting'"), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'ready') = (expires_on IS NOT NULL)", name=op.f('ck_library_hold_ready_expiry')),
    sa.CheckConstraint("(status = 'ready') = (item_id IS NOT NULL)", name=op.f('ck_library_hold_ready_item')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_library_hold_institution_id_institution')),
    sa.ForeignKeyConstraint(['item_id'], ['library_item.id'], name=op.f('fk_library_hold_item_id_library_item')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_library_hold_person_id_person')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_library_hold_record_id_bib_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_hold'))
    )
    op.create_index('ix_library_hold_person', 'library_hold', ['person_id', 'id'], unique=False)
    op.create_index('ix_library_hold_queue', 'library_hold', ['record_id', 'institution_id', 'placed_at', 'id'], unique=False, postgresql_where=sa.text("status = 'waiting'"))
    op.create_index('uq_library_hold_item', 'library_hold', ['item_id'], unique=True, postgresql_where=sa.text("status = 'ready'"))
    op.create_index('uq_library_hold_open', 'library_hold', ['record_id', 'institution_id', 'person_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'ready')"))
    op.create_table('loan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gid', sa.Text(), sa.Computed("rtrim(translate(encode(CAST(('Loan:' || id::text) AS bytea), 'base64'), '+/', '-_'), '=')", persisted=True), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('loaned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewals', sa.SmallInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('overdue_since', sa.Date(), nullable=True),
    sa.Column('textbook_issue', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint('renewals >= 0', name=op.f('ck_loan_renewals')),
    sa.CheckConstraint('returned_at IS NULL OR returned_at >= loaned_at', name=op.f('ck_loan_period')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_loan_institution_id_institution')),
    sa.ForeignKeyConstraint(['item_id'], ['library_item.id'], name=op.f('fk_loan_item_id_library_item')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_loan_person_id_person')),
    sa.ForeignKeyConstraint(['record_id'], ['bib_record.id'], name=op.f('fk_loan_record_id_bib_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan'))
    )
    op.create_index('ix_loan_due_open', 'loan', ['due_on'], unique=False, postgresql_where=sa.text('returned_at IS NULL'))
    op.create_index('ix_loan_open_institution', 'loan', ['institution_id', 'due_on', 'id'], unique=False, postgresql_where=sa.text('returned_at IS NULL'))
    op.create_index('ix_loan_person', 'loan', ['person_id', 'id'], unique=False)
    op.create_index('uq_loan_open_item', 'loan', ['item_id'], unique=True, postgresql_where=sa.text('returned_at IS NULL'))
    op.execute(HOLDING_FUNCTION)
    for statement in HOLDING_TRIGGERS:
        op.execute(statement)
    op.execute(
        "INSERT INTO library_policy (institution_id, loan_days, max_renewals, max_loans, "
        "hold_pickup_days) VALUES (NULL, 14, 2, 5, 3)"
    )


def downgrade() -> None:
    for name in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS library_holding_{name} ON library_item')
    op.execute('DROP FUNCTION IF EXISTS library_holding_apply()')
    op.drop_index('uq_loan_open_item', table_name='loan', postgresql_where=sa.text('returned_at IS NULL'))
    op.drop_index('ix_loan_person', table_name='loan')
    op.drop_index('ix_loan_open_institution', table_name='loan', postgresql_where=sa.text('returned_at IS NULL'))
    op.drop_index('ix_loan_due_open', table_name='loan', postgresql_where=sa.text('returned_at IS NULL'))
    op.drop_table('loan')
    op.drop_index('uq_library_hold_open', table_name='library_hold', postgresql_where=sa.text("status IN ('waiting', 'ready')"))
    op.drop_index('uq_library_hold_item', table_name='library_hold', postgresql_where=sa.text("status = 'ready'"))
    op.drop_index('ix_library_hold_queue', table_name='library_hold', postgresql_where=sa.text("status = 'waiting'"))
    op.drop_index('ix_library_hold_person', table_name='library_hold')
    op.drop_table('library_hold')
    op.drop_index('uq_library_policy_institution', table_name='library_policy')
    op.drop_table('library_policy')
    op.drop_index('uq_library_item_barcode', table_name='library_item')
    op.drop_index('ix_library_item_record', table_name='library_item')
    op.drop_table('library_item')
    op.drop_index('ix_library_holding_record', table_name='library_holding')
    op.drop_table('library_holding')
    op.drop_index('ix_bib_file_record', table_name='bib_file')
    op.drop_table('bib_file')
    op.drop_index('uq_textbook_approval', table_name='textbook_approval')
    op.drop_index('ix_textbook_approval_year', table_name='textbook_approval')
    op.drop_table('textbook_approval')
    op.drop_index('uq_bib_record_isbn', table_name='bib_record', postgresql_where=sa.text('isbn IS NOT NULL'))
    op.drop_index('ix_bib_record_updated', table_name='bib_record')
    op.drop_index('ix_bib_record_textbook', table_name='bib_record')
    op.drop_index('ix_bib_record_search', table_name='bib_record', postgresql_using='gin')
    op.execute('DROP TRIGGER IF EXISTS library_words_insert ON bib_record')
    op.execute('DROP TRIGGER IF EXISTS library_words_update ON bib_record')
    op.execute('DROP FUNCTION IF EXISTS library_words_add()')
    op.drop_index('ix_library_word_trgm', table_name='library_word', postgresql_using='gin')
    op.drop_table('library_word')
    op.drop_table('bib_record')

"""Foundation: geography, people, institutions, enrollments, audit log and outbox.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 22:04:14.233862
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.geography_data import DISTRICTS, REGIONS

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('api_key_prefix', sa.String(length=20), nullable=True),
    sa.Column('operation', sa.String(length=80), nullable=False),
    sa.Column('target_type', sa.String(length=60), nullable=True),
    sa.Column('target_id', sa.BigInteger(), nullable=True),
    sa.Column('outcome', sa.Enum('succeeded', 'rejected', 'forbidden', name='outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('error_codes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor'], unique=False)
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_index('ix_audit_log_target', 'audit_log', ['target_type', 'target_id'], unique=False)
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('topic', sa.String(length=80), nullable=False),
    sa.Column('aggregate_type', sa.String(length=60), nullable=False),
    sa.Column('aggregate_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('region',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.Enum('oblast', 'city', name='regionkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name_ky', sa.String(length=200), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), server_default=sa.text("'1991-08-31'"), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_region_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region')),
    sa.UniqueConstraint('code', name=op.f('uq_region_code'))
    )
    op.create_table('district',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('rayon', 'city', 'city_district', 'ayil_aimak', name='districtkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name_ky', sa.String(length=200), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), server_default=sa.text("'1991-08-31'"), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_district_period')),
    sa.ForeignKeyConstraint(['parent_id'], ['district.id'], name=op.f('fk_district_parent_id_district')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_district_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('code', name=op.f('uq_district_code')),
    sa.UniqueConstraint('id', 'region_id', name='uq_district_id_region')
    )
    op.create_index(op.f('ix_district_region_id'), 'district', ['region_id'], unique=False)
    op.create_table('institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('kindergarten', 'school', 'college', 'university', 'foreign_university', name='institutionkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('ownership', sa.Enum('state', 'municipal', 'private', name='ownership', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_ru', sa.String(length=300), nullable=True),
    sa.Column('legal_id', sa.String(length=14), nullable=True),
    sa.Column('country_code', sa.String(length=2), server_default=sa.text("'KG'"), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=400), nullable=True),
    sa.Column('languages', sa.ARRAY(sa.String(length=2)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('design_capacity', sa.Integer(), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'foreign_university') = (country_code <> 'KG')", name=op.f('ck_institution_foreign_country')),
    sa.CheckConstraint("kind = 'foreign_university' OR region_id IS NOT NULL", name=op.f('ck_institution_domestic_region')),
    sa.CheckConstraint("legal_id IS NULL OR legal_id ~ '^[0-9]{14}$'", name=op.f('ck_institution_legal_id_format')),
    sa.CheckConstraint('closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on', name=op.f('ck_institution_period')),
    sa.CheckConstraint('design_capacity IS NULL OR design_capacity >= 0', name=op.f('ck_institution_capacity')),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_institution_district_id_district')),
    sa.ForeignKeyConstraint(['district_id', 'region_id'], ['district.id', 'district.region_id'], name='fk_institution_district_in_region'),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_institution_region_id_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution'))
    )
    op.create_index(op.f('ix_institution_district_id'), 'institution', ['district_id'], unique=False)
    op.create_index('ix_institution_name', 'institution', ['name', 'id'], unique=False)
    op.create_index('ix_institution_region_kind', 'institution', ['region_id', 'kind', 'id'], unique=False)
    op.create_index('uq_institution_legal_id', 'institution', ['legal_id'], unique=True, postgresql_where=sa.text('legal_id IS NOT NULL'))
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pin', sa.String(length=14), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('patronymic', sa.String(length=100), nullable=True),
    sa.Column('sex', sa.Enum('female', 'male', name='sex', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('registered_district_id', sa.Integer(), nullable=True),
    sa.Column('registered_address', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['registered_district_id'], ['district.id'], name=op.f('fk_person_registered_district_id_district')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    op.create_index('ix_person_name', 'person', ['last_name', 'first_name', 'id'], unique=False)
    op.create_index('ix_person_name_trgm', 'person', [sa.literal_column("(lower(last_name || ' ' || first_name)) gin_trgm_ops")], unique=False, postgresql_using='gin')
    op.create_index('uq_person_pin_current', 'person', ['pin'], unique=True, postgresql_where=sa.text('pin IS NOT NULL'))
    op.create_table('catchment_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('streets', sa.ARRAY(sa.String(length=200)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['district.id'], name=op.f('fk_catchment_area_district_id_district')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_catchment_area_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catchment_area'))
    )
    op.create_index(op.f('ix_catchment_area_district_id'), 'catchment_area', ['district_id'], unique=False)
    op.create_index(op.f('ix_catchment_area_institution_id'), 'catchment_area', ['institution_id'], unique=False)
    op.create_table('enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('sector', sa.Enum('preschool', 'school', 'vocational', 'higher', 'abroad', name='sector', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('exit_date', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.Enum('transferred', 'withdrawn', 'graduated', 'completed_level', 'moved_abroad', 'expelled', 'deceased', 'other', name='exitreason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('grade_level', sa.SmallInteger(), nullable=True),
    sa.Column('programme', sa.String(length=200), nullable=True),
    sa.Column('class_group', sa.String(length=20), nullable=True),
    sa.Column('previous_enrollment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('person_id'), '='), (sa.text("daterange(entry_date, exit_date, '[)')"), '&&'), where=sa.text("sector = 'school'"), using='gist', name='ex_enrollment_school_overlap'),
    sa.CheckConstraint('(exit_date IS NULL) = (exit_reason IS NULL)', name=op.f('ck_enrollment_exit_reason')),
    sa.CheckConstraint('exit_date IS NULL OR exit_date >= entry_date', name=op.f('ck_enrollment_period')),
    sa.CheckConstraint('grade_level IS NULL OR grade_level BETWEEN 0 AND 12', name=op.f('ck_enrollment_grade')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_enrollment_institution_id_institution')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_enrollment_person_id_person')),
    sa.ForeignKeyConstraint(['previous_enrollment_id'], ['enrollment.id'], name=op.f('fk_enrollment_previous_enrollment_id_enrollment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment'))
    )
    op.create_index('ix_enrollment_institution_open', 'enrollment', ['institution_id', 'id'], unique=False, postgresql_where=sa.text('exit_date IS NULL'))
    op.create_index('ix_enrollment_person', 'enrollment', ['person_id', 'entry_date'], unique=False)
    op.create_index('uq_enrollment_open_school', 'enrollment', ['person_id'], unique=True, postgresql_where=sa.text("sector = 'school' AND exit_date IS NULL"))
    op.create_table('guardianship',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('mother', 'father', 'legal_guardian', 'trustee', 'foster_parent', name='guardiankind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('valid_from', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint('guardian_id <> child_id', name=op.f('ck_guardianship_not_self')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_guardianship_period')),
    sa.ForeignKeyConstraint(['child_id'], ['person.id'], name=op.f('fk_guardianship_child_id_person')),
    sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_guardianship_guardian_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardianship'))
    )
    op.create_index(op.f('ix_guardianship_child_id'), 'guardianship', ['child_id'], unique=False)
    op.create_index(op.f('ix_guardianship_guardian_id'), 'guardianship', ['guardian_id'], unique=False)
    op.create_index('uq_guardianship_active', 'guardianship', ['guardian_id', 'child_id'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_table('person_pin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('pin', sa.String(length=14), nullable=False),
    sa.Column('reason', sa.Enum('issued', 'reissued', 'corrected', name='pinchangereason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("pin ~ '^[12][0-9]{13}$'", name=op.f('ck_person_pin_pin_format')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_person_pin_period')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_pin_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_pin'))
    )
    op.create_index(op.f('ix_person_pin_person_id'), 'person_pin', ['person_id'], unique=False)
    op.create_index(op.f('ix_person_pin_pin'), 'person_pin', ['pin'], unique=False)
    op.create_index('uq_person_pin_person_current', 'person_pin', ['person_id'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_index('uq_person_pin_pin_current', 'person_pin', ['pin'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_table('staff_position',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('director', 'deputy_director', 'teacher', 'educator', 'lecturer', 'librarian', 'administrator', 'other', name='staffrole', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=100), nullable=True),
    sa.Column('rate', sa.Double(), server_default=sa.text('1.0'), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_staff_position_period')),
    sa.CheckConstraint('rate > 0 AND rate <= 2', name=op.f('ck_staff_position_rate')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_staff_position_institution_id_institution')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_staff_position_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_position'))
    )
    op.create_index(op.f('ix_staff_position_institution_id'), 'staff_position', ['institution_id'], unique=False)
    op.create_index(op.f('ix_staff_position_person_id'), 'staff_position', ['person_id'], unique=False)

    # The audit trail is append-only: the database refuses to change or remove a row.
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )

    region = sa.table(
        'region', sa.column('id', sa.Integer), sa.column('code', sa.String), sa.column('kind', sa.String),
        sa.column('name_ky', sa.String), sa.column('name_ru', sa.String), sa.column('name_en', sa.String),
    )
    district = sa.table(
        'district', sa.column('id', sa.Integer), sa.column('region_id', sa.Integer),
        sa.column('code', sa.String), sa.column('kind', sa.String), sa.column('name_ky', sa.String),
        sa.column('name_ru', sa.String), sa.column('name_en', sa.String),
    )
    op.bulk_insert(region, REGIONS)
    op.bulk_insert(district, DISTRICTS)
    op.execute("SELECT setval(pg_get_serial_sequence('region', 'id'), (SELECT max(id) FROM region))")
    op.execute("SELECT setval(pg_get_serial_sequence('district', 'id'), (SELECT max(id) FROM district))")


def downgrade() -> None:
    op.drop_index(op.f('ix_staff_position_person_id'), table_name='staff_position')
    op.drop_index(op.f('ix_staff_position_institution_id'), table_name='staff_position')
    op.drop_table('staff_position')
    op.drop_index('uq_person_pin_pin_current', table_name='person_pin', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index('uq_person_pin_person_current', table_name='person_pin', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_person_pin_pin'), table_name='person_pin')
    op.drop_index(op.f('ix_person_pin_person_id'), table_name='person_pin')
    op.drop_table('person_pin')
    op.drop_index('uq_guardianship_active', table_name='guardianship', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_guardianship_guardian_id'), table_name='guardianship')
    op.drop_index(op.f('ix_guardianship_child_id'), table_name='guardianship')
    op.drop_table('guardianship')
    op.drop_index('uq_enrollment_open_school', table_name='enrollment', postgresql_where=sa.text("sector = 'school' AND exit_date IS NULL"))
    op.drop_index('ix_enrollment_person', table_name='enrollment')
    op.drop_index('ix_enrollment_institution_open', table_name='enrollment', postgresql_where=sa.text('exit_date IS NULL'))
    op.drop_table('enrollment')
    op.drop_index(op.f('ix_catchment_area_institution_id'), table_name='catchment_area')
    op.drop_index(op.f('ix_catchment_area_district_id'), table_name='catchment_area')
    op.drop_table('catchment_area')
    op.drop_index('uq_person_pin_current', table_name='person', postgresql_where=sa.text('pin IS NOT NULL'))
    op.drop_index('ix_person_name_trgm', table_name='person', postgresql_using='gin')
    op.drop_index('ix_person_name', table_name='person')
    op.drop_table('person')
    op.drop_index('uq_institution_legal_id', table_name='institution', postgresql_where=sa.text('legal_id IS NOT NULL'))
    op.drop_index('ix_institution_region_kind', table_name='institution')
    op.drop_index('ix_institution_name', table_name='institution')
    op.drop_index(op.f('ix_institution_district_id'), table_name='institution')
    op.drop_table('institution')
    op.drop_index(op.f('ix_district_region_id'), table_name='district')
    op.drop_table('district')
    op.drop_table('region')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox')
    op.drop_index('ix_audit_log_target', table_name='audit_log')
    op.drop_index('ix_audit_log_at', table_name='audit_log')
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_table('audit_log')
    op.execute('DROP FUNCTION audit_log_append_only()')

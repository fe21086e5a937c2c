"""Access and API safety: partners' API keys, hourly cost budgets, persisted queries, audit
columns (operation name, redacted variables) and teachers' class groups.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-25 22:45:47.169841
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=120), nullable=True),
    sa.Column('allowed_fields', postgresql.ARRAY(sa.String(length=120)), nullable=False),
    sa.Column('personal_data', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('region_ids', postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('points_per_hour', sa.Integer(), nullable=False),
    sa.CheckConstraint("prefix ~ '^[a-z0-9]{8}$'", name=op.f('ck_api_key_prefix_format')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_api_key_expiry')),
    sa.CheckConstraint('points_per_hour > 0', name=op.f('ck_api_key_points_per_hour')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_key_prefix'))
    )
    op.create_table('cost_budget',
    sa.Column('subject', sa.String(length=160), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'window_start', name=op.f('pk_cost_budget'))
    )
    op.create_index('ix_cost_budget_window_start', 'cost_budget', ['window_start'], unique=False)
    op.create_table('persisted_query',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_persisted_query_sha256_format')),
    sa.CheckConstraint('length(document) <= 100000', name=op.f('ck_persisted_query_document_size')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_persisted_query'))
    )
    op.add_column('audit_log', sa.Column('operation_name', sa.String(length=120), nullable=True))
    op.add_column('audit_log', sa.Column('variables', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.create_index('ix_audit_log_api_key_prefix', 'audit_log', ['api_key_prefix'], unique=False)
    op.create_index('ix_audit_log_request_id', 'audit_log', ['request_id'], unique=False)
    op.add_column('staff_position', sa.Column('class_groups', postgresql.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'::varchar[]"), nullable=False))


def downgrade() -> None:
    op.drop_column('staff_position', 'class_groups')
    op.drop_index('ix_audit_log_request_id', table_name='audit_log')
    op.drop_index('ix_audit_log_api_key_prefix', table_name='audit_log')
    op.drop_column('audit_log', 'variables')
    op.drop_column('audit_log', 'operation_name')
    op.drop_table('persisted_query')
    op.drop_index('ix_cost_budget_window_start', table_name='cost_budget')
    op.drop_table('cost_budget')
    op.drop_table('api_key')

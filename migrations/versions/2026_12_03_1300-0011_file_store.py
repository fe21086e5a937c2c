"""The file store's table: every file the hub holds, once, by the SHA-256 of its content.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_object",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_file_object_sha256_hex")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_file_object_size_not_negative")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_file_object")),
    )


def downgrade() -> None:
    op.drop_table("file_object")

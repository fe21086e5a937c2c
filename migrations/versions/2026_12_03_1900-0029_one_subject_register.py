"""One subject register (issues 15 and 16): learning content's ``content_subject`` (upper-case
codes, keyed by code) and the LMS's ``subject`` (lower-case codes, keyed by id) described the
same school subjects. The LMS's table stays (its plans, classes, timetable, lessons, marks and
homework refer to it by id, and the big tables are partitioned); content's subjects join it
under lower-case codes, the two named differently mapped (ART is fine_arts, NATURE_STUDIES is
natural_science); curriculum units and lessons keep their code column, now a foreign key to
``subject.code``; ``content_subject`` goes. The stored global IDs become ``Subject:N`` (the one
GraphQL type is ``Subject``).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 19:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# content's code -> the register's, where lower-casing is not enough.
RENAMED = {"ART": "fine_arts", "NATURE_STUDIES": "natural_science"}

_CASE = "CASE {col} " + " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in RENAMED.items())
TO_REGISTER = _CASE + " ELSE lower({col}) END"
FROM_REGISTER = (
    "CASE {col} "
    + " ".join(f"WHEN '{new}' THEN '{old}'" for old, new in RENAMED.items())
    + " ELSE upper({col}) END"
)

CONTENT_TABLES = ("curriculum_unit", "lesson")


def _gid(type_name: str) -> sa.Computed:
    return sa.Computed(
        f"rtrim(translate(encode(CAST(('{type_name}:' || id::text) AS bytea), 'base64'),"
        " '+/', '-_'), '=')",
        persisted=True,
    )


def _set_gid(type_name: str) -> None:
    op.drop_column("subject", "gid")
    op.add_column("subject", sa.Column("gid", sa.Text(), _gid(type_name), nullable=False))


def upgrade() -> None:
    # The LMS's names stay where both registers have a subject; content's others join.
    op.execute(
        "INSERT INTO subject (code, name_ky, name_ru, name_en)"
        f" SELECT {TO_REGISTER.format(col='code')}, name_ky, name_ru, name_en"
        " FROM content_subject ON CONFLICT (code) DO NOTHING"
    )
    for table in CONTENT_TABLES:
        op.drop_constraint(f"fk_{table}_subject_code_content_subject", table, type_="foreignkey")
        op.execute(f"UPDATE {table} SET subject_code = {TO_REGISTER.format(col='subject_code')}")
        op.create_foreign_key(
            f"fk_{table}_subject_code_subject", table, "subject", ["subject_code"], ["code"]
        )
    op.drop_table("content_subject")
    _set_gid("Subject")


def downgrade() -> None:
    _set_gid("SchoolSubject")
    op.create_table(
        "content_subject",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_ky", sa.String(length=200), nullable=False),
        sa.Column("name_ru", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_content_subject")),
    )
    # Every subject goes back to content (content's own and the LMS's): content's rows may
    # name any of them by now; the LMS keeps its table as it was but for the rows content
    # brought, which stay (a downgrade removes no subject a class may use).
    op.execute(
        "INSERT INTO content_subject (code, name_ky, name_ru, name_en)"
        f" SELECT {FROM_REGISTER.format(col='code')}, name_ky, name_ru, name_en FROM subject"
    )
    for table in CONTENT_TABLES:
        op.drop_constraint(f"fk_{table}_subject_code_subject", table, type_="foreignkey")
        op.execute(f"UPDATE {table} SET subject_code = {FROM_REGISTER.format(col='subject_code')}")
        op.create_foreign_key(
            f"fk_{table}_subject_code_content_subject",
            table,
            "content_subject",
            ["subject_code"],
            ["code"],
        )

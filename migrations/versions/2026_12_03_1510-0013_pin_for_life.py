"""A PIN is for life (domain.md P1; issue 12, finding 9): an exclusion constraint on the PIN
history forbids any row to give a PIN to a person other than one who held it before, current
or former (btree_gist: ``pin WITH =, person_id WITH <>``).

A database where two persons already share a PIN in their histories cannot take the constraint
as it is: the migration stops and says how many PINs, never which (no personal data in logs);
the registry office decides whose each one is.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ex_person_pin_one_holder"
SHARED = """
SELECT count(*) FROM (
    SELECT pin FROM person_pin GROUP BY pin HAVING count(DISTINCT person_id) > 1
) AS shared
"""


def upgrade() -> None:
    shared = op.get_bind().execute(sa.text(SHARED)).scalar_one()
    if shared:
        raise RuntimeError(
            f"{shared} PIN(s) appear in the histories of more than one person: settle whose "
            "each one is (the registry office) before this migration (0013, a PIN is for life)"
        )
    op.execute(
        f"ALTER TABLE person_pin ADD CONSTRAINT {NAME} "
        "EXCLUDE USING gist (pin WITH =, person_id WITH <>)"
    )


def downgrade() -> None:
    op.drop_constraint(NAME, "person_pin", type_="exclude")

"""Geography (issue 14.1; domain.md G1, G2): the cities of oblast significance the foundation
missed (Sulukta in Batken; Kara-Köl, Mailuu-Suu and Tash-Kömür in Jalal-Abad), and the
national classifier's (SOATE) code of each region. The rows are read from
``migrations/data/*.csv`` so the data can be reviewed apart from the code; the new cities join
the regional-town grant pool like the other cities (0004).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 16:30:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATA = Path(__file__).resolve().parent.parent / "data"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def upgrade() -> None:
    op.add_column("region", sa.Column("soate", sa.String(length=14), nullable=True))
    op.add_column("district", sa.Column("soate", sa.String(length=14), nullable=True))
    op.create_unique_constraint("uq_region_soate", "region", ["soate"])
    op.create_unique_constraint("uq_district_soate", "district", ["soate"])
    bind = op.get_bind()
    for row in _rows("region_soate.csv"):
        bind.execute(
            sa.text("UPDATE region SET soate = :soate WHERE code = :code"),
            {"soate": row["soate"], "code": row["region_code"]},
        )
    for row in _rows("cities_of_oblast_significance.csv"):
        bind.execute(
            sa.text(
                "INSERT INTO district (region_id, code, kind, name_ky, name_ru, name_en)"
                " SELECT id, :code, :kind, :ky, :ru, :en FROM region WHERE code = :region"
            ),
            {
                "region": row["region_code"],
                "code": f"{row['region_code']}-{row['slug']}",
                "kind": row["kind"],
                "ky": row["name_ky"],
                "ru": row["name_ru"],
                "en": row["name_en"],
            },
        )
        bind.execute(
            sa.text(
                "INSERT INTO admission_district_pool (district_id, pool)"
                " SELECT id, 'regional_town' FROM district WHERE code = :code"
            ),
            {"code": f"{row['region_code']}-{row['slug']}"},
        )


def downgrade() -> None:
    codes = [f"{r['region_code']}-{r['slug']}" for r in _rows("cities_of_oblast_significance.csv")]
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "DELETE FROM admission_district_pool WHERE district_id IN"
            " (SELECT id FROM district WHERE code = ANY(:codes))"
        ),
        {"codes": codes},
    )
    bind.execute(sa.text("DELETE FROM district WHERE code = ANY(:codes)"), {"codes": codes})
    op.drop_constraint("uq_district_soate", "district", type_="unique")
    op.drop_constraint("uq_region_soate", "region", type_="unique")
    op.drop_column("district", "soate")
    op.drop_column("region", "soate")

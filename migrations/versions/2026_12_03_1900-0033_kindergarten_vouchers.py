"""Kindergarten vouchers (issue 14.7; domain.md K8): a place in a private kindergarten paid by
the state for a low-income family's child or a child with a disability.

The database holds: one live voucher per child (partial unique index); what each state
carries (CHECKs); the transitions a voucher may take (a trigger: claimed -> verified, refused
or ended; verified -> in use or ended; in use -> ended; refused and ended are final; a new
voucher starts claimed); and that a voucher is used only at a private kindergarten (the same
trigger). Each trigger raises with a constraint name the hub maps to a typed error.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


FUNCTIONS = r"""
CREATE FUNCTION kindergarten_voucher_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'claimed' THEN
            RAISE EXCEPTION 'a voucher starts as a claim'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_kindergarten_voucher_transition';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
           (OLD.status = 'claimed' AND NEW.status IN ('verified', 'refused', 'ended'))
        OR (OLD.status = 'verified' AND NEW.status IN ('in_use', 'ended'))
        OR (OLD.status = 'in_use' AND NEW.status = 'ended')
    ) THEN
        RAISE EXCEPTION 'a voucher cannot go from % to %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_kindergarten_voucher_transition';
    END IF;
    IF NEW.status = OLD.status AND OLD.status IN ('refused', 'ended')
       AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
        RAISE EXCEPTION 'a refused or ended voucher is not changed'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_kindergarten_voucher_transition';
    END IF;
    IF NEW.status = 'in_use' AND OLD.status <> 'in_use' THEN
        PERFORM 1 FROM institution i
         WHERE i.id = NEW.kindergarten_id AND i.kind = 'kindergarten'
           AND i.ownership = 'private';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'a voucher is used at a private kindergarten'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'ck_kindergarten_voucher_private_kindergarten';
        END IF;
    END IF;
    RETURN NEW;
END $$;
"""

TRIGGER = r"""
CREATE TRIGGER kindergarten_voucher_transition
    BEFORE INSERT OR UPDATE ON kindergarten_voucher
    FOR EACH ROW EXECUTE FUNCTION kindergarten_voucher_transition();
"""


def upgrade() -> None:
    op.create_table(
        "kindergarten_voucher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("season_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("ground", _enum("voucherground", "low_income", "disability"), nullable=False),
        sa.Column("proof", sa.String(length=300), nullable=False),
        sa.Column(
            "status",
            _enum("voucherstatus", "claimed", "verified", "refused", "in_use", "ended"),
            nullable=False,
        ),
        sa.Column(
            "claimed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_reason", sa.String(length=200), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("kindergarten_id", sa.Integer(), nullable=True),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column(
            "end_reason",
            _enum("voucherendreason", "school", "left", "expired", "officer"),
            nullable=True,
        ),
        sa.Column("end_note", sa.String(length=200), nullable=True),
        sa.Column("ended_by", sa.String(length=120), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "guardian_id <> child_id", name=op.f("ck_kindergarten_voucher_not_self")
        ),
        sa.CheckConstraint(
            "(status = 'claimed') = (decided_at IS NULL)",
            name=op.f("ck_kindergarten_voucher_decided"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('verified', 'in_use') OR valid_until IS NOT NULL",
            name=op.f("ck_kindergarten_voucher_valid_until"),
        ),
        sa.CheckConstraint(
            "status <> 'in_use' OR (kindergarten_id IS NOT NULL AND enrollment_id IS NOT NULL)",
            name=op.f("ck_kindergarten_voucher_in_use_place"),
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR decision_reason IS NOT NULL",
            name=op.f("ck_kindergarten_voucher_refusal"),
        ),
        sa.CheckConstraint(
            "(status = 'ended') = (end_reason IS NOT NULL AND ended_on IS NOT NULL)",
            name=op.f("ck_kindergarten_voucher_ended"),
        ),
        sa.CheckConstraint(
            "end_reason <> 'officer' OR end_note IS NOT NULL",
            name=op.f("ck_kindergarten_voucher_officer_end_note"),
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["person.id"], name=op.f("fk_kindergarten_voucher_child_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["guardian_id"], ["person.id"], name=op.f("fk_kindergarten_voucher_guardian_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["season_id"],
            ["intake_season.id"],
            name=op.f("fk_kindergarten_voucher_season_id_intake_season"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_kindergarten_voucher_district_id_district"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_kindergarten_voucher_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["district_id", "region_id"],
            ["district.id", "district.region_id"],
            name="fk_kindergarten_voucher_district_in_region",
        ),
        sa.ForeignKeyConstraint(
            ["kindergarten_id"],
            ["institution.id"],
            name=op.f("fk_kindergarten_voucher_kindergarten_id_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollment.id"],
            name=op.f("fk_kindergarten_voucher_enrollment_id_enrollment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kindergarten_voucher")),
    )
    op.create_index(
        "uq_kindergarten_voucher_live_child",
        "kindergarten_voucher",
        ["child_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('claimed', 'verified', 'in_use')"),
    )
    op.create_index(
        "ix_kindergarten_voucher_child", "kindergarten_voucher", ["child_id", "id"], unique=False
    )
    op.create_index(
        "ix_kindergarten_voucher_district",
        "kindergarten_voucher",
        ["district_id", "id"],
        unique=False,
    )
    op.create_index(
        "ix_kindergarten_voucher_valid_until",
        "kindergarten_voucher",
        ["valid_until"],
        unique=False,
        postgresql_where=sa.text("status IN ('verified', 'in_use')"),
    )
    # One statement per execute: asyncpg prepares each as a single statement.
    op.execute(FUNCTIONS)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER kindergarten_voucher_transition ON kindergarten_voucher")
    op.execute("DROP FUNCTION kindergarten_voucher_transition()")
    op.drop_index("ix_kindergarten_voucher_valid_until", table_name="kindergarten_voucher")
    op.drop_index("ix_kindergarten_voucher_district", table_name="kindergarten_voucher")
    op.drop_index("ix_kindergarten_voucher_child", table_name="kindergarten_voucher")
    op.drop_index("uq_kindergarten_voucher_live_child", table_name="kindergarten_voucher")
    op.drop_table("kindergarten_voucher")

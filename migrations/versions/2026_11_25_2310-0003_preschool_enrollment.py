"""Kindergarten e-queue and first-grade e-enrollment: intake seasons with their policy rows,
the holiday calendar, applications, places, offers, quotas and status histories.

Seeds the policy of the current and next seasons (domain.md's figures: 15 working days, age
groups 2-7 with caps 25/30, classes of 36, the 12-year entry rule) and the public holidays of
2026-2027; the ministry edits all of these through mutations.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 22:24:47.454413
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('intake_season',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('kindergarten', 'first_grade', name='intakekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('school_year_starts', sa.Date(), nullable=False),
    sa.Column('weekend_days', sa.ARRAY(sa.Integer()), server_default=sa.text("'{6,7}'::integer[]"), nullable=False),
    sa.Column('min_age_months', sa.SmallInteger(), server_default=sa.text('6'), nullable=False),
    sa.Column('max_age_months', sa.SmallInteger(), server_default=sa.text('84'), nullable=False),
    sa.Column('max_preferences', sa.SmallInteger(), server_default=sa.text('3'), nullable=False),
    sa.Column('offer_deadline_working_days', sa.SmallInteger(), server_default=sa.text('15'), nullable=False),
    sa.Column('decline_rule', sa.Enum('requeue', 'remove', name='declinerule', native_enum=False, create_constraint=True, length=32), server_default=sa.text("'requeue'"), nullable=False),
    sa.Column('stage1_starts', sa.Date(), nullable=True),
    sa.Column('stage1_ends', sa.Date(), nullable=True),
    sa.Column('stage2_starts', sa.Date(), nullable=True),
    sa.Column('stage2_ends', sa.Date(), nullable=True),
    sa.Column('class_size_max', sa.SmallInteger(), server_default=sa.text('36'), nullable=False),
    sa.Column('grades_per_school', sa.SmallInteger(), server_default=sa.text('12'), nullable=False),
    sa.Column('grade1_birth_year_offset', sa.SmallInteger(), server_default=sa.text('6'), nullable=False),
    sa.Column('grade2_birth_year_offset', sa.SmallInteger(), server_default=sa.text('7'), nullable=False),
    sa.Column('preschool_programme_grade2', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('sibling_priority', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind <> 'first_grade' OR (stage1_starts IS NOT NULL AND stage1_ends >= stage1_starts AND stage2_starts > stage1_ends AND stage2_ends >= stage2_starts AND ends_on >= stage2_ends)", name=op.f('ck_intake_season_stages')),
    sa.CheckConstraint('class_size_max BETWEEN 1 AND 60', name=op.f('ck_intake_season_class_size')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_intake_season_period')),
    sa.CheckConstraint('grade2_birth_year_offset = grade1_birth_year_offset + 1', name=op.f('ck_intake_season_entry_offsets')),
    sa.CheckConstraint('grades_per_school BETWEEN 1 AND 12', name=op.f('ck_intake_season_grades_per_school')),
    sa.CheckConstraint('max_preferences BETWEEN 1 AND 10', name=op.f('ck_intake_season_max_preferences')),
    sa.CheckConstraint('min_age_months >= 0 AND max_age_months > min_age_months', name=op.f('ck_intake_season_ages')),
    sa.CheckConstraint('offer_deadline_working_days BETWEEN 1 AND 90', name=op.f('ck_intake_season_deadline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_season')),
    sa.UniqueConstraint('kind', 'year', name='uq_intake_season_kind_year')
    )
    op.create_table('public_holiday',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_public_holiday'))
    )
    op.create_table('benefit_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.SmallInteger(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint('rank BETWEEN 1 AND 100', name=op.f('ck_benefit_category_rank')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_benefit_category_season_id_intake_season'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_benefit_category')),
    sa.UniqueConstraint('season_id', 'code', name='uq_benefit_category_code')
    )
    op.create_table('kindergarten_age_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('min_months', sa.SmallInteger(), nullable=False),
    sa.Column('max_months', sa.SmallInteger(), nullable=False),
    sa.Column('group_size', sa.SmallInteger(), nullable=False),
    postgresql.ExcludeConstraint((sa.column('season_id'), '='), (sa.text('int4range(min_months, max_months)'), '&&'), using='gist', name='ex_kindergarten_age_group_overlap'),
    sa.CheckConstraint('group_size BETWEEN 1 AND 60', name=op.f('ck_kindergarten_age_group_group_size')),
    sa.CheckConstraint('max_months > min_months AND min_months >= 0', name=op.f('ck_kindergarten_age_group_ages')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_kindergarten_age_group_season_id_intake_season'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_age_group')),
    sa.UniqueConstraint('season_id', 'code', name='uq_kindergarten_age_group_code')
    )
    op.create_table('first_grade_quota',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('grade_level', sa.SmallInteger(), nullable=False),
    sa.Column('classes', sa.SmallInteger(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('admitted', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('admitted >= 0 AND admitted <= places', name=op.f('ck_first_grade_quota_admitted')),
    sa.CheckConstraint('classes >= 0 AND places >= 0', name=op.f('ck_first_grade_quota_sizes')),
    sa.CheckConstraint('grade_level IN (1, 2)', name=op.f('ck_first_grade_quota_grade')),
    sa.ForeignKeyConstraint(['school_id'], ['institution.id'], name=op.f('fk_first_grade_quota_school_id_institution')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_first_grade_quota_season_id_intake_season')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_first_grade_quota')),
    sa.UniqueConstraint('season_id', 'school_id', 'grade_level', name='uq_first_grade_quota_grade')
    )
    op.create_index(op.f('ix_first_grade_quota_school_id'), 'first_grade_quota', ['school_id'], unique=False)
    op.create_table('kindergarten_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('kindergarten_id', sa.Integer(), nullable=False),
    sa.Column('age_group', sa.String(length=16), nullable=False),
    sa.Column('free_places', sa.Integer(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('declared_by', sa.String(length=120), nullable=False),
    sa.CheckConstraint('free_places >= 0', name=op.f('ck_kindergarten_places_free_places')),
    sa.ForeignKeyConstraint(['kindergarten_id'], ['institution.id'], name=op.f('fk_kindergarten_places_kindergarten_id_institution')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_kindergarten_places_season_id_intake_season')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_places')),
    sa.UniqueConstraint('season_id', 'kindergarten_id', 'age_group', name='uq_kindergarten_places_group')
    )
    op.create_index(op.f('ix_kindergarten_places_kindergarten_id'), 'kindergarten_places', ['kindergarten_id'], unique=False)
    op.create_table('first_grade_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.Enum('ky', 'ru', 'uz', 'tg', 'en', name='language', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grade_level', sa.SmallInteger(), nullable=False),
    sa.Column('finished_preschool_programme', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.Enum('catchment', 'residence', 'director', name='firstgradestage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('birth_certificate', sa.String(length=40), nullable=False),
    sa.Column('address_district_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('catchment', sa.Boolean(), nullable=False),
    sa.Column('benefit_category_id', sa.Integer(), nullable=True),
    sa.Column('benefit_status', sa.Enum('none', 'claimed', 'verified', 'rejected', name='benefitstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('benefit_proof', sa.String(length=300), nullable=True),
    sa.Column('contact_phone', sa.String(length=30), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'verified', 'rejected', 'waitlisted', 'admitted', 'cancelled', name='firstgradestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rejection_reason', sa.Enum('documents_invalid', 'birth_certificate_invalid', 'address_not_proven', 'preschool_programme_not_proven', 'already_enrolled', 'other', name='rejectionreason', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(benefit_category_id IS NULL) = (benefit_status = 'none')", name=op.f('ck_first_grade_application_benefit')),
    sa.CheckConstraint("(status = 'rejected') = (rejection_reason IS NOT NULL)", name=op.f('ck_first_grade_application_rejection_reason')),
    sa.CheckConstraint('grade_level IN (1, 2)', name=op.f('ck_first_grade_application_grade')),
    sa.CheckConstraint('guardian_id <> child_id', name=op.f('ck_first_grade_application_not_self')),
    sa.ForeignKeyConstraint(['address_district_id'], ['district.id'], name=op.f('fk_first_grade_application_address_district_id_district')),
    sa.ForeignKeyConstraint(['benefit_category_id'], ['benefit_category.id'], name=op.f('fk_first_grade_application_benefit_category_id_benefit_category')),
    sa.ForeignKeyConstraint(['child_id'], ['person.id'], name=op.f('fk_first_grade_application_child_id_person')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_first_grade_application_enrollment_id_enrollment')),
    sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_first_grade_application_guardian_id_person')),
    sa.ForeignKeyConstraint(['school_id'], ['institution.id'], name=op.f('fk_first_grade_application_school_id_institution')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_first_grade_application_season_id_intake_season')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_first_grade_application'))
    )
    op.create_index(op.f('ix_first_grade_application_child_id'), 'first_grade_application', ['child_id'], unique=False)
    op.create_index('ix_first_grade_application_guardian', 'first_grade_application', ['guardian_id'], unique=False)
    op.create_index('ix_first_grade_application_school', 'first_grade_application', ['season_id', 'school_id', 'grade_level', 'id'], unique=False)
    op.create_index('uq_first_grade_application_active_child', 'first_grade_application', ['child_id', 'season_id'], unique=True, postgresql_where=sa.text("status NOT IN ('rejected', 'cancelled')"))
    op.create_table('kindergarten_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('season_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'accepted', 'admitted', 'withdrawn', 'removed', 'cancelled', name='queuestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('intake_year', sa.SmallInteger(), nullable=False),
    sa.Column('age_group', sa.String(length=16), nullable=False),
    sa.Column('benefit_category_id', sa.Integer(), nullable=True),
    sa.Column('benefit_status', sa.Enum('none', 'claimed', 'verified', 'rejected', name='benefitstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('benefit_proof', sa.String(length=300), nullable=True),
    sa.Column('benefit_verified', sa.Boolean(), sa.Computed("benefit_status = 'verified'", persisted=True), nullable=False),
    sa.Column('residency', sa.Enum('resident', 'non_resident', name='residency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('contact_phone', sa.String(length=30), nullable=True),
    sa.Column('enrollment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(benefit_category_id IS NULL) = (benefit_status = 'none')", name=op.f('ck_kindergarten_application_benefit')),
    sa.CheckConstraint('guardian_id <> child_id', name=op.f('ck_kindergarten_application_not_self')),
    sa.ForeignKeyConstraint(['benefit_category_id'], ['benefit_category.id'], name=op.f('fk_kindergarten_application_benefit_category_id_benefit_category')),
    sa.ForeignKeyConstraint(['child_id'], ['person.id'], name=op.f('fk_kindergarten_application_child_id_person')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollment.id'], name=op.f('fk_kindergarten_application_enrollment_id_enrollment')),
    sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_kindergarten_application_guardian_id_person')),
    sa.ForeignKeyConstraint(['season_id'], ['intake_season.id'], name=op.f('fk_kindergarten_application_season_id_intake_season')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_application'))
    )
    op.create_index('ix_kindergarten_application_child', 'kindergarten_application', ['child_id'], unique=False)
    op.create_index('ix_kindergarten_application_guardian', 'kindergarten_application', ['guardian_id'], unique=False)
    op.create_index('ix_kindergarten_application_queue', 'kindergarten_application', ['intake_year', 'age_group', 'registered_at', 'id'], unique=False, postgresql_where=sa.text("status = 'waiting'"))
    op.create_index('uq_kindergarten_application_active_child', 'kindergarten_application', ['child_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'offered', 'accepted')"))
    op.create_table('first_grade_application_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'verified', 'rejected', 'waitlisted', 'admitted', 'cancelled', name='firstgradestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['first_grade_application.id'], name=op.f('fk_first_grade_application_event_application_id_first_grade_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_first_grade_application_event'))
    )
    op.create_index('ix_first_grade_application_event_application', 'first_grade_application_event', ['application_id', 'id'], unique=False)
    op.create_table('kindergarten_application_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'accepted', 'admitted', 'withdrawn', 'removed', 'cancelled', name='queuestatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['kindergarten_application.id'], name=op.f('fk_kindergarten_application_event_application_id_kindergarten_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_application_event'))
    )
    op.create_index('ix_kindergarten_application_event_application', 'kindergarten_application_event', ['application_id', 'id'], unique=False)
    op.create_table('kindergarten_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('places_id', sa.Integer(), nullable=False),
    sa.Column('kindergarten_id', sa.Integer(), nullable=False),
    sa.Column('age_group', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('open', 'accepted', 'declined', 'expired', 'admitted', 'cancelled', name='offerstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offered_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['kindergarten_application.id'], name=op.f('fk_kindergarten_offer_application_id_kindergarten_application')),
    sa.ForeignKeyConstraint(['kindergarten_id'], ['institution.id'], name=op.f('fk_kindergarten_offer_kindergarten_id_institution')),
    sa.ForeignKeyConstraint(['places_id'], ['kindergarten_places.id'], name=op.f('fk_kindergarten_offer_places_id_kindergarten_places')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_offer'))
    )
    op.create_index('ix_kindergarten_offer_application', 'kindergarten_offer', ['application_id', 'id'], unique=False)
    op.create_index('ix_kindergarten_offer_open_deadline', 'kindergarten_offer', ['deadline'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.create_index(op.f('ix_kindergarten_offer_places_id'), 'kindergarten_offer', ['places_id'], unique=False)
    op.create_index('uq_kindergarten_offer_live', 'kindergarten_offer', ['application_id'], unique=True, postgresql_where=sa.text("status IN ('open', 'accepted')"))
    op.create_table('kindergarten_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kindergarten_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('rank BETWEEN 1 AND 10', name=op.f('ck_kindergarten_preference_rank')),
    sa.ForeignKeyConstraint(['application_id'], ['kindergarten_application.id'], name=op.f('fk_kindergarten_preference_application_id_kindergarten_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kindergarten_id'], ['institution.id'], name=op.f('fk_kindergarten_preference_kindergarten_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kindergarten_preference')),
    sa.UniqueConstraint('application_id', 'kindergarten_id', name='uq_kindergarten_preference_kindergarten'),
    sa.UniqueConstraint('application_id', 'rank', name='uq_kindergarten_preference_rank')
    )
    op.create_index('ix_kindergarten_preference_kindergarten', 'kindergarten_preference', ['kindergarten_id', 'application_id'], unique=False)
    _seed_policy()


def _seed_policy() -> None:
    for year in (2026, 2027):
        op.execute(
            "INSERT INTO intake_season (kind, year, name, starts_on, ends_on, school_year_starts)"
            f" VALUES ('kindergarten', {year}, 'Kindergarten intake {year}/{year + 1}',"
            f" '{year}-06-01', '{year + 1}-05-31', '{year}-09-01')"
        )
        op.execute(
            "INSERT INTO intake_season (kind, year, name, starts_on, ends_on, school_year_starts,"
            " stage1_starts, stage1_ends, stage2_starts, stage2_ends)"
            f" VALUES ('first_grade', {year}, 'First-grade enrollment {year}/{year + 1}',"
            f" '{year}-04-01', '{year + 1}-05-31', '{year}-09-01',"
            f" '{year}-04-01', '{year}-05-31', '{year}-06-15', '{year}-08-15')"
        )
    op.execute(
        "INSERT INTO kindergarten_age_group (season_id, code, min_months, max_months, group_size)"
        " SELECT s.id, g.code, g.lo, g.hi, g.size FROM intake_season s CROSS JOIN (VALUES"
        " ('2-3', 24, 36, 25), ('3-4', 36, 48, 30), ('4-5', 48, 60, 30), ('5-6', 60, 72, 30),"
        " ('6-7', 72, 84, 30)) AS g(code, lo, hi, size) WHERE s.kind = 'kindergarten'"
    )
    op.execute(
        "INSERT INTO benefit_category (season_id, code, name, rank)"
        " SELECT s.id, b.code, b.name, b.rank FROM intake_season s CROSS JOIN (VALUES"
        " ('disability', 'Children with disabilities', 1),"
        " ('orphan', 'Orphans and children left without parental care', 1),"
        " ('military', 'Children of serving military personnel', 1),"
        " ('low_income', 'Children of low-income families', 1),"
        " ('large_family', 'Children of families with many children', 1))"
        " AS b(code, name, rank) WHERE s.kind = 'kindergarten'"
    )
    op.execute(
        "INSERT INTO benefit_category (season_id, code, name, rank)"
        " SELECT s.id, b.code, b.name, b.rank FROM intake_season s CROSS JOIN (VALUES"
        " ('military', 'Children of serving military personnel', 1),"
        " ('kairylman', 'Children of kairylman (returning ethnic Kyrgyz) families', 2),"
        " ('disability', 'Children with disabilities', 3),"
        " ('orphan', 'Orphans and children left without parental care', 3))"
        " AS b(code, name, rank) WHERE s.kind = 'first_grade'"
    )
    fixed = [
        ("01-01", "New Year"),
        ("01-07", "Orthodox Christmas"),
        ("02-23", "Defender of the Fatherland Day"),
        ("03-08", "International Women's Day"),
        ("03-21", "Nooruz"),
        ("04-07", "Day of the People's April Revolution"),
        ("05-01", "Labour Day"),
        ("05-05", "Constitution Day"),
        ("05-09", "Victory Day"),
        ("08-31", "Independence Day"),
        ("11-07", "Days of History and Commemoration of Ancestors"),
        ("11-08", "Days of History and Commemoration of Ancestors"),
    ]
    # The two Ait holidays follow the lunar calendar; their dates are set by decree each year.
    moving = [
        ("2026-03-20", "Orozo Ait"),
        ("2026-05-27", "Kurman Ait"),
        ("2027-03-10", "Orozo Ait"),
        ("2027-05-17", "Kurman Ait"),
    ]
    days = [(f"{y}-{md}", name) for y in (2026, 2027) for md, name in fixed] + moving
    values = ", ".join(f"('{d}', '{n.replace(chr(39), chr(39) * 2)}')" for d, n in days)
    op.execute(f"INSERT INTO public_holiday (day, name) VALUES {values}")


def downgrade() -> None:
    op.drop_index('ix_kindergarten_preference_kindergarten', table_name='kindergarten_preference')
    op.drop_table('kindergarten_preference')
    op.drop_index('uq_kindergarten_offer_live', table_name='kindergarten_offer', postgresql_where=sa.text("status IN ('open', 'accepted')"))
    op.drop_index(op.f('ix_kindergarten_offer_places_id'), table_name='kindergarten_offer')
    op.drop_index('ix_kindergarten_offer_open_deadline', table_name='kindergarten_offer', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_kindergarten_offer_application', table_name='kindergarten_offer')
    op.drop_table('kindergarten_offer')
    op.drop_index('ix_kindergarten_application_event_application', table_name='kindergarten_application_event')
    op.drop_table('kindergarten_application_event')
    op.drop_index('ix_first_grade_application_event_application', table_name='first_grade_application_event')
    op.drop_table('first_grade_application_event')
    op.drop_index('uq_kindergarten_application_active_child', table_name='kindergarten_application', postgresql_where=sa.text("status IN ('waiting', 'offered', 'accepted')"))
    op.drop_index('ix_kindergarten_application_queue', table_name='kindergarten_application', postgresql_where=sa.text("status = 'waiting'"))
    op.drop_index('ix_kindergarten_application_guardian', table_name='kindergarten_application')
    op.drop_index('ix_kindergarten_application_child', table_name='kindergarten_application')
    op.drop_table('kindergarten_application')
    op.drop_index('uq_first_grade_application_active_child', table_name='first_grade_application', postgresql_where=sa.text("status NOT IN ('rejected', 'cancelled')"))
    op.drop_index('ix_first_grade_application_school', table_name='first_grade_application')
    op.drop_index('ix_first_grade_application_guardian', table_name='first_grade_application')
    op.drop_index(op.f('ix_first_grade_application_child_id'), table_name='first_grade_application')
    op.drop_table('first_grade_application')
    op.drop_index(op.f('ix_kindergarten_places_kindergarten_id'), table_name='kindergarten_places')
    op.drop_table('kindergarten_places')
    op.drop_index(op.f('ix_first_grade_quota_school_id'), table_name='first_grade_quota')
    op.drop_table('first_grade_quota')
    op.drop_table('kindergarten_age_group')
    op.drop_table('benefit_category')
    op.drop_table('public_holiday')
    op.drop_table('intake_season')

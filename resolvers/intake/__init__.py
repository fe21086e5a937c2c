"""Intake seasons and their policy rows, the holiday calendar, working-day deadlines, and the
parts the two intake workflows (the kindergarten queue, first-grade enrollment) share.

domain.md: "Dates and thresholds change every year: they are policy rows per admission season,
not literals." Every figure the two intake workflows use comes from here.

Modules: ``seasons`` (the running season, age groups, benefit categories, ages), ``calendar``
(working days: the statutory holidays and the ministry's overrides),
``policy`` (the ministry's edits), ``applicants`` (who acts for a child, officers' scope),
``claims`` (text and benefits an application carries), ``history`` (status history, outbox
events and id arrays in bulk), ``queries``, ``rules`` and ``loaders``. ``rules`` (and
``loaders``, which uses it) read both workflows' row rules, so they are not imported here.
"""

from resolvers.intake.applicants import (
    OFFICER_ROLES,
    guardians_child_for_update,
    managed_intake_institution,
    officer_scope,
    open_enrollment,
    require_guardian_of,
    require_guardian_reached,
)
from resolvers.intake.calendar import (
    CalendarDay,
    add_working_days,
    holidays_of_year,
    statutory_holidays,
)
from resolvers.intake.claims import (
    PHONE_MAX,
    PROOF_MAX,
    REASON_MAX,
    BenefitClaim,
    benefit_claimed,
    claim_benefit,
    clean_text,
)
from resolvers.intake.history import StatusHistory, any_of, emit_many
from resolvers.intake.policy import (
    AgeGroupRule,
    BenefitRule,
    PolicyChanges,
    open_intake_season,
    set_public_holidays,
    update_intake_policy,
)
from resolvers.intake.queries import MAX_SEASONS, seasons_query
from resolvers.intake.seasons import (
    CODE_MAX,
    SeasonSetting,
    age_groups,
    benefit_category,
    current_season,
    institution_and_season,
    months_between,
    require_season,
)

__all__ = [
    "CODE_MAX",
    "MAX_SEASONS",
    "OFFICER_ROLES",
    "PHONE_MAX",
    "PROOF_MAX",
    "REASON_MAX",
    "AgeGroupRule",
    "BenefitClaim",
    "BenefitRule",
    "CalendarDay",
    "PolicyChanges",
    "SeasonSetting",
    "StatusHistory",
    "add_working_days",
    "age_groups",
    "any_of",
    "benefit_category",
    "benefit_claimed",
    "claim_benefit",
    "clean_text",
    "current_season",
    "emit_many",
    "guardians_child_for_update",
    "holidays_of_year",
    "institution_and_season",
    "managed_intake_institution",
    "months_between",
    "officer_scope",
    "open_enrollment",
    "open_intake_season",
    "require_guardian_of",
    "require_guardian_reached",
    "require_season",
    "seasons_query",
    "set_public_holidays",
    "statutory_holidays",
    "update_intake_policy",
]

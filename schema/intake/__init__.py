"""Intake seasons and their policy in the graph (types in ``types``, root fields in
``queries`` and ``mutations``); the kindergarten queue and first-grade enrollment use the
season and benefit types from here."""

from schema.intake.mutations import Mutation
from schema.intake.queries import Query
from schema.intake.types import (
    AgeGroup,
    BenefitCategory,
    BenefitStatus,
    DeclineRule,
    IntakeKind,
    IntakeSeason,
    PublicHoliday,
    applicant_of,
    benefit_of,
    enrollment_of,
    season_of,
)

__all__ = [
    "AgeGroup",
    "BenefitCategory",
    "BenefitStatus",
    "DeclineRule",
    "IntakeKind",
    "IntakeSeason",
    "Mutation",
    "PublicHoliday",
    "Query",
    "applicant_of",
    "benefit_of",
    "enrollment_of",
    "season_of",
]

"""The intake policy's DataLoaders (seasons, age groups, benefit categories) and the applicants
of the kindergarten queue and first-grade enrollment."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from models import BenefitCategory, IntakeSeason, KindergartenAgeGroup, Person
from resolvers.intake.rules import applicant_readable
from resolvers.loaders import ById, ByParent
from resolvers.people import PERSON_COLUMNS


class IntakeSeasonByIdLoader(ById):
    columns = tuple(IntakeSeason.__table__.c)
    key = IntakeSeason.id


class BenefitCategoryByIdLoader(ById):
    columns = tuple(BenefitCategory.__table__.c)
    key = BenefitCategory.id


class AgeGroupsBySeasonLoader(ByParent):
    columns = tuple(KindergartenAgeGroup.__table__.c)
    parent = KindergartenAgeGroup.season_id
    order_by = (KindergartenAgeGroup.min_months,)


class BenefitCategoriesBySeasonLoader(ByParent):
    columns = tuple(BenefitCategory.__table__.c)
    parent = BenefitCategory.season_id
    order_by = (BenefitCategory.rank, BenefitCategory.code)


class ApplicantByIdLoader(ById):
    """The child or guardian of an application the caller may read."""

    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return applicant_readable(self.principal)

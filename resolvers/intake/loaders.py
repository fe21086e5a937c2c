"""The intake policy's DataLoaders: seasons, age groups, benefit categories."""

from __future__ import annotations

from models import BenefitCategory, IntakeSeason, KindergartenAgeGroup
from resolvers.loaders import ById, ByParent


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

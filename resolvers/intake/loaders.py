"""The intake policy's DataLoaders (seasons, age groups, benefit categories) and the applicants
of the kindergarten queue and first-grade enrollment."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from models import (
    BenefitCategory,
    FirstGradeApplication,
    IntakeSeason,
    KindergartenAgeGroup,
    KindergartenApplication,
    Person,
)
from resolvers import first_grade, preschool
from resolvers.access import Principal
from resolvers.loaders import ById, ByParent
from resolvers.people import PERSON_COLUMNS
from resolvers.people.rules import person_readable


def applicant_readable(principal: Principal) -> ColumnElement[bool]:
    """People the principal may read, plus the children and guardians of the applications
    they may read: an officer handling an application sees who it is for and who made it,
    though the child is not (yet) enrolled at their institution."""
    if principal.is_ministry or principal.is_anonymous:
        return person_readable(principal)
    ka, fga = KindergartenApplication, FirstGradeApplication
    return or_(
        person_readable(principal),
        Person.id.in_(select(ka.child_id).where(preschool.application_readable(principal))),
        Person.id.in_(select(ka.guardian_id).where(preschool.application_readable(principal))),
        Person.id.in_(select(fga.child_id).where(first_grade.application_readable(principal))),
        Person.id.in_(select(fga.guardian_id).where(first_grade.application_readable(principal))),
    )


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

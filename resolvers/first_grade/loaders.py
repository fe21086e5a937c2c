"""First-grade enrollment's DataLoaders, restricted by who may read an application."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from models import FirstGradeApplication, FirstGradeApplicationEvent, FirstGradeQuota, Person
from resolvers.first_grade.queries import APPLICATION_COLUMNS, QUOTA_COLUMNS
from resolvers.first_grade.rules import application_readable
from resolvers.intake.rules import applicant_readable
from resolvers.loaders import ById, ByParent
from resolvers.people import PERSON_COLUMNS


class FirstGradeApplicationByIdLoader(ById):
    columns = APPLICATION_COLUMNS
    key = FirstGradeApplication.id

    def rule(self) -> ColumnElement[bool]:
        return application_readable(self.principal)


class FirstGradeQuotaByIdLoader(ById):
    columns = QUOTA_COLUMNS
    key = FirstGradeQuota.id


class FirstGradeHistoryByApplicationLoader(ByParent):
    columns = tuple(FirstGradeApplicationEvent.__table__.c)
    parent = FirstGradeApplicationEvent.application_id
    order_by = (FirstGradeApplicationEvent.id,)


class FirstGradeApplicantByIdLoader(ById):
    """The child or guardian of an application the caller may read."""

    columns = PERSON_COLUMNS
    key = Person.id

    def rule(self) -> ColumnElement[bool]:
        return applicant_readable(
            self.principal, FirstGradeApplication, application_readable(self.principal)
        )

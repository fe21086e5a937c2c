"""First-grade enrollment's DataLoaders, restricted by who may read an application."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from models import FirstGradeApplication, FirstGradeApplicationEvent, FirstGradeQuota
from resolvers.first_grade.queries import APPLICATION_COLUMNS, QUOTA_COLUMNS
from resolvers.first_grade.rules import application_readable
from resolvers.loaders import ById, ByParent


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

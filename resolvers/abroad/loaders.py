"""Study abroad's DataLoaders."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from models import ForeignApplication, ForeignFieldRule, ForeignProgramme, ForeignStageResult
from resolvers.abroad.queries import APPLICATION_COLUMNS, PROGRAMME_COLUMNS
from resolvers.abroad.rules import foreign_application_readable
from resolvers.loaders import ById, ByParent


class ForeignProgrammeByIdLoader(ById):
    columns = PROGRAMME_COLUMNS
    key = ForeignProgramme.id


class ForeignApplicationByIdLoader(ById):
    columns = APPLICATION_COLUMNS
    key = ForeignApplication.id

    def rule(self) -> ColumnElement[bool]:
        return foreign_application_readable(self.principal)


class FieldRulesByForeignProgrammeLoader(ByParent):
    columns = tuple(ForeignFieldRule.__table__.c)
    parent = ForeignFieldRule.programme_id
    order_by = (ForeignFieldRule.field_of_study,)


class StageResultsByForeignApplicationLoader(ByParent):
    columns = tuple(ForeignStageResult.__table__.c)
    parent = ForeignStageResult.application_id
    order_by = (ForeignStageResult.decided_at, ForeignStageResult.id)

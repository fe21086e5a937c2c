"""The enrollments domain's DataLoaders, each restricted by who may read an enrollment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from models import Enrollment
from resolvers.enrollments.queries import ENROLLMENT_COLUMNS, enrollment_filter_clauses
from resolvers.enrollments.rules import enrollment_readable
from resolvers.loaders import ById, PagesByParent


class EnrollmentByIdLoader(ById):
    columns = ENROLLMENT_COLUMNS
    key = Enrollment.id

    def rule(self) -> ColumnElement[bool]:
        return enrollment_readable(self.principal)


class EnrollmentsByInstitutionLoader(PagesByParent):
    columns = ENROLLMENT_COLUMNS
    parent = Enrollment.institution_id

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        return [enrollment_readable(self.principal), *enrollment_filter_clauses(flt)]


class EnrollmentsByPersonLoader(PagesByParent):
    columns = ENROLLMENT_COLUMNS
    parent = Enrollment.person_id

    def where(self, flt: Any) -> list[ColumnElement[bool]]:
        return [enrollment_readable(self.principal), *enrollment_filter_clauses(flt)]

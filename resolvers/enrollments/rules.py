"""Who may read an enrollment: the same people as the person rule."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_, true
from sqlalchemy.orm import aliased

from models import Enrollment, Institution
from resolvers.access import Principal, Role
from resolvers.institutions.rules import institution_in_scope
from resolvers.people.rules import INSTITUTION_READERS, children_of, national_partner, taught_by


def enrollment_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this enrollment? The same people as :func:`person_readable`:
    enrollments at institutions in scope (a teacher: open ones in their classes), or of the
    principal themself or their children."""
    if principal.is_ministry or national_partner(principal):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.person_id is not None:
        clauses.append(Enrollment.person_id == principal.person_id)
        if principal.role == Role.GUARDIAN:
            clauses.append(Enrollment.person_id.in_(children_of(principal.person_id)))
    if principal.role == Role.TEACHER:
        if principal.person_id is not None:
            clauses.append(taught_by(principal, Enrollment))
    elif principal.role in INSTITUTION_READERS:
        inst = aliased(Institution)
        clauses.append(
            exists().where(
                inst.id == Enrollment.institution_id, institution_in_scope(principal, inst)
            )
        )
    return or_(*clauses) if clauses else false()

"""Who may read the people of the two intake workflows.

This module alone looks up at the workflows built on the intake (the kindergarten queue and
first-grade enrollment): an applicant is readable through either workflow's applications, so
the rule is the union of both. It is imported by :mod:`resolvers.intake.loaders` only, never
by the package's ``__init__``, so the workflows can import the intake's shared parts first.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from models import FirstGradeApplication, KindergartenApplication, Person
from resolvers import first_grade as first_grade_service
from resolvers import preschool as preschool_service
from resolvers.access import Principal
from resolvers.people.rules import person_readable, reads_applicants_as_staff


def applicant_readable(principal: Principal) -> ColumnElement[bool]:
    """People the principal may read, plus, for the staff handling applications, the children
    and guardians of the applications they may read: an officer sees who it is for and who
    made it, though the child is not (yet) enrolled at their institution. A guardian reads
    only the people they read anyway: never the child's other guardian, who may have made the
    application (:func:`resolvers.people.rules.reads_applicants_as_staff`)."""
    if principal.is_ministry or principal.is_anonymous or not reads_applicants_as_staff(principal):
        return person_readable(principal)
    ka, fga = KindergartenApplication, FirstGradeApplication
    return or_(
        person_readable(principal),
        Person.id.in_(select(ka.child_id).where(preschool_service.application_readable(principal))),
        Person.id.in_(
            select(ka.guardian_id).where(preschool_service.application_readable(principal))
        ),
        Person.id.in_(
            select(fga.child_id).where(first_grade_service.application_readable(principal))
        ),
        Person.id.in_(
            select(fga.guardian_id).where(first_grade_service.application_readable(principal))
        ),
    )

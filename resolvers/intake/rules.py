"""Who may read the people of an intake workflow's applications: the child and the guardian
of an application the caller may read, besides whoever the person rule lets them read (an
officer handling an application sees who it is for and who made it, though the child is not
yet enrolled at their institution). Each workflow applies it to its own applications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select

from models import Person
from resolvers.access import Principal
from resolvers.people.rules import person_readable, reads_applicants_as_staff


def applicant_readable(
    principal: Principal, application: Any, readable: ColumnElement[bool]
) -> ColumnElement[bool]:
    """People the principal may read, plus, for the staff handling applications, the children
    and guardians of the rows of ``application`` (a workflow's application table) that
    ``readable`` lets them read: an officer sees who it is for and who made it, though the
    child is not (yet) enrolled at their institution. A guardian reads only the people they
    read anyway: never the child's other guardian, who may have made the application
    (:func:`resolvers.people.rules.reads_applicants_as_staff`)."""
    if principal.is_ministry or principal.is_anonymous or not reads_applicants_as_staff(principal):
        return person_readable(principal)
    return or_(
        person_readable(principal),
        Person.id.in_(select(application.child_id).where(readable)),
        Person.id.in_(select(application.guardian_id).where(readable)),
    )

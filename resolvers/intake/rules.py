"""Who may read the people of an intake workflow's applications: the child and the guardian
of an application the caller may read, besides whoever the person rule lets them read (an
officer handling an application sees who it is for and who made it, though the child is not
yet enrolled at their institution). Each workflow applies it to its own applications."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, or_

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
    # Correlated per person (the application tables' child and guardian indexes), never
    # ``Person.id IN (SELECT child_id ... WHERE readable)``: PostgreSQL planned that as a scan
    # of every application the officer may read, twice, 95 ms for a page of 50 children of
    # a 37,000-application queue (issue 21).
    return or_(
        person_readable(principal),
        exists().where(application.child_id == Person.id, readable),
        exists().where(application.guardian_id == Person.id, readable),
    )

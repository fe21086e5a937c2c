"""Who may read applications to foreign programmes."""

from __future__ import annotations

from sqlalchemy import ColumnElement, true

from models import ForeignApplication
from resolvers.access import Principal
from resolvers.people.rules import self_or_child


def foreign_application_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this foreign-programme application? The ministry: all; the
    applicant (or their guardian): their own."""
    if principal.is_ministry:
        return true()
    return self_or_child(principal, ForeignApplication.person_id)

"""Who may read first-grade applications and quotas, who may withdraw an application, and
which statuses an application is open, pending or ended in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, true
from sqlalchemy.orm import aliased

from models import FirstGradeApplication, FirstGradeStatus, Institution
from resolvers.access import Principal, Role, no_rows
from resolvers.intake import OFFICER_ROLES, officer_scope
from resolvers.people.rules import children_of

FGA = FirstGradeApplication

# Waiting for a place: allocation ranks these.
PENDING = (FirstGradeStatus.VERIFIED, FirstGradeStatus.WAITLISTED)
# Still open: the family may withdraw it (allocation takes only the PENDING ones).
OPEN = (FirstGradeStatus.SUBMITTED, *PENDING)
# Ended without a place: the child may apply again this season (the partial unique index
# uq_first_grade_application_active_child ignores these too).
ENDED = (FirstGradeStatus.REJECTED, FirstGradeStatus.CANCELLED, FirstGradeStatus.WITHDRAWN)


# Made once: an ORM alias copies every column of its table, a cost paid on every request
# that builds the rule (resolvers/people/rules.py does the same; issue 21).
_SCHOOL = aliased(Institution)


def application_readable(principal: Principal) -> Any:
    """May this principal read this application? A guardian: their children's; school admins
    and district/region officers: those to schools in their scope; the ministry: all."""
    if principal.is_ministry:
        return true()
    if principal.role == Role.GUARDIAN and principal.person_id is not None:
        return FGA.child_id.in_(children_of(principal.person_id))
    if principal.role not in OFFICER_ROLES:
        return no_rows()
    inst = _SCHOOL
    return exists().where(inst.id == FGA.school_id, officer_scope(principal, inst))


def quota_readable(principal: Principal) -> Any:
    """Quotas are public figures: everyone may read how many places a school offers."""
    return true()


def may_withdraw(principal: Principal) -> bool:
    """May this principal withdraw first-grade applications at all? A guardian (for their
    children), and the staff who handle applications at a school: school admins, district and
    region officers, the ministry (the rule ``verify_application`` applies)."""
    return (
        principal.is_ministry
        or principal.role in OFFICER_ROLES
        or (principal.role == Role.GUARDIAN and principal.person_id is not None)
    )

"""Who may do what in the libraries, and which rows a caller may read.

A library belongs to an institution: its librarian (the ``librarian`` role scoped to it) and
its administrator run it; the ministry may act anywhere. Borrowers are the institution's own
people: a pupil or student with an open enrollment there, or a member of its staff with an
open post (domain.md P3: one person row, many roles)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, inspect, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.util import ClauseAdapter

from models import BibFile, FileAccess, Hold, Loan, StaffPosition
from models import Enrollment as EnrollmentRow
from resolvers import enrollments as enrollments_service
from resolvers.access import PERSONAL_ROLES, Principal, Role, among
from resolvers.people.rules import self_or_child

# Roles that run an institution's library.
LIBRARY_ROLES = {Role.LIBRARIAN, Role.SCHOOL_ADMIN}


def may_run_library(principal: Principal, institution_id: int) -> bool:
    """May this principal lend, take back and add copies at this institution's library? Its
    librarian or administrator; the ministry anywhere."""
    if principal.is_ministry:
        return True
    return principal.role in LIBRARY_ROLES and institution_id in principal.institution_ids


def may_manage_catalogue(principal: Principal) -> bool:
    """May this principal add records to the one catalogue? The ministry (the national
    e-library) and every library's librarian or administrator."""
    return principal.is_ministry or principal.role in LIBRARY_ROLES


def may_approve_textbooks(principal: Principal) -> bool:
    """May this principal approve a textbook for a school year? The ministry only."""
    return principal.is_ministry


def borrower_at(institution_id: Any, person_id: Any) -> ColumnElement[bool]:
    """Is the person one of the institution's borrowers today: an open enrollment there (the
    registry's filter of open enrollments at an institution), or an open staff post?"""
    enrolled = aliased(EnrollmentRow)
    current = enrollments_service.EnrollmentFilter(current=True)
    clauses = enrollments_service.enrollment_filter_clauses(current)
    open_enrollment = (
        select(enrolled.id)
        .where(
            enrolled.person_id == person_id,
            enrolled.institution_id == institution_id,
            *_aliased(clauses, enrolled),
        )
        .exists()
    )
    post = aliased(StaffPosition)
    open_post = exists().where(
        post.person_id == person_id,
        post.institution_id == institution_id,
        post.end_date.is_(None),
    )
    return or_(open_enrollment, open_post)


def _aliased(clauses: list[Any], alias: Any) -> list[Any]:
    """The registry's enrollment clauses, stated on ``alias`` instead of the table."""
    adapter = ClauseAdapter(inspect(alias).selectable)
    return [adapter.traverse(c) for c in clauses]


def reads_library(principal: Principal, institution_id: Any) -> ColumnElement[bool]:
    """Rows of a library this principal reads as its staff (or the ministry)."""
    if principal.is_ministry:
        return true()
    if principal.role in LIBRARY_ROLES and principal.institution_ids:
        return among(institution_id, principal.institution_ids)
    return false()


def loan_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this loan? The library's staff, the ministry, the borrower
    themself and (for a guardian) their children's."""
    clauses = [reads_library(principal, Loan.institution_id)]
    clauses.extend(_own(principal, Loan.person_id))
    return or_(*clauses)


def hold_readable(principal: Principal) -> ColumnElement[bool]:
    """Holds are read as loans are: the library's staff and the person (or their guardian)."""
    clauses = [reads_library(principal, Hold.institution_id)]
    clauses.extend(_own(principal, Hold.person_id))
    return or_(*clauses)


def _own(principal: Principal, person_id: Any) -> list[ColumnElement[bool]]:
    """The caller's own rows (a guardian: their children's too)."""
    if principal.person_id is None:
        return []
    if principal.role in PERSONAL_ROLES:
        return [self_or_child(principal, person_id)]
    return [person_id == principal.person_id]


def file_readable(principal: Principal) -> ColumnElement[bool]:
    """May this principal read this digital file? Open files: anyone; signed-in files:
    anyone signed in; an institution's files: its people (enrolled or employed there now),
    its staff roles and the ministry."""
    if principal.is_ministry:
        return true()
    clauses: list[ColumnElement[bool]] = [BibFile.access == FileAccess.OPEN]
    if principal.is_anonymous:
        return clauses[0]
    clauses.append(BibFile.access == FileAccess.SIGNED_IN)
    if principal.institution_ids:
        clauses.append(
            and_(
                BibFile.access == FileAccess.INSTITUTION,
                among(BibFile.institution_id, principal.institution_ids),
            )
        )
    if principal.person_id is not None:
        clauses.append(
            and_(
                BibFile.access == FileAccess.INSTITUTION,
                borrower_at(BibFile.institution_id, principal.person_id),
            )
        )
    return or_(*clauses)


def may_read_provision(principal: Principal, flt: Any) -> bool:
    """May this principal read the textbook provision this filter covers? The ministry
    anywhere; a region officer within their region, a district officer within their district,
    a school's administrator or librarian for their school."""
    if principal.is_ministry:
        return True
    if principal.role == Role.REGION_OFFICER:
        return flt.region_id is not None and flt.region_id in principal.region_ids
    if principal.role == Role.DISTRICT_OFFICER:
        return flt.district_id is not None and flt.district_id in principal.district_ids
    if principal.role in LIBRARY_ROLES:
        return flt.institution_id is not None and flt.institution_id in principal.institution_ids
    return False

"""Who may read university applications and applicants, and who runs a university's
admission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import aliased

from models import AdmissionApplication, AdmissionProgramme
from resolvers.access import Principal, Role
from resolvers.people.rules import person_readable, self_or_child


def admission_application_readable(
    principal: Principal, application: Any = AdmissionApplication
) -> ColumnElement[bool]:
    """May this principal read this university application? The ministry: all; an admission
    officer: those to their university's programmes; an applicant (or their guardian): their
    own."""
    if principal.is_ministry:
        return true()
    if principal.role == Role.ADMISSION_OFFICER:
        return application.programme_id.in_(
            select(AdmissionProgramme.id).where(
                AdmissionProgramme.institution_id.in_(principal.institution_ids)
            )
        )
    return self_or_child(principal, application.person_id)


def admission_person_readable(principal: Principal, person_id: Any) -> ColumnElement[bool]:
    """May this principal read this person as an applicant? Whoever reads the person anyway, and
    an admission officer the people who applied to their university."""
    if principal.role != Role.ADMISSION_OFFICER:
        return person_readable(principal, person_id)
    app = aliased(AdmissionApplication)
    return exists().where(
        app.person_id == person_id, admission_application_readable(principal, app)
    )


def may_manage_admissions(principal: Principal, institution_id: int) -> bool:
    """May this principal run admission (programmes, places, creative tests) for this
    university? The ministry and the university's admission officers."""
    if principal.is_ministry:
        return True
    return principal.role == Role.ADMISSION_OFFICER and institution_id in principal.institution_ids

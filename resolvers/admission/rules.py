"""Who may read university applications, applicants, certificates and recommended places, who
runs a university's admission, and who may act for an applicant."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionProgramme,
    Guardianship,
    NationalTestResult,
    Person,
)
from resolvers import clock
from resolvers.access import Principal, Role, among
from resolvers.people.rules import person_readable, self_or_child

ADULT_AGE = 18


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
                among(AdmissionProgramme.institution_id, principal.institution_ids)
            )
        )
    return self_or_child(principal, application.person_id)


# Made once: an ORM alias copies every column of its table, a cost paid on every request
# that builds the rule (resolvers/people/rules.py does the same; issue 21).
_APPLICATION = aliased(AdmissionApplication)


def admission_person_readable(principal: Principal, person_id: Any) -> ColumnElement[bool]:
    """May this principal read this person as an applicant? Whoever reads the person anyway, and
    an admission officer the people who applied to their university."""
    if principal.role != Role.ADMISSION_OFFICER:
        return person_readable(principal, person_id)
    app = _APPLICATION
    return exists().where(
        app.person_id == person_id, admission_application_readable(principal, app)
    )


def test_result_readable(principal: Principal) -> Any:
    """May this principal read this certificate? The ministry, the applicant (or their
    guardian), and admission officers for people who applied to their university. Nobody else:
    reading a person (their school, their region's officers, a data partner) is not reading
    their certificate."""
    if principal.is_ministry:
        return NationalTestResult.id.is_not(None)
    if principal.role == Role.ADMISSION_OFFICER:
        return admission_person_readable(principal, NationalTestResult.person_id)
    return self_or_child(principal, NationalTestResult.person_id)


def offer_readable(principal: Principal) -> Any:
    """May this principal read this recommended place? Whoever reads its application: the
    ministry, the university's admission officers, the applicant (or their guardian)."""
    if principal.is_ministry:
        return AdmissionOffer.id.is_not(None)
    if principal.role == Role.ADMISSION_OFFICER:
        return AdmissionOffer.programme_id.in_(
            select(AdmissionProgramme.id).where(
                among(AdmissionProgramme.institution_id, principal.institution_ids)
            )
        )
    return self_or_child(principal, AdmissionOffer.person_id)


def may_manage_admissions(principal: Principal, institution_id: int) -> bool:
    """May this principal run admission (programmes, places, creative tests) for this
    university? The ministry and the university's admission officers."""
    if principal.is_ministry:
        return True
    return principal.role == Role.ADMISSION_OFFICER and institution_id in principal.institution_ids


def age_on(birth: date, on: date) -> int:
    """Age in whole years on a day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


async def may_act_for_applicant(
    session: AsyncSession, principal: Principal, person_id: int
) -> bool:
    """May this caller apply or confirm for this applicant? The applicant themself (role
    pupil), or a guardian of an applicant who is still a minor."""
    if principal.person_id is None:
        return False
    if principal.role == Role.PUPIL:
        return principal.person_id == person_id
    if principal.role != Role.GUARDIAN:
        return False
    birth = await session.scalar(
        select(Person.birth_date)
        .join(Guardianship, Guardianship.child_id == Person.id)
        .where(
            Person.id == person_id,
            Guardianship.guardian_id == principal.person_id,
            Guardianship.valid_to.is_(None),
        )
    )
    return birth is not None and age_on(birth, clock.today()) < ADULT_AGE

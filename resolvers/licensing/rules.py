"""Who needs a licence, which levels a placement needs, the year's policy, and who may read and
decide licensing files (domain.md, "Licensing and accreditation")."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Accreditation,
    AccreditationAgency,
    AccreditationOutcome,
    EducationLevel,
    Institution,
    InstitutionKind,
    Licence,
    LicenceApplication,
    LicenceStatus,
    LicensingPolicy,
    Ownership,
)
from resolvers import driver
from resolvers.access import Principal, Role, among
from resolvers.errors import DomainError, ErrorCode

EXEMPT_KINDS = frozenset({InstitutionKind.SCHOOL, InstitutionKind.KINDERGARTEN})
EXEMPT_OWNERSHIPS = frozenset({Ownership.STATE, Ownership.MUNICIPAL})


def licence_required(kind: InstitutionKind | str, ownership: Ownership | str) -> bool:
    """Does an institution of this kind and ownership need a licence to teach? State and
    municipal schools and kindergartens are exempt (domain.md); foreign universities are outside
    Kyrgyz licensing; everyone else needs one."""
    kind, ownership = InstitutionKind(kind), Ownership(ownership)
    if kind == InstitutionKind.FOREIGN_UNIVERSITY:
        return False
    return not (kind in EXEMPT_KINDS and ownership in EXEMPT_OWNERSHIPS)


def levels_for_placement(
    kind: InstitutionKind | str, grade_level: int | None
) -> tuple[EducationLevel, ...]:
    """The levels a licence may cover for a learner placed here, any one of which suffices.
    Grades follow the 12-year standard (primary 1-6, basic 7-9, secondary 10-12); grades 5-6 are
    basic in the legacy 11-year model that runs alongside, so either level covers them."""
    kind = InstitutionKind(kind)
    if kind == InstitutionKind.KINDERGARTEN:
        return (EducationLevel.PRESCHOOL,)
    if kind == InstitutionKind.SCHOOL:
        if grade_level is None:
            return ()
        if grade_level <= 4:
            return (EducationLevel.PRIMARY,)
        if grade_level <= 6:
            return (EducationLevel.PRIMARY, EducationLevel.BASIC)
        if grade_level <= 9:
            return (EducationLevel.BASIC,)
        return (EducationLevel.SECONDARY,)
    if kind == InstitutionKind.COLLEGE:
        return (EducationLevel.VOCATIONAL,)
    if kind == InstitutionKind.UNIVERSITY:
        return (EducationLevel.HIGHER, EducationLevel.POSTGRADUATE)
    return ()


def policy_in_force(on: date | Any, *columns: Any) -> Select[Any]:
    """The licensing policy row in force on a date: the latest year not after it, else (no
    such year) the earliest one; one statement for both cases. ``on``: a date, or the year's
    bind parameter of a statement made once; ``columns``: those selected (the row's entity if
    none)."""
    year = on.year if isinstance(on, date) else on
    later = LicensingPolicy.year > year
    return (
        select(*(columns or (LicensingPolicy,)))
        .order_by(later, case((later, LicensingPolicy.year), else_=-LicensingPolicy.year))
        .limit(1)
    )


# policy_for's statement, made once and sent through the driver (issue 21).
_POLICY = driver.entity(LicensingPolicy)
_POLICY_IN_FORCE = driver.Made(policy_in_force(bindparam("year", type_=Integer), *_POLICY.columns))


def require_policy(policy: LicensingPolicy | None) -> LicensingPolicy:
    """The policy found, or NOT_FOUND when the ministry has set none."""
    if policy is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No licensing policy is set; ask the ministry")
    return policy


async def policy_for(session: AsyncSession, on: date) -> LicensingPolicy:
    """The licensing policy row in force on a date (:func:`policy_in_force`)."""
    found = await driver.one_or_none(session, _POLICY_IN_FORCE, {"year": on.year})
    # The session's object for the row, as the ORM's query leaves one it already holds.
    return require_policy(driver.object_of(session, _POLICY, found) if found else None)


def licence_valid_on(on: date | Any, lic: Any = Licence) -> ColumnElement[bool]:
    """A licence in force on a date: active, issued by then, not yet past its validity."""
    return and_(
        lic.status == LicenceStatus.ACTIVE,
        lic.issued_on <= on,
        or_(lic.valid_until.is_(None), lic.valid_until >= on),
    )


def accreditation_valid_on(on: date | Any, acc: Any = Accreditation) -> ColumnElement[bool]:
    """An accreditation in force on a date: accredited, started, not yet past its validity."""
    return and_(
        acc.outcome == AccreditationOutcome.ACCREDITED,
        acc.valid_from <= on,
        or_(acc.valid_until.is_(None), acc.valid_until >= on),
    )


def agency_may_accredit(agency: AccreditationAgency, on: date) -> bool:
    """May this agency accredit on this date? It is on the national register (recognised by
    the council) within its recognition period; a foreign agency must also be on the European
    register (EQAR)."""
    if not agency.on_national_register:
        return False
    if agency.country_code != "KG" and not agency.on_european_register:
        return False
    if agency.recognised_on is not None and agency.recognised_on > on:
        return False
    return agency.recognised_until is None or agency.recognised_until >= on


def agency_accredits_on(on: date) -> ColumnElement[bool]:
    """:func:`agency_may_accredit` as SQL: agencies that may accredit on this date."""
    agency = AccreditationAgency
    return and_(
        agency.on_national_register.is_(True),
        or_(agency.country_code == "KG", agency.on_european_register.is_(True)),
        or_(agency.recognised_on.is_(None), agency.recognised_on <= on),
        or_(agency.recognised_until.is_(None), agency.recognised_until >= on),
    )


# --- who decides and who reads ---------------------------------------------------------------


def is_licensing_staff(principal: Principal) -> bool:
    return principal.role in (Role.MINISTRY, Role.LICENSING_OFFICER)


def may_license(principal: Principal, institution: Any) -> bool:
    """May this officer decide licensing and accreditation matters for this institution? The
    ministry and national licensing officers everywhere; a licensing officer scoped to regions
    only there (foreign universities belong to no region)."""
    if principal.is_ministry:
        return True
    if principal.role != Role.LICENSING_OFFICER:
        return False
    if not principal.region_ids:
        return True
    return institution.region_id in principal.region_ids


def may_apply_for(principal: Principal, institution: Any) -> bool:
    """May this caller file licensing or accreditation papers for this institution? Its own
    administrator (the institution, or its founder acting through that account), or the ministry
    registering a paper submission."""
    if principal.is_ministry:
        return True
    return principal.role == Role.SCHOOL_ADMIN and institution.id in principal.institution_ids


# Made once: an ORM alias copies every column of its table, a cost paid on every request
# that builds the rule (resolvers/people/rules.py does the same; issue 21).
_INSTITUTION = aliased(Institution)


def _licensing_scope(principal: Principal, institution_id: Any) -> ColumnElement[bool]:
    if principal.is_ministry or (
        principal.role == Role.LICENSING_OFFICER and not principal.region_ids
    ):
        return true()
    clauses: list[ColumnElement[bool]] = []
    if principal.role == Role.LICENSING_OFFICER:
        inst = _INSTITUTION
        clauses.append(
            exists().where(inst.id == institution_id, among(inst.region_id, principal.region_ids))
        )
    if principal.role == Role.SCHOOL_ADMIN:
        clauses.append(among(institution_id, principal.institution_ids))
    return or_(*clauses) if clauses else false()


def filed_by(principal: Principal, subject_column: Any) -> ColumnElement[bool]:
    """Files this principal filed in person. Only person tokens have unique subjects; tokens of a
    role without a person share theirs, so they reach files through their scope alone."""
    if principal.person_id is None:
        return false()
    return subject_column == principal.subject


def application_readable(principal: Principal, app: Any = LicenceApplication) -> Any:
    """May this principal read this licence application? Licensing officers in their scope, the
    ministry, and the applicant: the institution's administrators and whoever filed it."""
    if principal.is_anonymous:
        return false()
    return or_(
        _licensing_scope(principal, app.institution_id),
        filed_by(principal, app.applicant_subject),
    )


def accreditation_readable(principal: Principal, acc: Any = Accreditation) -> Any:
    """Decided accreditations are public; one in progress is read by licensing officers in
    scope, the institution's administrators and whoever applied."""
    decided = acc.outcome != AccreditationOutcome.PENDING
    if principal.is_anonymous:
        return decided
    return or_(
        decided,
        _licensing_scope(principal, acc.institution_id),
        filed_by(principal, acc.applicant_subject),
    )

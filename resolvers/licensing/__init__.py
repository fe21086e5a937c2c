"""Licensing and accreditation (issue 5; domain.md, "Licensing and accreditation").

The public entry points other domains use are the two guards, re-exported here::

    from resolvers import licensing as licensing_service

    await licensing_service.require_teaching_licence(
        session, institution_id=..., on=entry_date, level=EducationLevel.PRIMARY
    )  # DomainError LICENCE_REQUIRED unless exempt or licensed on that date for that level
    await licensing_service.require_accreditation(
        session, institution_id=..., programme_code="HE-MEDICINE", on=day
    )  # DomainError ACCREDITATION_REQUIRED when the programme needs accreditation and has none

Modules: ``rules`` (exemption, levels of a placement, policy, access predicates), ``guards``,
``dossier`` (submission checks), ``applications``, ``licences``, ``accreditation``, ``policy``
(policy rows, classifier, jobs), ``queries`` and ``loaders``.
"""

from resolvers.errors import ErrorCode
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.guards import (
    licence_in_force,
    require_accreditation,
    require_teaching_licence,
    require_teaching_licences,
    unaccredited_among,
    unlicensed_among,
    unlicensed_on_days,
)
from resolvers.licensing.rules import levels_for_placement, licence_required
from resolvers.mutations import register_constraint

# The workflows check these first for a precise message; the constraints hold under concurrency.
register_constraint(
    "uq_licence_application_open",
    LicensingCode.APPLICATION_PENDING,
    "The institution already has an application under review",
    "institutionId",
)
register_constraint(
    "uq_licence_live_institution",
    LicensingCode.WRONG_LICENCE_STATE,
    "The institution already holds a licence in force",
    "institutionId",
)
register_constraint(
    "uq_accreditation_open",
    LicensingCode.ACCREDITATION_PENDING,
    "An accreditation of this subject is already in progress",
    "institutionId",
)
register_constraint(
    "uq_accreditation_agency_name",
    ErrorCode.INVALID_INPUT,
    "An agency of this name is registered",
    "name",
)

__all__ = [
    "levels_for_placement",
    "licence_in_force",
    "licence_required",
    "require_accreditation",
    "require_teaching_licence",
    "require_teaching_licences",
    "unaccredited_among",
    "unlicensed_among",
    "unlicensed_on_days",
]

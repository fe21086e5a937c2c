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

from resolvers.licensing.guards import (
    licence_in_force,
    require_accreditation,
    require_teaching_licence,
)
from resolvers.licensing.rules import levels_for_placement, licence_required

__all__ = [
    "levels_for_placement",
    "licence_in_force",
    "licence_required",
    "require_accreditation",
    "require_teaching_licence",
]

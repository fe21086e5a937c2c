"""First-grade e-enrollment as a state machine (domain.md, "First-grade e-enrollment").

An application moves ``submitted -> verified -> admitted`` (or ``waitlisted``, admitted by a
later allocation) or ``submitted -> rejected`` with a reason code; while still open
(submitted, verified, waitlisted) the family may withdraw it (``withdrawn``). Allocation ranks a
school's verified applications (catchment, then the season's benefit categories by rank,
then time of application) into its quota; admission opens the school enrollment and, in the
same transaction, ends the child's kindergarten place and cancels any queue application.

Modules: ``eligibility`` (age rule, stages, catchment), ``applications`` (applying,
verification, withdrawal), ``quotas``, ``allocation`` (ranking into the quotas),
``admission`` (the one path every admission takes), ``events`` (status history, outbox),
``queries``, ``rules`` and ``loaders``. Other domains use the names re-exported here
(``from resolvers import first_grade as first_grade_service``).
"""

from resolvers.first_grade.admission import admit_to_first_grade
from resolvers.first_grade.allocation import AllocationResult, allocate_first_grade_places
from resolvers.first_grade.applications import (
    apply_for_first_grade,
    verify_application,
    withdraw_first_grade_application,
)
from resolvers.first_grade.eligibility import (
    entry_grade,
    in_catchment,
    open_first_grade_season,
    stage_on,
)
from resolvers.first_grade.errors import FirstGradeCode
from resolvers.first_grade.queries import (
    APPLICATION_COLUMNS,
    APPLICATION_ORDERINGS,
    QUOTA_COLUMNS,
    ApplicationFilter,
    applications_query,
    quotas_query,
)
from resolvers.first_grade.quotas import set_quota
from resolvers.first_grade.rules import (
    ENDED,
    OPEN,
    PENDING,
    application_readable,
    may_withdraw,
    quota_readable,
)
from resolvers.mutations import register_constraint

# What the enrollment's constraints mean to a caller when a race reaches the database first.
register_constraint(
    "uq_first_grade_application_active_child",
    FirstGradeCode.DUPLICATE_APPLICATION,
    "The child already has an application this season",
    "childId",
)
register_constraint(
    "ck_first_grade_quota_admitted",
    FirstGradeCode.QUOTA_BELOW_ADMITTED,
    "The quota would be below the places already admitted (or overfilled)",
    "places",
)

__all__ = [
    "APPLICATION_COLUMNS",
    "APPLICATION_ORDERINGS",
    "ENDED",
    "OPEN",
    "PENDING",
    "QUOTA_COLUMNS",
    "AllocationResult",
    "ApplicationFilter",
    "admit_to_first_grade",
    "allocate_first_grade_places",
    "application_readable",
    "applications_query",
    "apply_for_first_grade",
    "entry_grade",
    "in_catchment",
    "may_withdraw",
    "open_first_grade_season",
    "quota_readable",
    "quotas_query",
    "set_quota",
    "stage_on",
    "verify_application",
    "withdraw_first_grade_application",
]

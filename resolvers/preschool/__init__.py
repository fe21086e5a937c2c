"""The kindergarten e-queue as a state machine (domain.md, "Kindergarten e-queue").

An application moves ``waiting -> offered -> accepted -> admitted``; a declined or expired
offer sends it back to ``waiting`` (keeping its registration time) or to ``removed``, as the
season's decline rule says; a family can ``withdraw`` at any point, and a first-grade admission
``cancels`` it. Every transition writes a status-history row and an outbox event in the
request's transaction. Capacity lives in ``kindergarten_places`` rows, taken under row locks;
a partial unique index keeps a child from holding two live offers.

Modules: ``queue`` (registration, benefit checks, transfers), ``places`` (free places per age
group), ``offers`` (offering places, accepting, declining, expiry), ``admission`` (an
accepted offer becomes an enrollment), ``exits`` (withdrawal), ``school`` (a child leaving
for school, K7), ``rows`` (locked rows, status history), ``vouchers`` (K8: state-paid
places in private kindergartens), ``queries``, ``rules`` and ``loaders``. Other domains use
the names re-exported here (``from resolvers import preschool as preschool_service``).
Importing the package registers ``leave_for_school`` with the registry's school-entry hook
(``resolvers/enrollments/school_entry.py``), so that ``enrollStudent`` and
``transferStudent`` into a school end the kindergarten side (and any voucher) too.
Locks follow ``resolvers/locks.py``.
"""

from resolvers import enrollments as enrollments_service
from resolvers.mutations import register_constraint
from resolvers.preschool.admission import Admitted, confirm_admission
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.exits import withdraw_application
from resolvers.preschool.offers import (
    Decided,
    accept_offer,
    decline_offer,
    offer_places,
    process_expired_offers,
)
from resolvers.preschool.places import declare_free_places
from resolvers.preschool.queries import (
    APPLICATION_COLUMNS,
    APPLICATION_ORDERINGS,
    OFFER_COLUMNS,
    ApplicationFilter,
    QueuePositionRow,
    applications_query,
    kindergarten_places,
    queue_positions_query,
)
from resolvers.preschool.queue import (
    Preferred,
    apply_to_kindergarten_queue,
    place_in_age_group,
    transfer_application,
    verify_benefit,
)
from resolvers.preschool.reminders import remind_expiring_offers
from resolvers.preschool.rules import application_readable, may_handle_application, offer_readable
from resolvers.preschool.school import leave_for_school, offer_hold, require_not_at_school
from resolvers.preschool.vouchers import (
    VOUCHER_ORDERINGS,
    claim_voucher,
    decide_voucher,
    end_voucher,
    expire_vouchers,
    use_voucher,
    vouchers_query,
)

# K7: whatever path opens a school enrollment ends the child's kindergarten side with it.
enrollments_service.on_school_entry(leave_for_school)

# What the queue's constraints mean to a caller when a race reaches the database first.
register_constraint(
    "uq_kindergarten_application_active_child",
    PreschoolCode.DUPLICATE_APPLICATION,
    "The child already has an active application",
    "childId",
)
register_constraint(
    "uq_kindergarten_offer_live",
    PreschoolCode.NOT_IN_QUEUE,
    "The child already holds an offer",
    "applicationId",
)
register_constraint(
    "uq_kindergarten_voucher_live_child",
    PreschoolCode.DUPLICATE_VOUCHER,
    "The child already holds a voucher",
    "childId",
)
register_constraint(
    "ck_kindergarten_voucher_transition",
    PreschoolCode.VOUCHER_ENDED,
    "The voucher cannot take this step from where it stands",
    "voucherId",
)
register_constraint(
    "ck_kindergarten_voucher_private_kindergarten",
    PreschoolCode.NOT_PRIVATE_KINDERGARTEN,
    "A voucher is used at a private kindergarten",
    "kindergartenId",
)
register_constraint(
    "ck_kindergarten_voucher_open_place",
    PreschoolCode.VOUCHER_ENDED,
    "A voucher pays only for an open kindergarten place",
    "voucherId",
)
register_constraint(
    "ck_kindergarten_voucher_school_entry",
    PreschoolCode.STARTS_SCHOOL_FIRST,
    "The child starts school by the day the place would begin",
    "entryDate",
)
register_constraint(
    "ck_kindergarten_places_free_places",
    PreschoolCode.NO_FREE_PLACES,
    "No place is free any more",
    "kindergartenId",
)

__all__ = [
    "APPLICATION_COLUMNS",
    "APPLICATION_ORDERINGS",
    "OFFER_COLUMNS",
    "VOUCHER_ORDERINGS",
    "Admitted",
    "ApplicationFilter",
    "Decided",
    "Preferred",
    "QueuePositionRow",
    "accept_offer",
    "application_readable",
    "applications_query",
    "apply_to_kindergarten_queue",
    "claim_voucher",
    "confirm_admission",
    "decide_voucher",
    "declare_free_places",
    "decline_offer",
    "end_voucher",
    "expire_vouchers",
    "kindergarten_places",
    "leave_for_school",
    "may_handle_application",
    "offer_hold",
    "offer_places",
    "offer_readable",
    "place_in_age_group",
    "process_expired_offers",
    "queue_positions_query",
    "remind_expiring_offers",
    "require_not_at_school",
    "transfer_application",
    "use_voucher",
    "verify_benefit",
    "vouchers_query",
    "withdraw_application",
]

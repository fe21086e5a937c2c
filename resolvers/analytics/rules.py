"""Who sees what of the statistics."""

from __future__ import annotations

from resolvers.access import Principal, Role

# The threshold under which counts of people are hidden from everyone else is the ministry's
# policy row (policy.py: disclosure_rule), not a constant here.


def sees_exact_counts(principal: Principal) -> bool:
    """May this caller see counts of people under the disclosure threshold? Only the
    ministry (its analysts produce the official statistics); everyone else, officers and
    partners included, reads protected tables."""
    return principal.role == Role.MINISTRY

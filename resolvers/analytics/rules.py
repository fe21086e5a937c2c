"""Who sees what of the statistics."""

from __future__ import annotations

from resolvers.access import Principal, Role

# Cells counting fewer people than this are hidden from callers without exact access (the
# statistics committee's and Eurostat's usual minimum frequency for counts of persons).
THRESHOLD = 5


def sees_exact_counts(principal: Principal) -> bool:
    """May this caller see counts of people under the disclosure threshold? Only the
    ministry (its analysts produce the official statistics); everyone else, officers and
    partners included, reads protected tables."""
    return principal.role == Role.MINISTRY

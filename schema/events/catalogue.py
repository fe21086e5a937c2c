"""What the graph calls the objects events are about: an event's ``aggregate_type`` (the
model's name) as a node type of the graph, the domains' event types a partner's key may ask
for, and the applications an event concerns (for subscriptions and notices)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvers.access import KeyGrant
from resolvers.events import Event
from schema.node import NODE_TYPES

# Models whose node type has another name.
ALIASES = {"AdmissionProgramme": "Programme"}
REVERSE = {graph: model for model, graph in ALIASES.items()}

# The node types each domain's events are about (a key naming none of them gets none).
DOMAIN_TYPES: dict[str, tuple[str, ...]] = {
    "preschool": ("KindergartenApplication", "KindergartenOffer", "IntakeSeason"),
    "enrollment": ("FirstGradeApplication", "FirstGradeQuota"),
    "enrollments": ("Enrollment",),
    "admission": (
        "AdmissionApplication",
        "AdmissionOffer",
        "AdmissionRound",
        "AdmissionSeason",
        "Programme",
    ),
    "abroad": ("ForeignApplication", "ForeignProgramme"),
    "licensing": ("Licence", "LicenceApplication", "Accreditation", "AccreditationAgency"),
    "institutions": ("Institution", "CatchmentArea"),
    "people": ("Person", "Guardianship", "StaffPosition"),
    "events": ("WebhookSubscription",),
}

# Applications whose status subscriptions and notices follow.
APPLICATION_TYPES = (
    "KindergartenApplication",
    "FirstGradeApplication",
    "AdmissionApplication",
    "ForeignApplication",
)


def graph_type(aggregate_type: str) -> str | None:
    """The node type an event's object has in the graph, or None (not a node: no partner,
    subscriber or feed sees it)."""
    name = ALIASES.get(aggregate_type, aggregate_type)
    return name if name in NODE_TYPES else None


def aggregate_types(graph_types: Sequence[str]) -> list[str]:
    return [REVERSE.get(t, t) for t in graph_types]


def feed_types() -> list[str]:
    """Every node type events are about, by name."""
    return sorted({t for types in DOMAIN_TYPES.values() for t in types if t in NODE_TYPES})


def event_types_outside(grant: KeyGrant, event_types: Sequence[str]) -> list[str]:
    """The event types (``domain.event`` or ``domain.*``) a key may not ask for: an unknown
    domain, or one whose objects are all outside the key's subgraph."""
    outside = []
    for each in event_types:
        types = DOMAIN_TYPES.get(each.partition(".")[0], ())
        if not any(grant.names_type(t) for t in types):
            outside.append(each)
    return outside


def applications_of(event: Event) -> list[tuple[str, int]]:
    """The applications (node type, key) an event is about: its own object, the application
    an offer belongs to, or the applications a submission names."""
    a, payload = event.aggregate_type, event.payload
    if a in APPLICATION_TYPES:
        return [(a, event.aggregate_id)]
    if a == "KindergartenOffer" and isinstance(payload.get("application_id"), int):
        return [("KindergartenApplication", payload["application_id"])]
    if a == "AdmissionOffer" and isinstance(payload.get("application_id"), int):
        return [("AdmissionApplication", payload["application_id"])]
    ids: Any = payload.get("application_ids")
    if a == "Person" and event.domain == "admission" and isinstance(ids, list):
        return [("AdmissionApplication", i) for i in ids if isinstance(i, int)]
    return []

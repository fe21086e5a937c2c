"""The kindergarten e-queue in the graph (types in ``types``, root fields in ``queries`` and
``mutations``)."""

from schema.preschool.mutations import Mutation
from schema.preschool.queries import Query
from schema.preschool.types import (
    KindergartenApplication,
    KindergartenApplicationStatus,
    KindergartenOffer,
    KindergartenOfferStatus,
    KindergartenPlaces,
    KindergartenPreference,
    QueuePosition,
    Residency,
)

__all__ = [
    "KindergartenApplication",
    "KindergartenApplicationStatus",
    "KindergartenOffer",
    "KindergartenOfferStatus",
    "KindergartenPlaces",
    "KindergartenPreference",
    "Mutation",
    "Query",
    "QueuePosition",
    "Residency",
]

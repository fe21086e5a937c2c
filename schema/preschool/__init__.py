"""The kindergarten e-queue in the graph (types in ``types``, root fields in ``queries`` and
``mutations``) and its vouchers (K8: ``vouchers``)."""

from strawberry.tools import merge_types

from schema.preschool import mutations, queries, vouchers
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
from schema.preschool.vouchers import KindergartenVoucher

Query = merge_types("Query", (queries.Query, vouchers.Query))
Mutation = merge_types("Mutation", (mutations.Mutation, vouchers.Mutation))

__all__ = [
    "KindergartenApplication",
    "KindergartenApplicationStatus",
    "KindergartenOffer",
    "KindergartenOfferStatus",
    "KindergartenPlaces",
    "KindergartenPreference",
    "KindergartenVoucher",
    "Mutation",
    "Query",
    "QueuePosition",
    "Residency",
]

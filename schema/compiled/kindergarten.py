"""The kindergarten queue's pages compiled (issue 21): ``kindergartenApplications`` (the
officers' queue and offers, a guardian's applications) and ``kindergartenPlaces`` in one
statement, PostgreSQL writing the JSON the resolvers write (``schema/preschool/``).

Every row rule is the resolvers' own. The caller is read in two places: the list's statement
(``applications_query(principal, ...)``: the applications a caller may read,
:func:`resolvers.preschool.rules.application_readable`) and :func:`_caller` (the children and
guardians on them, the applicant loader's rule; the contact phone, hidden from the child's
other guardian).
A preference's queue position is :func:`resolvers.preschool.queries.queue_positions_query`'s
count, correlated per preference. Fields not described here (``offerHold``,
``offers``, an offer's ``application`` ...) make the request take the resolvers.
``tests/test_compiled_pages_kindergarten.py`` compares both paths' bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graphql import FieldNode
from sqlalchemy import ColumnElement, FromClause, and_, func, select, tuple_

from models import (
    BenefitStatus,
    IntakeKind,
    IntakeSeason,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    OfferStatus,
    QueueStatus,
    Residency,
)
from resolvers import preschool as preschool_service
from resolvers.preschool.rules import application_readable
from schema.compiled.plan import Unsupported
from schema.compiled.sql import json_list, json_object, json_string
from schema.compiled.workflow import (
    BENEFIT_CATEGORY,
    SEASON,
    TODAY,
    Caller,
    Kind,
    Relation,
    caller,
    check_connection,
    col,
    connection,
    contact,
    enrollment,
    enum_of,
    gid,
    institution,
    many,
    no_partners,
    person,
    timestamp,
)
from schema.node import query_pk

if TYPE_CHECKING:
    from schema.compiled.builder import Builder
    from schema.compiled.plan import _Shape

ROOTS = ("kindergartenApplications", "kindergartenPlaces")
KA = KindergartenApplication


# --- the caller ------------------------------------------------------------------------------


def _caller(builder: Builder) -> Caller:
    """The caller's rules on this workflow's applications."""
    return caller(builder, KA, application_readable)


# --- the types -------------------------------------------------------------------------------

OFFER = Kind(
    "KindergartenOffer",
    {
        "id": gid("KindergartenOffer"),
        "ageGroup": col("age_group"),
        "status": enum_of(OfferStatus, "status"),
        "offeredAt": timestamp("offered_at"),
        "deadline": col("deadline"),
        "decidedAt": timestamp("decided_at"),
    },
    {"kindergarten": institution("kindergarten_id")},
)

STATUS_CHANGE = Kind(
    "KindergartenStatusChange",
    {
        "status": enum_of(QueueStatus, "status"),
        "at": timestamp("at"),
        "actor": col("actor"),
        "reason": col("reason"),
    },
)

PLACES = Kind(
    "KindergartenPlaces",
    {
        "ageGroup": col("age_group"),
        "freePlaces": col("free_places"),
        "declaredAt": timestamp("declared_at"),
    },
    {"kindergarten": institution("kindergarten_id")},
)

POSITION_FIELDS = {
    "position",
    "ahead",
    "aheadWithBenefit",
    "aheadRegisteredLater",
    "ageGroup",
    "intakeYear",
    "registeredAt",
    "benefitVerified",
}


def _check_position(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    for _key, sub in shape.fields.collect("QueuePosition", nodes).items():
        name = sub[0].name.value
        if name != "__typename" and name not in POSITION_FIELDS:
            raise Unsupported(f"QueuePosition.{name}")


def _position(builder: Builder, pref: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """Where the preference's child stands in its (kindergarten, intake, age group) queue, as
    :func:`resolvers.preschool.queries.queue_positions_query` counts it: the waiting children
    of the other applications naming the kindergarten who come first in offer order; null
    unless the application waits."""
    me = KA.__table__.alias("kq_me")
    other = KA.__table__.alias("kq_other")
    other_pref = KindergartenPreference.__table__.alias("kq_other_pref")
    ahead_of_me = tuple_(~other.c.benefit_verified, other.c.registered_at, other.c.id) < tuple_(
        ~me.c.benefit_verified, me.c.registered_at, me.c.id
    )
    ahead = func.count(other.c.id)
    values: dict[str, ColumnElement[Any]] = {
        "position": ahead + 1,
        "ahead": ahead,
        "aheadWithBenefit": ahead.filter(other.c.benefit_verified),
        "aheadRegisteredLater": ahead.filter(other.c.registered_at > me.c.registered_at),
        # one row per application (grouped by its key): its own columns
        "ageGroup": me.c.age_group,
        "intakeYear": me.c.intake_year,
        "registeredAt": timestamp("registered_at")(me),
        "benefitVerified": me.c.benefit_verified,
    }
    pairs: list[tuple[str, ColumnElement[Any]]] = []
    for key, sub in builder.fields.collect("QueuePosition", nodes).items():
        name = sub[0].name.value
        pairs.append((key, json_string("QueuePosition") if name == "__typename" else values[name]))
    stmt = (
        select(json_object(pairs))
        .select_from(me)
        .outerjoin(
            other_pref,
            and_(
                other_pref.c.kindergarten_id == pref.c.kindergarten_id,
                other_pref.c.application_id != me.c.id,
            ),
        )
        .outerjoin(
            other,
            and_(
                other.c.id == other_pref.c.application_id,
                other.c.status == QueueStatus.WAITING,
                other.c.intake_year == me.c.intake_year,
                other.c.age_group == me.c.age_group,
                ahead_of_me,
            ),
        )
        .where(me.c.id == pref.c.application_id, me.c.status == QueueStatus.WAITING)
        .group_by(me.c.id)
        .correlate(pref)
    )
    return stmt.scalar_subquery()


PREFERENCE = Kind(
    "KindergartenPreference",
    {"rank": col("rank")},
    {
        "kindergarten": institution("kindergarten_id"),
        "queuePosition": Relation(_check_position, _position),
    },
)

_LIVE = (OfferStatus.OPEN, OfferStatus.ACCEPTED)


def _current_offer(builder: Builder, src: FromClause, nodes: Sequence[FieldNode]) -> Any:
    """The newest offer that is open or accepted (the offers loader's order, newest first)."""
    o = KindergartenOffer.__table__.alias("kq_offer")
    return (
        select(OFFER.json(builder, o, nodes))
        .where(o.c.application_id == src.c.id, o.c.status.in_(_LIVE))
        .order_by(o.c.id.desc())
        .limit(1)
        .correlate(src)
        .scalar_subquery()
    )


APPLICATION = Kind(
    "KindergartenApplication",
    {
        "id": gid("KindergartenApplication"),
        "registeredAt": timestamp("registered_at"),
        "status": enum_of(QueueStatus, "status"),
        "intakeYear": col("intake_year"),
        "ageGroup": col("age_group"),
        "benefitStatus": enum_of(BenefitStatus, "benefit_status"),
        "benefitProof": col("benefit_proof"),
        "residency": enum_of(Residency, "residency"),
        "startsSchoolOn": col("starts_school_on"),
    },
    {
        "contactPhone": Relation(
            lambda shape, nodes: None,
            lambda b, src, nodes: contact(_caller(b), src, "contact_phone"),
        ),
        "child": person("child_id", lambda b: _caller(b).applicants),
        "guardian": person("guardian_id", lambda b: _caller(b).applicants),
        "season": SEASON,
        "benefitCategory": BENEFIT_CATEGORY,
        "preferences": many(
            PREFERENCE,
            KindergartenPreference.__table__,
            lambda p, a: p.c.application_id == a.c.id,
            lambda p: [p.c.rank],
        ),
        "currentOffer": Relation(lambda shape, nodes: OFFER.check(shape, nodes), _current_offer),
        "enrollment": enrollment("enrollment_id"),
        "statusHistory": many(
            STATUS_CHANGE,
            KindergartenApplicationEvent.__table__,
            lambda e, a: e.c.application_id == a.c.id,
            lambda e: [e.c.id],
        ),
    },
)


# --- the roots -------------------------------------------------------------------------------


def check(shape: _Shape, nodes: Sequence[FieldNode]) -> None:
    """Does every field under the root have a compiled form here?"""
    if nodes[0].name.value == "kindergartenApplications":
        check_connection(shape, APPLICATION, nodes)
    else:
        PLACES.check(shape, nodes)


def build(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    if nodes[0].name.value == "kindergartenApplications":
        return _applications(builder, nodes)
    return _places(builder, nodes)


def _filter(flt: Any) -> preschool_service.ApplicationFilter:
    """The list's filter as ``schema/preschool/queries.py`` reads it; what it refuses takes the
    resolvers (their error)."""
    if flt is None:
        return preschool_service.ApplicationFilter()
    if flt.age_group is not None and len(flt.age_group) > 16:
        raise Unsupported("ageGroup")
    return preschool_service.ApplicationFilter(
        status=flt.status,
        kindergarten_id=query_pk(flt.kindergarten_id, "Institution")
        if flt.kindergarten_id
        else None,
        age_group=flt.age_group,
        intake_year=flt.intake_year,
        child_id=query_pk(flt.child_id, "Person") if flt.child_id else None,
    )


def _applications(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    no_partners(builder)
    args = builder.args("Query", nodes[0])
    flt = _filter(args.get("filter"))
    # The list's statement is the resolvers' (applications_query applies the same rule).
    stmt = preschool_service.applications_query(builder.principal, flt)
    ordering = preschool_service.APPLICATION_ORDERINGS[args["order_by"].value]
    return connection(builder, APPLICATION, nodes, stmt, ordering, args)


def _places(builder: Builder, nodes: list[FieldNode]) -> ColumnElement[Any]:
    """:func:`resolvers.preschool.queries.kindergarten_places`: this season's places, none out
    of season."""
    if builder.principal.grant is not None:
        raise Unsupported("partner")
    args = builder.args("Query", nodes[0])
    pk = query_pk(args["kindergarten_id"], "Institution")
    season = (
        select(IntakeSeason.id)
        .where(
            IntakeSeason.kind == IntakeKind.KINDERGARTEN,
            IntakeSeason.starts_on <= TODAY,
            IntakeSeason.ends_on >= TODAY,
        )
        .order_by(IntakeSeason.year.desc())
        .limit(1)
        .scalar_subquery()
    )
    p = KindergartenPlaces.__table__.alias("kq_places")
    element = PLACES.json(builder, p, nodes)
    stmt = select(json_list(element, p.c.age_group)).where(
        p.c.season_id == season, p.c.kindergarten_id == pk
    )
    return stmt.scalar_subquery()

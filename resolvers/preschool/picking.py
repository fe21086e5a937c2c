"""Which waiting children a kindergarten's free places are offered to, and the statements
made once that write the offers (issue 21: sent through the driver on the session's connection,
resolvers/driver.py): the queue order, each age group's next children read in one statement,
the offers inserted and their applications marked offered with their places taken."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    insert,
    select,
    true,
    update,
)

from models import (
    KindergartenApplication,
    KindergartenOffer,
    KindergartenPlaces,
    KindergartenPreference,
    QueueStatus,
)
from resolvers import driver

KA = KindergartenApplication


def queue_candidates(
    kindergarten_id: int | ColumnElement[int],
    intake_year: int | ColumnElement[int],
    age_group: Any,
    limit: int,
    begins: date | ColumnElement[date],
) -> Select[Any]:
    """The next waiting children of a (kindergarten, intake, group) queue in offer order,
    locked; rows another transaction is offering right now are skipped, not waited for.
    Children who start school by the day the place begins are passed over (F4, issue 14.6):
    they keep their queue time, and their application says why (``offer_hold``)."""
    return (
        select(KA.id)
        .join(KindergartenPreference, KindergartenPreference.application_id == KA.id)
        .where(
            KindergartenPreference.kindergarten_id == kindergarten_id,
            KA.status == QueueStatus.WAITING,
            KA.intake_year == intake_year,
            KA.age_group == age_group,
            KA.starts_school_on > begins,
        )
        .order_by(KA.benefit_verified.desc(), KA.registered_at, KA.id)
        .limit(limit)
        .with_for_update(of=KA, skip_locked=True)
    )


def _all_candidates() -> driver.Made:
    """``offers._next_in_all_queues``'s statement, made once: the groups and how many each
    wants are bound arrays, a LATERAL read of each group's queue."""
    groups = select(
        func.unnest(bindparam("age_groups", type_=ARRAY(String))).label("age_group"),
        func.unnest(bindparam("wanted", type_=ARRAY(Integer))).label("wanted"),
    ).subquery("groups")
    candidates = (
        queue_candidates(
            bindparam("kindergarten_id", type_=Integer),
            bindparam("intake_year", type_=Integer),
            groups.c.age_group,
            0,
            bindparam("begins", type_=Date),
        )
        .add_columns(KA.age_group, KA.benefit_verified, KA.registered_at)
        .limit(groups.c.wanted)
        .lateral("candidates")
    )
    return driver.Made(
        select(
            candidates.c.id,
            candidates.c.age_group,
            candidates.c.benefit_verified,
            candidates.c.registered_at,
        )
        .select_from(groups)
        .join(candidates, true())
    )


ALL_CANDIDATES = _all_candidates()


def _take_places() -> Any:
    """The UPDATE taking each places row's picked seats (the rows are locked already; their
    ids and seats taken bound arrays), as a CTE of the applications' UPDATE: one statement for
    both (issue 21)."""
    taken = select(
        func.unnest(bindparam("places_ids", type_=ARRAY(Integer))).label("id"),
        func.unnest(bindparam("places_taken", type_=ARRAY(Integer))).label("n"),
    ).subquery("taken")
    return (
        update(KindergartenPlaces)
        .where(KindergartenPlaces.id == taken.c.id)
        .values(free_places=KindergartenPlaces.free_places - taken.c.n)
        .returning(KindergartenPlaces.id)
        .cte("taken_places")
    )


def _new_offers() -> driver.Made:
    """The picked offers' INSERT, made once: one row per application (bound arrays of the
    applications, their places rows and age groups), every column of each read back."""
    picked = select(
        func.unnest(bindparam("application_ids", type_=ARRAY(Integer))).label("application_id"),
        func.unnest(bindparam("places_ids", type_=ARRAY(Integer))).label("places_id"),
        func.unnest(bindparam("age_groups", type_=ARRAY(String))).label("age_group"),
    ).subquery("picked")
    offer = KindergartenOffer.__table__.c
    return driver.Made(
        insert(KindergartenOffer)
        .from_select(
            [
                "application_id",
                "places_id",
                "age_group",
                "kindergarten_id",
                "status",
                "deadline",
                "offered_by",
            ],
            select(
                picked.c.application_id,
                picked.c.places_id,
                picked.c.age_group,
                bindparam("kindergarten_id", type_=Integer),
                bindparam("status", type_=offer.status.type),
                bindparam("deadline", type_=Date),
                bindparam("offered_by", type_=String),
            ),
        )
        .returning(*OFFER.columns)
    )


def _offered() -> driver.Made:
    """The picked applications marked offered, every column read back, and their places
    taken (:func:`_take_places`), in one statement made once."""
    return driver.Made(
        update(KA)
        .where(KA.id == any_(bindparam("application_ids", type_=ARRAY(Integer))))
        .values(status=QueueStatus.OFFERED, updated_at=func.now())
        .returning(*APPLICATION.columns)
        .add_cte(_take_places())
    )


OFFER = driver.entity(KindergartenOffer)
APPLICATION = driver.entity(KA)
NEW_OFFERS = _new_offers()
OFFERED = _offered()

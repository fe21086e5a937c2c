"""Publishing a round's recommended lists (domain.md, "University admission", U5): the
previous round's unconfirmed recommendations expire, every open programme's applicants are
ranked and assigned places (``ranking``), and the offers, cut-offs and events are written in
bulk."""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    AdmissionOfferStatus,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    PlaceCategory,
    ProgrammePlaces,
    RoundStatus,
)
from resolvers import clock
from resolvers.access import Principal, require
from resolvers.admission.eligibility import admission_closed
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import require_open
from resolvers.admission.ranking import Slot, SlotState, assign_places, total_of
from resolvers.errors import DomainError, NotFound
from resolvers.events import emit

OFFER_COPY_COLUMNS = [
    "id",
    "round_id",
    "season_id",
    "application_id",
    "person_id",
    "programme_id",
    "category",
    "rank",
    "total_score",
    "status",
]
CUTOFF_COPY_COLUMNS = [
    "round_id",
    "programme_id",
    "category",
    "vacancies",
    "competing",
    "recommended",
    "cutoff_score",
]
OUTBOX_COPY_COLUMNS = ["topic", "aggregate_type", "aggregate_id", "payload"]


@dataclass
class RoundOutcome:
    """What publishing a round produced."""

    round: AdmissionRound
    recommended: int
    expired: int
    slots: int


async def publish_round(
    session: AsyncSession, principal: Principal, *, round_id: int
) -> RoundOutcome:
    """Rank every programme's applicants and publish the round's recommended lists (ministry).

    Rules (domain.md, "University admission"): rounds publish in order, once, on or after the
    publication date and after registration closed; the previous round's confirmation window
    has ended, its unconfirmed recommendations expire and their places become vacancies.
    A programme that cannot open admission on the publication day (its university holds no
    licence in force, or it lacks the accreditation its classifier entry requires: issue 5) is
    not ranked and recommends no one; its applications stay active (they compete again in a
    later round if the licence or accreditation returns) and their applicants compete for
    their other preferences.
    """
    require(principal.is_ministry, "Only the ministry publishes admission rounds")
    today = clock.today()
    rnd, season, earlier = await _lock_round(session, round_id)
    require_open(season, "roundId")
    _require_publishable(rnd, earlier, today)
    expired = await _expire_recommendations(session, season.id)
    programmes, places = await _season_programmes(session, season.id)
    closed = set(await admission_closed(session, programmes, today))
    vacancies = _vacancies(places, closed)
    applications = await _competing_applications(session, season.id, closed)
    placed, slots, keys = assign_places(applications, vacancies)
    ordered, cutoffs = _ranked_slots(rnd.id, slots)
    offers, events = await _recommendations(session, rnd, applications, placed, ordered, keys)
    await session.flush()
    await _copy(session, "admission_offer", OFFER_COPY_COLUMNS, offers)
    await _copy(session, "admission_round_cutoff", CUTOFF_COPY_COLUMNS, cutoffs)
    await _copy(session, "outbox", OUTBOX_COPY_COLUMNS, events)
    # The round's publication comes back with its UPDATE (it was read again after).
    published = (
        await session.execute(
            update(AdmissionRound)
            .where(AdmissionRound.id == rnd.id)
            .values(status=RoundStatus.PUBLISHED, published_at=func.now())
            .returning(AdmissionRound.published_at, AdmissionRound.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).one()
    set_committed_value(rnd, "status", RoundStatus.PUBLISHED)
    set_committed_value(rnd, "published_at", published.published_at)
    set_committed_value(rnd, "updated_at", published.updated_at)
    await emit(
        session,
        topic="admission.round_published",
        aggregate_type="AdmissionRound",
        aggregate_id=rnd.id,
        payload={"season_id": season.id, "recommended": len(offers), "expired": expired},
    )
    return RoundOutcome(
        round=rnd, recommended=len(offers), expired=int(expired), slots=len(cutoffs)
    )


async def _lock_round(
    session: AsyncSession, round_id: int
) -> tuple[AdmissionRound, AdmissionSeason, list[Any]]:
    """The round and its season locked (in that order), with the season's earlier rounds, in
    one statement (three before). An earlier round read as the lock's statement began can only
    look less ready than it is now (rounds publish under the season's lock and are not
    unpublished), so a stale read refuses, never admits."""
    earlier = aliased(AdmissionRound)
    numbers = (
        select(
            func.array_agg(
                aggregate_order_by(
                    func.jsonb_build_array(
                        earlier.number, earlier.status, earlier.confirmation_closes
                    ),
                    earlier.number,
                )
            )
        )
        .where(
            earlier.season_id == AdmissionRound.season_id, earlier.number < AdmissionRound.number
        )
        .scalar_subquery()
    )
    found = (
        await session.execute(
            select(AdmissionRound, AdmissionSeason, numbers.label("earlier"))
            .join(AdmissionSeason, AdmissionSeason.id == AdmissionRound.season_id)
            .where(AdmissionRound.id == round_id)
            .with_for_update(of=[AdmissionRound, AdmissionSeason])
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("The round", field="roundId")
    rnd, season, rounds = found
    return rnd, season, list(rounds or ())


def _require_publishable(rnd: AdmissionRound, earlier: list[Any], today: date) -> None:
    """Refuse a round already published, one before its publication day or its registration's
    end, and one whose earlier rounds are not published and done confirming."""
    if rnd.status == RoundStatus.PUBLISHED:
        raise DomainError(
            AdmissionCode.ROUND_ALREADY_PUBLISHED, "The round is published", field="roundId"
        )
    if today <= rnd.registration_closes or today < rnd.publication_on:
        raise DomainError(
            AdmissionCode.ROUND_NOT_READY,
            f"The round publishes on {rnd.publication_on}, after registration closes",
            field="roundId",
        )
    for number, status, confirmation_closes in earlier:
        if status != RoundStatus.PUBLISHED:
            raise DomainError(
                AdmissionCode.ROUND_NOT_READY,
                f"Round {number} is not published yet",
                field="roundId",
            )
        if today <= date.fromisoformat(confirmation_closes):
            raise DomainError(
                AdmissionCode.ROUND_NOT_READY,
                f"Round {number}'s confirmation window is still open",
                field="roundId",
            )


async def _expire_recommendations(session: AsyncSession, season_id: int) -> int:
    """Expire the season's unconfirmed recommendations (their applications are declined) in
    one statement; how many expired."""
    expired: int = (
        await session.execute(
            text(
                """
                WITH gone AS (
                    UPDATE admission_offer SET status = 'expired', decided_at = now()
                    WHERE season_id = :season AND status = 'recommended'
                    RETURNING id, application_id
                ), declined AS (
                    UPDATE admission_application a SET status = 'declined', updated_at = now()
                    FROM gone WHERE a.id = gone.application_id AND a.status = 'active'
                ), events AS (
                    INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload)
                    SELECT 'admission.recommendation_expired', 'AdmissionOffer', id,
                           jsonb_build_object('application_id', application_id)
                    FROM gone
                )
                SELECT count(*) FROM gone
                """
            ),
            {"season": season_id},
        )
    ).scalar_one()
    return expired


async def _season_programmes(session: AsyncSession, season_id: int) -> tuple[list[Any], list[Any]]:
    """The season's programmes (as :func:`admission_closed` takes them) and their places not
    yet confirmed, per category: one statement (two before)."""
    places = (
        select(
            func.jsonb_agg(
                func.jsonb_build_array(
                    ProgrammePlaces.category, ProgrammePlaces.places - ProgrammePlaces.filled
                )
            )
        )
        .where(
            ProgrammePlaces.programme_id == AdmissionProgramme.id,
            ProgrammePlaces.places > ProgrammePlaces.filled,
        )
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(
                AdmissionProgramme.id,
                AdmissionProgramme.institution_id,
                AdmissionProgramme.code,
                AdmissionProgramme.programme_code,
                places.label("open_places"),
            ).where(AdmissionProgramme.season_id == season_id)
        )
    ).all()
    open_places = [
        (row.id, category, left) for row in rows for category, left in row.open_places or ()
    ]
    return list(rows), open_places


def _vacancies(places: list[Any], closed: set[int]) -> dict[Slot, int]:
    """Places neither confirmed nor closed, per programme and category."""
    return {
        (programme_id, PlaceCategory(category).value): left
        for programme_id, category, left in places
        if programme_id not in closed
    }


async def _competing_applications(
    session: AsyncSession, season_id: int, closed: set[int]
) -> list[tuple[Any, ...]]:
    """The season's active applications to open programmes, as :func:`assign_places` takes
    them, by person and preference."""
    conn = await session.connection()
    raw: Any = (await conn.get_raw_connection()).driver_connection
    # Fetched by the driver directly: 300,000 rows arrive as plain tuples.
    return [
        tuple(r)
        for r in await raw.fetch(
            """
            SELECT a.id, a.person_id, a.programme_id, a.funding, a.grant_category,
                   a.total_score, a.main_score, a.subject_score, a.state_language_score
            FROM admission_application a
            JOIN admission_programme p ON p.id = a.programme_id
            WHERE a.season_id = $1 AND a.status = 'active'
              -- a programme with a creative test ranks only applicants who sat it
              AND (NOT p.creative_test OR a.creative_score IS NOT NULL)
            ORDER BY a.person_id, a.preference
            """,
            season_id,
        )
        if r[2] not in closed
    ]


def _ranked_slots(
    round_id: int, slots: dict[Slot, SlotState]
) -> tuple[dict[Slot, list[int]], list[tuple[Any, ...]]]:
    """Each contested slot's competitors in ranking order (worst first), and its cut-off row:
    vacancies, competitors, recommended, and the last recommended score when it filled."""
    ordered: dict[Slot, list[int]] = {}
    cutoffs: list[tuple[Any, ...]] = []
    for slot_key, slot in slots.items():
        if not slot.competing:
            continue
        slot.competing.sort()
        ordered[slot_key] = slot.competing
        full = len(slot.held) >= slot.vacancies
        worst = min(slot.held) if slot.held else None
        cutoffs.append(
            (
                round_id,
                slot_key[0],
                slot_key[1],
                slot.vacancies,
                len(slot.competing),
                len(slot.held),
                total_of(worst) if full and worst is not None else None,
            )
        )
    return ordered, cutoffs


async def _recommendations(
    session: AsyncSession,
    rnd: AdmissionRound,
    applications: list[tuple[Any, ...]],
    placed: dict[int, Slot],
    ordered: dict[Slot, list[int]],
    keys: dict[int, int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The offer rows (ids drawn from the sequence at once) and their outbox events."""
    person_total = {a[0]: (a[1], a[5]) for a in applications}
    offer_ids = (
        list(
            (
                await session.execute(
                    text("SELECT nextval('admission_offer_id_seq') FROM generate_series(1, :n)"),
                    {"n": len(placed)},
                )
            ).scalars()
        )
        if placed
        else []
    )
    offers: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for offer_id, (app_id, slot_key) in zip(offer_ids, sorted(placed.items()), strict=True):
        person_id, total = person_total[app_id]
        competing = ordered[slot_key]
        # rank 1 is the best: how many competitors rank above, plus one
        rank = len(competing) - bisect.bisect_right(competing, keys[app_id]) + 1
        offers.append(
            (
                offer_id,
                rnd.id,
                rnd.season_id,
                app_id,
                person_id,
                slot_key[0],
                slot_key[1],
                rank,
                total,
                AdmissionOfferStatus.RECOMMENDED.value,
            )
        )
        events.append(
            (
                "admission.place_recommended",
                "AdmissionOffer",
                offer_id,
                json.dumps({"application_id": app_id, "round": rnd.number}),
            )
        )
    return offers, events


async def _copy(
    session: AsyncSession, table: str, columns: list[str], records: list[tuple[Any, ...]]
) -> None:
    """Bulk-load rows with COPY on the session's own connection (inside its transaction)."""
    if not records:
        return
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table, records=records, columns=columns)

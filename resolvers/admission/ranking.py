"""Ranking, recommended lists and the admission order (domain.md, "University admission").

Ranking is per programme and category of places (a grant pool or quota, or contract) by the
ranking score: main test + required subject tests (+ the creative test where the programme
has one). Ties are broken, in order, by the higher main score, the higher subject score, the
higher state-language score, and finally the earlier application (lower id): the order is
total, deterministic and the same in every query that explains it.

A round assigns places by applicant-proposing deferred acceptance: each applicant is
recommended at most one place, the highest of their preferences (grant before contract within
a choice) where their rank falls within the vacancies. Confirmed places are kept; an applicant
holding one competes only for their higher preferences. Unconfirmed recommendations of the
previous round expire when the next round is published and their places return as vacancies.
"""

from __future__ import annotations

import bisect
import heapq
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionOrder,
    AdmissionProgramme,
    AdmissionRound,
    ApplicationStatus,
    EducationLevel,
    Funding,
    PlaceCategory,
    ProgrammePlaces,
    RoundCutoff,
    RoundStatus,
    SeasonStatus,
)
from resolvers import clock
from resolvers import licensing as licensing_service
from resolvers.access import Principal, require
from resolvers.admission.applications import admission_closed
from resolvers.admission.policy import load_season, require_open
from resolvers.admission.rules import admission_application_readable
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.events import emit

COMPETING = (ApplicationStatus.ACTIVE, ApplicationStatus.CONFIRMED, ApplicationStatus.ENROLLED)

# The ranking order as one integer per application, larger is better: total, then main, then
# subject, then state-language score, then the earlier application (lower id). Packing the
# tie-breakers into one int keeps ranking 300,000 applications within a couple of seconds.
_ID_SPACE = 1 << 40
_SCORE_SPACE = 1 << 16  # every score is a SMALLINT or a sum of a few


def ranking_key(total: int, main: int, subject: int, state: int, app_id: int) -> int:
    """The documented order (module docstring) as one comparable integer."""
    scores = ((total * _SCORE_SPACE + main) * _SCORE_SPACE + subject) * _SCORE_SPACE + state
    return scores * _ID_SPACE + (_ID_SPACE - 1 - app_id)


def _app_of(key: int) -> int:
    return _ID_SPACE - 1 - (key % _ID_SPACE)


Slot = tuple[int, str]  # (programme id, place category value)


@dataclass
class _Slot:
    vacancies: int
    held: list[int] = field(default_factory=list)  # min-heap of keys: the worst on top
    competing: list[int] = field(default_factory=list)


@dataclass
class RoundOutcome:
    """What publishing a round produced."""

    round: AdmissionRound
    recommended: int
    expired: int
    slots: int


def assign_places(
    applications: list[tuple[Any, ...]], vacancies: dict[Slot, int]
) -> tuple[dict[int, Slot], dict[Slot, _Slot], dict[int, int]]:
    """Deferred acceptance over the applicants' preference lists.

    ``applications`` are tuples (id, person_id, programme_id, funding, grant_category, total,
    main, subject, state language), ordered by person and preference. Returns the place each
    recommended application got, every slot with its competitors (for ranks and cut-offs), and
    each application's ranking key.
    """
    slots = {k: _Slot(vacancies=v) for k, v in vacancies.items()}
    options: dict[int, list[tuple[_Slot, Slot, int]]] = defaultdict(list)
    person_of: dict[int, int] = {}
    keys: dict[int, int] = {}
    for (
        app_id,
        person,
        programme,
        funding,
        grant_category,
        total,
        main,
        subj,
        state,
    ) in applications:
        key = ranking_key(total, main, subj, state, app_id)
        keys[app_id] = key
        person_of[app_id] = person
        wanted = []
        if funding != "contract" and grant_category is not None:
            wanted.append(grant_category)
        if funding != "grant":
            wanted.append("contract")
        for category in wanted:
            slot_key = (programme, category)
            slot = slots.get(slot_key)
            if slot is not None:
                options[person].append((slot, slot_key, key))
                slot.competing.append(key)
    cursor: dict[int, int] = dict.fromkeys(options, 0)
    waiting = list(options)
    while waiting:
        person = waiting.pop()
        tried = options[person]
        at = cursor[person]
        while at < len(tried):
            slot, _slot_key, key = tried[at]
            at += 1
            if len(slot.held) < slot.vacancies:
                heapq.heappush(slot.held, key)
                break
            if slot.held and key > slot.held[0]:
                bumped = heapq.heapreplace(slot.held, key)
                waiting.append(person_of[_app_of(bumped)])
                break
        cursor[person] = at
    placed: dict[int, Slot] = {}
    for slot_key, slot in slots.items():
        for key in slot.held:
            placed[_app_of(key)] = slot_key
    return placed, slots, keys


async def _previous_rounds_ready(session: AsyncSession, rnd: AdmissionRound, today: date) -> None:
    earlier = (
        (
            await session.execute(
                select(AdmissionRound).where(
                    AdmissionRound.season_id == rnd.season_id, AdmissionRound.number < rnd.number
                )
            )
        )
        .scalars()
        .all()
    )
    for other in earlier:
        if other.status != RoundStatus.PUBLISHED:
            raise DomainError(
                ErrorCode.ROUND_NOT_READY,
                f"Round {other.number} is not published yet",
                field="roundId",
            )
        if today <= other.confirmation_closes:
            raise DomainError(
                ErrorCode.ROUND_NOT_READY,
                f"Round {other.number}'s confirmation window is still open",
                field="roundId",
            )


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
    rnd = await session.get(AdmissionRound, round_id, with_for_update=True)
    if rnd is None:
        raise NotFound("The round", field="roundId")
    season = await load_season(session, rnd.season_id, lock=True)
    require_open(season, "roundId")
    if rnd.status == RoundStatus.PUBLISHED:
        raise DomainError(
            ErrorCode.ROUND_ALREADY_PUBLISHED, "The round is published", field="roundId"
        )
    today = clock.today()
    if today <= rnd.registration_closes or today < rnd.publication_on:
        raise DomainError(
            ErrorCode.ROUND_NOT_READY,
            f"The round publishes on {rnd.publication_on}, after registration closes",
            field="roundId",
        )
    await _previous_rounds_ready(session, rnd, today)

    expired = (
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
            {"season": season.id},
        )
    ).scalar_one()

    closed = set(
        await admission_closed(
            session,
            (
                await session.execute(
                    select(
                        AdmissionProgramme.id,
                        AdmissionProgramme.institution_id,
                        AdmissionProgramme.code,
                        AdmissionProgramme.programme_code,
                    ).where(AdmissionProgramme.season_id == season.id)
                )
            ).all(),
            today,
        )
    )
    vacancies = {
        (row.programme_id, PlaceCategory(row.category)): row.places - row.filled
        for row in await session.execute(
            select(
                ProgrammePlaces.programme_id,
                ProgrammePlaces.category,
                ProgrammePlaces.places,
                ProgrammePlaces.filled,
            )
            .join(AdmissionProgramme, AdmissionProgramme.id == ProgrammePlaces.programme_id)
            .where(
                AdmissionProgramme.season_id == season.id,
                ProgrammePlaces.places > ProgrammePlaces.filled,
            )
        )
        if row.programme_id not in closed
    }
    conn = await session.connection()
    raw: Any = (await conn.get_raw_connection()).driver_connection
    # Fetched by the driver directly: 300,000 rows arrive as plain tuples.
    applications = [
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
            season.id,
        )
        if r[2] not in closed
    ]
    vacancies_by_slot: dict[Slot, int] = {(p, c.value): v for (p, c), v in vacancies.items()}
    placed, slots, keys = assign_places(applications, vacancies_by_slot)

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
                rnd.id,
                slot_key[0],
                slot_key[1],
                slot.vacancies,
                len(slot.competing),
                len(slot.held),
                _total_of(worst) if full and worst is not None else None,
            )
        )
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
                season.id,
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
    await session.flush()
    await _copy(
        session,
        "admission_offer",
        [
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
        ],
        offers,
    )
    await _copy(
        session,
        "admission_round_cutoff",
        [
            "round_id",
            "programme_id",
            "category",
            "vacancies",
            "competing",
            "recommended",
            "cutoff_score",
        ],
        cutoffs,
    )
    await _copy(session, "outbox", ["topic", "aggregate_type", "aggregate_id", "payload"], events)
    rnd.status = RoundStatus.PUBLISHED
    rnd.published_at = func.now()
    await session.flush()
    await session.refresh(rnd)
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


def _total_of(key: int) -> int:
    return key // (_ID_SPACE * _SCORE_SPACE**3)


# --- explanation ---------------------------------------------------------------------------


@dataclass
class RankEntry:
    """Where an application stands in one category of its programme."""

    category: PlaceCategory
    total_score: int
    rank: int
    competing: int
    places: int
    round_number: int | None
    vacancies: int | None
    recommended: int | None
    cutoff_score: int | None
    offer_status: AdmissionOfferStatus | None
    explanation: str


@dataclass
class RankExplanation:
    application: Any
    entries: list[RankEntry]


def _categories(app: Any) -> list[PlaceCategory]:
    out = []
    if app.grant_category is not None:
        out.append(PlaceCategory(app.grant_category))
    if app.funding in (Funding.CONTRACT, Funding.BOTH):
        out.append(PlaceCategory.CONTRACT)
    return out


def _in_category(category: PlaceCategory) -> Any:
    if category == PlaceCategory.CONTRACT:
        return AdmissionApplication.funding.in_([Funding.CONTRACT, Funding.BOTH])
    return AdmissionApplication.grant_category == category


def _sentence(entry: RankEntry, creative_missing: bool) -> str:
    if creative_missing:
        return "Not ranked until the creative test score is recorded"
    head = (
        f"Score {entry.total_score}, rank {entry.rank} of {entry.competing} "
        f"for {entry.places} {entry.category.value} places"
    )
    if entry.round_number is None:
        return head + "; no round has been published yet"
    if entry.offer_status is not None:
        return (
            head
            + f"; round {entry.round_number} recommended this place ({entry.offer_status.value})"
        )
    if entry.cutoff_score is None:
        return head + f"; round {entry.round_number} did not fill its {entry.vacancies} vacancies"
    if entry.total_score < entry.cutoff_score:
        return head + f"; below round {entry.round_number}'s cut-off of {entry.cutoff_score}"
    return (
        head + f"; at or above round {entry.round_number}'s cut-off of {entry.cutoff_score}, "
        "but the tie-breaks or a higher preference decided"
    )


async def rank_explanation(
    session: AsyncSession, principal: Principal, *, application_id: int
) -> RankExplanation | None:
    """Why an application stands where it does: its ranking score, category (pool, quota or
    contract), rank by the documented order among those competing now, and the last published
    round's vacancies and cut-off (the score of the last recommended applicant)."""
    app = (
        await session.execute(
            select(AdmissionApplication).where(
                AdmissionApplication.id == application_id,
                admission_application_readable(principal),
            )
        )
    ).scalar_one_or_none()
    if app is None:
        return None
    programme = await session.get(AdmissionProgramme, app.programme_id)
    assert programme is not None
    last_round = (
        await session.execute(
            select(AdmissionRound)
            .where(
                AdmissionRound.season_id == app.season_id,
                AdmissionRound.status == RoundStatus.PUBLISHED,
            )
            .order_by(AdmissionRound.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    mine = tuple_(
        AdmissionApplication.total_score,
        AdmissionApplication.main_score,
        AdmissionApplication.subject_score,
        AdmissionApplication.state_language_score,
        -AdmissionApplication.id,
    )
    me = (app.total_score, app.main_score, app.subject_score, app.state_language_score, -app.id)
    entries = []
    for category in _categories(app):
        competing_clause = and_(
            AdmissionApplication.programme_id == app.programme_id,
            AdmissionApplication.status.in_(COMPETING),
            _in_category(category),
        )
        counts = (
            await session.execute(
                select(
                    func.count(),
                    func.count().filter(mine > tuple_(*me)),
                ).where(competing_clause)
            )
        ).one()
        places = await session.scalar(
            select(ProgrammePlaces.places).where(
                ProgrammePlaces.programme_id == app.programme_id,
                ProgrammePlaces.category == category,
            )
        )
        cutoff = None
        if last_round is not None:
            cutoff = (
                await session.execute(
                    select(RoundCutoff).where(
                        RoundCutoff.round_id == last_round.id,
                        RoundCutoff.programme_id == app.programme_id,
                        RoundCutoff.category == category,
                    )
                )
            ).scalar_one_or_none()
        offer_status = await session.scalar(
            select(AdmissionOffer.status)
            .where(AdmissionOffer.application_id == app.id, AdmissionOffer.category == category)
            .order_by(AdmissionOffer.round_id.desc())
            .limit(1)
        )
        entry = RankEntry(
            category=category,
            total_score=app.total_score,
            rank=int(counts[1]) + 1,
            competing=max(int(counts[0]), 1),
            places=int(places or 0),
            round_number=last_round.number if last_round else None,
            vacancies=cutoff.vacancies if cutoff else None,
            recommended=cutoff.recommended if cutoff else None,
            cutoff_score=cutoff.cutoff_score if cutoff else None,
            offer_status=AdmissionOfferStatus(offer_status) if offer_status else None,
            explanation="",
        )
        entry.explanation = _sentence(entry, programme.creative_test and app.creative_score is None)
        entries.append(entry)
    return RankExplanation(application=app, entries=entries)


# --- the admission order -------------------------------------------------------------------


async def issue_admission_order(
    session: AsyncSession, principal: Principal, *, season_id: int, number: str
) -> AdmissionOrder:
    """Close a season with its admission order (ministry): every applicant holding a confirmed
    place is enrolled at the programme's university (a higher-education enrollment from the
    season's start of studies, naming the programme); the season accepts nothing more.

    Licences (issue 5): no one is enrolled at a university that needs a licence and holds
    none in force, covering higher education, on the order's day and on the start of studies.
    The order is then refused (``LICENCE_REQUIRED`` for each such university, nothing written):
    the ministry settles those universities' confirmed places before closing the season.
    """
    require(principal.is_ministry, "Only the ministry issues the admission order")
    season = await load_season(session, season_id, lock=True)
    if season.status == SeasonStatus.CLOSED:
        raise DomainError(ErrorCode.SEASON_CLOSED, "The season is already closed", field="seasonId")
    number = number.strip()
    if not number or len(number) > 40:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "An order number of 1-40 characters", field="number"
        )
    today = clock.today()
    rounds = (
        (await session.execute(select(AdmissionRound).where(AdmissionRound.season_id == season.id)))
        .scalars()
        .all()
    )
    if not rounds or any(
        r.status != RoundStatus.PUBLISHED or today <= r.confirmation_closes for r in rounds
    ):
        raise DomainError(
            ErrorCode.ROUND_NOT_READY,
            "Every round is published and its confirmation window over before the order",
            field="seasonId",
        )
    universities = list(
        await session.scalars(
            select(AdmissionProgramme.institution_id)
            .join(AdmissionOffer, AdmissionOffer.programme_id == AdmissionProgramme.id)
            .where(
                AdmissionOffer.season_id == season.id,
                AdmissionOffer.status == AdmissionOfferStatus.CONFIRMED,
            )
            .distinct()
        )
    )
    unlicensed: set[int] = set()
    for day in sorted({today, season.studies_start}):
        unlicensed |= await licensing_service.unlicensed_among(
            session, universities, on=day, level=EducationLevel.HIGHER
        )
    if unlicensed:
        first, *more = [
            Problem(
                ErrorCode.LICENCE_REQUIRED,
                f"University {i} holds no licence in force for higher education on "
                f"{today.isoformat()} and {season.studies_start.isoformat()}; its confirmed "
                "places cannot be enrolled",
                "seasonId",
            )
            for i in sorted(unlicensed)
        ]
        raise DomainError(first.code, first.message, field=first.field, more=more)
    enrolled = (
        await session.execute(
            text(
                """
                WITH placed AS (
                    SELECT o.id AS offer_id, o.application_id, o.person_id,
                           p.institution_id, left(p.name, 200) AS programme
                    FROM admission_offer o JOIN admission_programme p ON p.id = o.programme_id
                    WHERE o.season_id = :season AND o.status = 'confirmed'
                ), made AS (
                    INSERT INTO enrollment
                        (person_id, institution_id, sector, entry_date, programme)
                    SELECT person_id, institution_id, 'higher', :start, programme
                    FROM placed
                    RETURNING id, person_id
                ), apps AS (
                    UPDATE admission_application a
                    SET status = 'enrolled', enrollment_id = made.id, updated_at = now()
                    FROM placed JOIN made ON made.person_id = placed.person_id
                    WHERE a.id = placed.application_id
                ), offers AS (
                    UPDATE admission_offer o SET status = 'enrolled', decided_at = now()
                    FROM placed WHERE o.id = placed.offer_id
                ), events AS (
                    INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload)
                    SELECT 'admission.student_enrolled', 'Enrollment', made.id,
                           jsonb_build_object('season_id', CAST(:season AS integer))
                    FROM made
                )
                SELECT count(*) FROM made
                """
            ),
            {"season": season.id, "start": season.studies_start},
        )
    ).scalar_one()
    order = AdmissionOrder(
        season_id=season.id,
        number=number,
        issued_on=today,
        issued_by=principal.subject[:120],
        enrollments=int(enrolled),
    )
    session.add(order)
    season.status = SeasonStatus.CLOSED
    season.closed_at = func.now()
    # Whatever still competes stops competing with the season.
    await session.execute(
        update(AdmissionApplication)
        .where(
            AdmissionApplication.season_id == season.id,
            AdmissionApplication.status == ApplicationStatus.ACTIVE,
        )
        .values(status=ApplicationStatus.WITHDRAWN)
    )
    await session.flush()
    await emit(
        session,
        topic="admission.order_issued",
        aggregate_type="AdmissionOrder",
        aggregate_id=order.id,
        payload={"season_id": season.id, "enrollments": int(enrolled)},
    )
    return order

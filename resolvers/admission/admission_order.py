"""The admission order that closes a season (domain.md, "University admission"): every
confirmed place becomes a higher-education enrollment, and the season accepts nothing more."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionOrder,
    AdmissionProgramme,
    AdmissionRound,
    AdmissionSeason,
    EducationLevel,
    RoundStatus,
    SeasonStatus,
)
from resolvers import clock
from resolvers import licensing as licensing_service
from resolvers.access import Principal, require
from resolvers.admission.errors import AdmissionCode
from resolvers.admission.policy import load_season
from resolvers.errors import DomainError, ErrorCode, Problem
from resolvers.events import emit

MAX_ORDER_NUMBER = 40


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
        raise DomainError(
            AdmissionCode.SEASON_CLOSED, "The season is already closed", field="seasonId"
        )
    number = number.strip()
    if not number or len(number) > MAX_ORDER_NUMBER:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "An order number of 1-40 characters", field="number"
        )
    today = clock.today()
    rounds_over, universities = await _season_facts(session, season, today)
    if not rounds_over:
        raise DomainError(
            AdmissionCode.ROUND_NOT_READY,
            "Every round is published and its confirmation window over before the order",
            field="seasonId",
        )
    await _require_licensed_universities(session, season, today, universities)
    order = await _close_season(session, principal, season, number, today)
    await emit(
        session,
        topic="admission.order_issued",
        aggregate_type="AdmissionOrder",
        aggregate_id=order.id,
        payload={"season_id": season.id, "enrollments": order.enrollments},
    )
    return order


async def _season_facts(
    session: AsyncSession, season: AdmissionSeason, today: date
) -> tuple[bool, list[int]]:
    """Whether every round of the season is published and done confirming (and there is one),
    and the universities holding confirmed places: one statement after the season's lock."""
    rounds_over = (
        select(
            (func.count() > 0)
            & func.coalesce(
                func.bool_and(
                    (AdmissionRound.status == RoundStatus.PUBLISHED)
                    & (AdmissionRound.confirmation_closes < today)
                ),
                False,
            )
        )
        .where(AdmissionRound.season_id == season.id)
        .scalar_subquery()
    )
    universities = (
        select(func.array_agg(func.distinct(AdmissionProgramme.institution_id)))
        .join(AdmissionOffer, AdmissionOffer.programme_id == AdmissionProgramme.id)
        .where(
            AdmissionOffer.season_id == season.id,
            AdmissionOffer.status == AdmissionOfferStatus.CONFIRMED,
        )
        .scalar_subquery()
    )
    row = (await session.execute(select(rounds_over, universities))).one()
    return bool(row[0]), list(row[1] or ())


async def _require_licensed_universities(
    session: AsyncSession, season: AdmissionSeason, today: date, universities: list[int]
) -> None:
    """Refuse the order (one problem per university) while a university holding confirmed
    places lacks a licence for higher education today or on the start of studies."""
    unlicensed: set[int] = set()
    for day in sorted({today, season.studies_start}):
        unlicensed |= await licensing_service.unlicensed_among(
            session, universities, on=day, level=EducationLevel.HIGHER
        )
    if not unlicensed:
        return
    first, *more = [
        Problem(
            AdmissionCode.LICENCE_REQUIRED,
            f"University {i} holds no licence in force for higher education on "
            f"{today.isoformat()} and {season.studies_start.isoformat()}; its confirmed "
            "places cannot be enrolled",
            "seasonId",
        )
        for i in sorted(unlicensed)
    ]
    raise DomainError(first.code, first.message, field=first.field, more=more)


async def _close_season(
    session: AsyncSession,
    principal: Principal,
    season: AdmissionSeason,
    number: str,
    today: date,
) -> AdmissionOrder:
    """Enroll every confirmed place (enrollment, application and offer updated, one event
    each), withdraw whatever still competes, write the order and close the season: one
    statement whatever the number of places (four before)."""
    row = (
        (
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
                ), competing AS (
                    -- Whatever still competes stops competing with the season (active rows:
                    -- none of them is a confirmed application updated above).
                    UPDATE admission_application SET status = 'withdrawn', updated_at = now()
                    WHERE season_id = :season AND status = 'active'
                ), offers AS (
                    UPDATE admission_offer o SET status = 'enrolled', decided_at = now()
                    FROM placed WHERE o.id = placed.offer_id
                ), events AS (
                    INSERT INTO outbox (topic, aggregate_type, aggregate_id, payload)
                    SELECT 'admission.student_enrolled', 'Enrollment', made.id,
                           jsonb_build_object('season_id', CAST(:season AS integer))
                    FROM made
                ), closed AS (
                    UPDATE admission_season
                    SET status = 'closed', closed_at = now(), updated_at = now()
                    WHERE id = :season
                    RETURNING closed_at, updated_at
                ), issued AS (
                    INSERT INTO admission_order
                        (season_id, number, issued_on, issued_by, enrollments)
                    SELECT :season, :number, :today, :issued_by, count(*) FROM made
                    RETURNING *
                )
                SELECT issued.*, closed.closed_at AS season_closed_at,
                       closed.updated_at AS season_updated_at
                FROM issued, closed
                """
                ),
                {
                    "season": season.id,
                    "start": season.studies_start,
                    "number": number,
                    "today": today,
                    "issued_by": principal.subject[:120],
                },
            )
        )
        .mappings()
        .one()
    )
    set_committed_value(season, "status", SeasonStatus.CLOSED)
    set_committed_value(season, "closed_at", row["season_closed_at"])
    set_committed_value(season, "updated_at", row["season_updated_at"])
    columns = {c.key for c in AdmissionOrder.__table__.c}
    return AdmissionOrder(**{k: v for k, v in row.items() if k in columns})

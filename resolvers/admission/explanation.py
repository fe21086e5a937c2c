"""Why an application ranks where it does (domain.md, "University admission", U3): its score,
the category it competes in, its rank by the documented order (``ranking``) among those
competing now, and the last published round's vacancies and cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AdmissionApplication,
    AdmissionOffer,
    AdmissionOfferStatus,
    AdmissionProgramme,
    AdmissionRound,
    Funding,
    PlaceCategory,
    ProgrammePlaces,
    RoundCutoff,
    RoundStatus,
)
from resolvers.access import Principal
from resolvers.admission.ranking import COMPETING
from resolvers.admission.rules import admission_application_readable


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
    last_round = await _last_published_round(session, app.season_id)
    creative_missing = programme.creative_test and app.creative_score is None
    entries = [
        await _rank_entry(session, app, category, last_round, creative_missing)
        for category in _categories(app)
    ]
    return RankExplanation(application=app, entries=entries)


async def _last_published_round(session: AsyncSession, season_id: int) -> AdmissionRound | None:
    return (
        await session.execute(
            select(AdmissionRound)
            .where(
                AdmissionRound.season_id == season_id,
                AdmissionRound.status == RoundStatus.PUBLISHED,
            )
            .order_by(AdmissionRound.number.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


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


async def _rank_entry(
    session: AsyncSession,
    app: AdmissionApplication,
    category: PlaceCategory,
    last_round: AdmissionRound | None,
    creative_missing: bool,
) -> RankEntry:
    """The application's standing in one category: competitors ranked above it by the
    documented order, the category's places, the last round's cut-off and its latest offer."""
    mine = tuple_(
        AdmissionApplication.total_score,
        AdmissionApplication.main_score,
        AdmissionApplication.subject_score,
        AdmissionApplication.state_language_score,
        -AdmissionApplication.id,
    )
    me = (app.total_score, app.main_score, app.subject_score, app.state_language_score, -app.id)
    competing_clause = and_(
        AdmissionApplication.programme_id == app.programme_id,
        AdmissionApplication.status.in_(COMPETING),
        _in_category(category),
    )
    counts = (
        await session.execute(
            select(func.count(), func.count().filter(mine > tuple_(*me))).where(competing_clause)
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
    entry.explanation = _sentence(entry, creative_missing)
    return entry


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

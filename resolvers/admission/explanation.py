"""Why an application ranks where it does (domain.md, "University admission", U3): its score,
the category it competes in, its rank by the documented order (``ranking``) among those
competing now, and the last published round's vacancies and cut-off.

One statement (issue 21): the application under the row rule, with its programme's creative
test, the season's last published round, and per category (its grant pool or quota, and
contract) one lateral select: the competitors and those ranked above it, the category's
places, the round's cut-off and the latest offer. Each category's select is guarded by the
application's own funding, so a category it does not compete in costs a one-time filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, literal, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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


# Made once: an ORM alias copies every column of its table (resolvers/admission/rules.py).
_COMPETITOR = aliased(AdmissionApplication)
_CONTRACT_FUNDING = (Funding.CONTRACT, Funding.BOTH)
_STANDING = ("competing", "ahead", "places", "vacancies", "recommended", "cutoff", "offer")


def _build_explanation() -> Select[Any]:
    """The statement without its application and row rule: the application with its
    programme's creative test, the season's last published round and, per category (the grant
    pool or quota, then contract), the application's standing (``_standing``)."""
    app_ = AdmissionApplication
    last_round = (
        select(AdmissionRound.id, AdmissionRound.number)
        .where(
            AdmissionRound.season_id == app_.season_id,
            AdmissionRound.status == RoundStatus.PUBLISHED,
        )
        .order_by(AdmissionRound.number.desc())
        .limit(1)
        .lateral("last_round")
    )
    grant = _standing(grant=True, last_round=last_round)
    contract = _standing(grant=False, last_round=last_round)
    return (
        select(
            app_,
            AdmissionProgramme.creative_test,
            last_round.c.number,
            *(grant.c[name] for name in _STANDING),
            *(contract.c[name] for name in _STANDING),
        )
        .join(AdmissionProgramme, AdmissionProgramme.id == app_.programme_id)
        .outerjoin(last_round, true())
        .join(grant, true())
        .join(contract, true())
    )


async def rank_explanation(
    session: AsyncSession, principal: Principal, *, application_id: int
) -> RankExplanation | None:
    """Why an application stands where it does: its ranking score, category (pool, quota or
    contract), rank by the documented order among those competing now, and the last published
    round's vacancies and cut-off (the score of the last recommended applicant)."""
    row = (
        await session.execute(
            _EXPLANATION.where(
                AdmissionApplication.id == application_id,
                admission_application_readable(principal),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    app, creative_test, round_number = row[0], row[1], row[2]
    n = len(_STANDING)
    standings = {
        "grant": row[3 : 3 + n],
        "contract": row[3 + n : 3 + 2 * n],
    }
    creative_missing = creative_test and app.creative_score is None
    entries = []
    if app.grant_category is not None:
        entries.append(
            _entry(
                app,
                PlaceCategory(app.grant_category),
                round_number,
                standings["grant"],
                creative_missing,
            )
        )
    if app.funding in _CONTRACT_FUNDING:
        entries.append(
            _entry(
                app, PlaceCategory.CONTRACT, round_number, standings["contract"], creative_missing
            )
        )
    return RankExplanation(application=app, entries=entries)


def _standing(*, grant: bool, last_round: Any) -> Any:
    """The application's standing in its grant category (pool or quota) or in contract, as a
    lateral select of one row: those competing in it and those ranked above it by the
    documented order, the category's places, the last round's cut-off and the latest offer.
    The application's own funding guards the count: a category it does not compete in is not
    counted (and its row is not read)."""
    app_, c = AdmissionApplication, _COMPETITOR
    category: Any
    if grant:
        category = app_.grant_category
        competes = app_.grant_category.is_not(None)
        in_category = c.grant_category == app_.grant_category
    else:
        category = literal(PlaceCategory.CONTRACT, app_.grant_category.type)
        competes = app_.funding.in_(_CONTRACT_FUNDING)
        in_category = c.funding.in_(_CONTRACT_FUNDING)
    ranked = (c.total_score, c.main_score, c.subject_score, c.state_language_score, -c.id)
    mine = (
        app_.total_score,
        app_.main_score,
        app_.subject_score,
        app_.state_language_score,
        -app_.id,
    )
    cutoff = and_(
        RoundCutoff.round_id == last_round.c.id,
        RoundCutoff.programme_id == app_.programme_id,
        RoundCutoff.category == category,
    )
    return (
        select(
            func.count().label("competing"),
            func.count().filter(tuple_(*ranked) > tuple_(*mine)).label("ahead"),
            select(ProgrammePlaces.places)
            .where(
                ProgrammePlaces.programme_id == app_.programme_id,
                ProgrammePlaces.category == category,
            )
            .correlate(app_, last_round)
            .scalar_subquery()
            .label("places"),
            *(
                select(column)
                .where(cutoff)
                .correlate(app_, last_round)
                .scalar_subquery()
                .label(name)
                for column, name in (
                    (RoundCutoff.vacancies, "vacancies"),
                    (RoundCutoff.recommended, "recommended"),
                    (RoundCutoff.cutoff_score, "cutoff"),
                )
            ),
            select(AdmissionOffer.status)
            .where(AdmissionOffer.application_id == app_.id, AdmissionOffer.category == category)
            .order_by(AdmissionOffer.round_id.desc())
            .limit(1)
            .correlate(app_, last_round)
            .scalar_subquery()
            .label("offer"),
        )
        .select_from(c)
        .where(
            competes,
            c.programme_id == app_.programme_id,
            c.status.in_(COMPETING),
            in_category,
        )
        .lateral()
    )


# Built once (its laterals cost more to build than to run; issue 21), then narrowed per request
# by ``where``, which copies it.
_EXPLANATION = _build_explanation()


def _entry(
    app: Any,
    category: PlaceCategory,
    round_number: int | None,
    standing: Any,
    creative_missing: bool,
) -> RankEntry:
    competing, ahead, places, vacancies, recommended, cutoff_score, offer_status = standing
    entry = RankEntry(
        category=category,
        total_score=app.total_score,
        rank=int(ahead) + 1,
        competing=max(int(competing), 1),
        places=int(places or 0),
        round_number=round_number,
        vacancies=vacancies,
        recommended=recommended,
        cutoff_score=cutoff_score,
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

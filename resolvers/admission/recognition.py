"""Foreign applicants' documents (domain.md U6; issue 14.9): an officer recognises a foreign
education document by a route (equivalence, test exemption, substitute test) or refuses it,
and the decision changes what the applicant may compete for (``eligibility.py``).

A refused document makes every choice ineligible (``DOCUMENTS_NOT_RECOGNISED``); a test
exemption waives the state-language test; equivalence and a substitute test leave the rules
as they are (the substitute test's results are imported as the applicant's certificate).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DocumentRecognition, Person, RecognitionRoute, RecognitionStatus
from resolvers.access import Principal, require
from resolvers.admission.policy import load_season, require_open
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.events import emit

TEXT_LIMITS = {"country": 60, "documentNumber": 40, "reference": 120}


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text or len(text) > TEXT_LIMITS[field]:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Give 1 to {TEXT_LIMITS[field]} characters",
            field=field,
        )
    return text


async def recognition_of(
    session: AsyncSession, season_id: int, person_id: int
) -> DocumentRecognition | None:
    """The decision on the applicant's foreign document in the season, if any."""
    return await session.scalar(
        select(DocumentRecognition).where(
            DocumentRecognition.season_id == season_id,
            DocumentRecognition.person_id == person_id,
        )
    )


async def decide_document_recognition(
    session: AsyncSession,
    principal: Principal,
    *,
    season_id: int,
    person_id: int,
    country: str,
    document_number: str,
    route: RecognitionRoute,
    recognised: bool,
    reference: str,
) -> DocumentRecognition:
    """Record the ministry's decision on a foreign applicant's education document (U6: the
    equivalence certificate, a test exemption or a substitute test; or a refusal) in an open
    season. A later decision replaces the earlier one; the audit row and an outbox event keep
    each."""
    require(principal.is_ministry, "Only the ministry recognises foreign documents")
    season = await load_season(session, season_id)
    require_open(season)
    if await session.get(Person, person_id) is None:
        raise NotFound("The person", field="personId")
    values = {
        "country": _text(country, "country"),
        "document_number": _text(document_number, "documentNumber"),
        "route": route,
        "status": RecognitionStatus.RECOGNISED if recognised else RecognitionStatus.REFUSED,
        "reference": _text(reference, "reference"),
        "decided_by": principal.subject,
    }
    row = await recognition_of(session, season.id, person_id)
    if row is None:
        row = DocumentRecognition(season_id=season.id, person_id=person_id, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    await emit(
        session,
        topic="admission.document_recognition_decided",
        aggregate_type="DocumentRecognition",
        aggregate_id=row.id,
        payload={"season_id": season.id, "route": route.value, "status": row.status.value},
    )
    return row

"""Arranging licensing scenarios: a valid dossier, the GraphQL documents, and a way to move the
hub's clock."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxEvent
from resolvers import clock
from tests.conftest import Hub
from tests.factories import SHA

USER_ERRORS = "userErrors { field code message }"

APPLICATION_FIELDS = """
  id status levels dueOn pausedOn overdue daysLeft requestedDocuments decidedOn decisionReasons
  appliedAs applicant clinicalBase
  institution { id name }
  programmes { code level medical }
  addresses { address floorArea plannedStudents areaPerStudent tenure tenureUntil }
  documents { kind fileName sha256 addressIndex }
  history { action on note }
  licence { id number status validUntil validToday }
"""

APPLY_FOR_LICENCE = f"""
mutation ApplyForLicence($input: ApplyForLicenceInput!) {{
  applyForLicence(input: $input) {{ application {{ {APPLICATION_FIELDS} }} {USER_ERRORS} }}
}}
"""

SUPPLEMENT = f"""
mutation SupplementLicenceApplication($input: SupplementLicenceApplicationInput!) {{
  supplementLicenceApplication(input: $input) {{ application {{ {APPLICATION_FIELDS} }} {USER_ERRORS} }}
}}
"""

REVIEW = f"""
mutation ReviewLicenceApplication($input: ReviewLicenceApplicationInput!) {{
  reviewLicenceApplication(input: $input) {{ application {{ {APPLICATION_FIELDS} }} {USER_ERRORS} }}
}}
"""

LICENCE_FIELDS = """
  id number status levels issuedOn validUntil endedOn validToday
  institution { id name }
  programmes { code }
  addresses { address }
  history { action on reason legalBasis actor }
  replaces { id number status }
  replacedBy { id number status }
"""

SUSPEND = f"""
mutation SuspendLicence($input: SuspendLicenceInput!) {{
  suspendLicence(input: $input) {{ licence {{ {LICENCE_FIELDS} }} {USER_ERRORS} }}
}}
"""
RESTORE = f"""
mutation RestoreLicence($input: RestoreLicenceInput!) {{
  restoreLicence(input: $input) {{ licence {{ {LICENCE_FIELDS} }} {USER_ERRORS} }}
}}
"""
REVOKE = f"""
mutation RevokeLicence($input: RevokeLicenceInput!) {{
  revokeLicence(input: $input) {{ licence {{ {LICENCE_FIELDS} }} {USER_ERRORS} }}
}}
"""
REISSUE = f"""
mutation ReissueLicence($input: ReissueLicenceInput!) {{
  reissueLicence(input: $input) {{ licence {{ {LICENCE_FIELDS} }} {USER_ERRORS} }}
}}
"""


def today() -> date:
    return clock.today()


def document(kind: str, address_index: int | None = None) -> dict[str, Any]:
    return {
        "kind": kind,
        "fileName": f"{kind.lower()}.pdf",
        "mediaType": "application/pdf",
        "sizeBytes": 48_213,
        "sha256": SHA,
        "storageKey": f"licensing/{kind.lower()}.pdf",
        "addressIndex": address_index,
    }


def address(
    *,
    floor_area: float | None = 1200.0,
    students: int | None = 300,
    tenure: str = "LEASE",
    until: date | None = None,
    text: str = "г. Бишкек, ул. Токтогула, 125",
) -> dict[str, Any]:
    return {
        "address": text,
        "floorArea": floor_area,
        "plannedStudents": students,
        "tenure": tenure,
        "tenureFrom": (today() - timedelta(days=400)).isoformat(),
        "tenureUntil": (until or today() + timedelta(days=5 * 365)).isoformat(),
    }


ADDRESS_DOCUMENTS = ("FIRE_SAFETY_OPINION", "SANITARY_OPINION", "PREMISES_CONTRACT")


def dossier(institution_gid: str, **overrides: Any) -> dict[str, Any]:
    """A licence application that passes every submission rule."""
    values: dict[str, Any] = {
        "institutionId": institution_gid,
        "levels": ["PRIMARY", "BASIC", "SECONDARY"],
        "addresses": [address()],
        "documents": [document(k, 0) for k in ADDRESS_DOCUMENTS],
    }
    values.update(overrides)
    return values


async def payload(hub: Hub, document_: str, name: str, token: str, values: dict[str, Any]) -> Any:
    data = await hub.data(document_, {"input": values}, token=token)
    return data[name]


async def count(session: AsyncSession, model: Any) -> int:
    await session.rollback()  # see what other transactions committed
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def topics(session: AsyncSession) -> list[str]:
    await session.rollback()
    rows = await session.scalars(
        select(OutboxEvent.topic)
        .where(OutboxEvent.topic.like("licensing.%"))
        .order_by(OutboxEvent.id)
    )
    return list(rows)


def move_clock(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Make the hub believe today is ``day``."""
    monkeypatch.setattr(clock, "today", lambda: day)

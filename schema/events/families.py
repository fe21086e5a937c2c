"""Who a notice goes to and what it says: the guardian who filed a kindergarten or
first-grade application, in their language (their notice preferences, else the application's
language of instruction when it is Kyrgyz or Russian, else Kyrgyz), by e-mail when they gave
one, else by SMS to their phone or the application's contact phone (domain.md K5: the family
is told when a place is offered; issue 18). Read as the system (every row: the ministry's
rule) by the ``notices`` consumer (resolvers/events/notices.py).

A batch's applications, their kindergartens' names and their guardians' preferences are one
statement sent through the driver on the events engine (:data:`FAMILIES_SQL`, made once):
the domains' loaders, each its own statement through SQLAlchemy's session, were a third of
what delivering an event cost the worker (issue 21)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from models import (
    FirstGradeApplication,
    Institution,
    KindergartenApplication,
    NoticeChannel,
    NoticeLanguage,
    NoticePreference,
)
from resolvers.events import Event, NoticeRequest
from resolvers.events.direct import Direct
from resolvers.events.templates import render

# Kindergarten events and the notice each gives (the rest of the queue's events say nothing
# a family must act on).
KINDERGARTEN = {
    "preschool.place_offered": "offer_made",
    "preschool.offer_expiring": "offer_expiring",
    "preschool.offer_expired": "offer_expired",
    "preschool.offer_accepted": "status_changed",
    "preschool.offer_declined": "status_changed",
    "preschool.child_admitted": "status_changed",
    "preschool.application_registered": "status_changed",
    "preschool.application_withdrawn": "status_changed",
    "preschool.application_cancelled": "status_changed",
}
FIRST_GRADE_PREFIX = "enrollment.first_grade_"
FIRST_GRADE_QUIET = {"enrollment.first_grade_quota_set"}

_KA = KindergartenApplication.__tablename__
_FGA = FirstGradeApplication.__tablename__
_INSTITUTION = Institution.__tablename__
_PREFERENCE = NoticePreference.__tablename__

# Row ``n`` (1-based) of each input array: the application (a kindergarten one with the
# kindergarten its event names, or a first-grade one), the application's status, guardian and
# contact phone, the language it is taught in (first grade), the kindergarten's name, and the
# guardian's preferences. An application that is gone gives no row.
FAMILIES_SQL = f"""
SELECT v.n, a.id, a.status, a.guardian_id, a.contact_phone, NULL::text AS taught_in,
       i.name AS institution, p.language, p.email, p.phone
FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS v(app, kindergarten, n)
JOIN {_KA} a ON a.id = v.app
LEFT JOIN {_INSTITUTION} i ON i.id = v.kindergarten
LEFT JOIN {_PREFERENCE} p ON p.person_id = a.guardian_id
UNION ALL
SELECT v.n + cardinality($1::bigint[]), a.id, a.status, a.guardian_id, a.contact_phone,
       a.language, NULL, p.language, p.email, p.phone
FROM unnest($3::bigint[]) WITH ORDINALITY AS v(app, n)
JOIN {_FGA} a ON a.id = v.app
LEFT JOIN {_PREFERENCE} p ON p.person_id = a.guardian_id
"""


class Family(NamedTuple):
    """An application as the notice needs it, with its guardian's preferences."""

    id: int
    status: str
    guardian_id: int
    contact_phone: str | None
    taught_in: str | None
    institution: str | None
    language: str | None
    email: str | None
    phone: str | None


class FamilyNotices:
    """The recipients function the notices consumer is given."""

    def __init__(self, direct: Direct) -> None:
        self.direct = direct

    async def __call__(self, events: Sequence[Event]) -> list[NoticeRequest]:
        # Each event that may tell a family: its template (None: first grade's), the
        # application, and where its row comes in the statement's answer.
        kindergarten: list[tuple[int, int | None]] = []
        first_grade: list[int] = []
        plan: list[tuple[Event, str | None, int]] = []
        for event in events:
            template = KINDERGARTEN.get(event.topic)
            if template is not None:
                app_id = (
                    event.aggregate_id
                    if event.aggregate_type == "KindergartenApplication"
                    else event.payload.get("application_id")
                )
                if app_id:
                    kindergarten.append((int(app_id), _kindergarten_id(event)))
                    plan.append((event, template, len(kindergarten)))
            elif (
                event.topic.startswith(FIRST_GRADE_PREFIX)
                and event.topic not in FIRST_GRADE_QUIET
                and event.aggregate_type == "FirstGradeApplication"
            ):
                first_grade.append(event.aggregate_id)
                plan.append((event, None, -len(first_grade)))
        if not plan:
            return []
        rows = await self.direct.fetch(
            FAMILIES_SQL,
            [app_id for app_id, _ in kindergarten],
            [kindergarten_id for _, kindergarten_id in kindergarten],
            first_grade,
        )
        found = {row[0]: Family(*tuple(row)[1:]) for row in rows}
        requests = [
            _kindergarten(event, template, found.get(n))
            if template is not None
            else _first_grade(event, found.get(len(kindergarten) - n))
            for event, template, n in plan
        ]
        return [r for r in requests if r is not None]


def _kindergarten_id(event: Event) -> int | None:
    kindergarten_id = event.payload.get("kindergarten_id")
    return None if kindergarten_id is None else int(kindergarten_id)


def _kindergarten(event: Event, template: str, app: Family | None) -> NoticeRequest | None:
    if app is None:
        return None
    values: dict[str, Any] = {
        "application": app.id,
        "status": app.status,
        "service": "kindergarten",
    }
    if event.payload.get("kindergarten_id") is not None:
        values["institution"] = app.institution or ""
    if "deadline" in event.payload:
        values["deadline"] = date.fromisoformat(event.payload["deadline"])
    # One reminder per offer, however often the job runs; one notice per event otherwise.
    key = (
        f"offer_expiring:{event.aggregate_id}"
        if template == "offer_expiring"
        else f"event:{event.id}"
    )
    return _to_guardian(event, app, "KindergartenApplication", template, values, key, None)


def _first_grade(event: Event, app: Family | None) -> NoticeRequest | None:
    if app is None:
        return None
    values = {"application": app.id, "status": app.status, "service": "first_grade"}
    taught_in = app.taught_in if app.taught_in in ("ky", "ru") else None
    return _to_guardian(
        event,
        app,
        "FirstGradeApplication",
        "status_changed",
        values,
        f"event:{event.id}",
        taught_in,
    )


def _to_guardian(
    event: Event,
    app: Family,
    subject_type: str,
    template: str,
    values: dict[str, Any],
    key: str,
    taught_in: str | None,
) -> NoticeRequest | None:
    """The notice to the application's guardian, or None when they left no contact."""
    language = NoticeLanguage(app.language or taught_in or NoticeLanguage.KY)
    email = app.email
    phone = app.phone or app.contact_phone
    if email:
        channel, address = NoticeChannel.EMAIL, email
    elif phone:
        channel, address = NoticeChannel.SMS, phone
    else:
        return None
    text = render(template, language, **values)
    return NoticeRequest(
        dedupe_key=f"{key}:{app.guardian_id}",
        event_id=event.id,
        event_type=event.topic,
        subject_type=subject_type,
        subject_id=app.id,
        person_id=app.guardian_id,
        channel=channel,
        address=address,
        language=language,
        title=text.title,
        body=text.body,
    )

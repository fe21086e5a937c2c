"""Who a notice goes to and what it says: the guardian who filed a kindergarten or
first-grade application, in their language (their notice preferences, else the application's
language of instruction when it is Kyrgyz or Russian, else Kyrgyz), by e-mail when they gave
one, else by SMS to their phone or the application's contact phone (domain.md K5: the family
is told when a place is offered; issue 18). Read through the domains' public loaders, as the
system, by the ``notices`` consumer (resolvers/events/notices.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import NoticeChannel, NoticeLanguage
from resolvers.access import Principal, Role
from resolvers.context import Context
from resolvers.events import Event, NoticeRequest
from resolvers.events.loaders import NoticePreferenceByPersonLoader
from resolvers.events.templates import render
from resolvers.first_grade.loaders import FirstGradeApplicationByIdLoader
from resolvers.institutions.loaders import InstitutionByIdLoader
from resolvers.preschool.loaders import KindergartenApplicationByIdLoader
from resolvers.relay import CursorKeys

SYSTEM = Principal(subject="events:notices", role=Role.MINISTRY)

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


class FamilyNotices:
    """The recipients function the notices consumer is given."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cursors: CursorKeys) -> None:
        self.sessions = sessions
        self.cursors = cursors

    async def __call__(self, events: Sequence[Event]) -> list[NoticeRequest]:
        ctx = Context(
            principal=SYSTEM,
            sessions=self.sessions,
            request_id="events-notices",
            cursors=self.cursors,
        )
        try:
            # Together, so that the loaders read each kind of row once for the whole batch.
            found = await asyncio.gather(*(self._notice(ctx, event) for event in events))
            return [request for request in found if request is not None]
        finally:
            await ctx.close(commit=False)

    async def _notice(self, ctx: Context, event: Event) -> NoticeRequest | None:
        template = KINDERGARTEN.get(event.topic)
        if template is not None:
            return await self._kindergarten(ctx, event, template)
        if event.topic.startswith(FIRST_GRADE_PREFIX) and event.topic not in FIRST_GRADE_QUIET:
            return await self._first_grade(ctx, event)
        return None

    async def _kindergarten(
        self, ctx: Context, event: Event, template: str
    ) -> NoticeRequest | None:
        app_id = (
            event.aggregate_id
            if event.aggregate_type == "KindergartenApplication"
            else event.payload.get("application_id")
        )
        app = await KindergartenApplicationByIdLoader(ctx).load(app_id) if app_id else None
        if app is None:
            return None
        values: dict[str, Any] = {
            "application": app.id,
            "status": app.status.value,
            "service": "kindergarten",
        }
        kindergarten_id = event.payload.get("kindergarten_id")
        if kindergarten_id is not None:
            institution = await InstitutionByIdLoader(ctx).load(kindergarten_id)
            values["institution"] = institution.name if institution is not None else ""
        if "deadline" in event.payload:
            values["deadline"] = date.fromisoformat(event.payload["deadline"])
        # One reminder per offer, however often the job runs; one notice per event otherwise.
        key = (
            f"offer_expiring:{event.aggregate_id}"
            if template == "offer_expiring"
            else f"event:{event.id}"
        )
        return await self._to_guardian(
            ctx, event, app, "KindergartenApplication", template, values, key, None
        )

    async def _first_grade(self, ctx: Context, event: Event) -> NoticeRequest | None:
        if event.aggregate_type != "FirstGradeApplication":
            return None
        app = await FirstGradeApplicationByIdLoader(ctx).load(event.aggregate_id)
        if app is None:
            return None
        values = {"application": app.id, "status": app.status.value, "service": "first_grade"}
        taught_in = app.language.value if app.language.value in ("ky", "ru") else None
        return await self._to_guardian(
            ctx,
            event,
            app,
            "FirstGradeApplication",
            "status_changed",
            values,
            f"event:{event.id}",
            taught_in,
        )

    async def _to_guardian(
        self,
        ctx: Context,
        event: Event,
        app: Any,
        subject_type: str,
        template: str,
        values: dict[str, Any],
        key: str,
        taught_in: str | None,
    ) -> NoticeRequest | None:
        """The notice to the application's guardian, or None when they left no contact."""
        preference = await NoticePreferenceByPersonLoader(ctx).load(app.guardian_id)
        language = NoticeLanguage(
            preference.language if preference is not None else taught_in or NoticeLanguage.KY
        )
        email = preference.email if preference is not None else None
        phone = (preference.phone if preference is not None else None) or app.contact_phone
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

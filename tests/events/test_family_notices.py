"""Who is told and how (domain.md K5, issue 18), decided for a whole batch of events in one
statement through the driver (issue 21: the domains' loaders, each a statement through
SQLAlchemy's session, were a third of what an event cost the worker): the guardian's
preferences, else the application's language of instruction and contact phone; the
kindergarten's name; one reminder per offer; nothing for a family that left no contact or an
application that is gone, nor for the events that say nothing a family must act on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    IntakeKind,
    Language,
    NoticeChannel,
    NoticeLanguage,
    NoticePreference,
)
from resolvers.events import Event
from resolvers.events.direct import Direct
from schema.events.families import FamilyNotices
from tests.events.test_delivery_statements import counted
from tests.factories import (
    make_first_grade_application,
    make_intake_season,
    make_kindergarten_application,
    make_person,
)
from tests.preschool.helpers import add_child, arrange_queue, born_for_group

_ids = iter(range(1, 10_000))


def event(topic: str, aggregate_type: str, aggregate_id: int, **payload: Any) -> Event:
    n = next(_ids)
    return Event(
        id=n,
        txid=n,
        at=datetime.now(UTC),
        topic=topic,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
    )


async def families(session: AsyncSession) -> dict[str, Any]:
    """Three families: one who chose Russian and e-mail, one with no preferences and a contact
    phone on the application, one who left no contact at all; and a first-grade application
    taught in Russian by a guardian with no preferences."""
    queue = await arrange_queue(session, kindergartens=1)
    kindergarten = queue.kindergartens[0]
    season = queue.season

    async def application(guardian: Any, phone: str | None) -> Any:
        child = await add_child(session, queue, born=born_for_group(season, 3), guardian=guardian)
        app = await make_kindergarten_application(
            session, child=child, guardian=guardian, kindergartens=[kindergarten], season=season
        )
        app.contact_phone = phone
        return app

    emailed = await application(queue.mother, None)
    session.add(
        NoticePreference(
            person_id=queue.mother.id,
            language=NoticeLanguage.RU,
            email="mama@example.kg",
            phone=None,
        )
    )
    father = await make_person(session, birth_date=date(1988, 3, 4), first_name="Бакыт")
    texted = await application(father, "+996 555 000 111")
    silent_parent = await make_person(session, birth_date=date(1987, 5, 6), first_name="Азамат")
    silent = await application(silent_parent, None)
    fg_parent = await make_person(session, birth_date=date(1986, 7, 8), first_name="Назгуль")
    fg_child = await add_child(session, queue, born=date(2019, 4, 5), guardian=fg_parent)
    fg_season = await make_intake_season(session, kind=IntakeKind.FIRST_GRADE)
    fga = await make_first_grade_application(
        session,
        child=fg_child,
        guardian=fg_parent,
        school=queue.school,
        season=fg_season,
        language=Language.RU,
    )
    fga.contact_phone = "+996 700 222 333"
    await session.flush()
    await session.commit()
    return {
        "kindergarten": kindergarten,
        "emailed": emailed.id,
        "mother": queue.mother.id,
        "texted": texted.id,
        "father": father.id,
        "silent": silent.id,
        "fga": fga.id,
        "fg_parent": fg_parent.id,
    }


class TestFamilyNotices:
    async def test_a_batch_is_decided_in_one_statement_in_the_events_order(
        self, engine: AsyncEngine, session: AsyncSession
    ) -> None:
        # given three kindergarten families, a first-grade one, and a batch of their events
        # with some that tell no one
        f = await families(session)
        kg = f["kindergarten"]
        offered = event(
            "preschool.place_offered",
            "KindergartenOffer",
            901,
            application_id=f["emailed"],
            kindergarten_id=kg.id,
            deadline="2026-09-10",
        )
        accepted = event("preschool.offer_accepted", "KindergartenApplication", f["texted"])
        quiet = event("preschool.queue_recomputed", "KindergartenApplication", f["texted"])
        nobody = event("preschool.offer_declined", "KindergartenApplication", f["silent"])
        gone = event("preschool.application_withdrawn", "KindergartenApplication", 10**9)
        first_grade = event("enrollment.first_grade_admitted", "FirstGradeApplication", f["fga"])
        quota = event("enrollment.first_grade_quota_set", "FirstGradeQuota", 5)
        reminder = event(
            "preschool.offer_expiring",
            "KindergartenOffer",
            902,
            application_id=f["texted"],
            kindergarten_id=kg.id,
            deadline="2026-09-12",
        )
        batch = [offered, accepted, quiet, nobody, gone, first_grade, quota, reminder]
        # when the notices consumer's recipients read them
        recipients = FamilyNotices(Direct(engine))
        requests, statements = await counted(engine, lambda: recipients(batch))
        # then one statement decided them all
        assert len(statements) == 1
        # and each family that left a contact is told, in the events' order
        assert [r.event_id for r in requests] == [
            offered.id,
            accepted.id,
            first_grade.id,
            reminder.id,
        ]
        by_event = {r.event_id: r for r in requests}
        # the mother chose Russian and e-mail: the offer names the kindergarten and the deadline
        r = by_event[offered.id]
        assert (r.channel, r.address, r.language) == (
            NoticeChannel.EMAIL,
            "mama@example.kg",
            NoticeLanguage.RU,
        )
        assert (r.person_id, r.subject_type, r.subject_id) == (
            f["mother"],
            "KindergartenApplication",
            f["emailed"],
        )
        assert r.dedupe_key == f"event:{offered.id}:{f['mother']}"
        assert kg.name in r.body
        assert "10.09.2026" in r.body
        # the father set nothing: Kyrgyz, by SMS to the application's phone
        r = by_event[accepted.id]
        assert (r.channel, r.address, r.language) == (
            NoticeChannel.SMS,
            "+996 555 000 111",
            NoticeLanguage.KY,
        )
        assert r.event_type == "preschool.offer_accepted"
        # first grade: the language of instruction (Russian), the application's phone
        r = by_event[first_grade.id]
        assert (r.channel, r.address, r.language, r.subject_type) == (
            NoticeChannel.SMS,
            "+996 700 222 333",
            NoticeLanguage.RU,
            "FirstGradeApplication",
        )
        assert r.person_id == f["fg_parent"]
        # one reminder per offer, however often the job emits it
        assert by_event[reminder.id].dedupe_key == f"offer_expiring:902:{f['father']}"
        assert "12.09.2026" in by_event[reminder.id].body

    async def test_a_batch_that_tells_no_family_sends_no_statement(
        self, engine: AsyncEngine
    ) -> None:
        recipients = FamilyNotices(Direct(engine))
        batch = [
            event("lms.marks_recorded", "Lesson", 1),
            event("enrollment.first_grade_quota_set", "FirstGradeQuota", 2),
        ]
        requests, statements = await counted(engine, lambda: recipients(batch))
        assert requests == []
        assert statements == []

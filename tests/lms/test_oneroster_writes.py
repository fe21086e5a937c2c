"""OneRoster 1.2 gradebook writes (issue 15): a partner's key with the OneRoster write grant for
a school corrects (PUT), withdraws (DELETE) and gives (POST to a lineItem) results, by the
marking workflow's rules: the mark fits the scheme of the class's grade (S2), a correction
needs a reason and keeps the old mark, nothing is written on a refusal, and each write leaves
its audit row and the diary's outbox event in the same transaction."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry, ClassLesson, Mark, OutboxEvent, Outcome
from resolvers.access.keys import load_pepper
from resolvers.settings import Settings
from schema.lms.oneroster import oneroster_routes
from tests.conftest import Hub, running_hub
from tests.factories import gid, make_api_key, make_lesson
from tests.lms.arrange import School, arrange_school, teacher_token
from tests.lms.oneroster_schema import GUID_PAIRS, STATUS_INFO, object_schema
from tests.lms.test_oneroster import GRADEBOOK, RECORD_MARKS, _marked, get, partner, valid

FIELDS = ["ClassGroup.*", "Person.*", "Mark.*"]


async def writer(
    hub: Hub, session: AsyncSession, schools: list[int], *, personal: bool = True
) -> dict[str, str]:
    _, key = await make_api_key(
        session,
        pepper=load_pepper(hub.settings),
        allowed_fields=FIELDS,
        personal_data=personal,
        oneroster_writes=schools,
    )
    await session.commit()
    return {"Authorization": f"Bearer {key}"}


async def _results(hub: Hub, headers: dict[str, str], s: School) -> list[dict[str, Any]]:
    """The class's results (its mathematics), as the read service lists them."""
    classes = await get(
        hub, "/ims/oneroster/rostering/v1p2/classes", headers, filter=f"school='{s.id}'"
    )
    math = next(c for c in classes.json()["classes"] if c["subjects"] == [s.subject])
    found = await get(hub, f"{GRADEBOOK}/classes/{math['sourcedId']}/results", headers, limit=1000)
    assert found.status_code == 200, found.text
    results: list[dict[str, Any]] = found.json()["results"]
    return results


def _of(results: list[dict[str, Any]], pupil: int) -> list[dict[str, Any]]:
    return [r for r in results if r["student"]["sourcedId"] == gid("Person", pupil)]


async def _marks(session: AsyncSession) -> tuple[int, int]:
    """Marks written in all: (current, superseded)."""
    await session.commit()
    current = await session.scalar(
        select(func.count()).select_from(Mark).where(Mark.superseded_at.is_(None))
    )
    gone = await session.scalar(
        select(func.count()).select_from(Mark).where(Mark.superseded_at.is_not(None))
    )
    return int(current or 0), int(gone or 0)


def _put(result: dict[str, Any], score: float, reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sourcedId": result["sourcedId"],
        "lineItem": {"sourcedId": result["lineItem"]["sourcedId"]},
        "student": {"sourcedId": result["student"]["sourcedId"]},
        "scoreStatus": "fully graded",
        "scoreDate": result["scoreDate"],
        "score": score,
    }
    if reason is not None:
        body["metadata"] = {"correctionReason": reason}
    return {"result": body}


async def put(
    hub: Hub, headers: dict[str, str], sourced_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await hub.client.put(f"{GRADEBOOK}/results/{sourced_id}", headers=headers, json=body)


class TestPutResult:
    async def test_a_correction_with_a_reason_supersedes_the_mark_and_is_audited(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a marked class (legacy 2-5 marks) and a key granted writes for the school
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id]) | {"x-request-id": "put-1"}
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        # when the partner corrects the pupil's 4 to 5, with the reason
        response = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
        # then the new result is answered as the service renders it (S2: in the scheme)
        assert response.status_code == 201, response.text
        valid(response.json(), object_schema("results"))
        new = response.json()["result"]
        assert (new["score"], new["status"]) == (5.0, "active")
        assert new["sourcedId"] != old["sourcedId"]
        # and the old mark is kept, superseded (tobedeleted), the new one current
        mine = {
            r["sourcedId"]: r["status"]
            for r in _of(await _results(hub, headers, s), s.pupils[0].id)
        }
        assert mine == {old["sourcedId"]: "tobedeleted", new["sourcedId"]: "active"}
        reason = await session.scalar(
            select(Mark.correction_reason).where(Mark.superseded_at.is_(None), Mark.value == 5)
        )
        assert reason == "typed wrongly"
        # and one audit row names the key and the operation, with the diary's event
        async with engine.connect() as conn:
            (audit,) = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.request_id == "put-1",
                        AuditEntry.operation == "lms.oneroster_put_result",
                    )
                )
            ).all()
            topics = (
                await conn.scalars(
                    select(OutboxEvent.topic).where(OutboxEvent.topic == "lms.marks_recorded")
                )
            ).all()
        assert (audit.operation, audit.outcome, audit.role) == (
            "lms.oneroster_put_result",
            Outcome.SUCCEEDED,
            "partner",
        )
        assert len(topics) == 2  # the teacher's marking, then the correction

    async def test_the_same_put_twice_changes_nothing(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        first = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
        before = await _marks(session)
        # when the same correction is sent again to the result it corrected
        again = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
        # then it answers the current result and writes nothing
        assert again.status_code == 200, again.text
        assert again.json()["result"]["sourcedId"] == first.json()["result"]["sourcedId"]
        assert await _marks(session) == before

    async def test_a_correction_without_a_reason_is_refused_and_nothing_written(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id]) | {"x-request-id": "put-2"}
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        before = await _marks(session)
        response = await put(hub, headers, old["sourcedId"], _put(old, 5))
        assert response.status_code == 400, response.text
        valid(response.json(), STATUS_INFO)
        assert "CORRECTION_NEEDS_REASON" in response.json()["imsx_description"]
        assert _minor(response) == "invaliddata"  # the 1.2 vocabulary's spelling
        assert await _marks(session) == before
        async with engine.connect() as conn:
            (audit,) = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.request_id == "put-2",
                        AuditEntry.operation == "lms.oneroster_put_result",
                    )
                )
            ).all()
        assert (audit.outcome, audit.error_codes) == (
            Outcome.REJECTED,
            ["CORRECTION_NEEDS_REASON"],
        )

    async def test_a_mark_outside_the_scheme_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # S2: the class's legacy marks are 2 to 5
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        before = await _marks(session)
        response = await put(hub, headers, old["sourcedId"], _put(old, 6, "typed wrongly"))
        assert response.status_code == 400, response.text
        assert "MARK_OUTSIDE_SCHEME" in response.json()["imsx_description"]
        fraction = await put(hub, headers, old["sourcedId"], _put(old, 4.5, "typed wrongly"))
        assert fraction.status_code == 400
        assert await _marks(session) == before

    async def test_a_key_without_the_write_grant_for_the_school_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        other = await arrange_school(session)
        reader = await partner(hub, session)
        elsewhere = await writer(hub, session, [other.school.id])
        (old,) = _of(await _results(hub, reader, s), s.pupils[0].id)
        before = await _marks(session)
        for headers in (reader, elsewhere):
            response = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
            assert response.status_code == 403, response.text
            valid(response.json(), STATUS_INFO)
        assert await _marks(session) == before

    async def test_an_unknown_result_and_another_students_are_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        unknown = await put(hub, headers, "mark-1-999999", _put(old, 5, "x"))
        assert unknown.status_code == 404
        assert (
            unknown.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
            == "unknownobject"
        )
        body = _put(old, 5, "x")
        body["result"]["student"] = {"sourcedId": gid("Person", s.pupils[1].id)}
        moved = await put(hub, headers, old["sourcedId"], body)
        assert moved.status_code == 400
        broken = await hub.client.put(
            f"{GRADEBOOK}/results/{old['sourcedId']}", headers=headers, content=b"{"
        )
        assert broken.status_code == 400

    async def test_two_puts_of_one_result_at_once_one_wins_no_duplicate(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a marked pupil, and two partners' writes of the same result at once
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        current, gone = await _marks(session)
        # when both correct it (to different marks) concurrently
        first, second = await asyncio.gather(
            put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly")),
            put(hub, headers, old["sourcedId"], _put(old, 3, "typed wrongly")),
        )
        # then one wins (201), the other is told it changed (409), and one mark is current
        assert sorted([first.status_code, second.status_code]) == [201, 409], (
            first.text,
            second.text,
        )
        assert await _marks(session) == (current, gone + 1)
        mine = _of(await _results(hub, headers, s), s.pupils[0].id)
        assert sorted(r["status"] for r in mine) == ["active", "tobedeleted"]


@asynccontextmanager
async def lesson_held(engine: AsyncEngine, lesson: Any) -> AsyncIterator[Callable[..., Any]]:
    """The lesson's row locked by a transaction of the test's own, released on leaving: writes
    started meanwhile pass their reads and wait for it at the lesson's lock, so they really run
    at once. ``waiting(n, task)`` returns once ``n`` backends of this database wait for a lock
    (in the order they came: PostgreSQL queues waiters for a row's lock first come, first
    served); ``task`` must not end before."""
    async with engine.connect() as conn:
        await conn.execute(
            select(ClassLesson.id)
            .where(
                ClassLesson.academic_year_id == lesson.academic_year_id,
                ClassLesson.id == lesson.id,
            )
            .with_for_update()
        )

        async def waiting(n: int, task: asyncio.Task[Any]) -> None:
            async with engine.connect() as probe:
                for _ in range(400):
                    found = await probe.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                    await probe.rollback()
                    if found >= n:
                        return
                    assert not task.done(), task
                    await asyncio.sleep(0.05)
            raise AssertionError(f"{n} writes never waited for the lesson")

        yield waiting
        await conn.rollback()


async def _current_of(session: AsyncSession, pupil: int, work: str) -> list[int | None]:
    """The values of a pupil's current marks of a kind of work."""
    await session.commit()
    return list(
        await session.scalars(
            select(Mark.value).where(
                Mark.pupil_id == pupil, Mark.work == work, Mark.superseded_at.is_(None)
            )
        )
    )


async def _rows_of(session: AsyncSession, pupil: int, work: str) -> int:
    """How many marks (current and superseded) a pupil has of a kind of work."""
    await session.commit()
    found = await session.scalar(
        select(func.count()).select_from(Mark).where(Mark.pupil_id == pupil, Mark.work == work)
    )
    return int(found or 0)


class TestRaces:
    """Writes of one result at once, with real concurrent transactions: both pass their reads,
    then wait at the lesson's lock (held by the test), and are let go in a known order."""

    @pytest.mark.parametrize("first", ["DELETE", "PUT"])
    async def test_a_delete_and_a_put_of_one_result_one_outcome_holds(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, first: str
    ) -> None:
        # given a pupil's classwork 4 and a key writing the school
        s = await _marked(hub, session)
        pupil = s.pupils[0].id
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), pupil)
        path = f"{GRADEBOOK}/results/{old['sourcedId']}"
        writes = {
            "DELETE": lambda: hub.client.delete(
                path, headers=headers, params={"correctionReason": "given by mistake"}
            ),
            "PUT": lambda: put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly")),
        }
        second = "PUT" if first == "DELETE" else "DELETE"
        # when one withdraws it and the other corrects it at once (``first`` let go first)
        async with lesson_held(engine, s.extra["lesson"]) as waiting:
            one = asyncio.create_task(writes[first]())
            await waiting(1, one)
            two = asyncio.create_task(writes[second]())
            await waiting(2, two)
        answers = {first: await one, second: await two}
        # then the first wins, the second is told the result changed (409), nothing else
        won = {"DELETE": 204, "PUT": 201}[first]
        assert (answers[first].status_code, answers[second].status_code) == (won, 409), (
            answers[first].text,
            answers[second].text,
        )
        valid(answers[second].json(), STATUS_INFO)
        # and exactly one outcome holds: withdrawn (no successor) or corrected (one successor)
        if first == "DELETE":
            assert await _current_of(session, pupil, "classwork") == []
            assert await _rows_of(session, pupil, "classwork") == 1
        else:
            assert await _current_of(session, pupil, "classwork") == [5]
            assert await _rows_of(session, pupil, "classwork") == 2
        (gone,) = [
            r
            for r in _of(await _results(hub, headers, s), pupil)
            if r["sourcedId"] == old["sourcedId"]
        ]
        assert gone["status"] == "tobedeleted"

    @pytest.mark.parametrize("first", ["DELETE", "POST"])
    async def test_marks_given_while_one_of_them_is_withdrawn_one_current_mark_each(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine, first: str
    ) -> None:
        # given a class's classwork 4s and a key writing the school
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        line_item = old["lineItem"]["sourcedId"]
        body = {
            "results": [
                {
                    "student": {"sourcedId": gid("Person", p.id)},
                    "score": 5,
                    "metadata": {"correctionReason": "typed wrongly"},
                }
                for p in s.pupils
            ]
        }
        writes = {
            "DELETE": lambda: hub.client.delete(
                f"{GRADEBOOK}/results/{old['sourcedId']}",
                headers=headers,
                params={"correctionReason": "given by mistake"},
            ),
            "POST": lambda: hub.client.post(
                f"{GRADEBOOK}/lineItems/{line_item}/results", headers=headers, json=body
            ),
        }
        second = "POST" if first == "DELETE" else "DELETE"
        # when the partner gives the class's 5s while withdrawing the first pupil's 4
        async with lesson_held(engine, s.extra["lesson"]) as waiting:
            one = asyncio.create_task(writes[first]())
            await waiting(1, one)
            two = asyncio.create_task(writes[second]())
            await waiting(2, two)
        answers = {first: await one, second: await two}
        # then the marks are given either way; a withdrawal after them finds the 4 corrected
        expected = (
            {"DELETE": 204, "POST": 201} if first == "DELETE" else {"POST": 201, "DELETE": 409}
        )
        assert {k: v.status_code for k, v in answers.items()} == expected, {
            k: v.text for k, v in answers.items()
        }
        # and every pupil has exactly one current classwork mark, the 5; the 4 has one successor
        for pupil in s.pupils:
            assert await _current_of(session, pupil.id, "classwork") == [5]
            assert await _rows_of(session, pupil.id, "classwork") == 2


class TestBusyLesson:
    async def test_a_write_waiting_past_the_statement_timeout_is_503_server_busy(
        self, session: AsyncSession, engine: AsyncEngine, settings: Settings
    ) -> None:
        # given a hub whose statements may wait 0.3 s, and a lesson locked longer than that
        async with running_hub(settings.model_copy(update={"statement_timeout_ms": 300})) as hub:
            s = await _marked(hub, session)
            headers = await writer(hub, session, [s.school.id]) | {"x-request-id": "busy-1"}
            (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
            before = await _marks(session)
            async with lesson_held(engine, s.extra["lesson"]):
                response = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
        # then the partner is told to come back (not a 500), and nothing is written
        assert response.status_code == 503, response.text
        valid(response.json(), STATUS_INFO)
        assert _minor(response) == "server_busy"
        assert int(response.headers["retry-after"]) > 0
        assert await _marks(session) == before
        # and the attempt is audited as an error (the statement the timeout cancelled)
        async with engine.connect() as conn:
            (audit,) = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.request_id == "busy-1",
                        AuditEntry.operation == "lms.oneroster_put_result",
                    )
                )
            ).all()
        assert (audit.outcome, audit.error_codes) == (Outcome.ERROR, ["57014"])


class TestDeleteResult:
    async def test_a_result_is_withdrawn_only_with_a_reason(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        path = f"{GRADEBOOK}/results/{old['sourcedId']}"
        before = await _marks(session)
        # when the partner deletes it without a reason, then with one
        refused = await hub.client.delete(path, headers=headers)
        assert refused.status_code == 400, refused.text
        assert await _marks(session) == before
        done = await hub.client.delete(
            path, headers=headers, params={"correctionReason": "given to the wrong pupil"}
        )
        # then it is tobedeleted (kept), and a second delete finds nothing to withdraw
        assert done.status_code == 204, done.text
        (gone,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        assert gone["status"] == "tobedeleted"
        again = await hub.client.delete(path, headers=headers, params={"correctionReason": "x"})
        assert again.status_code == 404


class TestPostResults:
    async def test_marks_given_in_a_new_line_item_answer_their_sourced_ids(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a marked lesson: a test's column of that lesson has no marks yet
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        lesson = s.extra["lesson"]
        line_item = f"lesson-{lesson.academic_year_id}-{lesson.id}-test"
        body = {
            "results": [
                {
                    "sourcedId": f"partner-{i}",
                    "lineItem": {"sourcedId": line_item},
                    "student": {"sourcedId": gid("Person", p.id)},
                    "scoreStatus": "fully graded",
                    "scoreDate": lesson.on_date.isoformat(),
                    "score": 5 - i,
                }
                for i, p in enumerate(s.pupils)
            ]
        }
        # when the partner posts them
        response = await hub.client.post(
            f"{GRADEBOOK}/lineItems/{line_item}/results", headers=headers, json=body
        )
        # then each supplied sourcedId is paired with the result the hub allocated
        assert response.status_code == 201, response.text
        valid(response.json(), GUID_PAIRS)
        pairs = response.json()["sourcedIdPairs"]
        assert [p["suppliedSourcedId"] for p in pairs] == ["partner-0", "partner-1", "partner-2"]
        results = await get(hub, f"{GRADEBOOK}/lineItems/{line_item}", headers)
        assert results.status_code == 200, results.text
        for pair, score in zip(pairs, (5.0, 4.0, 3.0), strict=True):
            one = await get(hub, f"{GRADEBOOK}/results/{pair['allocatedSourcedId']}", headers)
            assert one.json()["result"]["score"] == score
        # and a mark outside the scheme refuses the whole request (S2), nothing written
        before = await _marks(session)
        body["results"][0]["score"] = 1
        body["results"][0]["metadata"] = {"correctionReason": "x"}
        refused = await hub.client.post(
            f"{GRADEBOOK}/lineItems/{line_item}/results", headers=headers, json=body
        )
        assert refused.status_code == 400
        assert await _marks(session) == before


async def _marked_class(hub: Hub, session: AsyncSession, pupils: int) -> School:
    """A class of ``pupils`` marked 4 (classwork) by its teacher in one lesson."""
    s = await arrange_school(session, grade=6, pupils=pupils)
    lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
    await session.commit()
    marks = [{"pupilId": gid("Person", p.id), "value": 4} for p in s.pupils]
    variables = {"input": {"lessonId": gid("ClassLesson", lesson.id), "marks": marks}}
    await hub.data(RECORD_MARKS, variables, token=teacher_token(hub, s))
    s.extra["lesson"] = lesson
    return s


# SQL statements of one gradebook write, the whole request: the key, the write's reads and
# writes, its audit row (carrying the outbox event), and for a PUT the result read back as the
# read service renders it. The same for one pupil and for thirty.
STATEMENTS = {"PUT": 10, "DELETE": 5, "POST": 8, "POST correcting": 9}


# A POST's bad results (issue 15, "Bad input"): (the results, or a body; status; code minor;
# what the description says). PUPIL_0/1 stand for the class's pupils, STRANGER for a pupil of
# another school.
BAD_POSTS = [
    (
        [{"student": "PUPIL_1", "score": 5}, {"student": "PUPIL_1", "score": 4}],
        400,
        "invaliddata",
        "INVALID_INPUT",
    ),
    ([{"student": "STRANGER", "score": 5}], 400, "invaliddata", "PUPIL_NOT_IN_CLASS"),
    ([{"student": "PUPIL_1", "score": 11}], 400, "invaliddata", "MARK_OUTSIDE_SCHEME"),
    (
        [{"student": "PUPIL_1", "score": 5, "textScore": "A"}],
        400,
        "invaliddata",
        "MARK_OUTSIDE_SCHEME",
    ),
    (
        [{"student": "PUPIL_1", "score": 5, "comment": "x" * 600}],
        400,
        "invaliddata",
        "INVALID_INPUT",
    ),
    ([{"student": "PUPIL_1", "score": "5"}], 400, "invaliddata", "whole number"),
    ([{"student": "PUPIL_1", "score": True}], 400, "invaliddata", "whole number"),
    ([{"student": "PUPIL_1", "score": 4.5}], 400, "invaliddata", "whole number"),
    ([{"student": "PUPIL_0", "score": 5}], 400, "invaliddata", "CORRECTION_NEEDS_REASON"),
    ([{"score": 5}], 404, "unknownobject", "No student"),
    ([{"student": "Person:nobody", "score": 5}], 404, "unknownobject", "No student"),
    (
        [{"student": "PUPIL_1", "score": 5, "lineItem": {"sourcedId": "x"}}],
        400,
        "invaliddata",
        "lineItem",
    ),
    ([], 400, "invaliddata", "Give 1 to 90"),
    ([{"student": "PUPIL_1", "score": 5}] * 91, 400, "invaliddata", "Give 1 to 90"),
    ({}, 400, "invaliddata", '{"results": [...]}'),
    ([7], 400, "invaliddata", "Give 1 to 90"),
]


class TestBadInput:
    @pytest.mark.parametrize(("results", "status", "minor", "said"), BAD_POSTS)
    async def test_bad_results_are_refused_whole_and_nothing_written(
        self,
        hub: Hub,
        session: AsyncSession,
        results: Any,
        status: int,
        minor: str,
        said: str,
    ) -> None:
        # given a marked lesson (classwork 4 for each pupil, grade 6: points 0-10)
        s = await _marked(hub, session)
        other = await arrange_school(session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        people = {
            "PUPIL_0": s.pupils[0].id,
            "PUPIL_1": s.pupils[1].id,
            "STRANGER": other.pupils[0].id,
        }

        def named(result: Any) -> Any:
            if not isinstance(result, dict) or not isinstance(result.get("student"), str):
                return result
            who = result["student"]
            sourced = gid("Person", people[who]) if who in people else who
            return result | {"student": {"sourcedId": sourced}}

        body = {"results": [named(r) for r in results] if isinstance(results, list) else results}
        before = await _marks(session)
        # when the partner posts them in the lesson's classwork column
        response = await hub.client.post(
            f"{GRADEBOOK}/lineItems/{old['lineItem']['sourcedId']}/results",
            headers=headers,
            json=body,
        )
        # then the whole request is refused in the status-info shape, nothing written
        assert response.status_code == status, response.text
        valid(response.json(), STATUS_INFO)
        assert _minor(response) == minor
        assert said in response.json()["imsx_description"]
        assert await _marks(session) == before

    async def test_a_key_without_the_grant_neither_posts_nor_deletes(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        reader = await partner(hub, session)
        (old,) = _of(await _results(hub, reader, s), s.pupils[0].id)
        before = await _marks(session)
        posted = await hub.client.post(
            f"{GRADEBOOK}/lineItems/{old['lineItem']['sourcedId']}/results",
            headers=reader,
            json={"results": [{"student": old["student"], "score": 5}]},
        )
        deleted = await hub.client.delete(
            f"{GRADEBOOK}/results/{old['sourcedId']}",
            headers=reader,
            params={"correctionReason": "x"},
        )
        anonymous = await hub.client.delete(
            f"{GRADEBOOK}/results/{old['sourcedId']}", params={"correctionReason": "x"}
        )
        assert [r.status_code for r in (posted, deleted, anonymous)] == [403, 403, 401]
        assert [_minor(r) for r in (posted, deleted, anonymous)] == [
            "forbidden",
            "forbidden",
            "unauthorisedrequest",
        ]
        assert await _marks(session) == before


class TestStatements:
    @pytest.mark.parametrize("pupils", [1, 30])
    async def test_each_write_takes_a_fixed_number_of_statements_whatever_the_class(
        self, hub: Hub, session: AsyncSession, pupils: int
    ) -> None:
        # given a class of 1 or 30 pupils marked in a lesson, and a key writing its school
        s = await _marked_class(hub, session, pupils)
        headers = await writer(hub, session, [s.school.id])
        lesson = s.extra["lesson"]
        column = f"lesson-{lesson.academic_year_id}-{lesson.id}"
        counts: dict[str, int] = {}

        async def counted(name: str, call: Any, status: int) -> httpx.Response:
            hub.counter.reset()
            response: httpx.Response = await call
            assert response.status_code == status, response.text
            counts[name] = hub.counter.count
            return response

        # when the partner gives the whole class a test's marks (a new column), then corrects
        # the classwork column for the whole class with a reason
        def results(score: int) -> list[dict[str, Any]]:
            return [
                {"student": {"sourcedId": gid("Person", p.id)}, "score": score} for p in s.pupils
            ]

        await counted(
            "POST",
            hub.client.post(
                f"{GRADEBOOK}/lineItems/{column}-test/results",
                headers=headers,
                json={"results": results(5)},
            ),
            201,
        )
        corrections = [r | {"metadata": {"correctionReason": "typed wrongly"}} for r in results(3)]
        await counted(
            "POST correcting",
            hub.client.post(
                f"{GRADEBOOK}/lineItems/{column}-classwork/results",
                headers=headers,
                json={"results": corrections},
            ),
            201,
        )
        # and corrects one pupil's test mark, then withdraws the correction
        test = next(
            r
            for r in _of(await _results(hub, headers, s), s.pupils[0].id)
            if r["lineItem"]["sourcedId"] == f"{column}-test" and r["status"] == "active"
        )
        put_ = await counted(
            "PUT", put(hub, headers, test["sourcedId"], _put(test, 4, "typed wrongly")), 201
        )
        await counted(
            "DELETE",
            hub.client.delete(
                f"{GRADEBOOK}/results/{put_.json()['result']['sourcedId']}",
                headers=headers,
                params={"correctionReason": "given by mistake"},
            ),
            204,
        )
        # then each took its pinned count (the same for 1 pupil and for 30)
        assert counts == STATEMENTS


CREATE_API_KEY = """
mutation CreateApiKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { key userErrors { field code } }
}
"""


class TestWriteGrant:
    async def test_the_ministry_grants_writes_only_with_the_gradebook_and_personal_data(
        self, hub: Hub, session: AsyncSession, ministry: str
    ) -> None:
        # given a marked school
        s = await _marked(hub, session)
        school = gid("Institution", s.school.id)
        grant = {"name": "LMS vendor", "onerosterWriteInstitutionIds": [school]}
        # when the ministry grants writes to a key without personal data, then with it
        refused = await hub.data(
            CREATE_API_KEY,
            {"input": grant | {"allowedFields": ["Mark.*", "ClassGroup.*"]}},
            token=ministry,
        )
        made = await hub.data(
            CREATE_API_KEY,
            {
                "input": grant | {"allowedFields": FIELDS, "personalData": True},
            },
            token=ministry,
        )
        # then the first is refused, the second's key corrects the school's marks
        assert refused["createApiKey"]["userErrors"] == [
            {"field": "onerosterWriteInstitutionIds", "code": "INVALID_SCOPE"}
        ]
        key = made["createApiKey"]["key"]
        headers = {"Authorization": f"Bearer {key}"}
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        response = await put(hub, headers, old["sourcedId"], _put(old, 5, "typed wrongly"))
        assert response.status_code == 201, response.text


def _minor(response: httpx.Response) -> str:
    minor: str = response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"
    ]
    return minor


ROSTER = "/ims/oneroster/rostering/v1p2"
# (method, path, the Allow header, a word of the reason): the spec's writes the hub does not
# take, and writes on read-only collections of both services.
NOT_TAKEN = [
    ("PUT", f"{GRADEBOOK}/lineItems/LINE", "GET, HEAD, OPTIONS", "recordLesson"),
    ("DELETE", f"{GRADEBOOK}/lineItems/LINE", "GET, HEAD, OPTIONS", "recordLesson"),
    ("POST", f"{GRADEBOOK}/lineItems", "GET, HEAD, OPTIONS", "recordLesson"),
    ("POST", f"{GRADEBOOK}/classes/CLASS/lineItems", "GET, HEAD, OPTIONS", "recordLesson"),
    ("POST", f"{GRADEBOOK}/schools/SCHOOL/lineItems", "GET, HEAD, OPTIONS", "recordLesson"),
    ("PUT", f"{GRADEBOOK}/categories/category-test", "GET, HEAD, OPTIONS", "national policy"),
    ("DELETE", f"{GRADEBOOK}/categories/category-test", "GET, HEAD, OPTIONS", "national policy"),
    ("PUT", f"{GRADEBOOK}/scoreScales/SCALE", "GET, HEAD, OPTIONS", "national policy"),
    ("POST", f"{GRADEBOOK}/classes/CLASS/scoreScales", "GET, HEAD, OPTIONS", "national policy"),
    ("POST", f"{GRADEBOOK}/results", "GET, HEAD, OPTIONS", "POST /lineItems/{id}/results"),
    ("POST", f"{GRADEBOOK}/results/RESULT", "GET, HEAD, PUT, DELETE, OPTIONS", "POST /lineItems"),
    ("PATCH", f"{GRADEBOOK}/results/RESULT", "GET, HEAD, PUT, DELETE, OPTIONS", "POST /lineItems"),
    ("GET", f"{GRADEBOOK}/lineItems/LINE/results", "POST, OPTIONS", "/classes/{class}/lineItems"),
    ("PUT", f"{GRADEBOOK}/assessmentResults/ort-1-main", "GET, HEAD, OPTIONS", "testing centre"),
    ("PUT", f"{ROSTER}/orgs/SCHOOL", "GET, HEAD, OPTIONS", "registry"),
    ("POST", f"{ROSTER}/users", "GET, HEAD, OPTIONS", "registry"),
    ("DELETE", f"{ROSTER}/enrollments/x", "GET, HEAD, OPTIONS", "registry"),
    ("POST", "/ims/oneroster/v1p2/csv", "GET, HEAD, OPTIONS", "export"),
]


class TestMethodsNotTaken:
    """What the hub does not take on a OneRoster path answers 405 in the status-info shape the
    other refusals use, saying why, with ``Allow``; nothing is written."""

    @pytest.mark.parametrize(("method", "path", "allow", "why"), NOT_TAKEN)
    async def test_a_write_the_hub_does_not_take_is_405_saying_why(
        self,
        hub: Hub,
        session: AsyncSession,
        engine: AsyncEngine,
        method: str,
        path: str,
        allow: str,
        why: str,
    ) -> None:
        # given a marked school and a key granted writes for it
        s = await _marked(hub, session)
        headers = await writer(hub, session, [s.school.id])
        (old,) = _of(await _results(hub, headers, s), s.pupils[0].id)
        named = {
            "LINE": old["lineItem"]["sourcedId"],
            "RESULT": old["sourcedId"],
            "SCALE": old["scoreScale"]["sourcedId"],
            "CLASS": old["class"]["sourcedId"],
            "SCHOOL": s.id,
        }
        for placeholder, sourced_id in named.items():
            path = path.replace(placeholder, sourced_id)
        before = await _marks(session)
        # when the partner sends it, with a body as the specification's write would
        response = await hub.client.request(
            method, path, headers=headers | {"x-request-id": "not-taken"}, json={"x": {}}
        )
        # then 405, unsupported/error with a code minor, the reason, the methods the path takes
        assert response.status_code == 405, response.text
        body = response.json()
        valid(body, STATUS_INFO)
        assert (body["imsx_codeMajor"], body["imsx_severity"]) == ("unsupported", "error")
        assert _minor(response) == "forbidden"
        assert why in body["imsx_description"]
        assert response.headers["allow"] == allow
        # and nothing is written, not even an audit row (answered before the key is read)
        assert await _marks(session) == before
        async with engine.connect() as conn:
            audited = await conn.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.request_id == "not-taken")
            )
        assert audited == 0

    async def test_every_path_refuses_every_method_it_does_not_take(self, hub: Hub) -> None:
        # every route of both services and the CSV binding, with every other method
        paths = [r.path for r in oneroster_routes if "{rest" not in r.path]
        assert len(paths) == 65  # 63 read paths, the CSV, POST /lineItems/{id}/results
        refused = 0
        for path in paths:
            url = re.sub(r"\{[^}]+\}", "x", path)
            options = await hub.client.options(url)
            assert options.status_code == 204
            taken = {m.strip() for m in options.headers["allow"].split(",")}
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                if method in taken:
                    continue
                response = await hub.client.request(method, url, json={})
                assert response.status_code == 405, (method, url, response.text)
                valid(response.json(), STATUS_INFO)
                assert response.json()["imsx_codeMajor"] == "unsupported"
                assert response.headers["allow"] == options.headers["allow"]
                refused += 1
        # 62 read paths and the CSV refuse 4 methods each, /results/{id} (GET, PUT, DELETE) 2,
        # /lineItems/{id}/results (POST) 4
        assert refused == 63 * 4 + 2 + 4

    async def test_a_path_neither_service_has_is_404_in_the_status_info_shape(
        self, hub: Hub
    ) -> None:
        for method in ("GET", "PUT"):
            response = await hub.client.request(method, f"{GRADEBOOK}/lineItems/x/y/z")
            assert response.status_code == 404, response.text
            valid(response.json(), STATUS_INFO)
            assert _minor(response) == "unknownobject"

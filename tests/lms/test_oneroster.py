"""OneRoster 1.2 (issue 15): the rostering and gradebook endpoints answer partners' keys with
the roster scope, validate against the specification's schemas (tests/lms/oneroster_schema.py:
a subset always, 1EdTech's published OpenAPI documents too when BILIM_ONEROSTER_OPENAPI_DIR
names them), page with X-Total-Count and Link, filter (dateLastModified for changes
since a time), select fields, and refuse what a key does not grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ClassGroup, Institution
from resolvers.access.keys import load_pepper
from tests.conftest import Hub
from tests.factories import BISHKEK, gid, make_api_key, make_lesson
from tests.lms.arrange import School, arrange_school, teacher_token
from tests.lms.oneroster_schema import (
    STATUS_INFO,
    collection_schema,
    object_schema,
    validate,
)

ROSTER = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
RECORD_MARKS = """mutation($input: RecordMarksInput!) {
  recordMarks(input: $input) { userErrors { code } } }"""
OSH = 5  # Osh Region (migration data)


def valid(body: Any, schema: dict[str, Any]) -> None:
    validate(body, schema)


async def partner(
    hub: Hub,
    session: AsyncSession,
    *,
    fields: tuple[str, ...] = ("ClassGroup.*", "Person.*", "Mark.*"),
    personal: bool = True,
    regions: list[int] | None = None,
) -> dict[str, str]:
    _, key = await make_api_key(
        session,
        pepper=load_pepper(hub.settings),
        allowed_fields=list(fields),
        personal_data=personal,
        region_ids=regions,
    )
    await session.commit()
    return {"Authorization": f"Bearer {key}"}


async def get(hub: Hub, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await hub.client.get(path, headers=headers, params=params)


async def _marked(hub: Hub, session: AsyncSession) -> School:
    s = await arrange_school(session, grade=6)
    lesson = await make_lesson(session, slot=s.slot, on=s.lesson_day())
    await session.commit()
    marks = [{"pupilId": gid("Person", p.id), "value": 4} for p in s.pupils]
    variables = {"input": {"lessonId": gid("ClassLesson", lesson.id), "marks": marks}}
    await hub.data(RECORD_MARKS, variables, token=teacher_token(hub, s))
    s.extra["lesson"] = lesson
    return s


class TestRostering:
    @pytest.mark.parametrize(
        "collection", ["orgs", "academicSessions", "courses", "classes", "users", "enrollments"]
    )
    async def test_each_collection_is_valid_against_the_published_schema(
        self, hub: Hub, session: AsyncSession, collection: str
    ) -> None:
        # given a school with a class, its pupils and a teacher, and a partner with the scope
        await arrange_school(session)
        headers = await partner(hub, session)
        # when the partner reads the collection
        response = await get(hub, f"{ROSTER}/{collection}", headers, limit=1000)
        # then the answer is OneRoster 1.2 and not empty
        assert response.status_code == 200, response.text
        body = response.json()
        valid(body, collection_schema(collection))
        assert body[collection]
        assert int(response.headers["X-Total-Count"]) == len(body[collection])
        one = body[collection][0]["sourcedId"]
        single = await get(hub, f"{ROSTER}/{collection}/{one}", headers)
        assert single.status_code == 200, single.text
        valid(single.json(), object_schema(collection))

    async def test_the_school_the_class_the_pupils_and_the_teacher_are_linked(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        headers = await partner(hub, session)
        school = (await get(hub, f"{ROSTER}/orgs/{s.id}", headers)).json()["org"]
        assert school["type"] == "school"
        assert school["parent"]["sourcedId"] == f"district-{s.school.district_id}"
        classes = (await get(hub, f"{ROSTER}/classes", headers, filter=f"school='{s.id}'")).json()[
            "classes"
        ]
        math = next(c for c in classes if c["subjects"] == ["mathematics"])
        assert math["title"].startswith(f"5{s.klass.letter} ")
        enrolled = (
            await get(hub, f"{ROSTER}/enrollments", headers, filter=f"class='{math['sourcedId']}'")
        ).json()["enrollments"]
        roles = sorted((e["role"], e["user"]["sourcedId"]) for e in enrolled)
        assert roles == sorted(
            [("student", gid("Person", p.id)) for p in s.pupils]
            + [("teacher", gid("Person", s.teacher.id))]
        )
        users = (await get(hub, f"{ROSTER}/users", headers, filter="role='teacher'")).json()[
            "users"
        ]
        assert [u["sourcedId"] for u in users] == [gid("Person", s.teacher.id)]
        assert "pin" not in str(users).lower()

    async def test_paging_with_total_count_and_links(self, hub: Hub, session: AsyncSession) -> None:
        await arrange_school(session)
        headers = await partner(hub, session)
        first = await get(hub, f"{ROSTER}/academicSessions", headers, limit=3)
        total = int(first.headers["X-Total-Count"])
        assert total == 18  # two years, their four terms each and each term's grading period
        assert len(first.json()["academicSessions"]) == 3
        assert 'rel="next"' in first.headers["Link"]
        assert "offset=3" in first.headers["Link"]
        seen = []
        for offset in range(0, total, 3):
            page = await get(hub, f"{ROSTER}/academicSessions", headers, limit=3, offset=offset)
            seen += [a["sourcedId"] for a in page.json()["academicSessions"]]
        assert len(seen) == len(set(seen)) == total
        last = await get(hub, f"{ROSTER}/academicSessions", headers, limit=3, offset=15)
        assert 'rel="next"' not in last.headers["Link"]

    async def test_changes_since_a_time_sort_and_field_selection(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        other = await arrange_school(session)
        headers = await partner(hub, session)
        later = datetime.now(UTC) + timedelta(hours=1)
        await session.execute(
            update(Institution).where(Institution.id == s.school.id).values(updated_at=later)
        )
        await session.commit()
        since = (later - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
        changed = await get(
            hub,
            f"{ROSTER}/orgs",
            headers,
            filter=f"dateLastModified>'{since}'",
            fields="sourcedId,name",
        )
        assert changed.json() == {"orgs": [{"sourcedId": s.id, "name": s.school.name}]}
        schools = await get(
            hub, f"{ROSTER}/orgs", headers, filter="type='school'", sort="name", orderBy="desc"
        )
        names = [o["name"] for o in schools.json()["orgs"]]
        assert names == sorted([s.school.name, other.school.name], reverse=True)
        either = await get(
            hub, f"{ROSTER}/orgs", headers, filter=f"sourcedId='{s.id}' OR sourcedId='{other.id}'"
        )
        assert len(either.json()["orgs"]) == 2
        # a class's subjects change when the class does (dateLastModified of both tables)
        await session.execute(
            update(ClassGroup).where(ClassGroup.id == s.klass.id).values(updated_at=later)
        )
        await session.commit()
        classes = await get(
            hub, f"{ROSTER}/classes", headers, filter=f"dateLastModified>'{since}'", limit=1000
        )
        assert {c["school"]["sourcedId"] for c in classes.json()["classes"]} == {s.id}
        contains = await get(hub, f"{ROSTER}/orgs", headers, filter="name~'kyrgyz'")
        assert [o["sourcedId"] for o in contains.json()["orgs"]] == ["KG"]

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"filter": "shoeSize='42'"}, "invalid_filter_field"),
            ({"filter": "name='a' AND type='b' OR status='c'"}, "invalid_filter_field"),
            ({"filter": "name=unquoted"}, "invalid_filter_field"),
            ({"filter": "dateLastModified>'yesterday'"}, "invalid_filter_field"),
            ({"sort": "shoeSize"}, "invaliddata"),
            ({"fields": "sourcedId,shoeSize"}, "invalid_selection_field"),
            ({"limit": "0"}, "invaliddata"),
            ({"limit": "many"}, "invaliddata"),
        ],
    )
    async def test_bad_parameters_are_refused_with_the_specifications_code(
        self, hub: Hub, session: AsyncSession, params: dict[str, str], code: str
    ) -> None:
        headers = await partner(hub, session)
        response = await get(hub, f"{ROSTER}/orgs", headers, **params)
        assert response.status_code == 400
        body = response.json()
        valid(body, STATUS_INFO)
        minor = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
        assert minor == code

    async def test_an_unknown_object_is_not_found(self, hub: Hub, session: AsyncSession) -> None:
        headers = await partner(hub, session)
        response = await get(hub, f"{ROSTER}/classes/nothing-here", headers)
        assert response.status_code == 404
        valid(response.json(), STATUS_INFO)


class TestWhoMayRead:
    async def test_no_key_no_roster(self, hub: Hub, ministry: str) -> None:
        assert (await get(hub, f"{ROSTER}/orgs", {})).status_code == 401
        # a person's bearer token is no partner's key
        response = await get(hub, f"{ROSTER}/orgs", {"Authorization": f"Bearer {ministry}"})
        assert response.status_code == 401
        valid(response.json(), STATUS_INFO)

    async def test_a_key_without_the_roster_scope_is_forbidden(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        headers = await partner(hub, session, fields=("Institution.*",))
        assert (await get(hub, f"{ROSTER}/orgs", headers)).status_code == 403
        assert (await get(hub, f"{GRADEBOOK}/results", headers)).status_code == 403

    async def test_people_and_marks_need_the_personal_data_grant(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange_school(session)
        headers = await partner(hub, session, personal=False)
        assert (await get(hub, f"{ROSTER}/classes", headers)).status_code == 200
        assert (await get(hub, f"{ROSTER}/users", headers)).status_code == 403
        assert (await get(hub, f"{GRADEBOOK}/results", headers)).status_code == 403

    async def test_a_regional_key_reads_its_regions_schools_only(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        here = await arrange_school(session)
        there = await arrange_school(session, region_id=OSH, district_id=None)
        headers = await partner(hub, session, regions=[BISHKEK])
        orgs = (await get(hub, f"{ROSTER}/orgs", headers, limit=1000)).json()["orgs"]
        ids = {o["sourcedId"] for o in orgs}
        assert here.id in ids
        assert there.id not in ids
        assert "KG" in ids
        users = (await get(hub, f"{ROSTER}/users", headers, limit=1000)).json()["users"]
        assert gid("Person", there.pupils[0].id) not in {u["sourcedId"] for u in users}
        assert (await get(hub, f"{ROSTER}/orgs/{there.id}", headers)).status_code == 404


class TestGradebookResults:
    async def test_marks_are_results_and_a_correction_shows_as_a_change(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson marked 4 for every pupil, read by a partner
        s = await _marked(hub, session)
        headers = await partner(hub, session)
        before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        response = await get(hub, f"{GRADEBOOK}/results", headers)
        body = response.json()
        valid(body, collection_schema("results"))
        assert sorted(r["score"] for r in body["results"]) == [4.0, 4.0, 4.0]
        assert {r["student"]["sourcedId"] for r in body["results"]} == {
            gid("Person", p.id) for p in s.pupils
        }
        # when the teacher corrects the first pupil's mark
        lesson = s.extra["lesson"]
        correction = {
            "input": {
                "lessonId": gid("ClassLesson", lesson.id),
                "marks": [{"pupilId": gid("Person", s.pupils[0].id), "value": 5}],
                "correctionReason": "Пересчитано после проверки",
            }
        }
        await hub.data(RECORD_MARKS, correction, token=teacher_token(hub, s))
        # then changes since the first read are the old result (to be deleted) and the new one
        changed = await get(
            hub, f"{GRADEBOOK}/results", headers, filter=f"dateLastModified>'{before}'"
        )
        valid(changed.json(), collection_schema("results"))
        assert sorted((r["status"], r["score"]) for r in changed.json()["results"]) == [
            ("active", 5.0),
            ("tobedeleted", 4.0),
        ]


async def test_a_page_costs_three_statements_however_many_rows(
    hub: Hub, session: AsyncSession
) -> None:
    # the key, the total and the page, for one class or two
    headers = await partner(hub, session)
    counts = []
    for _ in range(2):
        await arrange_school(session, pupils=4)
        hub.counter.reset()
        response = await get(hub, f"{ROSTER}/enrollments", headers, limit=1000)
        assert response.status_code == 200
        counts.append(hub.counter.count)
    assert counts == [3, 3], hub.counter.statements

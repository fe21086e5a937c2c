"""OneRoster 1.2's gradebook service and the nested paths of both services (issue 15): the
kinds of mark as categories, a lesson's column of marks as a lineItem, marks as results with
their scheme's score scale (S2), every path the hub serves valid against the specification's
JSON schema, demographics only for keys granted personal data, and each request spending the
key's hourly budget by its page size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import AuditEntry
from resolvers.access.keys import load_pepper
from resolvers.lms.oneroster import VIEWS
from resolvers.lms.oneroster.gradebook import scale_values
from tests.conftest import Hub
from tests.factories import BISHKEK, gid, make_api_key, make_test_result
from tests.lms.arrange import School, arrange_school, teacher_token
from tests.lms.oneroster_schema import (
    STATUS_INFO,
    collection_schema,
    object_schema,
    published_dir,
    published_errors,
    published_response,
)
from tests.lms.test_oneroster import (
    GRADEBOOK,
    OSH,
    RECORD_MARKS,
    ROSTER,
    _marked,
    get,
    partner,
    valid,
)

EVERYTHING = ("ClassGroup.*", "Person.*", "Mark.*")


@dataclass
class Ids:
    """The sourcedIds a marked school's paths are read with."""

    school: str
    klass: str
    course: str
    term: str
    pupil: str
    teacher: str
    line_item: str


async def _ids(hub: Hub, headers: dict[str, str], s: School) -> Ids:
    classes = await get(hub, f"{ROSTER}/classes", headers, filter=f"school='{s.id}'")
    math = next(c for c in classes.json()["classes"] if c["subjects"] == [s.subject])
    items = await get(hub, f"{GRADEBOOK}/lineItems", headers, filter=f"class='{math['sourcedId']}'")
    day = s.lesson_day().isoformat()
    terms = await get(
        hub, f"{ROSTER}/terms", headers, filter=f"startDate<='{day}' AND endDate>='{day}'"
    )
    [term] = terms.json()["academicSessions"]
    return Ids(
        school=s.id,
        klass=math["sourcedId"],
        course=math["course"]["sourcedId"],
        term=term["sourcedId"],
        pupil=gid("Person", s.pupils[0].id),
        teacher=gid("Person", s.teacher.id),
        line_item=items.json()["lineItems"][0]["sourcedId"],
    )


def _path(template: str, ids: Ids) -> str:
    return template.format(
        school=ids.school,
        **{"class": ids.klass},
        course=ids.course,
        term=ids.term,
        user=ids.pupil,
        student=ids.pupil,
        teacher=ids.teacher,
        lineItem=ids.line_item,
        id="{id}",
    )


class TestEveryPath:
    async def test_every_path_answers_valid_onerosters_json(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a school whose class has a marked lesson, and a partner granted everything
        s = await _marked(hub, session)
        await make_test_result(session, person=s.pupils[0], subject_scores={"math": 96})
        headers = await partner(hub, session, fields=(*EVERYTHING, "NationalTestResult.*"))
        ids = await _ids(hub, headers, s)
        seen = 0
        folder = published_dir()
        absent: set[str] = set()
        wrong: dict[str, list[str]] = {}
        for view in VIEWS:
            prefix = GRADEBOOK if view.service == "gradebook" else ROSTER
            if view.one is not None:
                # when the partner reads one object of the collection the path is typed for
                listed = (await get(hub, f"{prefix}/{view.path[: -len('/{id}')]}", headers)).json()
                first = listed[view.collection][0]["sourcedId"]
                response = await get(
                    hub, f"{prefix}/{_path(view.path, ids)}".replace("{id}", first), headers
                )
                # then it is that object, valid against the published schema
                assert response.status_code == 200, (view.path, response.text)
                valid(response.json(), object_schema(view.collection))
            else:
                # when the partner reads the path's collection (a guardian's agentFor)
                path = _path(view.path, ids)
                if view.path.endswith("agentFor"):
                    path = path.replace(ids.pupil, gid("Person", s.guardian.id))
                response = await get(hub, f"{prefix}/{path}", headers)
                # then it is a non-empty page of it, valid against the published schema
                assert response.status_code == 200, (view.path, response.text)
                key = view.wrapper or view.collection
                body = {view.collection: response.json()[key]}
                valid(body, collection_schema(view.collection))
                assert body[view.collection], view.path
                total = int(response.headers["X-Total-Count"])
                assert min(total, 100) == len(body[view.collection])
            if folder is not None:
                # and, with the published documents, the answer as sent is the type the
                # document gives for the path's 200 answer
                pointer = published_response(folder, view.service, view.path)
                if pointer is None:
                    absent.add(view.path)
                elif errors := published_errors(folder, pointer, response.json()):
                    wrong[f"{view.path} ({pointer})"] = errors
            seen += 1
        # 13 collections and their objects, 10 typed (with gradingPeriods), 27 nested
        assert seen == len(VIEWS) == 63
        assert wrong == {}
        if folder is not None:
            # paths the documents do not have (their bodies were checked above as sets of users
            # and of lineItems): a user's agents, and a school's lineItems, which the gradebook
            # document has for POST only (1.1 read them with GET)
            assert absent == {
                "users/{user}/agents",
                "users/{user}/agentFor",
                "schools/{school}/lineItems",
            }

    async def test_nested_paths_list_the_objects_of_what_they_name(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        other = await arrange_school(session)
        headers = await partner(hub, session)
        ids = await _ids(hub, headers, s)

        async def sourced(path: str, key: str) -> set[str]:
            response = await get(hub, f"{ROSTER}/{path}", headers, limit=1000)
            assert response.status_code == 200, response.text
            return {o["sourcedId"] for o in response.json()[key]}

        pupils = {gid("Person", p.id) for p in s.pupils}
        assert await sourced(f"classes/{ids.klass}/students", "users") == pupils
        assert await sourced(f"classes/{ids.klass}/teachers", "users") == {ids.teacher}
        assert await sourced(f"schools/{s.id}/students", "users") == pupils
        assert await sourced(f"schools/{s.id}/teachers", "users") == {ids.teacher}
        assert ids.klass in await sourced(f"schools/{s.id}/classes", "classes")
        assert ids.klass not in await sourced(f"schools/{other.id}/classes", "classes")
        assert ids.klass in await sourced(f"users/{ids.pupil}/classes", "classes")
        assert ids.klass in await sourced(f"teachers/{ids.teacher}/classes", "classes")
        assert ids.klass in await sourced(f"terms/{ids.term}/classes", "classes")
        courses = await get(hub, f"{ROSTER}/schools/{s.id}/courses", headers, limit=1000)
        assert ids.course in {c["sourcedId"] for c in courses.json()["courses"]}
        assert {tuple(c["grades"]) for c in courses.json()["courses"]} == {("6",)}
        enrolled = await sourced(f"schools/{s.id}/classes/{ids.klass}/enrollments", "enrollments")
        assert enrolled <= await sourced(f"schools/{s.id}/enrollments", "enrollments")
        assert len(enrolled) == len(s.pupils) + 1  # the pupils and their teacher
        schools = await sourced("schools", "orgs")
        assert {s.id, other.id} <= schools
        assert "KG" not in schools

    @pytest.mark.parametrize(
        "path",
        [
            f"{ROSTER}/schools/KG/classes",  # the republic is an org, not a school
            f"{ROSTER}/schools/KG",
            f"{ROSTER}/classes/nothing/students",
            f"{ROSTER}/terms/nothing/classes",
            f"{GRADEBOOK}/classes/nothing/lineItems",
        ],
    )
    async def test_a_path_naming_an_unknown_object_is_not_found(
        self, hub: Hub, session: AsyncSession, path: str
    ) -> None:
        headers = await partner(hub, session)
        response = await get(hub, path, headers)
        assert response.status_code == 404, response.text
        valid(response.json(), STATUS_INFO)

    async def test_a_line_item_of_another_class_is_not_found_under_this_class(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        other = await _marked(hub, session)
        headers = await partner(hub, session)
        here, there = await _ids(hub, headers, s), await _ids(hub, headers, other)
        path = f"{GRADEBOOK}/classes/{here.klass}/lineItems/{there.line_item}/results"
        assert (await get(hub, path, headers)).status_code == 404
        path = f"{GRADEBOOK}/classes/{there.klass}/lineItems/{there.line_item}/results"
        assert len((await get(hub, path, headers)).json()["results"]) == len(other.pupils)

    async def test_a_regional_key_does_not_reach_another_regions_school_by_a_path(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        there = await arrange_school(session, region_id=OSH, district_id=None)
        headers = await partner(hub, session, regions=[BISHKEK])
        for path in (f"schools/{there.id}/classes", f"schools/{there.id}/students"):
            assert (await get(hub, f"{ROSTER}/{path}", headers)).status_code == 404
        assert (
            await get(hub, f"{GRADEBOOK}/schools/{there.id}/lineItems", headers)
        ).status_code == 404

    async def test_a_nested_page_costs_four_statements_however_many_rows(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # the key, the school's check, the total and the page, for 2 pupils or 6
        counts = []
        for pupils in (2, 6):
            s = await arrange_school(session, pupils=pupils)
            headers = await partner(hub, session)
            hub.counter.reset()
            response = await get(hub, f"{ROSTER}/schools/{s.id}/students", headers)
            assert len(response.json()["users"]) == pupils
            counts.append(hub.counter.count)
        assert counts == [4, 4], hub.counter.statements


class TestGradebook:
    async def test_a_lessons_marks_are_one_line_item_with_its_class_term_and_scale(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # given a lesson marked for every pupil of the class
        s = await _marked(hub, session)
        headers = await partner(hub, session)
        ids = await _ids(hub, headers, s)
        # when the partner reads the class's lineItems
        items = (await get(hub, f"{GRADEBOOK}/classes/{ids.klass}/lineItems", headers)).json()
        # then there is one column: the lesson's, dated by it, in its term, with the scale
        [item] = items["lineItems"]
        assert item["class"]["sourcedId"] == ids.klass
        assert item["school"]["sourcedId"] == s.id
        assert item["assignDate"].startswith(s.lesson_day().isoformat())
        # the grading period of the lesson's quarter (a child of the quarter as a term)
        assert item["academicSession"]["sourcedId"] == f"grading-{ids.term}"
        assert item["category"]["sourcedId"].startswith("category-")
        scale = (await get(hub, f"{GRADEBOOK}/scoreScales/scale-{ids.klass}", headers)).json()
        scale = scale["scoreScale"]
        assert item["scoreScale"]["sourcedId"] == scale["sourcedId"]
        values = [int(v["itemValueLHS"]) for v in scale["scoreScaleValue"]]
        assert (item["resultValueMin"], item["resultValueMax"]) == (min(values), max(values))
        # and the results of the column are the pupils' marks under that scale
        results = await get(
            hub, f"{GRADEBOOK}/classes/{ids.klass}/lineItems/{item['sourcedId']}/results", headers
        )
        assert {r["student"]["sourcedId"] for r in results.json()["results"]} == {
            gid("Person", p.id) for p in s.pupils
        }
        assert {r["scoreScale"]["sourcedId"] for r in results.json()["results"]} == {
            scale["sourcedId"]
        }
        mine = await get(
            hub, f"{GRADEBOOK}/classes/{ids.klass}/students/{ids.pupil}/results", headers
        )
        assert [r["score"] for r in mine.json()["results"]] == [4.0]

    async def test_a_correction_changes_the_line_item_since_a_time(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        headers = await partner(hub, session)
        before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        since = {"filter": f"dateLastModified>'{before}'"}
        assert (await get(hub, f"{GRADEBOOK}/lineItems", headers, **since)).json() == {
            "lineItems": []
        }
        correction = {
            "input": {
                "lessonId": gid("ClassLesson", s.extra["lesson"].id),
                "marks": [{"pupilId": gid("Person", s.pupils[0].id), "value": 5}],
                "correctionReason": "Пересчитано после проверки",
            }
        }
        await hub.data(RECORD_MARKS, correction, token=teacher_token(hub, s))
        changed = (await get(hub, f"{GRADEBOOK}/lineItems", headers, **since)).json()
        assert len(changed["lineItems"]) == 1

    async def test_the_kinds_of_mark_are_the_categories_of_every_class(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await _marked(hub, session)
        headers = await partner(hub, session)
        ids = await _ids(hub, headers, s)
        national = (await get(hub, f"{GRADEBOOK}/categories", headers)).json()["categories"]
        assert {c["title"] for c in national} >= {"Classwork", "Oral answer", "Test"}
        mine = await get(hub, f"{GRADEBOOK}/classes/{ids.klass}/categories", headers)
        assert mine.json()["categories"] == national

    def test_each_scheme_is_a_score_scale_of_its_range(self) -> None:
        # S2: no marks in grades 1-3, points in 4-6, criteria-based in 7-12, legacy 2-5 marks
        assert scale_values("descriptive", None, None) == [
            {"itemValueLHS": "descriptive", "itemValueRHS": "feedback in words, no mark"}
        ]
        assert [v["itemValueLHS"] for v in scale_values("points", 0, 10)] == [
            str(v) for v in range(10, -1, -1)
        ]
        assert [v["itemValueLHS"] for v in scale_values("criteria", 0, 8)] == [
            str(v) for v in range(8, -1, -1)
        ]
        five = scale_values("five_point", 2, 5)
        assert [(v["itemValueLHS"], v["itemValueRHS"]) for v in five] == [
            ("5", "excellent"),
            ("4", "good"),
            ("3", "satisfactory"),
            ("2", "unsatisfactory"),
        ]


class TestDemographics:
    async def test_a_key_granted_personal_data_reads_birth_date_and_sex(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        s = await arrange_school(session)
        headers = await partner(hub, session)
        one = gid("Person", s.pupils[0].id)
        response = await get(hub, f"{ROSTER}/demographics/{one}", headers)
        assert response.status_code == 200, response.text
        valid(response.json(), object_schema("demographics"))
        found = response.json()["demographics"]
        assert found["birthDate"] == s.pupils[0].birth_date.isoformat()
        assert found["sex"] == s.pupils[0].sex.value

    async def test_a_personal_read_is_audited_as_on_the_graph(
        self, hub: Hub, session: AsyncSession, engine: AsyncEngine
    ) -> None:
        # given a partner granted personal data
        s = await arrange_school(session)
        headers = await partner(hub, session) | {"x-request-id": "roster-req-1"}
        # when it reads users (names) and the classes (nothing personal)
        await get(hub, f"{ROSTER}/users", headers, filter=f"givenName='{s.pupils[0].first_name}'")
        await get(hub, f"{ROSTER}/classes", headers)
        # then one audit row names the fields, the path and the request, not the filter
        async with engine.connect() as conn:
            audit = (
                await conn.execute(
                    select(AuditEntry.__table__).where(
                        AuditEntry.operation == "access.personal_read"
                    )
                )
            ).all()
        assert len(audit) == 1
        entry = audit[0]
        assert (entry.operation_name, entry.request_id) == (
            "oneroster rostering/users",
            "roster-req-1",
        )
        # (the users' agents are guardianships: the key's Person.* grants them)
        assert entry.details == {
            "fields": [
                "Person.firstName",
                "Person.guardians",
                "Person.lastName",
                "Person.patronymic",
            ]
        }
        assert s.pupils[0].first_name not in str(entry.variables)

    async def test_a_key_without_personal_data_is_refused_demographics(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        # the field classifier counts a birth date as personal data
        await arrange_school(session)
        headers = await partner(hub, session, personal=False)
        response = await get(hub, f"{ROSTER}/demographics", headers)
        assert response.status_code == 403
        body = response.json()
        valid(body, STATUS_INFO)
        assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
            "forbidden"
        )
        assert "demographics" not in body

    async def test_a_key_whose_subgraph_lacks_the_fields_is_refused(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        await arrange_school(session)
        headers = await partner(
            hub, session, fields=("ClassGroup.*", "Person.firstName", "Person.lastName")
        )
        assert (await get(hub, f"{ROSTER}/demographics", headers)).status_code == 403
        assert (await get(hub, f"{ROSTER}/users", headers)).status_code == 403
        assert (await get(hub, f"{ROSTER}/classes", headers)).status_code == 200


class TestBudget:
    async def test_a_page_costs_by_its_limit(self, hub: Hub, session: AsyncSession) -> None:
        await arrange_school(session)
        headers = await partner(hub, session)
        small = await get(hub, f"{ROSTER}/orgs", headers, limit=100)
        large = await get(hub, f"{ROSTER}/orgs", headers, limit=1000)
        one = await get(hub, f"{ROSTER}/orgs/KG", headers)
        left = [int(r.headers["X-RateLimit-Remaining"]) for r in (small, large, one)]
        assert [left[0] - left[1], left[1] - left[2]] == [10, 1]
        assert small.headers["X-RateLimit-Limit"] == "5000"

    async def test_past_the_budget_a_key_is_refused_with_retry_after(
        self, hub: Hub, session: AsyncSession
    ) -> None:
        _, key = await _small_key(hub, session, points=12)
        headers = {"Authorization": f"Bearer {key}"}
        assert (await get(hub, f"{ROSTER}/orgs", headers, limit=1000)).status_code == 200
        refused = await get(hub, f"{ROSTER}/orgs", headers, limit=500)
        assert refused.status_code == 429
        valid(refused.json(), STATUS_INFO)
        assert int(refused.headers["Retry-After"]) >= 1
        assert "orgs" not in refused.json()


async def _small_key(hub: Hub, session: AsyncSession, *, points: int) -> tuple[Any, str]:
    found = await make_api_key(
        session,
        pepper=load_pepper(hub.settings),
        allowed_fields=["ClassGroup.*"],
        points_per_hour=points,
    )
    await session.commit()
    return found

"""A private list asked for without a token (issue 20): the list is null with an
UNAUTHENTICATED error located at it, and the request's other fields are answered: one refused
list no longer wipes the whole response (docs/http.md, "Private lists and anonymous
callers")."""

from __future__ import annotations

from tests.conftest import Hub

BOTH = "{ regions(first: 2) { nodes { code } } persons(first: 2) { totalCount } }"


class TestAnonymousCallerAsksForPeople:
    async def test_the_list_is_null_and_its_siblings_are_answered(self, hub: Hub) -> None:
        response = await hub.post(BOTH)
        assert response.status_code == 200
        body = response.json()
        assert len(body["data"]["regions"]["nodes"]) == 2
        assert body["data"]["persons"] is None
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["path"] == ["persons"]

    async def test_alone_it_is_still_executed_not_refused(self, hub: Hub) -> None:
        # executed (the error has a path), so 200 and data under both media types
        response = await hub.client.post(
            "/graphql",
            json={"query": "{ persons(first: 1) { totalCount } }"},
            headers={"accept": "application/graphql-response+json"},
        )
        assert response.status_code == 200
        assert response.json()["data"] == {"persons": None}

    async def test_a_signed_in_caller_gets_the_list(self, hub: Hub, ministry: str) -> None:
        body = await hub.data(BOTH, token=ministry)
        assert body["persons"] == {"totalCount": 0}


class TestAnonymousCallerAsksForPlainPrivateFields:
    """The same for private fields that are plain lists or objects, not connections: the
    LMS's timetables and a teacher's day, the library's textbook provision."""

    async def test_each_is_null_and_its_siblings_are_answered(self, hub: Hub) -> None:
        school = "SW5zdGl0dXRpb246MQ"  # Institution:1; the refusal comes before any lookup
        body = (
            await hub.post(
                "{ regions(first: 1) { nodes { code } }"
                f' bellSchedule(schoolId: "{school}") {{ number }}'
                f' timetable(classGroupId: "{school}") {{ id }}'
                " teacherDay { date }"
                " textbookProvision { schoolYear } }"
            )
        ).json()
        assert len(body["data"]["regions"]["nodes"]) == 1
        for field in ("bellSchedule", "timetable", "teacherDay", "textbookProvision"):
            assert body["data"][field] is None
        assert sorted(e["path"][0] for e in body["errors"]) == [
            "bellSchedule",
            "teacherDay",
            "textbookProvision",
            "timetable",
        ]
        assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}

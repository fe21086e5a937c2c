"""Cursors are sealed (issue 22.1): a cursor names a row's place in its list by the values of
the list's sort keys (a last name, a birth date), so no caller can read one, whoever they are
and whichever path answers (the compiled path and the resolvers); a changed, forged or foreign
cursor is INVALID_PAGINATION; a partner not granted personal data may not order people by
their personal fields; and paging still walks every list to its end."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.access import KeyRing, Role
from resolvers.institutions import INSTITUTION_ORDERINGS
from resolvers.people import PERSON_ORDERINGS
from resolvers.relay import CursorKeys, cursor_text
from resolvers.settings import Settings
from tests.conftest import Hub, running_hub
from tests.factories import (
    BISHKEK,
    gid,
    make_api_key,
    make_class_teacher,
    make_enrollment,
    make_guardianship,
    make_institution,
    make_person,
)
from tests.people.helpers import error_codes
from tests.security.conftest import with_key

PERSONS = """query($order: PersonOrder, $after: String) {
  persons(first: 2, after: $after, orderBy: $order) {
    edges { cursor node { id } }
    pageInfo { hasNextPage startCursor endCursor }
  }
}"""
PERSONS_BY_DEFAULT = """query($after: String) {
  persons(first: 2, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage startCursor endCursor }
  }
}"""
INSTITUTIONS = """query($after: String) {
  institutions(first: 2, after: $after, orderBy: NAME) {
    edges { cursor node { id } }
    pageInfo { hasNextPage startCursor endCursor }
  }
}"""
PUPILS = """query($id: ID!, $after: String) {
  node(id: $id) { ... on Institution {
    enrollments(first: 2, after: $after, orderBy: ENTRY_DATE) {
      edges { cursor node { id } }
      pageInfo { hasNextPage startCursor endCursor }
    }
  } }
}"""

# What a cursor of these lists could hold in clear: the pupils' names and birth dates.
LAST_NAMES = ["Жумабекова", "Токтогулов", "Эркинбекова", "Абдыразаков", "Сатыбалдиева"]
BIRTHS = [date(2015, 1, 11), date(2015, 2, 12), date(2015, 3, 13), date(2015, 4, 14)]


@dataclass
class World:
    school: int
    secrets: list[str]
    callers: dict[str, tuple[str, str]]  # caller -> (how: token or key, credential)


@pytest.fixture
async def world(hub: Hub, session: AsyncSession, pepper: bytes) -> World:
    # given a school whose class 4А has five pupils, two of them a mother's children
    school = await make_institution(session, name="Мектеп-гимназия №61 им. Т. Сатылганова")
    await make_institution(session, name="Ала-Тоо лицейи")
    await make_institution(session, name="Бакыт орто мектеби")
    pupils = []
    for i, last in enumerate(LAST_NAMES):
        pupil = await make_person(
            session,
            last_name=last,
            first_name=["Айдана", "Бекжан", "Чолпон", "Данияр", "Элиза"][i],
            birth_date=BIRTHS[i % len(BIRTHS)],
        )
        await make_enrollment(
            session,
            person=pupil,
            institution=school,
            grade_level=4,
            class_group="4А",
            entry_date=date(2025, 9, 1 + i),
        )
        pupils.append(pupil)
    mother = await make_person(session, last_name="Жумабекова", birth_date=date(1987, 6, 6))
    for child in pupils[:2]:
        await make_guardianship(session, guardian=mother, child=child)
    teacher = await make_person(session, last_name="Мамытова", birth_date=date(1980, 8, 8))
    await make_class_teacher(session, school=school, teacher=teacher, class_name="4А")
    fields = ["Query.persons", "Person.*", "Query.institutions", "Institution.*"]
    _, granted = await make_api_key(
        session, pepper=pepper, allowed_fields=fields, personal_data=True
    )
    _, not_granted = await make_api_key(session, pepper=pepper, allowed_fields=fields)
    await session.commit()
    secrets = [
        *LAST_NAMES,
        "Айдана",
        "Бекжан",
        "Жумабекова",
        *(b.isoformat() for b in BIRTHS),
        "2025-09-0",
    ]
    scoped = [f"institution:{school.id}"]
    callers = {
        "anonymous": ("token", ""),
        "ministry": ("token", hub.token(Role.MINISTRY)),
        "region officer": ("token", hub.token(Role.REGION_OFFICER, scopes=[f"region:{BISHKEK}"])),
        "district officer": ("token", hub.token(Role.DISTRICT_OFFICER, scopes=["district:50"])),
        "school admin": ("token", hub.token(Role.SCHOOL_ADMIN, scopes=scoped)),
        "teacher": ("token", hub.token(Role.TEACHER, person_id=teacher.id, scopes=scoped)),
        "guardian": ("token", hub.token(Role.GUARDIAN, person_id=mother.id)),
        "pupil": ("token", hub.token(Role.PUPIL, person_id=pupils[0].id)),
        "partner granted personal data": ("key", granted),
        "partner not granted personal data": ("key", not_granted),
    }
    return World(school=school.id, secrets=secrets, callers=callers)


async def ask(
    hub: Hub, world: World, caller: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    how, credential = world.callers[caller]
    if how == "key":
        response = await with_key(hub, credential, query, variables)
    else:
        response = await hub.post(query, variables, token=credential or None)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def connection_of(body: dict[str, Any]) -> dict[str, Any]:
    data = body["data"]
    found = data.get("persons") or data.get("institutions") or (data.get("node") or {})
    conn: dict[str, Any] = found.get("enrollments", found)
    return conn


async def walk(
    hub: Hub, world: World, caller: str, query: str, variables: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """Every id of a list, two by two from each page's end cursor, and every cursor seen."""
    ids: list[str] = []
    cursors: list[str] = []
    after = None
    for _ in range(20):
        body = await ask(hub, world, caller, query, {**variables, "after": after})
        assert "errors" not in body, body
        conn = connection_of(body)
        ids += [edge["node"]["id"] for edge in conn["edges"]]
        cursors += [edge["cursor"] for edge in conn["edges"]]
        info = conn["pageInfo"]
        cursors += [c for c in (info["startCursor"], info["endCursor"]) if c]
        if not info["hasNextPage"]:
            return ids, cursors
        after = info["endCursor"]
    raise AssertionError("the list did not end")


def unreadable(cursor: str, secrets: list[str]) -> None:
    """Nothing of the cursor reads: not as text, not once base64 is undone, not as JSON."""
    assert not [s for s in secrets if s in cursor], cursor
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return
    for secret in secrets:
        assert secret.encode() not in raw, (secret, cursor)
    try:
        json.loads(raw)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError among them
        return
    raise AssertionError(f"the cursor is JSON: {cursor}")


# Which lists each caller walks, and in which orders.
LISTS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "anonymous": [(INSTITUTIONS, {})],
    "ministry": [
        (PERSONS, {"order": "LAST_NAME"}),
        (PERSONS, {"order": "BIRTH_DATE"}),
        (PERSONS_BY_DEFAULT, {}),
        (PUPILS, {}),
    ],
    "region officer": [(PERSONS, {"order": "LAST_NAME"}), (PUPILS, {})],
    "district officer": [(PERSONS, {"order": "BIRTH_DATE"}), (PUPILS, {})],
    "school admin": [(PERSONS, {"order": "LAST_NAME"}), (PUPILS, {})],
    "teacher": [(PERSONS, {"order": "LAST_NAME"}), (PUPILS, {})],
    "guardian": [(PERSONS, {"order": "LAST_NAME"}), (PERSONS, {"order": "BIRTH_DATE"})],
    "pupil": [(PERSONS, {"order": "BIRTH_DATE"})],
    "partner granted personal data": [(PERSONS, {"order": "LAST_NAME"}), (INSTITUTIONS, {})],
    "partner not granted personal data": [(PERSONS_BY_DEFAULT, {}), (INSTITUTIONS, {})],
}


@pytest.fixture(params=["compiled path", "resolvers"])
async def hub(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Hub]:
    """The hub answering through the compiled path where it can, or through the resolvers
    only: cursors are sealed on both."""
    compiled = request.param == "compiled path"
    async with running_hub(settings.model_copy(update={"compiled_queries": compiled})) as hub:
        yield hub


class TestCursorsAreSealed:
    @pytest.mark.parametrize("caller", list(LISTS))
    async def test_no_caller_reads_a_cursor_and_paging_walks_every_list(
        self, hub: Hub, world: World, caller: str
    ) -> None:
        for query, variables in LISTS[caller]:
            variables = {**variables, "id": gid("Institution", world.school)}
            if "$id" not in query:
                del variables["id"]
            # when the caller walks the list two by two
            ids, cursors = await walk(hub, world, caller, query, variables)

            # then every row comes once, in the order of one whole page
            whole = await ask(
                hub, world, caller, query.replace("first: 2", "first: 100"), variables
            )
            assert ids == [e["node"]["id"] for e in connection_of(whole)["edges"]], query
            assert len(ids) == len(set(ids))
            # and no cursor reads
            assert cursors
            for cursor in cursors:
                unreadable(cursor, world.secrets)

    async def test_the_same_place_has_the_same_cursor_on_both_paths(
        self, settings: Settings, world: World
    ) -> None:
        # given the ministry's first page of people by last name on each path
        ends = []
        for compiled in (True, False):
            changed = settings.model_copy(update={"compiled_queries": compiled})
            async with running_hub(changed) as hub:
                body = await ask(hub, world, "ministry", PERSONS, {"order": "LAST_NAME"})
                ends.append(connection_of(body)["pageInfo"]["endCursor"])
        # then the cursors agree (sealing is deterministic), so either path pages on from it
        assert ends[0] == ends[1]


class TestChangedOrForeignCursors:
    async def test_a_changed_cursor_is_invalid_pagination(self, hub: Hub, world: World) -> None:
        # given a good cursor
        body = await ask(hub, world, "ministry", PERSONS, {"order": "LAST_NAME"})
        good = connection_of(body)["pageInfo"]["endCursor"]
        raw = bytearray(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
        changed = []
        for position in (0, 5, len(raw) // 2, len(raw) - 1):
            flipped = bytearray(raw)
            flipped[position] ^= 0x01
            changed.append(base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("="))
        changed += [good[:-4], good + "AAAA", "", "x" * 5_000]

        # when each changed cursor is sent back
        for cursor in changed:
            answer = await ask(
                hub, world, "ministry", PERSONS, {"order": "LAST_NAME", "after": cursor}
            )

            # then it is refused, typed
            assert error_codes(answer) == ["INVALID_PAGINATION"], (cursor, answer)

        # and a cursor carrying a NUL is refused at the edge, as any argument with one is
        # (resolvers/inputs.py, issue 22.3), before its seal is even read
        answer = await ask(
            hub, world, "ministry", PERSONS, {"order": "LAST_NAME", "after": good + "\u0000"}
        )
        assert error_codes(answer) == ["INVALID_INPUT"], answer

    async def test_a_cursor_of_another_list_or_order_does_not_fit(
        self, hub: Hub, world: World
    ) -> None:
        # given cursors of the institution list and of people by birth date
        institutions = await ask(hub, world, "ministry", INSTITUTIONS, {})
        by_birth = await ask(hub, world, "ministry", PERSONS, {"order": "BIRTH_DATE"})
        foreign = [
            connection_of(institutions)["pageInfo"]["endCursor"],
            connection_of(by_birth)["pageInfo"]["endCursor"],
        ]

        # when they are used to page people by last name
        for cursor in foreign:
            answer = await ask(
                hub, world, "ministry", PERSONS, {"order": "LAST_NAME", "after": cursor}
            )

            # then they do not fit
            assert error_codes(answer) == ["INVALID_PAGINATION"], answer

    async def test_forged_and_readable_cursors_are_refused(self, hub: Hub, world: World) -> None:
        # given cursors made without the hub's keys: the values in clear (as cursors once
        # were), and sealed under a key of another hub
        clear = base64.urlsafe_b64encode(cursor_text(["Жумабекова", "Айдана", 1])).decode()
        other_hub = CursorKeys({"k": "another hub's signing key"}, "k")
        sealed_elsewhere = other_hub.seal(
            PERSON_ORDERINGS["LAST_NAME"].digest, cursor_text(["Жумабекова", "Айдана", 1])
        )

        # when they are sent
        for cursor in (clear.rstrip("="), sealed_elsewhere):
            answer = await ask(
                hub, world, "ministry", PERSONS, {"order": "LAST_NAME", "after": cursor}
            )

            # then they are refused
            assert error_codes(answer) == ["INVALID_PAGINATION"], answer

    async def test_a_sealed_cursor_holding_what_no_cursor_holds_is_refused(
        self, hub: Hub, world: World
    ) -> None:
        # given cursors sealed with the hub's own key around values of the wrong kind
        keys = hub.keyring.cursors
        digest = INSTITUTION_ORDERINGS["NAME"].digest
        bad = [
            keys.seal(digest, b'{"not": "a list"}'),
            keys.seal(digest, cursor_text([1, 2])),
            keys.seal(digest, cursor_text(["Лицей"])),
            keys.seal(digest, b"[" * 300),
            keys.seal(digest, cursor_text([True, 1])),
        ]

        # when they are sent
        for cursor in bad:
            answer = await ask(hub, world, "anonymous", INSTITUTIONS, {"after": cursor})

            # then each is INVALID_PAGINATION, never a database error
            assert error_codes(answer) == ["INVALID_PAGINATION"], answer


class TestCursorsRotateWithTheSigningKeys:
    async def test_an_old_cursor_pages_while_its_key_is_kept_and_not_after(
        self, settings: Settings, world: World
    ) -> None:
        # given a cursor sealed under today's signing key
        path = settings.data_dir / "signing-keys.json"
        async with running_hub(settings) as hub:
            token = hub.token(Role.MINISTRY)
            first = await hub.data(PERSONS, {"order": "LAST_NAME"}, token=token)
            cursor = first["persons"]["pageInfo"]["endCursor"]
            second = await hub.data(PERSONS, {"order": "LAST_NAME", "after": cursor}, token=token)
        old = KeyRing.load(settings).active

        # when the keys rotate, the old key kept
        KeyRing.load(settings).rotate(path)
        async with running_hub(settings) as hub:
            token = hub.token(Role.MINISTRY)
            fresh = await hub.data(PERSONS, {"order": "LAST_NAME"}, token=token)
            again = await hub.data(PERSONS, {"order": "LAST_NAME", "after": cursor}, token=token)

        # then the old cursor still pages, and new cursors are sealed under the new key
        def nodes(data: dict[str, Any]) -> list[Any]:
            return [edge["node"] for edge in data["persons"]["edges"]]

        assert nodes(again) == nodes(second)
        assert fresh["persons"]["pageInfo"]["endCursor"] != cursor

        # when the old key is removed
        stored = json.loads(path.read_text())
        del stored["keys"][old]
        path.write_text(json.dumps(stored))
        async with running_hub(settings) as hub:
            token = hub.token(Role.MINISTRY)
            body = await hub.gql(PERSONS, {"order": "LAST_NAME", "after": cursor}, token=token)

        # then its cursors no longer open
        assert error_codes(body) == ["INVALID_PAGINATION"], body


class TestPartnersNotGrantedPersonalData:
    @pytest.mark.parametrize("order", ["LAST_NAME", "BIRTH_DATE"])
    async def test_ordering_people_by_a_personal_field_is_refused(
        self, hub: Hub, world: World, order: str
    ) -> None:
        # when a partner without the grant orders people by a personal field
        body = await ask(hub, world, "partner not granted personal data", PERSONS, {"order": order})

        # then it is refused, typed, naming the fields
        assert error_codes(body) == ["PERSONAL_DATA_NOT_GRANTED"], body
        assert body["data"] == {"persons": None}  # the private list is nullable (issue 20)
        fields = body["errors"][0]["extensions"]["fields"]
        assert fields == sorted(PERSON_ORDERINGS[order].personal)

    async def test_by_default_its_people_come_by_id(self, hub: Hub, world: World) -> None:
        # when a partner without the grant lists people without an order, and by id
        default = await ask(hub, world, "partner not granted personal data", PERSONS_BY_DEFAULT, {})
        by_id = await ask(hub, world, "partner not granted personal data", PERSONS, {"order": "ID"})

        # then both come by id (not by last name), cursors alike
        assert default["data"] == by_id["data"], (default, by_id)
        ids = [e["node"]["id"] for e in connection_of(default)["edges"]]
        assert ids == sorted(ids, key=_pk)

    async def test_a_partner_granted_personal_data_orders_by_name(
        self, hub: Hub, world: World
    ) -> None:
        body = await ask(
            hub, world, "partner granted personal data", PERSONS, {"order": "LAST_NAME"}
        )
        assert "errors" not in body, body


def _pk(global_id: str) -> int:
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(raw.partition(":")[2])

"""The kindergarten queue's pages (portals/kindergarten-queue: KindergartenQueue,
KindergartenOffers, MyKindergartenApplications) are answered by the compiled path in one
statement, byte for byte as the resolvers answer them (issue 21): the queue in offer order
(K4: verified benefit first, then registration time), each preference's queue position (K4),
offers (K5), the row rules (an officer reads the applications naming their kindergartens, a
guardian their children's, with the contact phone only on the ones they made) and the null
or refused answer of every other caller."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BenefitStatus,
    GuardianKind,
    KindergartenApplication,
    KindergartenApplicationEvent,
    KindergartenOffer,
    OfferStatus,
    QueueStatus,
    Sex,
)
from resolvers.access import Role
from tests.factories import (
    BISHKEK_LENIN,
    gid,
    make_enrollment,
    make_guardianship,
    make_kindergarten_application,
    make_kindergarten_places,
    make_person,
)
from tests.preschool.helpers import Queue, add_child, arrange_queue, born_for_group
from tests.test_compiled import Pair, pair
from tests.test_compiled_callers import Built

__all__ = ["pair"]

PORTAL = Path(__file__).resolve().parents[1] / "portals" / "kindergarten-queue"
QUEUE = (PORTAL / "KindergartenQueue.graphql").read_text()
OFFERS = (PORTAL / "KindergartenOffers.graphql").read_text()
MINE = (PORTAL / "MyKindergartenApplications.graphql").read_text()
# Every field the compiled pages know, with aliases, typenames and a fragment.
EVERYTHING = """
query Everything($kindergartenId: ID!, $status: KindergartenApplicationStatus) {
  list: kindergartenApplications(
    filter: { kindergartenId: $kindergartenId, status: $status }, orderBy: ID, first: 100
  ) {
    __typename totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    nodes {
      __typename ...application
      phone: contactPhone
      preferences {
        __typename rank kindergarten { id name address }
        queuePosition {
          __typename position ahead aheadWithBenefit aheadRegisteredLater ageGroup intakeYear
          registeredAt benefitVerified
        }
      }
      currentOffer {
        __typename id ageGroup status offeredAt deadline decidedAt kindergarten { id name }
      }
      enrollment { id entryDate exitDate isCurrent institution { id name } }
      statusHistory { __typename status at actor reason }
      season { id kind year name startsOn endsOn schoolYearStarts grade1BirthYear stage1Starts }
      benefitCategory { __typename code name rank }
      child { ...who registeredDistrict { nameRu } }
      guardian { ...who }
    }
  }
  kindergartenPlaces(kindergartenId: $kindergartenId) {
    __typename ageGroup freePlaces declaredAt kindergarten { id name }
  }
}
fragment application on KindergartenApplication {
  id registeredAt status intakeYear ageGroup benefitStatus benefitProof residency
  startsSchoolOn
}
fragment who on Person { id fullName birthDate pin sex }
"""


async def _arrange(session: AsyncSession) -> tuple[Queue, Any, Any]:
    """A kindergarten's queue: nine children of two families in three age groups, verified,
    claimed and no benefits, registered at times with and without a fraction of a second;
    a child whose father applied; three accepted offers, one admitted child with a place;
    history rows; a voucher-free private kindergarten nobody names."""
    queue = await arrange_queue(session)
    father = await make_person(
        session, sex=Sex.MALE, first_name="Марат", birth_date=date(1987, 4, 5)
    )
    t0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    applications = []
    for i in range(9):
        child = await add_child(session, queue, born=born_for_group(queue.season, 3 + i % 3))
        applicant = queue.mother
        if i == 4:  # the father applied; the mother is this child's guardian too
            await make_guardianship(session, guardian=father, child=child, kind=GuardianKind.FATHER)
            applicant = father
        applications.append(
            await make_kindergarten_application(
                session,
                child=child,
                guardian=applicant,
                kindergartens=queue.kindergartens[: 1 + i % 3][::-1],
                season=queue.season,
                registered_at=t0 + timedelta(minutes=i, microseconds=(i % 2) * 120_500),
                benefit=["military", None, "disability"][i % 3],
                benefit_status=BenefitStatus.CLAIMED if i == 5 else None,
                age_group=f"{3 + i % 3}-{4 + i % 3}",
            )
        )
    places = await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season, free_places=3
    )
    await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season, age_group="5-6"
    )
    await session.commit()
    for i, app in enumerate(applications):
        await session.execute(
            update(KindergartenApplication)
            .where(KindergartenApplication.id == app.id)
            .values(contact_phone=f'+996 555 00{i} "дом"')
        )
        await session.execute(
            insert(KindergartenApplicationEvent).values(
                application_id=app.id, status=QueueStatus.WAITING, actor="guardian:1",
                reason=None if i % 2 else "Катталды",
            )
        )  # fmt: skip
    for i in (0, 3, 6):  # accepted offers, one an older expired one before it
        app = applications[i]
        await session.execute(
            update(KindergartenApplication)
            .where(KindergartenApplication.id == app.id)
            .values(status=QueueStatus.ACCEPTED)
        )
        for status in (OfferStatus.EXPIRED, OfferStatus.ACCEPTED):
            await session.execute(
                insert(KindergartenOffer).values(
                    application_id=app.id, places_id=places.id,
                    kindergarten_id=queue.kindergartens[0].id, age_group=app.age_group,
                    status=status, deadline=date(2030, 1, 1), offered_by="test",
                    decided_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
                    if status == OfferStatus.EXPIRED else None,
                )
            )  # fmt: skip
    place = await make_enrollment(
        session, person=queue.children[8], institution=queue.kindergartens[0],
        entry_date=date(2026, 9, 1),
    )  # fmt: skip
    await session.execute(
        update(KindergartenApplication)
        .where(KindergartenApplication.id == applications[8].id)
        .values(status=QueueStatus.ADMITTED, enrollment_id=place.id)
    )
    await session.commit()
    return queue, father, applications


def _callers(pair: Pair, queue: Queue, father: Any) -> dict[str, dict[str, str]]:
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    kg, other_kg = queue.kindergartens[0], queue.kindergartens[2]
    return {
        "officer of the kindergarten": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{kg.id}"])
        ),
        "officer of another kindergarten": bearer(
            pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{other_kg.id}"])
        ),
        "district officer": bearer(
            pair.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"])
        ),
        "ministry": bearer(pair.token(Role.MINISTRY)),
        "mother": bearer(pair.token(Role.GUARDIAN, person_id=queue.mother.id)),
        "father": bearer(pair.token(Role.GUARDIAN, person_id=father.id)),
        "teacher": bearer(
            pair.token(Role.TEACHER, scopes=[f"institution:{kg.id}"], person_id=father.id)
        ),
    }


async def test_the_kindergarten_pages_are_the_resolvers_for_every_caller(
    pair: Pair, session: AsyncSession
) -> None:
    # given a kindergarten's queue, offers, a place and history
    queue, father, _ = await _arrange(session)
    kg = queue.kg(0)
    requests: list[tuple[str, dict[str, Any]]] = [
        (QUEUE, {"kindergartenId": kg}),
        (QUEUE, {"kindergartenId": kg, "ageGroup": "3-4", "first": 2}),
        (QUEUE, {"kindergartenId": queue.kg(2), "ageGroup": "5-6"}),
        (OFFERS, {"kindergartenId": kg}),
        (MINE, {}),
        (MINE, {"first": 3}),
        (EVERYTHING, {"kindergartenId": kg}),
        (EVERYTHING, {"kindergartenId": queue.kg(1), "status": "WAITING"}),
    ]
    seen: dict[str, int] = {}
    for caller, headers in _callers(pair, queue, father).items():
        for document, variables in requests:
            # when both paths answer the same request
            fast, slow, statements = await pair.both(document, variables, headers)
            # then the answers are the same bytes, in one statement
            assert fast == slow, (caller, variables, fast, slow)
            assert "errors" not in fast, (caller, fast)
            assert statements == 1, (caller, document[:40], pair.counter.statements)
            listed = next(iter(fast["data"].values()))["nodes"]
            seen[caller] = max(seen.get(caller, 0), len(listed))
    # and each caller read what the rules let them read: the officer of the kindergarten its
    # queue, the officer of a kindergarten nobody names and a teacher nothing, the family
    # their children's applications (K2)
    assert seen["officer of the kindergarten"] == 9
    assert seen["ministry"] == seen["district officer"] == 9
    assert seen["officer of another kindergarten"] == 3  # those naming it
    assert seen["teacher"] == 0
    assert seen["mother"] == 9
    assert seen["father"] == 1


async def test_queue_positions_and_offer_order_follow_the_rule(
    pair: Pair, session: AsyncSession
) -> None:
    # given the queue
    queue, father, applications = await _arrange(session)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    fast, _, _ = await pair.both(QUEUE, {"kindergartenId": queue.kg(0)}, ministry)
    nodes = fast["data"]["kindergartenApplications"]["nodes"]
    # then (K4) verified benefit holders come first, then by registration time
    verified = [n["benefitStatus"] == "VERIFIED" for n in nodes]
    assert verified == sorted(verified, reverse=True)
    assert [n["registeredAt"] for n in nodes if n["benefitStatus"] != "VERIFIED"] == sorted(
        n["registeredAt"] for n in nodes if n["benefitStatus"] != "VERIFIED"
    )
    # and a guardian's page shows a position on each waiting application's preferences (K4)
    mother = {"Authorization": f"Bearer {pair.token(Role.GUARDIAN, person_id=queue.mother.id)}"}
    mine, _, _ = await pair.both(MINE, {"first": 10}, mother)
    positions = [
        (a["status"], p["queuePosition"])
        for a in mine["data"]["kindergartenApplications"]["nodes"]
        for p in a["preferences"]
    ]
    assert all((pos is None) == (status != "WAITING") for status, pos in positions)
    assert any(pos and pos["aheadWithBenefit"] for _, pos in positions)
    assert any(pos and pos["position"] == 1 for _, pos in positions)
    # and the father reads the mother's contact phone on none of hers (only on his own)
    father_h = {"Authorization": f"Bearer {pair.token(Role.GUARDIAN, person_id=father.id)}"}
    his, _, _ = await pair.both(EVERYTHING, {"kindergartenId": queue.kg(0)}, father_h)
    (own,) = his["data"]["list"]["nodes"]
    assert own["phone"] is not None
    del applications


async def test_anonymous_callers_and_bad_arguments_answer_as_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    queue, _, _ = await _arrange(session)
    officer = {
        "Authorization": "Bearer "
        + pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{queue.kindergartens[0].id}"])
    }
    for variables in (
        {"kindergartenId": gid("Person", queue.mother.id)},  # an id of another type
        {"kindergartenId": "not-an-id"},
        {"kindergartenId": queue.kg(0), "ageGroup": "x" * 17},
        {"kindergartenId": queue.kg(0), "first": 101},
        {"kindergartenId": gid("Institution", 10**6)},  # no such kindergarten: empty
    ):
        fast, slow, _ = await pair.both(QUEUE, variables, officer)
        assert fast == slow, variables
    anonymous, _, _ = await pair.both(QUEUE, {"kindergartenId": queue.kg(0)}, {})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # a page after the first: the queue order's cursor, the same answer on both paths
    first, _, _ = await pair.both(QUEUE, {"kindergartenId": queue.kg(0), "first": 2}, officer)
    cursor = first["data"]["kindergartenApplications"]["pageInfo"]["endCursor"]
    fast, slow, _ = await pair.both(
        QUEUE, {"kindergartenId": queue.kg(0), "first": 2, "after": cursor}, officer
    )
    assert fast == slow
    assert "errors" not in fast, fast


async def test_a_field_it_does_not_know_takes_the_resolvers(
    pair: Pair, session: AsyncSession
) -> None:
    queue, _, _ = await _arrange(session)
    ministry = {"Authorization": f"Bearer {pair.token(Role.MINISTRY)}"}
    for document in (
        OFFERS.replace("status\n", "status offerHold\n", 1),
        OFFERS.replace("offeredAt }", "offeredAt application { id } }"),
        MINE.replace("statusHistory {", "offers { id } statusHistory {"),
    ):
        assert document not in (OFFERS, MINE)
        fast, slow, statements = await pair.both(
            document, {"kindergartenId": queue.kg(0)}, ministry
        )
        assert fast == slow
        assert statements > 1


async def test_the_queue_pages_page_by_page_in_offer_order_on_both_paths(
    pair: Pair, session: AsyncSession
) -> None:
    """The queue's cursor holds its order's keys: benefit verified (a boolean), registration
    time (a timestamp) and the id. Both paths open it (it was refused as INVALID_PAGINATION),
    and the pages after the first share kept statements: one per value of the boolean, which
    is kept in the statement's shape."""
    # given a kindergarten's queue with a verified benefit holder and four others (K4)
    queue, _, _ = await _arrange(session)
    officer = {
        "Authorization": "Bearer "
        + pair.token(Role.SCHOOL_ADMIN, scopes=[f"institution:{queue.kindergartens[0].id}"])
    }
    whole, _, _ = await pair.both(QUEUE, {"kindergartenId": queue.kg(0), "first": 50}, officer)
    expected = whole["data"]["kindergartenApplications"]["nodes"]
    assert len(expected) == 5
    built = Built(pair)
    paged: list[dict[str, Any]] = []
    after = None
    while True:
        # when the officer pages through it one application at a time
        variables = {"kindergartenId": queue.kg(0), "first": 1, "after": after}
        fast, slow, statements = await pair.both(QUEUE, variables, officer)
        # then each page is the resolvers' answer byte for byte, in one statement
        assert fast == slow, (after, fast, slow)
        assert "errors" not in fast, fast
        assert statements == 1
        page = fast["data"]["kindergartenApplications"]
        assert page["totalCount"] == 5
        paged += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # and the pages put together are the queue in offer order: the verified benefit holder
    # first, then by registration time (K4)
    assert paged == expected
    verified = [n["benefitStatus"] == "VERIFIED" for n in paged]
    assert verified == sorted(verified, reverse=True)
    assert True in verified
    assert False in verified
    later = [n["registeredAt"] for n in paged if n["benefitStatus"] != "VERIFIED"]
    assert later == sorted(later)
    # and three statements served the five pages: the first page's, and one for a cursor
    # after a verified holder and one after the others (the timestamp and id are arguments)
    assert built.since() == (3, 3)

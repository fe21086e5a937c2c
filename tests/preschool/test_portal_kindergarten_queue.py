"""The kindergarten-queue portal's queries cost a fixed number of SQL statements, however many
children wait."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import (
    Enrollment,
    InstitutionKind,
    KindergartenApplication,
    KindergartenOffer,
    KindergartenVoucher,
    OfferStatus,
    Ownership,
    QueueStatus,
    Sector,
    VoucherGround,
    VoucherStatus,
)
from resolvers.access import Role
from resolvers.clock import today
from tests.conftest import Hub
from tests.factories import (
    BISHKEK,
    BISHKEK_LENIN,
    make_institution,
    make_kindergarten_application,
    make_kindergarten_places,
)
from tests.preschool.helpers import (
    add_child,
    arrange_queue,
    born_for_group,
    guardian_token,
    officer_token,
)

PORTAL = Path(__file__).resolve().parents[2] / "portals" / "kindergarten-queue"

# The most SQL statements each query may send, whatever the number of rows.
STATEMENT_BUDGET = {
    "MyKindergartenApplications": 9,
    # a kept page's first request after a change: its set's version, then the resolvers (3)
    "KindergartenSeason": 4,
    "KindergartenQueue": 6,
    "KindergartenOffers": 4,
    "MyKindergartenVouchers": 6,
    "DistrictKindergartenVouchers": 4,
}
# Pages answered from the worker's kept answers until their data changes (schema/http/kept.py):
# asked again, one statement (the version).
KEPT = {"KindergartenSeason"}


async def _arrange(
    session: AsyncSession, engine: AsyncEngine, children: int
) -> tuple[Any, dict[str, Any]]:
    queue = await arrange_queue(session)
    t0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
    for i in range(children):
        child = await add_child(session, queue, born=born_for_group(queue.season, 3 + i % 3))
        await make_kindergarten_application(
            session,
            child=child,
            guardian=queue.mother,
            kindergartens=queue.kindergartens,
            season=queue.season,
            registered_at=t0 + timedelta(minutes=i),
            benefit="military" if i % 4 == 0 else None,
            age_group=f"{3 + i % 3}-{4 + i % 3}",
        )
    places = await make_kindergarten_places(
        session, kindergarten=queue.kindergartens[0], season=queue.season
    )
    await _vouchers(session, queue)
    await session.commit()
    # a few children hold accepted offers
    async with engine.begin() as conn:
        ids = [
            r
            for (r,) in (
                await conn.execute(
                    update(KindergartenApplication)
                    .where(
                        KindergartenApplication.id % 3 == 0,
                        KindergartenApplication.status == QueueStatus.WAITING,
                    )
                    .values(status=QueueStatus.ACCEPTED)
                    .returning(KindergartenApplication.id)
                )
            ).all()
        ]
        for app_id in ids:
            await conn.execute(
                insert(KindergartenOffer).values(
                    application_id=app_id,
                    places_id=places.id,
                    kindergarten_id=queue.kindergartens[0].id,
                    age_group="3-4",
                    status=OfferStatus.ACCEPTED,
                    deadline=date(2030, 1, 1),
                    offered_by="test",
                )
            )
    return queue, {"kindergartenId": queue.kg(0), "first": 50}


async def _vouchers(session: AsyncSession, queue: Any) -> None:
    """Every child claims a voucher (K8); every other one uses it at a private kindergarten."""
    private = await make_institution(
        session, kind=InstitutionKind.KINDERGARTEN, ownership=Ownership.PRIVATE
    )
    for i, child in enumerate(queue.children):
        voucher = KindergartenVoucher(
            child_id=child.id,
            guardian_id=queue.mother.id,
            season_id=queue.season.id,
            district_id=BISHKEK_LENIN,
            region_id=BISHKEK,
            ground=VoucherGround.LOW_INCOME if i % 3 else VoucherGround.DISABILITY,
            proof=f"№{i}",
            status=VoucherStatus.CLAIMED,
        )
        session.add(voucher)
        await session.flush()
        if i % 2:
            continue
        place = Enrollment(
            person_id=child.id,
            institution_id=private.id,
            sector=Sector.PRESCHOOL,
            entry_date=today(),
        )
        session.add(place)
        await session.flush()
        voucher.status = VoucherStatus.VERIFIED
        voucher.decided_at = datetime.now(UTC)
        voucher.valid_until = queue.season.ends_on
        await session.flush()
        voucher.status = VoucherStatus.IN_USE
        voucher.kindergarten_id = private.id
        voucher.enrollment_id = place.id
        voucher.used_on = today()
        await session.flush()


@pytest.mark.parametrize("name", sorted(STATEMENT_BUDGET))
async def test_portal_query_statement_count_does_not_grow_with_rows(
    name: str, hub: Hub, session: AsyncSession, engine: AsyncEngine
) -> None:
    document = (PORTAL / f"{name}.graphql").read_text()
    counts = []
    for children in (3, 24):
        # given a queue of `children` children (the second round adds to the first)
        queue, variables = await _arrange(session, engine, children)
        if name.startswith("District"):
            token = hub.token(Role.DISTRICT_OFFICER, scopes=[f"district:{BISHKEK_LENIN}"])
        elif name.startswith("My") or name.endswith("Season"):
            token = guardian_token(hub, queue.mother)
        else:
            token = officer_token(hub, queue.kindergartens[0])
        used = {k: v for k, v in variables.items() if f"${k}" in document}
        # when the portal sends its query (a kept page as the first request after a change)
        hub.forget_kept_answers()
        hub.counter.reset()
        body = await hub.gql(document, used, token=token)
        # then it succeeds within its budget, the same count for few rows as for many
        assert "errors" not in body, body
        counts.append(hub.counter.count)
    assert counts[0] == counts[1], hub.counter.statements
    assert counts[1] <= STATEMENT_BUDGET[name], hub.counter.statements
    if name in KEPT:
        # and asked again, it is the kept answer: one statement
        hub.counter.reset()
        assert "errors" not in await hub.gql(document, used, token=token)
        assert hub.counter.count == 1, hub.counter.statements


def test_every_query_of_the_portal_is_pinned() -> None:
    queries = {p.stem for p in PORTAL.glob("*.graphql") if "\nquery " in "\n" + p.read_text()}
    assert queries == set(STATEMENT_BUDGET)

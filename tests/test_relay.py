"""Keyset pages: the cursor's predicate selects exactly the rows after the cursor in the list's
order, whatever the directions of its keys (and NULLs in the data, which no cursor holds)."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Integer, String, and_, column, or_, select, values
from sqlalchemy.ext.asyncio import AsyncSession

from resolvers.relay import Ordering

ROWS = values(
    column("name", String), column("rank", Integer), column("id", Integer), name="t"
).data(
    [
        ("Асанов", 1, 1),
        ("Асанов", 1, 2),
        ("Асанов", 2, 3),
        ("Белов", 1, 4),
        ("Белов", None, 5),
        (None, 3, 6),
        ("Абдыкадыров", 2, 7),
        ("Жумабеков", 1, 8),
    ]
)
POINTS: list[tuple[Any, ...]] = [
    ("Асанов", 1, 2),
    ("Белов", 1, 4),
    ("Абдыкадыров", 2, 7),
    ("Асанов", 5, 0),
    ("Ж", 0, 99),
]


def plainly(ordering: Ordering, point: tuple[Any, ...], *, reverse: bool) -> ColumnElement[bool]:
    """After ``point``, as the keys read: the first key ahead, or equal and the next ahead..."""
    alternatives = []
    for i, (col, desc) in enumerate(ordering.keys):
        ahead = (col < point[i]) if (desc != reverse) else (col > point[i])
        alternatives.append(
            and_(*[c == point[j] for j, (c, _) in enumerate(ordering.keys[:i])], ahead)
        )
    return or_(*alternatives)


class TestKeysetAfter:
    @pytest.mark.parametrize(("name_desc", "rank_desc"), list(product([False, True], repeat=2)))
    async def test_after_a_cursor_is_the_plain_reading_of_the_keys(
        self, name_desc: bool, rank_desc: bool, session: AsyncSession
    ) -> None:
        # given an order on name, rank and id, each way
        ordering = Ordering(
            ((ROWS.c.name, name_desc), (ROWS.c.rank, rank_desc), (ROWS.c.id, False))
        )
        for point, reverse in product(POINTS, [False, True]):
            # when the rows after (or before) a cursor are selected
            got = set(
                await session.scalars(
                    select(ROWS.c.id).where(ordering.after(point, reverse=reverse))
                )
            )
            plain = plainly(ordering, point, reverse=reverse)
            expected = set(await session.scalars(select(ROWS.c.id).where(plain)))

            # then they are the rows the keys themselves say
            assert got == expected, (point, reverse)

    def test_the_first_key_bounds_the_scan(self) -> None:
        # given a three-key order
        ordering = Ordering(((ROWS.c.name, False), (ROWS.c.rank, True), (ROWS.c.id, False)))

        # when a cursor's predicate is built
        after = str(ordering.after(("Асанов", 1, 2)))
        before = str(ordering.after(("Асанов", 1, 2), reverse=True))

        # then it states the first key's bound on its own, for an index to start from
        assert after.startswith("t.name >= :name_1 AND (")
        assert before.startswith("t.name <= :name_1 AND (")


class TestBooleanKeys:
    """The kindergarten queue's order (K4) starts with a boolean, benefit verified: its cursors
    carry ``true``/``false`` and must open again, on a boolean key only."""

    def test_a_boolean_cursor_opens_on_a_boolean_key_and_on_no_other(self) -> None:
        from sqlalchemy import Boolean

        from resolvers.relay import CursorKeys, cursor_text

        keys = CursorKeys({"k": "secret"}, "k")
        flagged = values(column("verified", Boolean), column("id", Integer), name="f").data(
            [(True, 1)]
        )
        ordering = Ordering(((flagged.c.verified, True), (flagged.c.id, False)))
        # given a cursor sealed after a verified benefit holder
        cursor = keys.seal(ordering.digest, cursor_text([True, 7]))
        # when it is opened for its own list, then its values come back as they were
        assert ordering.decode(cursor, keys) == [True, 7]
        # and a boolean where an integer key is (a forged cursor) does not fit
        by_id = Ordering(((flagged.c.id, False), (flagged.c.id, False)))
        forged = keys.seal(by_id.digest, cursor_text([True, 7]))
        with pytest.raises(Exception, match="does not fit"):
            by_id.decode(forged, keys)

    async def test_rows_after_a_boolean_cursor(self, session: AsyncSession) -> None:
        from sqlalchemy import Boolean

        flagged = values(column("verified", Boolean), column("id", Integer), name="f").data(
            [(True, 1), (True, 4), (False, 2), (False, 3)]
        )
        ordering = Ordering(((flagged.c.verified, True), (flagged.c.id, False)))
        after = select(flagged.c.id).where(ordering.after([True, 4])).order_by(flagged.c.id)
        before = select(flagged.c.id).where(ordering.after([False, 2], reverse=True))
        assert list(await session.scalars(after)) == [2, 3]
        assert set(await session.scalars(before)) == {1, 4}

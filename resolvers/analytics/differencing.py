"""Protection across differently filtered tables (differencing attacks; Hundepool et al.,
*Statistical Disclosure Control*, Wiley 2012, section 5.3, "linked tables").

A filtered table and the same table with one filter dropped, or with one value fewer in a
filter's list, or with an age range one year narrower, give away by subtraction the people the
two differ by. Each table is protected on its own (disclosure.py); this adds, for a filtered
table read by anyone but the ministry, two checks per cell and for the total, for each filter:

1. **The complement**: the people the filter leaves out (the same cell with the filter dropped,
   minus the cell) are none or at least the threshold.
2. **The slices**: each single value the filter lets in (one region of a region list, one age
   of an age range) counts none or at least the threshold people in the cell.

A cell (or the total) failing either is hidden as if it were small, before secondary
suppression. With (2), any two tables one nested in the other differ by a sum of slices, each
none or at least the threshold, so the difference is too; (1) covers dropping the filter.
What remains possible is documented in docs/domains/analytics.md."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.analytics.disclosure import under_threshold


@dataclass(frozen=True)
class Condition:
    """One filter of a statistics query: the stat_cell column it reads and what it lets in."""

    column: str
    allows: Callable[[Any], bool]


def conditions_of(
    values: dict[str, list[Any]], age_from: int | None, age_to: int | None
) -> list[Condition]:
    """The query's filters as conditions (a value list per column, then the age range)."""
    found = [Condition(column, frozenset(listed).__contains__) for column, listed in values.items()]
    if age_from is not None or age_to is not None:
        low = age_from if age_from is not None else -1
        high = age_to if age_to is not None else 1_000

        def in_range(age: Any) -> bool:
            return age is not None and low <= age <= high

        found.append(Condition("age", in_range))
    return found


@dataclass(frozen=True)
class Row:
    """A cell of the table before filtering: its group keys, its value of each filtered
    column (in the order of the conditions) and its count."""

    keys: tuple[Any, ...]
    values: tuple[Any, ...]
    count: int


def linked_risks(
    rows: Sequence[Row], conditions: Sequence[Condition], threshold: int
) -> tuple[set[tuple[Any, ...]], bool]:
    """The keys of the cells a linked table would give away, and whether the total would be."""
    risky: set[tuple[Any, ...]] = set()
    total_risky = False
    for i, condition in enumerate(conditions):
        slices: dict[tuple[Any, ...], dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        left_out: dict[tuple[Any, ...], int] = defaultdict(int)
        total_slices: dict[Any, int] = defaultdict(int)
        total_left_out = 0
        for row in rows:
            if not all(c.allows(row.values[j]) for j, c in enumerate(conditions) if j != i):
                continue
            value = row.values[i]
            if condition.allows(value):
                slices[row.keys][value] += row.count
                total_slices[value] += row.count
            else:
                left_out[row.keys] += row.count
                total_left_out += row.count
        for keys, by_value in slices.items():
            if under_threshold(left_out[keys], threshold) or any(
                under_threshold(n, threshold) for n in by_value.values()
            ):
                risky.add(keys)
        total_risky |= under_threshold(total_left_out, threshold) or any(
            under_threshold(n, threshold) for n in total_slices.values()
        )
    return risky, total_risky

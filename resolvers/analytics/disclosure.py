"""Disclosure control for tables of counts of people (the threshold rule with secondary
suppression; Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, sections 4.2
and 5.2, as the Eurostat handbook applies it to frequency tables).

The threshold and whether secondary suppression runs are the ministry's policy row
(policy.py), not constants. Primary suppression hides every cell counting from 1 to
``threshold - 1`` people. Secondary
suppression then treats each line of the table (the cells that differ in one grouped
dimension only) as published with its total, since the same query grouped by one dimension
fewer returns that total: a line with exactly one hidden cell would give it away by
subtraction, so the smallest visible non-zero cell of that line is hidden too, until no line
holds exactly one hidden cell. A total itself under the threshold is hidden as well."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence, Set
from dataclasses import dataclass
from typing import Any


@dataclass
class Cell:
    """One cell of a statistics table: its keys (one per grouped dimension) and count."""

    keys: tuple[Any, ...]
    count: int
    suppressed: bool = False

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.count


def under_threshold(count: int, threshold: int) -> bool:
    """Is this a count that could identify someone (1 to threshold - 1)?"""
    return 0 < count < threshold


def suppress(
    cells: Sequence[Cell],
    threshold: int,
    *,
    secondary: bool = True,
    also: Set[tuple[Any, ...]] = frozenset(),
) -> int:
    """Mark the cells to hide (primary: small, or keyed in ``also``, which a linked table
    would give away; then secondary unless the policy turns it off); return how many are
    hidden."""
    for cell in cells:
        cell.suppressed = under_threshold(cell.count, threshold) or cell.keys in also
    if not secondary:
        return sum(c.suppressed for c in cells)
    width = len(cells[0].keys) if cells else 0
    changed = True
    while changed:
        changed = False
        for position in range(max(width, 1)):
            for line in _lines(cells, position):
                changed |= _protect(line)
    return sum(c.suppressed for c in cells)


def _lines(cells: Sequence[Cell], position: int) -> list[list[Cell]]:
    """The table's lines along one dimension: cells equal in every other key."""
    lines: dict[tuple[Any, ...], list[Cell]] = defaultdict(list)
    for cell in cells:
        lines[cell.keys[:position] + cell.keys[position + 1 :]].append(cell)
    return list(lines.values())


def _protect(line: list[Cell]) -> bool:
    """Hide one more cell of a line that has exactly one hidden; True if one was hidden."""
    if sum(c.suppressed for c in line) != 1:
        return False
    candidates = [c for c in line if not c.suppressed and c.count > 0]
    if not candidates:
        # The line's total is the hidden cell itself, so it is under the threshold and
        # hidden wherever it is published.
        return False
    min(candidates, key=lambda c: (c.count, repr(c.keys))).suppressed = True
    return True

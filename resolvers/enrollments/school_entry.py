"""What else ends when a child starts school: the steps higher domains register (domain.md K7).

K7: enrolling in grade 1 ends the kindergarten place and any queue entry, whatever path opens
the school enrollment. The registry (this domain) sits below the intake workflows and may not
import the kindergarten queue, so the rule reaches it through an explicit hook: the queue
registers its step here when its package is imported (``resolvers/preschool/__init__.py``:
``enrollments_service.on_school_entry(leave_for_school)``), and ``enroll_student`` and
``transfer_student`` run every registered step in the transaction that opens the school
enrollment, before inserting it. First-grade admission, above the queue, calls the same step
directly: one rule, one place (``resolvers/preschool/school.py``).

The caller holds the person's row (step 1 of ``resolvers/locks.py``): a step may lock the
rows that follow it in that order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

# (session, actor, the children's person ids, the first school day) -> anything
SchoolEntryStep = Callable[[AsyncSession, str, Sequence[int], date], Awaitable[object]]

_STEPS: list[SchoolEntryStep] = []


def on_school_entry(step: SchoolEntryStep) -> None:
    """Run ``step`` whenever the registry opens a school enrollment (registered once)."""
    if step not in _STEPS:
        _STEPS.append(step)


def school_entry_steps() -> tuple[SchoolEntryStep, ...]:
    """The steps registered so far (a test checks the queue's is among them)."""
    return tuple(_STEPS)


async def enter_school(
    session: AsyncSession, actor: str, person_ids: Sequence[int], start: date
) -> None:
    """Run every registered step for children starting school on ``start``."""
    for step in _STEPS:
        await step(session, actor, person_ids, start)

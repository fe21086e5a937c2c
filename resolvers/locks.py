"""The one order in which workflows lock rows, so that no two of them wait for each other
(issue 12, finding 3; the manual's docs/integrity.md says the same for operators).

A transaction that waits for a row lock while holding another can deadlock only with one that
takes the same two locks the other way round. Every workflow of the intake and the registry
that holds more than one row therefore takes its locks in this order, each table's rows in
ascending id:

1. ``person`` rows of the children (pupils) concerned: :func:`lock_persons`, or the single
   ``FOR UPDATE`` of the workflows acting on one child (``enrollStudent``, ``transferStudent``,
   applying, the kindergarten offer's transitions). Holding a child's row serializes every
   workflow on that child: the kindergarten queue's and first grade's at once (rule K7).
   A child's ``kindergarten_voucher`` rows (K8) change only under the child's row, so a
   holder of it may take them at any point after it (the voucher workflows: before the
   enrollment they open or end; a school entry: first thing in ``leave_for_school``).
2. ``first_grade_quota`` rows: an allocation's capacity, locked before it ranks.
3. ``first_grade_application`` rows: the applications an allocation ranks and admits.
4. ``kindergarten_application`` rows.
5. ``kindergarten_offer`` rows: an offer changes only under its application's lock.
6. ``kindergarten_places`` rows: a kindergarten seat is returned (or taken) last, once the
   application and offer holding it are locked; several rows in id order (``return_places``).
7. ``enrollment`` rows of the persons locked in 1.

Two kinds of lock stand outside the order, because they close no cycle:

* a lock that never waits: bulk offers lock a kindergarten's places rows (6) and then pick
  applications (4) ``FOR UPDATE SKIP LOCKED``, passing over any another transaction holds;
* a transaction that locks one row alone and waits for nothing after it: ``setFirstGradeQuota``
  (one quota row), ``verifyFirstGradeApplication`` and ``withdrawFirstGradeApplication`` (one
  application), ``declareFreePlaces`` (one places row), ``withdrawStudent`` (one enrollment).
  Enrollment rows are otherwise changed only by a holder of the person's row, so a
  transaction holding that row may take them at any point after it.

Licence rows are read ``FOR SHARE`` at any point: a licence change locks only its licence.
Deadlocks and serialization failures that remain possible elsewhere are retried by the
mutation machinery (``resolvers/mutations.py``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Person


async def lock_persons(
    session: AsyncSession, person_ids: Collection[int] | Select[Any]
) -> list[int]:
    """Lock the persons' rows in ascending id (step 1 of the order), one statement however
    many; the ids found, ascending. ``person_ids`` may be a statement selecting them.

    ``FOR NO KEY UPDATE``: it excludes every other workflow's lock on the person (``FOR
    UPDATE`` or this one) without blocking rows that merely reference the person (an audit or
    guardianship row inserted meanwhile takes only a key-share lock)."""
    which: ColumnElement[bool]
    if isinstance(person_ids, Select):
        which = Person.id.in_(person_ids)
    else:
        ids = sorted(set(person_ids))
        if not ids:
            return []
        which = Person.id == any_(literal(ids, type_=ARRAY(Integer)))
    return list(
        await session.scalars(
            select(Person.id).where(which).order_by(Person.id).with_for_update(key_share=True)
        )
    )

"""Portal operations the benchmark cannot drive with one fixed request.

A mutation must change something still there to change, so each request of its run needs its
own object (a child not yet in the queue, an offer not yet accepted, ...); some queries need
state a workflow makes (a season, a round, an offer). A module per portal folder holds their
:class:`Workload` s. ``prepare`` runs right before its operation is measured: it writes, in the
database the hub serves (a throwaway copy of the benchmark's dataset), fresh state for up to
``n`` requests, and returns one :class:`Call` per request, each valid exactly once (a query's
calls may be sent again and again). Preparers write with SQL or the resolvers' own functions,
never through the hub, so what is measured is only the operation itself.

``tests/test_bench_workloads.py`` runs every workload, a few calls each, through an in-process
hub on a small dataset and requires answers without errors or user errors, and checks that
every operation in ``portals/`` is measured by ``bench.api``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings

# The modules holding WORKLOADS, one per portal folder.
MODULES: tuple[str, ...] = ("bench.workloads.emis", "bench.workloads.first_grade")


@dataclass(frozen=True)
class Call:
    """One request: its variables and the bearer token of the caller who may send it."""

    variables: dict[str, Any]
    token: str


@dataclass
class Bench:
    """What a preparer is given: the database the hub serves and the means to sign tokens the
    hub accepts."""

    db_url: str  # postgresql:// (asyncpg's form)
    settings: Settings
    ring: KeyRing

    def token(
        self, role: Role, *, person_id: int | None = None, scopes: list[str] | None = None
    ) -> str:
        return issue_token(
            self.ring,
            self.settings,
            role=role,
            person_id=person_id,
            scopes=scopes,
            ttl_minutes=240,
        )


Prepare = Callable[[Bench, int], Awaitable[list[Call]]]


@dataclass(frozen=True)
class Workload:
    operation: str  # "<portal folder>/<file stem>", e.g. "emis/RegisterPerson"
    prepare: Prepare


def all_workloads() -> list[Workload]:
    found: list[Workload] = []
    for name in MODULES:
        found.extend(importlib.import_module(name).WORKLOADS)
    return found

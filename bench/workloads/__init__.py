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

import hashlib
import importlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from resolvers.access import KeyRing, Role, issue_token
from resolvers.settings import Settings

# The modules holding WORKLOADS, one per portal folder.
MODULES: tuple[str, ...] = (
    "bench.workloads.emis",
    "bench.workloads.first_grade",
    "bench.workloads.kindergarten_queue",
    "bench.workloads.kindergarten_vouchers",
    "bench.workloads.library",
    "bench.workloads.licensing",
    "bench.workloads.lms",
    "bench.workloads.study_abroad",
    "bench.workloads.university_admission",
    "bench.workloads.sanarip_sabak",
    "bench.workloads.primary_1_4",
    "bench.workloads.school_5_9",
    "bench.workloads.open_courses",
    "bench.workloads.stats",
)


@dataclass(frozen=True)
class Upload:
    """A file sent with the request (the GraphQL multipart request: ``operations``, ``map``
    and the file part), standing at ``path`` in the operation, e.g. ``variables.input.file``."""

    path: str
    filename: str
    content: bytes
    content_type: str = "text/csv"


@dataclass(frozen=True)
class Call:
    """One request: its variables, the bearer token of the caller who may send it, and the
    file it uploads, if any."""

    variables: dict[str, Any]
    token: str
    upload: Upload | None = None

    def body(self, query: str) -> tuple[bytes, str]:
        """The HTTP body and its content type."""
        operation = json.dumps({"query": query, "variables": self.variables})
        if self.upload is None:
            return operation.encode(), "application/json"
        boundary = "bilim-bench-" + hashlib.sha256(self.upload.content).hexdigest()[:24]
        parts = [
            ("operations", None, None, operation.encode()),
            ("map", None, None, json.dumps({"0": [self.upload.path]}).encode()),
            ("0", self.upload.filename, self.upload.content_type, self.upload.content),
        ]
        body = b""
        for name, filename, content_type, data in parts:
            disposition = f'form-data; name="{name}"'
            head = f"--{boundary}\r\nContent-Disposition: {disposition}"
            if filename is not None:
                head += f'; filename="{filename}"\r\nContent-Type: {content_type}'
            body += head.encode() + b"\r\n\r\n" + data + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        return body, f"multipart/form-data; boundary={boundary}"


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

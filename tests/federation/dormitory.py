"""A partner's subgraph for the federation test: a university's dormitory service that
extends the hub's Person with the room a student lives in (strawberry's federation support,
as a partner would write it). Residents come from ``DORMITORY_RESIDENTS``
("<person global id>=<building>-<room>,...")."""

from __future__ import annotations

import os

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL


def _residents() -> dict[str, tuple[str, str]]:
    pairs = (item.split("=", 1) for item in os.environ.get("DORMITORY_RESIDENTS", "").split(","))
    return {pid: tuple(room.split("-", 1)) for pid, room in pairs}  # type: ignore[misc]


@strawberry.type(description="A room in a dormitory.")
class DormitoryRoom:
    building: str
    number: str


@strawberry.federation.type(keys=["id"], description="A person, as the hub knows them.")
class Person:
    id: strawberry.ID

    @strawberry.field(description="The dormitory room the person lives in, if any.")
    def dormitory_room(self) -> DormitoryRoom | None:
        room = _residents().get(str(self.id))
        return DormitoryRoom(building=room[0], number=room[1]) if room else None

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Person:
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field(description="Everyone living in the dormitories.")
    def residents(self) -> list[Person]:
        return [Person(id=strawberry.ID(pid)) for pid in _residents()]


schema = strawberry.federation.Schema(query=Query, federation_version="2.5")
app = Starlette(routes=[Route("/graphql", GraphQL(schema), methods=["GET", "POST"])])

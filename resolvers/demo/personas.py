"""Who a visitor may act as in a demo or development hub's GraphiQL: a few roles, each scoped
to a real row of the loaded data (the region with the most schools, the school with the most
pupils, a guardian with children), so that a query run in the browser shows data at once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.enrollments import Enrollment
from models.geography import Region
from models.institutions import Institution
from models.people import Guardianship
from resolvers.access import Role


@dataclass(frozen=True)
class Persona:
    """A role to act as, with the scopes or person its token carries."""

    key: str
    label: str
    role: Role
    scopes: tuple[str, ...] = ()
    person_id: int | None = None


async def personas(session: AsyncSession) -> list[Persona]:
    """The roles GraphiQL offers, those needing a row only when the data holds one."""
    found = [Persona("ministry", "Ministry analyst (everything)", Role.MINISTRY)]
    region = (
        await session.execute(
            select(Region.id, Region.name_en)
            .join(Institution, Institution.region_id == Region.id)
            .group_by(Region.id)
            .order_by(func.count().desc(), Region.id)
            .limit(1)
        )
    ).first()
    if region is not None:
        found.append(
            Persona(
                "region_officer",
                f"Region officer ({region.name_en})",
                Role.REGION_OFFICER,
                (f"region:{region.id}",),
            )
        )
    school = (
        await session.execute(
            select(Institution.id, Institution.name)
            .join(Enrollment, Enrollment.institution_id == Institution.id)
            .where(Enrollment.exit_date.is_(None))
            .group_by(Institution.id)
            .order_by(func.count().desc(), Institution.id)
            .limit(1)
        )
    ).first()
    if school is not None:
        scope = (f"institution:{school.id}",)
        found.append(
            Persona("school_admin", f"School admin ({school.name})", Role.SCHOOL_ADMIN, scope)
        )
        found.append(Persona("teacher", f"Teacher ({school.name})", Role.TEACHER, scope))
    guardian = await session.scalar(
        select(Guardianship.guardian_id)
        .where(Guardianship.valid_to.is_(None))
        .order_by(Guardianship.id)
        .limit(1)
    )
    if guardian is not None:
        found.append(
            Persona(
                "guardian", "Guardian (a parent and their children)", Role.GUARDIAN, (), guardian
            )
        )
    return found

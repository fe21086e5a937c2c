"""The enforcement guards every admission path calls: no licence in force, no new learners; no
accreditation, no admission to a programme that needs it (issue 5, "Enforced across systems")."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Accreditation,
    AccreditationKind,
    EducationLevel,
    Institution,
    InstitutionProgramme,
    Licence,
    ProgrammeCode,
)
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.licensing.rules import accreditation_valid_on, licence_required, licence_valid_on


async def require_teaching_licence(
    session: AsyncSession,
    *,
    institution_id: int,
    on: date,
    level: EducationLevel | Collection[EducationLevel] | None = None,
    field: str = "institutionId",
) -> None:
    """Refuse (``LICENCE_REQUIRED``) to admit new learners to an institution that needs a licence
    and holds none in force on ``on`` covering ``level`` (one level, or a collection of which any
    one suffices; ``None``: any licence in force). State and municipal schools and kindergartens
    and foreign universities are exempt and pass.

    The licence row is read ``FOR SHARE``: a suspension or revocation running at the same moment
    waits for this admission to commit, and every admission after it sees the licence stopped.
    Learners already enrolled are never touched by this guard.
    """
    inst = (
        await session.execute(
            select(Institution.kind, Institution.ownership).where(Institution.id == institution_id)
        )
    ).first()
    if inst is None:
        raise NotFound("The institution", field=field)
    if not licence_required(inst.kind, inst.ownership):
        return
    levels: list[str] = []
    if isinstance(level, EducationLevel):
        levels = [level.value]
    elif level is not None:
        levels = [EducationLevel(lv).value for lv in level]
    stmt = select(Licence.id).where(Licence.institution_id == institution_id, licence_valid_on(on))
    if levels:
        stmt = stmt.where(Licence.levels.overlap(levels))
    found = await session.scalar(stmt.limit(1).with_for_update(read=True))
    if found is None:
        covering = f" covering {' or '.join(levels)} education" if levels else ""
        raise DomainError(
            ErrorCode.LICENCE_REQUIRED,
            f"The institution holds no licence in force on {on.isoformat()}{covering}",
            field=field,
        )


async def require_accreditation(
    session: AsyncSession,
    *,
    institution_id: int,
    programme_code: str,
    on: date,
    field: str = "programmeCode",
) -> None:
    """Refuse (``ACCREDITATION_REQUIRED``) to open admission to a programme whose classifier
    entry requires accreditation unless the institution holds a programme accreditation for it in
    force on ``on``. An institutional accreditation does not stand in for a programme's own.
    Unknown codes are ``UNKNOWN_PROGRAMME``."""
    needed = await session.scalar(
        select(ProgrammeCode.accreditation_required).where(ProgrammeCode.code == programme_code)
    )
    if needed is None:
        raise DomainError(
            ErrorCode.UNKNOWN_PROGRAMME,
            f"No programme has the code {programme_code!r}",
            field=field,
        )
    if not needed:
        return
    found = await session.scalar(
        select(Accreditation.id)
        .join(InstitutionProgramme, InstitutionProgramme.id == Accreditation.programme_id)
        .where(
            Accreditation.institution_id == institution_id,
            Accreditation.kind == AccreditationKind.PROGRAMME,
            InstitutionProgramme.code == programme_code,
            accreditation_valid_on(on),
        )
        .limit(1)
        .with_for_update(read=True, of=Accreditation)
    )
    if found is None:
        raise DomainError(
            ErrorCode.ACCREDITATION_REQUIRED,
            f"The programme {programme_code} holds no accreditation in force on {on.isoformat()}",
            field=field,
        )


async def licence_in_force(
    session: AsyncSession, *, institution_id: int, on: date
) -> Licence | None:
    """The institution's licence in force on a date, if any."""
    return await session.scalar(
        select(Licence).where(Licence.institution_id == institution_id, licence_valid_on(on))
    )

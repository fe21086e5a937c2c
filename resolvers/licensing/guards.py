"""The enforcement guards every admission path calls: no licence in force, no new learners; no
accreditation, no admission to a programme that needs it (issue 5, "Enforced across systems")."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select, tuple_
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
from resolvers.errors import DomainError, NotFound
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.rules import accreditation_valid_on, licence_required, licence_valid_on


async def require_teaching_licence(
    session: AsyncSession,
    *,
    institution_id: int,
    on: date,
    level: EducationLevel | Collection[EducationLevel] | None = None,
    field: str = "institutionId",
    institution: Institution | None = None,
) -> None:
    """Refuse (``LICENCE_REQUIRED``) to admit new learners to an institution that needs a licence
    and holds none in force on ``on`` covering ``level`` (one level, or a collection of which any
    one suffices; ``None``: any licence in force). State and municipal schools and kindergartens
    and foreign universities are exempt and pass.

    The licence row is read ``FOR SHARE``: a suspension or revocation running at the same moment
    waits for this admission to commit, and every admission after it sees the licence stopped.
    Learners already enrolled are never touched by this guard. ``institution``: its row when
    the caller has read it already (its kind and ownership are not read again).
    """
    inst: Any = institution
    if inst is None or inst.id != institution_id:
        inst = (
            await session.execute(
                select(Institution.kind, Institution.ownership).where(
                    Institution.id == institution_id
                )
            )
        ).first()
    if inst is None:
        raise NotFound("The institution", field=field)
    if not licence_required(inst.kind, inst.ownership):
        return
    levels = _level_values(level)
    stmt = select(Licence.id).where(Licence.institution_id == institution_id, licence_valid_on(on))
    if levels:
        stmt = stmt.where(Licence.levels.overlap(levels))
    found = await session.scalar(stmt.limit(1).with_for_update(read=True))
    if found is None:
        covering = f" covering {' or '.join(levels)} education" if levels else ""
        raise DomainError(
            LicensingCode.LICENCE_REQUIRED,
            f"The institution holds no licence in force on {on.isoformat()}{covering}",
            field=field,
        )


def _level_values(level: EducationLevel | Collection[EducationLevel] | None) -> list[str]:
    if level is None:
        return []
    if isinstance(level, EducationLevel):
        return [level.value]
    return [EducationLevel(lv).value for lv in level]


async def unlicensed_among(
    session: AsyncSession,
    institution_ids: Collection[int],
    *,
    on: date,
    level: EducationLevel | Collection[EducationLevel] | None = None,
) -> set[int]:
    """The set form of :func:`require_teaching_licence` for workflows that admit into many
    institutions at once (allocations, rounds, orders): which of these institutions need a
    licence and hold none in force on ``on`` covering ``level``. Two statements whatever the
    number; the licences in force are read ``FOR SHARE`` as in the single guard."""
    ids = sorted(set(institution_ids))
    if not ids:
        return set()
    levels = _level_values(level)
    stmt = select(Licence.institution_id).where(
        Licence.institution_id.in_(ids), licence_valid_on(on)
    )
    if levels:
        stmt = stmt.where(Licence.levels.overlap(levels))
    licensed = set(await session.scalars(stmt.with_for_update(read=True)))
    rows = await session.execute(
        select(Institution.id, Institution.kind, Institution.ownership).where(
            Institution.id.in_(ids)
        )
    )
    return {r.id for r in rows if r.id not in licensed and licence_required(r.kind, r.ownership)}


async def unlicensed_on_days(
    session: AsyncSession,
    institution_ids: Collection[int] | Select[Any],
    *,
    days: Collection[date],
    level: EducationLevel | Collection[EducationLevel] | None = None,
) -> set[int]:
    """:func:`unlicensed_among` over several days at once: the institutions that need a
    licence and lack one in force covering ``level`` on any of ``days``. Two statements
    whatever the number of institutions and days (issue 21); the licences in force on any of
    the days are read ``FOR SHARE``. ``institution_ids`` may be a statement selecting them."""
    on = sorted(set(days))
    ids: Any = institution_ids
    if not isinstance(institution_ids, Select):
        ids = sorted(set(institution_ids))
    if not on or (isinstance(ids, list) and not ids):
        return set()
    levels = _level_values(level)
    stmt = select(
        Licence.institution_id, *(licence_valid_on(d).label(f"on_{i}") for i, d in enumerate(on))
    ).where(Licence.institution_id.in_(ids), or_(*(licence_valid_on(d) for d in on)))
    if levels:
        stmt = stmt.where(Licence.levels.overlap(levels))
    rows = (await session.execute(stmt.with_for_update(read=True))).all()
    # The institutions needing a licence, less those licensed on every day.
    needing = {
        r.id
        for r in await session.execute(
            select(Institution.id, Institution.kind, Institution.ownership).where(
                Institution.id.in_(ids)
            )
        )
        if licence_required(r.kind, r.ownership)
    }
    unlicensed: set[int] = set()
    for i in range(len(on)):
        unlicensed |= needing - {r.institution_id for r in rows if r[i + 1]}
    return unlicensed


async def require_teaching_licences(
    session: AsyncSession,
    *,
    institution_ids: Collection[int],
    on: date,
    level: EducationLevel | Collection[EducationLevel] | None = None,
    field: str = "institutionId",
) -> None:
    """:func:`require_teaching_licence` for several institutions at once: ``LICENCE_REQUIRED``
    naming the first (by id) that needs a licence and holds none in force on ``on``."""
    missing = await unlicensed_among(session, institution_ids, on=on, level=level)
    if missing:
        levels = _level_values(level)
        covering = f" covering {' or '.join(levels)} education" if levels else ""
        raise DomainError(
            LicensingCode.LICENCE_REQUIRED,
            f"Institution {min(missing)} holds no licence in force on {on.isoformat()}{covering}",
            field=field,
        )


async def unaccredited_among(
    session: AsyncSession, subjects: Collection[tuple[int, str]], *, on: date
) -> set[tuple[int, str]]:
    """The set form of :func:`require_accreditation`: which (institution, classifier code)
    pairs need a programme accreditation and hold none in force on ``on`` (accreditations read
    ``FOR SHARE``). Codes missing from the classifier count as unaccredited."""
    pairs = sorted(set(subjects))
    if not pairs:
        return set()
    codes = sorted({code for _, code in pairs})
    needed = dict(
        (
            await session.execute(
                select(ProgrammeCode.code, ProgrammeCode.accreditation_required).where(
                    ProgrammeCode.code.in_(codes)
                )
            )
        ).all()
    )
    asked = [(i, c) for i, c in pairs if needed.get(c, True)]
    if not asked:
        return set()
    accredited = {
        (r.institution_id, r.code)
        for r in await session.execute(
            select(Accreditation.institution_id, InstitutionProgramme.code)
            .join(InstitutionProgramme, InstitutionProgramme.id == Accreditation.programme_id)
            .where(
                tuple_(Accreditation.institution_id, InstitutionProgramme.code).in_(asked),
                Accreditation.kind == AccreditationKind.PROGRAMME,
                accreditation_valid_on(on),
            )
            .with_for_update(read=True, of=Accreditation)
        )
    }
    return {pair for pair in asked if pair not in accredited}


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
            LicensingCode.UNKNOWN_PROGRAMME,
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
            LicensingCode.ACCREDITATION_REQUIRED,
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

"""Joining the queue and staying in it: registration (the age group a child waits for, the
preferred kindergartens), the check of a claimed benefit, and transfers between
kindergartens (domain.md K1-K4, K6)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    BenefitStatus,
    Enrollment,
    Institution,
    InstitutionKind,
    IntakeKind,
    IntakeSeason,
    KindergartenAgeGroup,
    KindergartenApplication,
    KindergartenPreference,
    Person,
    QueueStatus,
    Residency,
    Sector,
)
from models.preschool import ACTIVE_QUEUE_STATUSES
from resolvers import driver
from resolvers.access import Principal, require
from resolvers.clock import today
from resolvers.errors import DomainError, ErrorCode, NotFound
from resolvers.intake import (
    PHONE_MAX,
    REASON_MAX,
    benefit_claimed,
    clean_text,
    guardians_child_for_update,
    months_between,
    require_guardian_reached,
)
from resolvers.intake.seasons import setting_code, setting_of, setting_statement
from resolvers.new_rows import insert_statement, new_params
from resolvers.preschool.errors import PreschoolCode
from resolvers.preschool.offers import cancel_live_offer
from resolvers.preschool.places import return_place
from resolvers.preschool.rows import (
    HISTORY,
    application_for_update,
    child_application_and_season_for_update,
)
from resolvers.preschool.rules import may_handle_application
from resolvers.rows import write_row

KA = KindergartenApplication


def place_in_age_group(
    born: date, season: IntakeSeason, groups: Sequence[KindergartenAgeGroup]
) -> tuple[int, KindergartenAgeGroup]:
    """The intake year and age group a child waits for: the group containing their age on
    1 September of the season's year; a child younger than the youngest group waits for the
    first September they reach it (domain.md: groups 2-3 ... 6-7, by age)."""
    if not groups:
        raise DomainError(PreschoolCode.INVALID_POLICY, "The season has no age groups")
    for year in range(season.year, season.year + 8):
        months = months_between(born, date(year, 9, 1))
        for group in groups:
            if group.min_months <= months < group.max_months:
                return year, group
        if months >= groups[-1].max_months:
            break
    raise DomainError(
        PreschoolCode.CHILD_TOO_OLD,
        "The child is past the oldest kindergarten group at this intake",
        field="childId",
    )


async def preferred_kindergartens(
    session: AsyncSession,
    ids: Sequence[int],
    max_preferences: int,
    on: date,
    enrollment_id: int | None = None,
) -> tuple[list[Institution], int | None]:
    """The kindergartens a family names, in its order: 1 to ``max_preferences`` of them, each
    once, each an open kindergarten; and the kindergarten of ``enrollment_id`` when it is open
    (None when it is not, or when none is given), read by the same statement through the
    driver (issue 21)."""
    _check_named(ids, max_preferences)
    params = {"kindergarten_ids": list(ids), "enrollment_id": enrollment_id}
    found = {}
    attended = None
    for row in await driver.rows(session, _KINDERGARTENS, params):
        kindergarten = driver.object_of(session, _INSTITUTION, row[1:])
        found[kindergarten.id] = kindergarten
        attended = row[0]
    return _preferred(found, ids, max_preferences, on), attended


def _check_named(ids: Sequence[int], max_preferences: int) -> None:
    if not 1 <= len(ids) <= max_preferences:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Name 1 to {max_preferences} preferred kindergartens",
            field="kindergartenIds",
        )
    if len(set(ids)) != len(ids):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "A kindergarten is named only once",
            field="kindergartenIds",
        )


def _preferred(
    found: dict[int, Institution], ids: Sequence[int], max_preferences: int, on: date
) -> list[Institution]:
    """:func:`preferred_kindergartens` checked on the institutions ``found`` (by id) of
    ``ids``."""
    _check_named(ids, max_preferences)
    result = []
    for i in ids:
        inst = found.get(i)
        if inst is None:
            raise NotFound("A preferred kindergarten", field="kindergartenIds")
        if inst.kind != InstitutionKind.KINDERGARTEN:
            raise DomainError(
                PreschoolCode.WRONG_INSTITUTION_KIND,
                f"{inst.name} is not a kindergarten",
                field="kindergartenIds",
            )
        if inst.closed_on is not None and inst.closed_on <= on:
            raise DomainError(
                PreschoolCode.INSTITUTION_CLOSED, f"{inst.name} is closed", field="kindergartenIds"
            )
        result.append(inst)
    return result


def _check_age(child: Person, season: IntakeSeason, on: date) -> None:
    """A child is registered from the season's youngest age to its oldest (K1)."""
    months = months_between(child.birth_date, on)
    if months < season.min_age_months:
        raise DomainError(
            PreschoolCode.CHILD_TOO_YOUNG,
            f"A child is registered from the age of {season.min_age_months} months",
            field="childId",
        )
    if months >= season.max_age_months:
        raise DomainError(
            PreschoolCode.CHILD_TOO_OLD,
            f"A child is registered until the age of {season.max_age_months // 12} years",
            field="childId",
        )


def _check_not_queued_or_placed(queued: bool, placed: bool) -> None:
    """One active application per child (``queued``), and none for a child who holds a place
    already (``placed``): they transfer their application instead."""
    if queued:
        raise DomainError(
            PreschoolCode.DUPLICATE_APPLICATION,
            "The child already has an active application; transfer it instead",
            field="childId",
        )
    if placed:
        raise DomainError(
            PreschoolCode.ALREADY_ENROLLED,
            "The child already holds a place; transfer the existing application instead",
            field="childId",
        )


# The step's reads, made once (issue 21: built per call, each cost the registration more CPU
# than its execution).
_CHILD = bindparam("child_id", type_=Integer)
_APPLICATION = bindparam("application_id", type_=Integer)
# (``= ANY`` of an array: a statement made once for the driver takes no expanding ``IN``.)
_TEXTS = ARRAY(String)
_QUEUED = exists().where(
    KA.child_id == _CHILD,
    KA.status == any_(literal([s.value for s in ACTIVE_QUEUE_STATUSES], type_=_TEXTS)),
)
_PLACED = exists().where(
    Enrollment.person_id == _CHILD,
    Enrollment.sector
    == any_(literal([Sector.PRESCHOOL.value, Sector.SCHOOL.value], ARRAY(String))),
    Enrollment.exit_date.is_(None),
)
FIELD = "benefitCategory"
_SEASON = driver.entity(IntakeSeason)
_INSTITUTION = driver.entity(Institution)
_KA = driver.entity(KA)
_PREFERENCE = driver.entity(KindergartenPreference)
_KINDERGARTEN_IDS = bindparam("kindergarten_ids", type_=ARRAY(Integer))


def _registration_reads_of(setting: Select[Any]) -> driver.Made:
    """A registration's reads after the child's lock, one row per named kindergarten found (one
    with none when none is): the running season's setting (``setting``: the season's columns,
    its groups, its benefit), whether the child is queued or placed already, the kindergarten's
    columns. No row when no season runs."""
    run = setting.subquery("setting")
    return driver.Made(
        select(
            *(run.c[str(c.key)] for c in _SEASON.columns),
            run.c.groups,
            run.c.benefit,
            _QUEUED.label("queued"),
            _PLACED.label("placed"),
            *_INSTITUTION.columns,
        )
        .select_from(run)
        .outerjoin(Institution, Institution.id == any_(_KINDERGARTEN_IDS))
    )


_REGISTRATION_READS = {
    claimed: _registration_reads_of(setting_statement(claimed)) for claimed in (False, True)
}


class _Reads(NamedTuple):
    setting: tuple[Any, ...] | None
    kindergartens: dict[int, Institution]
    queued: bool
    placed: bool


async def _registration_reads(
    session: AsyncSession,
    child_id: int,
    kindergarten_ids: Sequence[int],
    on: date,
    benefit_code: str | None,
) -> _Reads:
    """What a registration checks, read in one statement through the driver: the season's
    setting (None when none runs), the named kindergartens found, the child's queue and
    places."""
    code = setting_code(benefit_code)
    params: dict[str, Any] = {
        "kind": IntakeKind.KINDERGARTEN,
        "on": on,
        "child_id": child_id,
        "kindergarten_ids": list(kindergarten_ids),
    }
    if code is not None:
        params["code"] = code
    found = await driver.rows(session, _REGISTRATION_READS[code is not None], params)
    if not found:
        return _Reads(None, {}, False, False)
    first = found[0]
    width = len(_SEASON.columns)
    season = driver.object_of(session, _SEASON, first[:width])
    kindergartens = {}
    for row in found:
        if row[width + 4 + _INSTITUTION.key_at] is not None:
            kindergarten = driver.object_of(session, _INSTITUTION, row[width + 4 :])
            kindergartens[kindergarten.id] = kindergarten
    return _Reads(
        (season, first[width], first[width + 1]),
        kindergartens,
        bool(first[width + 2]),
        bool(first[width + 3]),
    )


def _registration_of() -> driver.Made:
    """The new application and its preferences (one per id of ``kindergarten_ids``, ranked in
    their order) in one statement, each row an application's columns then a preference's, in
    rank order."""
    application = insert_statement(KA, *_NEW).cte("application")
    ranked = _ranked()
    preferences = (
        insert(cast(Table, KindergartenPreference.__table__))
        .from_select(
            ["application_id", "kindergarten_id", "rank"],
            select(application.c.id, ranked.c.kindergarten_id, ranked.c.rank)
            .select_from(application)
            .join(ranked, true()),
        )
        .returning(*_PREFERENCE.columns)
        .cte("preferences")
    )
    return driver.Made(
        select(
            *(application.c[str(c.key)] for c in _KA.columns),
            *(preferences.c[str(c.key)] for c in _PREFERENCE.columns),
        )
        .select_from(application)
        .join(preferences, true())
        .order_by(preferences.c.rank)
    )


def _ranked() -> Any:
    """The ids of ``kindergarten_ids`` with their rank (their place in the array, from 1)."""
    return (
        func.unnest(_KINDERGARTEN_IDS)
        .table_valued("kindergarten_id", with_ordinality="rank")
        .render_derived()
    )


def _rename_preferences_of() -> driver.Made:
    """The application's preferences deleted and those of ``kindergarten_ids`` inserted in
    their order, one row per new preference: the deleted ids (an array), then its columns.
    The new rows are made only once every old one is deleted (the INSERT waits on the DELETE's
    count): their kindergartens and ranks may be the old ones (unique per application)."""
    P = KindergartenPreference
    table = cast(Table, P.__table__)
    dropped = (
        delete(table)
        .where(table.c.application_id == _APPLICATION)
        .returning(table.c.id)
        .cte("dropped")
    )
    ranked = _ranked()
    after_drop = select(func.count()).select_from(dropped).scalar_subquery() >= 0
    named = (
        insert(table)
        .from_select(
            ["application_id", "kindergarten_id", "rank"],
            select(_APPLICATION, ranked.c.kindergarten_id, ranked.c.rank).where(after_drop),
        )
        .returning(*_PREFERENCE.columns)
        .cte("named")
    )
    every_dropped = select(func.array_agg(dropped.c.id)).scalar_subquery()
    return driver.Made(
        select(every_dropped, *(named.c[str(c.key)] for c in _PREFERENCE.columns)).order_by(
            named.c.rank
        )
    )


# The application's columns a registration writes (the others are the database's).
_NEW = (
    "child_id",
    "guardian_id",
    "season_id",
    "status",
    "intake_year",
    "age_group",
    "benefit_category_id",
    "benefit_status",
    "benefit_proof",
    "residency",
    "contact_phone",
)
_REGISTRATION = _registration_of()
_RENAME_PREFERENCES = _rename_preferences_of()
_KINDERGARTENS = driver.Made(
    select(
        # The open enrollment's kindergarten, on every row (NULL without one).
        select(Enrollment.institution_id)
        .where(
            Enrollment.id == bindparam("enrollment_id", type_=Integer),
            Enrollment.exit_date.is_(None),
        )
        .scalar_subquery(),
        *_INSTITUTION.columns,
    ).where(Institution.id == any_(_KINDERGARTEN_IDS))
)


async def _register(
    session: AsyncSession, kindergartens: Sequence[Institution], **values: Any
) -> tuple[KindergartenApplication, list[KindergartenPreference]]:
    """Insert the application (``values``: its :data:`_NEW` columns) and its preferences for
    ``kindergartens`` in their order, in one statement through the driver: the session's
    objects for them as if loaded, nothing left for a flush (issue 21: a flush of each cost
    ~0.4 ms of CPU, and a statement)."""
    params = new_params(_NEW, values)
    params["kindergarten_ids"] = [k.id for k in kindergartens]
    found = await driver.rows(session, _REGISTRATION, params)
    width = len(_KA.columns)
    application = driver.object_of(session, _KA, found[0][:width])
    return application, [driver.object_of(session, _PREFERENCE, row[width:]) for row in found]


class Preferred(NamedTuple):
    """An application as a step left it, with the preferences the step wrote and their
    kindergartens (read to check them): the payload's loaders are given them, so the answer
    reads neither again (issue 21, statements per mutation)."""

    application: KindergartenApplication
    preferences: list[KindergartenPreference]
    kindergartens: list[Institution]


async def _rename_preferences(
    session: AsyncSession, application_id: int, kindergartens: Sequence[Institution]
) -> list[KindergartenPreference]:
    """The application's preferences replaced by ``kindergartens`` in their order, in one
    statement through the driver (issue 21: the ORM's DELETE and the flush's INSERT cost two
    statements and ~0.6 ms of CPU): the session's objects for the new rows, any it held of the
    old ones gone from it."""
    params = {"application_id": application_id, "kindergarten_ids": [k.id for k in kindergartens]}
    found = await driver.rows(session, _RENAME_PREFERENCES, params)
    for dropped in found[0][0] or ():
        holding = driver.held(session, KindergartenPreference, dropped)
        if holding is not None:
            session.sync_session.expunge(holding)
    return [driver.object_of(session, _PREFERENCE, row[1:]) for row in found]


async def apply_to_kindergarten_queue(
    session: AsyncSession,
    principal: Principal,
    *,
    child_id: int,
    kindergarten_ids: Sequence[int],
    benefit_code: str | None,
    benefit_proof: str | None,
    residency: Residency,
    contact_phone: str | None,
) -> Preferred:
    """Register a child in the queue of 1 to N preferred kindergartens (N: season policy).

    Rules (domain.md, Kindergarten e-queue; issue 3): the applicant is the child's guardian;
    the child is 6 months to 7 years old on the application date (policy); one active
    application per child (also a partial unique index); every preference is an open
    kindergarten; a benefit names a category of the season and its proof; the age group is
    derived from the birth date as of 1 September of the intake year.
    """
    child = await guardians_child_for_update(session, principal, child_id)
    on = today()
    # The season's setting, the named kindergartens and the child's queue and places read in
    # one statement after the child's lock, checked in the step's order (issue 21).
    reads = await _registration_reads(session, child.id, kindergarten_ids, on, benefit_code)
    setting = setting_of(IntakeKind.KINDERGARTEN, reads.setting, benefit_code, field=FIELD)
    season = setting.season
    _check_age(child, season, on)
    kindergartens = _preferred(reads.kindergartens, kindergarten_ids, season.max_preferences, on)
    benefit = benefit_claimed(setting.benefit_category(), benefit_proof)
    phone = clean_text(contact_phone, PHONE_MAX, "contactPhone")
    _check_not_queued_or_placed(reads.queued, reads.placed)
    intake_year, group = place_in_age_group(child.birth_date, season, setting.age_groups)
    application, preferences = await _register(
        session,
        kindergartens,
        child_id=child.id,
        guardian_id=principal.person_id,
        season_id=season.id,
        status=QueueStatus.WAITING,
        intake_year=intake_year,
        age_group=group.code,
        **benefit.columns(),
        residency=residency,
        contact_phone=phone,
    )
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        QueueStatus.WAITING,
        topic="preschool.application_registered",
        aggregate_type="KindergartenApplication",
        payload={
            "kindergarten_ids": [k.id for k in kindergartens],
            "intake_year": intake_year,
            "age_group": group.code,
        },
    )
    return Preferred(application, preferences, list(kindergartens))


async def verify_benefit(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    verified: bool,
    reason: str | None,
) -> KindergartenApplication:
    """Record the officer's check of a claimed benefit's proof documents.

    Rule (issue 3): only a verified benefit puts a child ahead of earlier registrants.
    """
    application = await application_for_update(session, principal, application_id)
    require(
        await may_handle_application(session, principal, application),
        "This application is outside your kindergartens",
    )
    if application.status not in ACTIVE_QUEUE_STATUSES:
        raise DomainError(
            PreschoolCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    if application.benefit_status == BenefitStatus.NONE:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The application claims no benefit", field="applicationId"
        )
    note = clean_text(reason, REASON_MAX, "reason")
    # Through the driver (resolvers/rows.py): the flush of the unit of work cost ~0.3 ms. As
    # the flush did, a check that changes nothing writes nothing.
    status = BenefitStatus.VERIFIED if verified else BenefitStatus.REJECTED
    if application.benefit_status != status:
        await write_row(session, application, benefit_status=status)
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        application.status,
        f"benefit {'verified' if verified else 'rejected'}" + (f": {note}" if note else ""),
        topic="preschool.benefit_checked",
        aggregate_type="KindergartenApplication",
        payload={"verified": verified},
    )
    return application


def _check_not_attending(attended: int | None, kindergartens: list[Institution]) -> None:
    """A transfer names kindergartens other than the one the child attends (``attended``: the
    kindergarten of the application's open enrollment, if any)."""
    if attended is not None and any(k.id == attended for k in kindergartens):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The child already attends this kindergarten",
            field="kindergartenIds",
        )


async def transfer_application(
    session: AsyncSession,
    principal: Principal,
    *,
    application_id: int,
    kindergarten_ids: Sequence[int],
) -> Preferred:
    """Move an application to other kindergartens (the family moves), keeping its original
    registration time (domain.md). A live offer is cancelled and its place returned; a child
    who already holds a place keeps it until admitted at the new kindergarten."""
    application, season = await child_application_and_season_for_update(
        session, principal, application_id
    )
    require_guardian_reached(principal, application.child_id)
    if application.status not in (*ACTIVE_QUEUE_STATUSES, QueueStatus.ADMITTED):
        raise DomainError(
            PreschoolCode.APPLICATION_CLOSED, "The application is closed", field="applicationId"
        )
    kindergartens, attended = await preferred_kindergartens(
        session, kindergarten_ids, season.max_preferences, today(), application.enrollment_id
    )
    _check_not_attending(attended, kindergartens)
    offer = await cancel_live_offer(session, application.id)
    if offer is not None:
        await return_place(session, offer.places_id)
    preferences = await _rename_preferences(session, application.id, kindergartens)
    if application.status != QueueStatus.WAITING:
        await write_row(session, application, status=QueueStatus.WAITING)
    await HISTORY.record_and_emit(
        session,
        principal.subject,
        application.id,
        QueueStatus.WAITING,
        "transferred",
        topic="preschool.application_transferred",
        aggregate_type="KindergartenApplication",
        payload={"kindergarten_ids": [k.id for k in kindergartens]},
    )
    return Preferred(application, preferences, kindergartens)

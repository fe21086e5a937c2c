"""The licence dossier: teaching addresses and documents, and the checks every dossier passes
at submission (domain.md: at least 3 m2 per student, premises held two years or more, fire and
sanitary opinions attached, a clinical base for medical programmes; the figures are policy)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import ARRAY, String, any_, bindparam, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    District,
    DocumentKind,
    EducationLevel,
    LicenceAddress,
    LicenceDocument,
    LicensingPolicy,
    PremisesTenure,
    ProgrammeCode,
)
from resolvers import driver
from resolvers.errors import DomainError, ErrorCode, NotFound, Problem
from resolvers.licensing.errors import LicensingCode
from resolvers.licensing.rules import policy_for

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ADDRESSES = 50
MAX_DOCUMENTS = 200
MAX_PROGRAMMES = 100
MAX_FILE_BYTES = 1 << 34  # 16 GiB: a scan, not a data set


@dataclass(frozen=True)
class AddressFields:
    """A teaching address as the applicant gives it."""

    address: str
    floor_area: Decimal | float | None
    planned_students: int | None
    tenure: PremisesTenure
    tenure_from: date
    tenure_until: date | None = None
    district_id: int | None = None


@dataclass(frozen=True)
class DocumentFields:
    """An attached document: metadata and content hash (the file may live in object storage).
    ``address_index`` ties it to one of the dossier's addresses (0-based)."""

    kind: DocumentKind
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    storage_key: str | None = None
    address_index: int | None = None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29th
        return day.replace(year=day.year + years, day=28)


def clean_levels(levels: list[EducationLevel]) -> list[EducationLevel]:
    if not levels or len(levels) > len(EducationLevel):
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name the levels of education to license", field="levels"
        )
    return sorted(set(levels), key=list(EducationLevel).index)


async def programmes_of(session: AsyncSession, codes: list[str]) -> list[ProgrammeCode]:
    """The classifier entries of ``codes``; an unknown code is ``UNKNOWN_PROGRAMME``."""
    if len(codes) > MAX_PROGRAMMES:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"At most {MAX_PROGRAMMES} programmes", field="programmeCodes"
        )
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes))
    if not wanted:
        return []
    # Through the driver, the codes one bound array (issue 21).
    found = await driver.rows(session, _PROGRAMMES, {"codes": wanted})
    rows = [driver.object_of(session, _PROGRAMME, row) for row in found]
    known = {p.code for p in rows}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise DomainError(
            LicensingCode.UNKNOWN_PROGRAMME,
            f"Not in the programme classifier: {', '.join(unknown)}",
            field="programmeCodes",
        )
    return sorted(rows, key=lambda p: wanted.index(p.code))


_PROGRAMME = driver.entity(ProgrammeCode)
_PROGRAMMES = driver.Made(
    select(*_PROGRAMME.columns).where(
        ProgrammeCode.code == any_(bindparam("codes", type_=ARRAY(String)))
    )
)


async def licensed_scope(
    session: AsyncSession, levels: list[EducationLevel], codes: list[str]
) -> tuple[list[EducationLevel], list[ProgrammeCode]]:
    """The levels a licence is to cover (those named, and those of its programmes), and its
    programmes from the classifier."""
    named = clean_levels(levels)
    programmes = await programmes_of(session, codes)
    return clean_levels([*named, *(p.level for p in programmes)]), programmes


async def validate_dossier(
    session: AsyncSession, addresses: list[AddressFields], documents: list[DocumentFields]
) -> None:
    """The input checks of a dossier's addresses and documents."""
    await validate_addresses(session, addresses)
    validate_documents(documents, len(addresses))


async def validate_addresses(session: AsyncSession, addresses: list[AddressFields]) -> None:
    """Input checks (typed INVALID_INPUT / NOT_FOUND): every address named, with a positive floor
    area and number of students, and a tenure period that makes sense."""
    if not addresses or len(addresses) > MAX_ADDRESSES:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"Give 1 to {MAX_ADDRESSES} actual teaching addresses",
            field="addresses",
        )
    for i, a in enumerate(addresses):
        where = f"addresses.{i}"
        if not " ".join(a.address.split()) or len(a.address) > 400:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "An address is 1 to 400 characters",
                field=f"{where}.address",
            )
        if a.floor_area is None:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "Give the floor area in m2", field=f"{where}.floorArea"
            )
        area = _decimal(a.floor_area, f"{where}.floorArea")
        if area <= 0 or area > Decimal("10000000"):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The floor area is a positive number of m2",
                field=f"{where}.floorArea",
            )
        if a.planned_students is None or not 0 < a.planned_students <= 1_000_000:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "Give the planned number of students (at least 1)",
                field=f"{where}.plannedStudents",
            )
        if a.tenure_until is not None and a.tenure_until < a.tenure_from:
            raise DomainError(
                ErrorCode.INVALID_DATE,
                "The tenure ends before it begins",
                field=f"{where}.tenureUntil",
            )
        if (
            a.district_id is not None
            and await driver.get_object(session, District, a.district_id) is None
        ):
            raise NotFound("The district", field=f"{where}.districtId")


def _decimal(value: Decimal | float, field: str) -> Decimal:
    try:
        result = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(ErrorCode.INVALID_INPUT, "Not a number", field=field) from None
    if not result.is_finite():
        raise DomainError(ErrorCode.INVALID_INPUT, "Not a number", field=field)
    return result


def validate_documents(documents: list[DocumentFields], address_count: int) -> None:
    """Input checks on document metadata: a name, a media type, a positive size and a SHA-256
    content hash; ``addressIndex`` points at one of the dossier's addresses."""
    if len(documents) > MAX_DOCUMENTS:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"At most {MAX_DOCUMENTS} documents", field="documents"
        )
    for i, d in enumerate(documents):
        where = f"documents.{i}"
        if not d.file_name.strip() or len(d.file_name) > 255:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A file name is 1 to 255 characters",
                field=f"{where}.fileName",
            )
        if not d.media_type.strip() or len(d.media_type) > 100:
            raise DomainError(
                ErrorCode.INVALID_INPUT, "Give the media type", field=f"{where}.mediaType"
            )
        if not 0 < d.size_bytes <= MAX_FILE_BYTES:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The size is a positive number of bytes",
                field=f"{where}.sizeBytes",
            )
        if not SHA256.match(d.sha256.lower()):
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The content hash is 64 hexadecimal digits of SHA-256",
                field=f"{where}.sha256",
            )
        if d.storage_key is not None and len(d.storage_key) > 500:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "A storage key is at most 500 characters",
                field=f"{where}.storageKey",
            )
        if d.address_index is not None and not 0 <= d.address_index < address_count:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                "The address index points at no address of the dossier",
                field=f"{where}.addressIndex",
            )


async def check_submission(
    session: AsyncSession,
    *,
    on: date,
    addresses: list[AddressFields],
    documents: list[DocumentFields],
    programmes: list[ProgrammeCode],
    clinical_base: str | None,
    policy: LicensingPolicy | None = None,
) -> LicensingPolicy:
    """The submission rules of the policy in force on ``on`` (:func:`check_rules`); that
    policy. ``policy``: the policy in force on ``on`` when the caller has read it already."""
    if policy is None:
        policy = await policy_for(session, on)
    check_rules(
        policy,
        on=on,
        addresses=addresses,
        documents=documents,
        programmes=programmes,
        clinical_base=clinical_base,
    )
    return policy


def check_rules(
    policy: LicensingPolicy,
    *,
    on: date,
    addresses: list[AddressFields],
    documents: list[DocumentFields],
    programmes: list[ProgrammeCode],
    clinical_base: str | None,
) -> None:
    """The submission rules, all checked at once; each failure is a problem naming its rule:
    ``FLOOR_AREA_TOO_SMALL`` (policy m2 per student per address), ``PREMISES_TENURE_TOO_SHORT``
    (premises secured for the policy's years from submission: owned, open-ended, or a contract
    running that long), ``DOCUMENTS_MISSING`` (the policy's documents for every address) and
    ``CLINICAL_BASE_REQUIRED`` (medical programmes name a clinical base and attach its
    agreement)."""
    problems: list[Problem] = []
    required = [DocumentKind(k) for k in policy.required_documents]
    single = len(addresses) == 1
    for i, a in enumerate(addresses):
        where = f"addresses.{i}"
        area = Decimal(str(a.floor_area))
        assert a.planned_students
        per_student = area / a.planned_students
        if per_student < policy.min_area_per_student:
            problems.append(
                Problem(
                    LicensingCode.FLOOR_AREA_TOO_SMALL,
                    f"Rule: at least {policy.min_area_per_student} m2 per student per address "
                    f"(policy {policy.year}); this address gives {per_student:.2f} m2",
                    f"{where}.floorArea",
                )
            )
        secured_until = _add_years(on, policy.min_premises_years)
        if (
            a.tenure != PremisesTenure.OWNED
            and a.tenure_until is not None
            and a.tenure_until < secured_until
        ):
            problems.append(
                Problem(
                    LicensingCode.PREMISES_TENURE_TOO_SHORT,
                    f"Rule: premises held for at least {policy.min_premises_years} years "
                    f"(policy {policy.year}); the {a.tenure.value} ends {a.tenure_until}",
                    f"{where}.tenureUntil",
                )
            )
        attached = {
            d.kind
            for d in documents
            if d.address_index == i or (single and d.address_index is None)
        }
        missing = [k.value for k in required if k not in attached]
        if missing:
            problems.append(
                Problem(
                    LicensingCode.DOCUMENTS_MISSING,
                    f"Rule: every teaching address has its required documents; address {i} "
                    f"lacks {', '.join(missing)}",
                    f"{where}",
                )
            )
    medical = [p.code for p in programmes if p.medical]
    if medical:
        has_agreement = any(d.kind == DocumentKind.CLINICAL_BASE_AGREEMENT for d in documents)
        if not (clinical_base or "").strip() or not has_agreement:
            problems.append(
                Problem(
                    LicensingCode.CLINICAL_BASE_REQUIRED,
                    "Rule: medical programmes need a clinical base, named and with its agreement "
                    f"attached ({', '.join(medical)})",
                    "clinicalBase",
                )
            )
    if problems:
        first, *more = problems
        raise DomainError(first.code, first.message, field=first.field, more=more)


async def dossier_addresses(session: AsyncSession, application_id: int) -> list[LicenceAddress]:
    """An application's teaching addresses, in the order they were given."""
    rows = await session.scalars(
        select(LicenceAddress)
        .where(LicenceAddress.application_id == application_id)
        .order_by(LicenceAddress.id)
    )
    return list(rows.all())


async def dossier_of(
    session: AsyncSession, application_id: int
) -> tuple[list[LicenceAddress], list[LicenceDocument]]:
    """An application's addresses and documents (each in the order given), in one statement
    (issue 21): a full join on nothing gives each address and each document a row of its
    own."""
    addresses = select(LicenceAddress).where(LicenceAddress.application_id == application_id)
    documents = select(LicenceDocument).where(LicenceDocument.application_id == application_id)
    a, d = addresses.subquery("addresses"), documents.subquery("documents")
    address, document = aliased(LicenceAddress, a), aliased(LicenceDocument, d)
    rows = (
        await session.execute(
            select(address, document)
            .select_from(a)
            .join(d, false(), full=True)
            .order_by(a.c.id, d.c.id)
        )
    ).all()
    return [r[0] for r in rows if r[0] is not None], [r[1] for r in rows if r[1] is not None]


async def store_dossier(
    session: AsyncSession,
    *,
    application_id: int,
    addresses: list[AddressFields],
    documents: list[DocumentFields],
    on: date,
) -> list[LicenceAddress]:
    """Write the addresses and documents of an application."""
    rows = [
        LicenceAddress(
            application_id=application_id,
            address=" ".join(a.address.split()),
            district_id=a.district_id,
            floor_area=_decimal(a.floor_area, "floorArea") if a.floor_area is not None else None,
            planned_students=a.planned_students,
            tenure=a.tenure,
            tenure_from=a.tenure_from,
            tenure_until=a.tenure_until,
        )
        for a in addresses
    ]
    session.add_all(rows)
    await session.flush()
    await attach_documents(
        session, application_id=application_id, addresses=rows, documents=documents, on=on
    )
    return rows


async def attach_documents(
    session: AsyncSession,
    *,
    application_id: int,
    addresses: list[LicenceAddress],
    documents: list[DocumentFields],
    on: date,
) -> None:
    single = addresses[0].id if len(addresses) == 1 else None
    session.add_all(
        LicenceDocument(
            application_id=application_id,
            address_id=addresses[d.address_index].id if d.address_index is not None else single,
            kind=d.kind,
            file_name=d.file_name.strip(),
            media_type=d.media_type.strip().lower(),
            size_bytes=d.size_bytes,
            sha256=d.sha256.lower(),
            storage_key=d.storage_key,
            attached_on=on,
        )
        for d in documents
    )
    await session.flush()

"""The personal identification number (PIN) issued by the civil registry.

domain.md: 14 digits; digit 1 is sex (1 = female, 2 = male), digits 2-9 the birth date
DDMMYYYY, digits 10-14 a serial with no published checksum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from models.people import Sex
from resolvers.clock import today
from resolvers.errors import DomainError
from resolvers.people.errors import PeopleCode

_PIN = re.compile(r"^[0-9]{14}$")


@dataclass(frozen=True)
class PinFacts:
    """What a PIN says about its holder."""

    sex: Sex
    birth_date: date


def parse_pin(pin: str, *, field: str = "pin") -> PinFacts:
    """Validate a PIN's form and return the sex and birth date it encodes.

    Rule (domain.md, People): 14 digits, sex digit 1 or 2, a real calendar date DDMMYYYY.
    """
    if not _PIN.match(pin):
        raise DomainError(PeopleCode.INVALID_PIN, "A PIN is exactly 14 digits", field=field)
    if pin[0] not in "12":
        raise DomainError(
            PeopleCode.INVALID_PIN,
            "The first digit of a PIN is 1 (female) or 2 (male)",
            field=field,
        )
    day, month, year = int(pin[1:3]), int(pin[3:5]), int(pin[5:9])
    try:
        born = date(year, month, day)
    except ValueError:
        raise DomainError(
            PeopleCode.INVALID_PIN,
            "Digits 2-9 of a PIN must be a real date (DDMMYYYY)",
            field=field,
        ) from None
    if year < 1900 or born > today():
        raise DomainError(
            PeopleCode.INVALID_PIN, "The birth date in the PIN is out of range", field=field
        )
    return PinFacts(sex=Sex.FEMALE if pin[0] == "1" else Sex.MALE, birth_date=born)


def check_pin_matches(pin: str, *, sex: Sex, birth_date: date, field: str = "pin") -> None:
    """Cross-check a PIN against the person record it is given with (domain.md, People)."""
    facts = parse_pin(pin, field=field)
    if facts.sex != sex:
        raise DomainError(
            PeopleCode.PIN_MISMATCH,
            "The PIN's sex digit does not match the person's sex",
            field=field,
        )
    if facts.birth_date != birth_date:
        raise DomainError(
            PeopleCode.PIN_MISMATCH,
            "The PIN's birth date does not match the person's birth date",
            field=field,
        )


def make_pin(*, sex: Sex, birth_date: date, serial: int) -> str:
    """A well-formed PIN for the given facts (used by the demo data generator and tests)."""
    return f"{1 if sex == Sex.FEMALE else 2}{birth_date:%d%m%Y}{serial % 100_000:05d}"

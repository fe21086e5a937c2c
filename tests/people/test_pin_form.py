"""The PIN's form (domain.md P1): exactly 14 digits, nothing before or after them."""

from __future__ import annotations

from datetime import date

import pytest

from models import Sex
from resolvers.errors import DomainError
from resolvers.people.pin import make_pin, parse_pin

PIN = make_pin(sex=Sex.FEMALE, birth_date=date(2018, 2, 3), serial=17)


class TestPinForm:
    def test_fourteen_digits_are_a_pin_p1(self) -> None:
        # given / when
        facts = parse_pin(PIN)

        # then
        assert (facts.sex, facts.birth_date) == (Sex.FEMALE, date(2018, 2, 3))

    @pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "0"])
    def test_anything_after_the_fourteen_digits_is_refused_p1(self, suffix: str) -> None:
        # given: a trailing newline once slipped past a pattern matched with "$"
        pin = PIN + suffix

        # when / then
        with pytest.raises(DomainError) as refused:
            parse_pin(pin)
        assert [p.code for p in refused.value.problems] == ["INVALID_PIN"]

    def test_a_leading_newline_is_refused_p1(self) -> None:
        with pytest.raises(DomainError):
            parse_pin("\n" + PIN[:13])

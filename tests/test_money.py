from decimal import Decimal

import pytest
from pydantic import ValidationError

from canonical import Money
from canonical.money import CurrencyMismatchError, minor_units, total


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_arithmetic_stays_decimal() -> None:
    assert usd("0.10") + usd("0.20") == usd("0.30")
    assert usd("22.50") * 2 == usd("45.00")
    assert 3 * usd("0.10") == usd("0.30")
    assert usd("74.89") - usd("3.94") == usd("70.95")
    assert -usd("1") == usd("-1")
    assert total([usd("45.00"), usd("18.00"), usd("7.95")], "USD") == usd("70.95")
    assert total([], "EUR") == Money.zero("EUR")


def test_currency_mismatch_refused() -> None:
    with pytest.raises(CurrencyMismatchError):
        usd("1") + Money.of("1", "EUR")
    with pytest.raises(CurrencyMismatchError):
        _ = usd("1") < Money.of("2", "EUR")


def test_float_never_multiplies() -> None:
    with pytest.raises(TypeError):
        usd("1") * 1.5  # type: ignore[operator]


def test_float_input_is_read_by_its_shortest_repr() -> None:
    assert Money(amount=22.5, currency="USD").amount == Decimal("22.5")
    assert Money(amount=0.1, currency="USD").amount == Decimal("0.1")


def test_rounding_follows_iso_4217_minor_units() -> None:
    assert minor_units("USD") == 2 and minor_units("JPY") == 0 and minor_units("KWD") == 3
    assert Money.of("1.005", "USD").rounded() == usd("1.00")  # banker's rounding
    assert Money.of("1.015", "USD").rounded() == usd("1.02")
    assert Money.of("1500.5", "JPY").rounded() == Money.of("1500", "JPY")
    assert Money.of("1.23456", "KWD").rounded() == Money.of("1.235", "KWD")


def test_currency_code_validated() -> None:
    with pytest.raises(ValidationError):
        Money.of("1", "usd")


def test_json_round_trip_keeps_exact_amount() -> None:
    money = usd("74.89")
    dumped = money.model_dump_json()
    assert '"74.89"' in dumped
    assert Money.model_validate_json(dumped) == money

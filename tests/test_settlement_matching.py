"""An order's settlement verdict: what it was due (invoiced minus refunded) against what its
settlement lines paid, within a tolerance in the currency's minor units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical import Money
from canonical.settlement import AmountKind, SettlementLine, SettlementOutcome, order_outcome


def line(kind: AmountKind, amount: str, currency: str = "USD") -> SettlementLine:
    return SettlementLine(
        line_id=f"{kind.value}:{amount}", kind=kind, amount=Money.of(amount, currency),
        order_id="114-6620792-0051848",
    )  # fmt: skip


PAID = [
    line(AmountKind.PRINCIPAL, "40.00"),
    line(AmountKind.SHIPPING, "5.00"),
    line(AmountKind.TAX, "3.60"),
    line(AmountKind.COMMISSION, "-6.00"),
    line(AmountKind.FEE, "-3.22"),
]


def test_paid_in_full_less_the_channel_charges_is_settled() -> None:
    verdict = order_outcome(Money.of("48.60", "USD"), PAID)
    assert verdict.outcome is SettlementOutcome.SETTLED
    assert verdict.settled == Money.of("48.60", "USD")
    assert verdict.charges == Money.of("-9.22", "USD")  # the channel's cost, not a short payment
    assert verdict.difference.is_zero()


def test_a_refund_lowers_what_is_due_and_what_is_settled_alike() -> None:
    refunded = [*PAID, line(AmountKind.REFUND, "-20.00")]
    assert order_outcome(Money.of("28.60", "USD"), refunded).outcome is SettlementOutcome.SETTLED
    verdict = order_outcome(Money.of("48.60", "USD"), refunded)  # our refund was not recorded
    assert verdict.outcome is SettlementOutcome.SHORT_PAID
    assert verdict.difference == Money.of("-20.00", "USD")
    assert verdict.reason == "USD 20.00 short of USD 48.60 due"


def test_over_paid_and_the_tolerance_in_minor_units() -> None:
    assert order_outcome(Money.of("48.59", "USD"), PAID).outcome is SettlementOutcome.OVER_PAID
    within = order_outcome(Money.of("48.59", "USD"), PAID, tolerance_minor_units=1)
    assert within.outcome is SettlementOutcome.SETTLED


def test_withheld_tax_is_not_the_customer_paying_us() -> None:
    withheld = [*PAID, line(AmountKind.WITHHELD_TAX, "-3.60")]
    assert order_outcome(Money.of("48.60", "USD"), withheld).outcome is SettlementOutcome.SETTLED


def test_a_line_in_another_currency_is_a_mismatch_not_a_sum() -> None:
    verdict = order_outcome(Money.of("48.60", "USD"), [*PAID, line(AmountKind.TAX, "1", "CAD")])
    assert verdict.outcome is SettlementOutcome.CURRENCY_MISMATCH
    assert verdict.reason == "invoiced in USD, settled in CAD"


@pytest.mark.parametrize(
    ("currency", "due", "paid", "tolerance", "outcome"),
    [
        ("JPY", "12980", "12979", 0, SettlementOutcome.SHORT_PAID),  # one yen is a yen
        ("JPY", "12980", "12979", 1, SettlementOutcome.SETTLED),
        ("JPY", "12980", "12979.6", 0, SettlementOutcome.SETTLED),  # rounds to whole yen
        ("KWD", "10.125", "10.124", 0, SettlementOutcome.SHORT_PAID),  # one fils short
        ("KWD", "10.125", "10.124", 1, SettlementOutcome.SETTLED),
        ("KWD", "10.125", "10.1254", 0, SettlementOutcome.SETTLED),  # rounds to whole fils
    ],
)
def test_zero_and_three_decimal_currencies(
    currency: str, due: str, paid: str, tolerance: int, outcome: SettlementOutcome
) -> None:
    verdict = order_outcome(
        Money.of(due, currency), [line(AmountKind.PRINCIPAL, paid, currency)], tolerance
    )
    assert verdict.outcome is outcome, verdict.reason
    assert verdict.difference.amount == Decimal(verdict.difference.amount).quantize(
        Decimal(1).scaleb(-{"JPY": 0, "KWD": 3}[currency])
    )

"""An order's settlement verdict: what it was due (invoiced minus refunded) against what its
settlement lines paid, within a tolerance in the currency's minor units; and which of an
order's returns each refund line belongs to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.shopify import order_from_webhook
from canonical import Money
from canonical.settlement import (
    AmountKind,
    RefundClaimant,
    SettlementLine,
    SettlementOutcome,
    allocate_refunds,
    order_outcome,
)
from tests.payloads import shopify_order_body


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
    assert verdict.reason == "due in USD, settled in CAD"


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


def refund(line_id: str, amount: str, refund_id: str | None = None) -> SettlementLine:
    return SettlementLine(
        line_id=line_id, kind=AmountKind.REFUND, amount=Money.of(amount, "USD"),
        order_id="1001", refund_id=refund_id,
    )  # fmt: skip


def returned(n: int, refunded: str | None, refund_id: str | None = None) -> RefundClaimant:
    return RefundClaimant(
        workflow_id=f"return:shopify:1001:R{n}", refund_id=refund_id,
        refunded=Money.of(refunded, "USD") if refunded else None,
    )  # fmt: skip


def test_a_refund_line_goes_to_the_return_it_names_however_the_channel_writes_it() -> None:
    first, second = returned(1, "-10.00", "gid://shopify/Refund/77"), returned(2, "-5.00", "78")
    lines = [refund("a", "-10.00", "77"), refund("b", "-5.00", "gid://shopify/Refund/78")]
    shares, rest = allocate_refunds([first, second], lines)
    assert shares == {first.workflow_id: [lines[0]], second.workflow_id: [lines[1]]}
    assert rest == []


def test_unnamed_refund_lines_go_to_the_only_return_that_refunded() -> None:
    waiting, not_yet = returned(1, "-21.60"), returned(2, None)
    lines = [refund("a", "-20.00", "PO-1-1"), refund("b", "-1.60", "PO-1-1")]
    shares, rest = allocate_refunds([waiting, not_yet], lines)
    assert shares == {waiting.workflow_id: lines} and rest == []


def test_several_returns_each_take_the_refund_worth_what_they_refunded() -> None:
    small, large = returned(1, "-5.40"), returned(2, "-21.60")
    lines = [
        refund("a", "-20.00", "X"), refund("b", "-1.60", "X"),  # one refund: 21.60
        refund("c", "-5.40", "Y"),
        refund("d", "-3.00", "Z"),  # a refund neither return made
    ]  # fmt: skip
    shares, rest = allocate_refunds([small, large], lines)
    assert shares == {small.workflow_id: [lines[2]], large.workflow_id: lines[:2]}
    assert rest == [lines[3]]


def test_no_return_leaves_every_refund_line_to_the_order() -> None:
    lines = [refund("a", "-2.00")]
    assert allocate_refunds([], lines) == ({}, lines)


def test_a_return_is_due_back_the_net_and_tax_of_its_units() -> None:
    order = order_from_webhook(shopify_order_body())
    line = order.lines[0]
    value = order.value_of({line.line_id: 1})
    kept = line.keeping(1)
    assert value == (kept.net + (kept.tax or Money.zero(order.currency))).rounded()
    assert value.currency == order.currency and not value.is_zero()

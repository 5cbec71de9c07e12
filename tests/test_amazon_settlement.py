"""Amazon's V2 settlement flat file, with the traps real files carry: FBA fee rows whose
order-id is an FBA shipment's, reversal rows without an order, an empty marketplace-name,
amounts in the marketplace's number format and posted-date as MM/DD/YY."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from adapters.amazon_settlement import (
    SettlementReportError,
    parse_amount,
    settlement_from_report,
)
from canonical import Channel
from canonical.settlement import AmountKind

COLUMNS = [
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
]


def report(head: dict[str, str], *rows: dict[str, str]) -> str:
    lines = ["\t".join(COLUMNS), "\t".join(head.get(c, "") for c in COLUMNS)]
    lines += ["\t".join(row.get(c, "") for c in COLUMNS) for row in rows]
    return "\r\n".join(lines) + "\r\n"


ORDER = "114-6620792-0051848"
DE_HEAD = {
    "settlement-id": "11726380521", "settlement-start-date": "01.03.2026",
    "settlement-end-date": "15.03.2026", "deposit-date": "17.03.2026",
    "total-amount": "1.061,55", "currency": "EUR",
}  # fmt: skip


def row(**fields: str) -> dict[str, str]:
    return {k.replace("_", "-"): v for k, v in fields.items()}


def test_an_eu_report_with_every_trap() -> None:
    text = report(
        DE_HEAD,
        row(transaction_type="Order", order_id=ORDER, marketplace_name="", amount_type="ItemPrice",
            amount_description="Principal", amount="1.234,56", posted_date="03/05/26",
            sku="MUG-STONE-350", quantity_purchased="2"),
        row(transaction_type="Order", order_id=ORDER, amount_type="ItemPrice",
            amount_description="Tax", amount="95,00", posted_date="03/05/26"),
        row(transaction_type="Order", order_id=ORDER, amount_type="ItemWithheldTax",
            amount_description="MarketplaceFacilitatorVAT-Principal", amount="-95,00",
            posted_date="03/05/26"),
        row(transaction_type="Order", order_id=ORDER, amount_type="ItemFees",
            amount_description="Commission", amount="-185,18", posted_date="03/05/26"),
        # FBA fee row: its order-id is the inbound shipment's id
        row(transaction_type="other-transaction", order_id="FBA15GX8K2LM",
            amount_type="other-transaction", amount_description="FBA Inbound Transportation Fee",
            amount="-12,40", posted_date="03/06/26"),
        # a reversal without any order
        row(transaction_type="other-transaction", amount_type="other-transaction",
            amount_description="Reversal Reimbursement", amount="24,57", posted_date="03/07/26"),
        row(transaction_type="Refund", order_id=ORDER, adjustment_id="amzn1.adj.42",
            amount_type="ItemPrice", amount_description="Principal", amount="-0,00",
            posted_date="03/09/26", posted_date_time="2026-03-09 10:11:12 UTC"),
    )  # fmt: skip
    settlement = settlement_from_report(text)
    assert settlement.channel is Channel.AMAZON
    assert settlement.workflow_id == "settlement:amazon:11726380521"
    assert settlement.total.amount == Decimal("1061.55") and settlement.total.currency == "EUR"
    assert settlement.deposit_date == date(2026, 3, 17)
    assert settlement.period_start == datetime(2026, 3, 1, tzinfo=UTC)
    principal, tax, withheld, commission, fba, reversal, refund = settlement.lines
    assert (principal.kind, principal.amount.amount) == (AmountKind.PRINCIPAL, Decimal("1234.56"))
    assert principal.order_id == ORDER and principal.sku == "MUG-STONE-350"
    assert principal.posted_at == datetime(2026, 3, 5, tzinfo=UTC)  # MM/DD/YY
    assert (tax.kind, tax.amount.amount) == (AmountKind.TAX, Decimal("95.00"))
    assert withheld.kind is AmountKind.WITHHELD_TAX
    assert (commission.kind, commission.amount.amount) == (
        AmountKind.COMMISSION,
        Decimal("-185.18"),
    )
    assert (fba.kind, fba.order_id, fba.reference) == (AmountKind.FEE, None, "FBA15GX8K2LM")
    assert (reversal.kind, reversal.order_id) == (AmountKind.ADJUSTMENT, None)
    assert (refund.kind, refund.refund_id) == (AmountKind.REFUND, "amzn1.adj.42")
    assert refund.posted_at == datetime(2026, 3, 9, 10, 11, 12, tzinfo=UTC)
    assert len({line.line_id for line in settlement.lines}) == 7
    assert settlement_from_report(text) == settlement  # read again: the same ids


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("95,00", "EUR", "95.00"), ("1.234,56", "EUR", "1234.56"), ("1,234.56", "USD", "1234.56"),
        ("-12.3", "USD", "-12.3"), ("1,234", "JPY", "1234"), ("12.345", "KWD", "12.345"),
        ("12,345", "KWD", "12.345"), ("1.234.567", "JPY", "1234567"), ("", "USD", "0"),
        ("-0,05", "EUR", "-0.05"),
    ],
)  # fmt: skip
def test_amounts_in_the_marketplace_number_format(text: str, currency: str, amount: str) -> None:
    assert parse_amount(text, currency) == Decimal(amount)


def test_a_yen_settlement_keeps_whole_yen() -> None:
    head = {"settlement-id": "9001", "total-amount": "12,980", "currency": "JPY",
            "deposit-date": "2026-03-17 05:00:00 UTC"}  # fmt: skip
    settlement = settlement_from_report(
        report(head, row(transaction_type="Order", order_id="503-1234567-7654321",
                         amount_type="ItemPrice", amount_description="Principal",
                         amount="12,980", posted_date="03/12/26"))
    )  # fmt: skip
    assert settlement.total.amount == Decimal(12980)
    assert settlement.lines[0].amount.amount == Decimal(12980)
    assert settlement.deposit_date == date(2026, 3, 17)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("order-id\tamount\n1\t2\n", "no settlement-id column"),
        (report({"settlement-id": "1", "currency": ""}), "no settlement id and currency"),
        (
            report(DE_HEAD, row(transaction_type="Order", amount_type="ItemPrice", amount="x")),
            "'x' is not an amount",
        ),
        (
            report(DE_HEAD, row(amount_type="ItemPrice", amount="1", posted_date="2026-03-05")),
            "is not MM/DD/YY",
        ),
    ],
)
def test_a_file_that_is_not_a_settlement_report_says_why(text: str, why: str) -> None:
    with pytest.raises(SettlementReportError, match=why):
        settlement_from_report(text)

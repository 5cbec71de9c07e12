"""Shopify Payments payouts and Walmart reconciliation reports read into settlements: each
amount with its kind, its order and its currency; what is not a line of the payout left out."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from adapters.shopify_payouts import settlement_from_payout
from adapters.walmart_recon import (
    ReconReportError,
    settlement_from_recon,
    settlement_from_recon_file,
)
from canonical import Channel
from canonical.settlement import AmountKind

PAYOUT = {
    "id": "gid://shopify/ShopifyPaymentsPayout/8845",
    "issuedAt": "2026-03-17T09:00:00Z",
    "status": "PAID",
    "transactionType": "DEPOSIT",
    "net": {"amount": "77.18", "currencyCode": "CAD"},
}


def txn(n: int, source: str, amount: str, fee: str = "0.00", **extra: Any) -> dict[str, Any]:
    money = {"currencyCode": "CAD"}
    return {
        "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{n}",
        "type": extra.pop("type", source), "test": False,
        "transactionDate": "2026-03-15T12:00:00Z", "sourceType": source, "sourceId": 900 + n,
        "sourceOrderTransactionId": 700 + n, "adjustmentReason": None,
        "amount": {**money, "amount": amount}, "fee": {**money, "amount": fee},
        "net": {**money, "amount": str(Decimal(amount) - Decimal(fee))},
        "associatedOrder": {"id": "gid://shopify/Order/5001", "name": "#1001"},
        "associatedPayout": {"id": PAYOUT["id"], "status": "PAID"}, **extra,
    }  # fmt: skip


def test_a_payout_of_a_charge_and_a_refund() -> None:
    transactions = [
        txn(1, "CHARGE", "100.00", "3.20"),
        txn(2, "REFUND", "-20.00"),
        txn(3, "TRANSFER", "-77.18", associatedOrder=None),  # the payout itself
        txn(4, "CHARGE", "9.99", "0.59", test=True),  # a test order: not money
        txn(5, "CHARGE", "50.00", "1.75",
            associatedPayout={"id": "gid://shopify/ShopifyPaymentsPayout/1", "status": "PAID"}),
        txn(6, "ADJUSTMENT", "0.38", associatedOrder=None, adjustmentReason="fee refund"),
    ]  # fmt: skip
    settlement = settlement_from_payout(PAYOUT, transactions)
    assert (settlement.channel, settlement.settlement_id) == (Channel.SHOPIFY, "8845")
    assert settlement.total.amount == Decimal("77.18") and settlement.total.currency == "CAD"
    assert settlement.deposit_date == date(2026, 3, 17)
    kinds = [(line.kind, line.amount.amount, line.order_id) for line in settlement.lines]
    assert kinds == [
        (AmountKind.PRINCIPAL, Decimal("100.00"), "5001"),
        (AmountKind.FEE, Decimal("-3.20"), "5001"),  # Shopify's fee, taken
        (AmountKind.REFUND, Decimal("-20.00"), "5001"),
        (AmountKind.ADJUSTMENT, Decimal("0.38"), None),
    ]
    assert settlement.lines[2].refund_id == "902"
    assert settlement.lines_total() == settlement.total  # the lines make up the deposit


def test_a_withdrawal_is_a_negative_settlement() -> None:
    withdrawal = {**PAYOUT, "transactionType": "WITHDRAWAL"}
    settlement = settlement_from_payout(withdrawal, [txn(1, "DISPUTE", "-40.00", "15.00")])
    assert settlement.total.amount == Decimal("-77.18")
    dispute, fee = settlement.lines
    assert (dispute.kind, fee.kind, fee.amount.amount) == (
        AmountKind.ADJUSTMENT, AmountKind.FEE, Decimal("-15.00")
    )  # fmt: skip


def recon_row(**fields: Any) -> dict[str, Any]:
    return {
        "Period Start Date": "03/01/2026", "Period End Date": "03/14/2026",
        "Total Payable": "1,042.17", "Currency": "USD", **fields,
    }  # fmt: skip


def test_a_walmart_recon_report() -> None:
    rows = [
        recon_row(),  # the period's summary row
        recon_row(**{"Transaction Key": "TK-1", "Transaction Type": "SALE",
                     "Purchase Order #": "108828735598125", "Amount Type": "Product Price",
                     "Amount": "45.00", "Partner Item Id": "MUG-STONE-350",
                     "Transaction Posted Timestamp": "03/05/2026"}),
        recon_row(**{"Transaction Key": "TK-1", "Transaction Type": "SALE",
                     "Purchase Order #": "108828735598125", "Amount Type": "Product tax",
                     "Amount": "3.15"}),
        recon_row(**{"Transaction Key": "TK-1", "Transaction Type": "SALE",
                     "Purchase Order #": "108828735598125",
                     "Amount Type": "Commission on Product", "Amount": "-6.75"}),
        recon_row(**{"Transaction Key": "TK-2", "Transaction Type": "REFUND",
                     "Purchase Order #": "108828735598125", "Amount Type": "Product Price",
                     "Amount": "-45.00"}),
        recon_row(**{"Transaction Key": "TK-3", "Transaction Type": "ADJMNT",
                     "Amount Type": "Fee/Reimbursement", "Amount": "-1,000.00",
                     "Transaction Description": "Walmart Fulfillment storage fee"}),
    ]  # fmt: skip
    settlement = settlement_from_recon("20260314", {"reconData": rows})
    assert settlement.workflow_id == "settlement:walmart:20260314"
    assert settlement.total.amount == Decimal("1042.17")
    assert settlement.deposit_date == date(2026, 3, 14)
    kinds = [(line.kind, line.amount.amount, line.order_id) for line in settlement.lines]
    assert kinds == [
        (AmountKind.PRINCIPAL, Decimal("45.00"), "108828735598125"),
        (AmountKind.TAX, Decimal("3.15"), "108828735598125"),
        (AmountKind.COMMISSION, Decimal("-6.75"), "108828735598125"),
        (AmountKind.REFUND, Decimal("-45.00"), "108828735598125"),
        (AmountKind.FEE, Decimal("-1000.00"), None),
    ]
    assert settlement.lines[3].refund_id == "TK-2" and settlement.lines[0].refund_id is None
    assert settlement.lines[0].sku == "MUG-STONE-350"
    assert settlement_from_recon("20260314", rows) == settlement  # a bare list of rows too


@pytest.mark.parametrize(
    ("report", "why"),
    [
        ({"unexpected": 1}, "no rows"),
        ([], "has no rows"),
        ([recon_row(Currency="")], "names no currency"),
        (
            [recon_row(**{"Amount Type": "Product Price", "Amount": "abc"})],
            "'abc' is not an amount",
        ),
    ],
)
def test_a_report_that_is_not_a_recon_report_says_why(report: Any, why: str) -> None:
    with pytest.raises(ReconReportError, match=why):
        settlement_from_recon("20260314", report)


def test_a_recon_report_saved_by_hand_names_its_date() -> None:
    rows = [recon_row(), recon_row(**{"Amount Type": "Product Price", "Amount": "45.00"})]
    saved = json.dumps({"reportDate": "20260314", "reconData": rows})
    settlement = settlement_from_recon_file(saved)
    assert settlement.settlement_id == "20260314" and len(settlement.lines) == 1
    for text, why in (
        ("{", "not JSON"),
        (json.dumps({"reconData": rows}), "no reportDate"),
        (json.dumps(rows), "no reportDate"),
    ):
        with pytest.raises(ReconReportError, match=why):
            settlement_from_recon_file(text)

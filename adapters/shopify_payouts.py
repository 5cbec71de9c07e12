"""A Shopify Payments payout and its balance transactions (GraphQL Admin API,
`shopifyPaymentsAccount { payouts, balanceTransactions }`) read into a canonical `Settlement`.
A charge is the customer's payment for the whole order (goods, tax, shipping) and Shopify's
fee; a refund pays a customer back; the payout's own transfer is not a line of it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.shopify import gid_id
from canonical import Channel, Money
from canonical.settlement import AmountKind, Settlement, SettlementLine

SKIPPED = {"TRANSFER"}  # the payout itself moving to the bank


def _money(value: dict[str, Any]) -> Money:
    return Money(amount=Decimal(str(value["amount"])), currency=value["currencyCode"])


def _kind(source_type: str, transaction_type: str) -> AmountKind:
    if "RESERVE" in transaction_type:
        return AmountKind.RESERVE
    return {
        "CHARGE": AmountKind.PRINCIPAL,
        "REFUND": AmountKind.REFUND,
    }.get(source_type, AmountKind.ADJUSTMENT)  # disputes, adjustments and their reversals


def settlement_from_payout(
    payout: dict[str, Any], transactions: list[dict[str, Any]]
) -> Settlement:
    """The payout (`ShopifyPaymentsPayout`) as a settlement of the balance transactions it
    paid out (those whose `associatedPayout` is it); test transactions are left out."""
    payout_id = gid_id(payout["id"])
    net = _money(payout["net"])
    if payout.get("transactionType") == "WITHDRAWAL":
        net = -net
    lines = []
    for txn in transactions:
        associated = (txn.get("associatedPayout") or {}).get("id")
        if txn.get("test") or txn["sourceType"] in SKIPPED or associated != payout["id"]:
            continue
        txn_id = gid_id(txn["id"])
        order = txn.get("associatedOrder") or {}
        kind = _kind(txn["sourceType"], txn.get("type") or "")
        common: dict[str, Any] = {
            "order_id": gid_id(order["id"]) if order.get("id") else None,
            "posted_at": datetime.fromisoformat(txn["transactionDate"]),
            "reference": str(txn.get("sourceOrderTransactionId") or "") or None,
        }
        lines.append(
            SettlementLine(
                line_id=f"{txn_id}:amount", kind=kind, amount=_money(txn["amount"]),
                refund_id=str(txn["sourceId"]) if kind is AmountKind.REFUND else None,
                description=txn.get("adjustmentReason") or txn["sourceType"].lower(), **common,
            )
        )  # fmt: skip
        fee = _money(txn["fee"])
        if not fee.is_zero():  # Shopify reports the fee as a positive amount it takes
            lines.append(
                SettlementLine(
                    line_id=f"{txn_id}:fee", kind=AmountKind.FEE, amount=-fee,
                    description="payment processing fee", **common,
                )
            )  # fmt: skip
    return Settlement(
        channel=Channel.SHOPIFY,
        settlement_id=payout_id,
        deposit_date=datetime.fromisoformat(payout["issuedAt"]).date(),
        total=net,
        lines=lines,
    )

"""A Shopify Payments payout and its balance transactions (GraphQL Admin API,
`shopifyPaymentsAccount { payouts, balanceTransactions }`) read into a canonical `Settlement`.
A charge is the customer's payment for the whole order (goods, tax, shipping) and Shopify's
fee; a refund pays a customer back; the payout's own transfer is not a line of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.shopify import ShopifyMarketplace, gid_id
from canonical import Channel, Money
from canonical.settlement import AmountKind, Settlement, SettlementLine

SKIPPED = {"TRANSFER"}  # the payout itself moving to the bank
PAYOUTS = """
query Payouts($after: String) { shopifyPaymentsAccount {
  payouts(first: 50, after: $after, reverse: true) {
    nodes { id issuedAt status transactionType net { amount currencyCode } }
    pageInfo { hasNextPage endCursor } } } }
"""
BALANCE_TRANSACTIONS = """
query Transactions($after: String) { shopifyPaymentsAccount {
  balanceTransactions(first: 100, after: $after, reverse: true) {
    nodes { id type test transactionDate sourceType sourceId sourceOrderTransactionId
      adjustmentReason amount { amount currencyCode } fee { amount currencyCode }
      net { amount currencyCode } associatedOrder { id name } associatedPayout { id status } }
    pageInfo { hasNextPage endCursor } } } }
"""
# A payout carries transactions up to this much older than itself (Shopify pays out daily,
# weekly or monthly): how far back the transactions of the payouts found are read.
PAYOUT_SPAN = timedelta(days=40)
PAID = {"PAID", "IN_TRANSIT"}  # payouts whose money is on its way or in; not failed/cancelled


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


class ShopifyPayouts:
    """Shopify Payments payouts since a date, each with the balance transactions it paid out,
    read newest first through the GraphQL Admin API (the shop's throttled client)."""

    def __init__(self, shopify: ShopifyMarketplace) -> None:
        self._shopify = shopify

    async def settlements(self, since: datetime) -> list[Settlement]:
        payouts = [
            p
            for p in await self._newest(PAYOUTS, "payouts", "issuedAt", since)
            if p["status"] in PAID
        ]
        if not payouts:
            return []
        oldest = min(datetime.fromisoformat(p["issuedAt"]) for p in payouts)
        transactions = await self._newest(
            BALANCE_TRANSACTIONS, "balanceTransactions", "transactionDate", oldest - PAYOUT_SPAN
        )
        return [settlement_from_payout(p, transactions) for p in reversed(payouts)]

    async def _newest(
        self, query: str, field: str, stamp: str, since: datetime
    ) -> list[dict[str, Any]]:
        """The connection's nodes from the newest back to `since`."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            data = await self._shopify.graphql(query, {"after": after})
            page = data["shopifyPaymentsAccount"][field]
            for node in page["nodes"]:
                if datetime.fromisoformat(node[stamp]) < since:
                    return found
                found.append(node)
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

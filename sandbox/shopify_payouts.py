"""Shopify Payments paying out: `POST /_sandbox/shopify/payouts` makes one payout of every
charge of a fulfilled order (its total, less Shopify's 2.9 % + 0.30 fee) and every refund not
paid out before, and the GraphQL Admin API answers `shopifyPaymentsAccount { payouts }` and
`{ balanceTransactions }` (newest first, paged with `after`) as Shopify does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter

from sandbox.shopify import ShopifyState

FEE_RATE, FEE_FIXED = Decimal("0.029"), Decimal("0.30")
PAGE = 50


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currencyCode": currency}


class ShopifyPayoutsState:
    def __init__(self, shop: ShopifyState) -> None:
        self.shop = shop
        self.payouts: list[dict[str, Any]] = []  # oldest first
        self.transactions: list[dict[str, Any]] = []  # oldest first
        self.paid_out: set[str] = set()  # order and refund GIDs in a payout already
        shop.graphql_handlers.append(self.answer)

    def _charge_due(self, gid: str, order: dict[str, Any]) -> bool:
        return bool(order["fulfillments"]) and not order["cancelledAt"] and gid not in self.paid_out

    def pending(self) -> bool:
        """Whether a charge or a refund waits for a payout."""
        return any(
            self._charge_due(gid, order)
            or any(refund["id"] not in self.paid_out for refund in order["refunds"])
            for gid, order in self.shop.orders.items()
        )

    def pay_out(self) -> dict[str, Any]:
        payout_id = f"gid://shopify/ShopifyPaymentsPayout/{self.shop.new_id()}"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        made = []
        for gid, order in self.shop.orders.items():
            currency = order["body"]["currency"]
            if self._charge_due(gid, order):
                total = Decimal(order["body"]["total_price"])
                fee = (total * FEE_RATE + FEE_FIXED).quantize(Decimal("0.01"), ROUND_HALF_UP)
                made.append(self._transaction("CHARGE", gid, order, total, fee, payout_id, now))
                self.paid_out.add(gid)
            for refund in order["refunds"]:
                if refund["id"] in self.paid_out:
                    continue
                amount = -Decimal(refund["totalRefundedSet"]["shopMoney"]["amount"])
                made.append(
                    self._transaction("REFUND", gid, order, amount, Decimal(0), payout_id, now)
                    | {"sourceId": refund["id"].rsplit("/", 1)[1]}
                )
                self.paid_out.add(refund["id"])
        currency = made[0]["amount"]["currencyCode"] if made else "USD"
        net = sum((Decimal(t["net"]["amount"]) for t in made), Decimal(0))
        payout = {
            "id": payout_id, "issuedAt": now, "status": "PAID",
            "transactionType": "DEPOSIT" if net >= 0 else "WITHDRAWAL",
            "net": _money(abs(net), currency),
        }  # fmt: skip
        self.transactions += made
        self.payouts.append(payout)
        return {"payout": payout, "transactions": len(made)}

    def _transaction(
        self, source: str, gid: str, order: dict[str, Any], amount: Decimal, fee: Decimal,
        payout_id: str, when: str,
    ) -> dict[str, Any]:  # fmt: skip
        currency = order["body"]["currency"]
        return {
            "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{self.shop.new_id()}",
            "type": source, "test": False, "transactionDate": when, "sourceType": source,
            "sourceId": self.shop.new_id(), "sourceOrderTransactionId": self.shop.new_id(),
            "adjustmentReason": None, "amount": _money(amount, currency),
            "fee": _money(fee, currency), "net": _money(amount - fee, currency),
            "associatedOrder": {"id": gid, "name": order["body"]["name"]},
            "associatedPayout": {"id": payout_id, "status": "PAID"},
        }  # fmt: skip

    def answer(self, query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """`shopifyPaymentsAccount` queries; None for any other."""
        if "shopifyPaymentsAccount" not in query:
            return None
        field, rows = (
            ("payouts", self.payouts)
            if "payouts(" in query
            else ("balanceTransactions", self.transactions)
        )
        newest_first = list(reversed(rows))
        start = int(variables.get("after") or 0)
        page = newest_first[start : start + PAGE]
        more = start + PAGE < len(newest_first)
        info = {"hasNextPage": more, "endCursor": str(start + PAGE) if more else None}
        return {"shopifyPaymentsAccount": {field: {"nodes": page, "pageInfo": info}}}


def control_router(state: ShopifyPayoutsState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/shopify", tags=["sandbox control"])

    @api.post("/payouts")
    async def pay_out() -> dict[str, Any]:
        """Shopify Payments pays out now what it has not paid out yet."""
        return state.pay_out()

    return api

"""Amazon closing a settlement period: a `GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2` report of
every shipped order not settled before (principal, tax, shipping; the marketplace facilitator
tax Amazon withholds; its commission), the account's subscription fee, and the traps real
files carry — an FBA inbound fee whose order-id is a shipment's, a reversal without an order,
rows without a marketplace-name, and on request the EU number format (`95,00`). Found with
`getReports`; it cannot be requested."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sandbox.amazon import AmazonState
from sandbox.amazon_reports import AmazonReports

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
COLUMNS = [
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
]  # fmt: skip
COMMISSION = Decimal("0.15")
SUBSCRIPTION_FEE = Decimal("-39.99")


class CloseSettlement(BaseModel):
    decimal_comma: bool = Field(False, description="amounts as an EU marketplace writes them")


class AmazonSettlementsState:
    def __init__(self, amazon: AmazonState, reports: AmazonReports) -> None:
        self.amazon = amazon
        self.reports = reports
        self.settled: set[str] = set()  # order ids in a settlement already
        self.counter = int(datetime.now(UTC).timestamp()) % 10**8

    def _unsettled(self) -> list[str]:
        return [
            order_id
            for order_id, order in self.amazon.orders.items()
            if order["OrderStatus"] == "Shipped" and order_id not in self.settled
        ]

    def pending(self) -> bool:
        """Whether an order waits for a settlement."""
        return bool(self._unsettled())

    def close(self, spec: CloseSettlement) -> dict[str, Any]:
        """A settlement of every shipped order not settled yet, as a DONE report."""
        self.counter += 1
        settlement_id = f"117{self.counter:08d}"
        end = datetime.now(UTC)
        rows: list[dict[str, str]] = []
        orders = self._unsettled()
        for n, order_id in enumerate(orders):
            rows += self._order_rows(order_id, end, marketplace="" if n % 3 == 2 else "Amazon.com")
        rows += [
            _row("other-transaction", "", "other-transaction", "Subscription Fee",
                 SUBSCRIPTION_FEE, end),
            # FBA inbound fee: the order-id column holds the inbound shipment's id
            _row("other-transaction", "FBA15GX8K2LM", "other-transaction",
                 "FBA Inbound Transportation Fee", Decimal("-12.40"), end),
            # a reversal without any order
            _row("other-transaction", "", "other-transaction", "Reversal Reimbursement",
                 Decimal("4.57"), end),
        ]  # fmt: skip
        self.settled.update(orders)
        total = sum((Decimal(r["amount"]) for r in rows), Decimal(0))
        head = {
            "settlement-id": settlement_id,
            "settlement-start-date": _stamp(end - timedelta(days=14)),
            "settlement-end-date": _stamp(end),
            "deposit-date": _stamp(end + timedelta(days=2)),
            "total-amount": str(total),
            "currency": "USD",
        }
        text = _flat_file(head, rows, spec.decimal_comma)
        report_id = self.reports.add(
            SETTLEMENT_REPORT, text, dataStartTime=head["settlement-start-date"],
            dataEndTime=head["settlement-end-date"],
        )  # fmt: skip
        document_id = self.reports.reports[report_id]["reportDocumentId"]
        return {
            "settlement_id": settlement_id, "report_id": report_id, "document_id": document_id,
            "orders": orders,
        }  # fmt: skip

    def _order_rows(self, order_id: str, when: datetime, marketplace: str) -> list[dict[str, str]]:
        rows = []
        for item in self.amazon.items[order_id]:
            price = Decimal(item["ItemPrice"]["Amount"])
            tax = Decimal(item["ItemTax"]["Amount"])
            commission = (price * COMMISSION).quantize(Decimal("0.01"), ROUND_HALF_UP)
            amounts = [
                ("ItemPrice", "Principal", price),
                ("ItemPrice", "Tax", tax),
                ("ItemPrice", "Shipping", Decimal(item["ShippingPrice"]["Amount"])),
                ("ItemWithheldTax", "MarketplaceFacilitatorTax-Principal", -tax),
                ("ItemFees", "Commission", -commission),
            ]  # fmt: skip
            for amount_type, description, amount in amounts:
                if amount == 0:
                    continue
                row = _row("Order", order_id, amount_type, description, amount, when)
                row.update(
                    {"marketplace-name": marketplace, "order-item-code": item["OrderItemId"],
                     "sku": item["SellerSKU"], "quantity-purchased": str(item["QuantityOrdered"])}
                )  # fmt: skip
                rows.append(row)
        return rows


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _row(
    transaction_type: str, order_id: str, amount_type: str, description: str, amount: Decimal,
    when: datetime,
) -> dict[str, str]:  # fmt: skip
    return {
        "transaction-type": transaction_type, "order-id": order_id, "amount-type": amount_type,
        "amount-description": description, "amount": str(amount),
        "posted-date": when.strftime("%m/%d/%y"), "posted-date-time": _stamp(when),
    }  # fmt: skip


def _flat_file(head: dict[str, str], rows: list[dict[str, str]], decimal_comma: bool) -> str:
    def written(amount: str) -> str:
        return amount.replace(".", ",") if decimal_comma else amount

    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, delimiter="\t", lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerow({**head, "total-amount": written(head["total-amount"])})
    for row in rows:
        writer.writerow({**row, "amount": written(row["amount"])})
    return text.getvalue()


def control_router(state: AmazonSettlementsState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox control"])

    @api.post("/settlements")
    async def close(spec: CloseSettlement | None = None) -> dict[str, Any]:
        """Amazon closes a settlement period now: its report is found with getReports."""
        return state.close(spec or CloseSettlement())

    return api

"""Walmart closing a settlement period: `POST /_sandbox/walmart/recon` makes the reconciliation
report of the next period over every shipped PO line not settled before (product price, product
tax, shipping, Walmart's 15 % commission on the product) and every refunded one (price and tax
paid back, the commission returned), which `GET /v3/report/reconreport/
availableReconFiles?reportVersion=v1` lists and `reconFileJson?reportDate=YYYYMMDD` serves,
its rows keyed by the v1 report's column names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request

from sandbox.vendor_errors import VendorError
from sandbox.walmart import WalmartState, check_token, error

COMMISSION = Decimal("0.15")


class WalmartReconState:
    def __init__(self, walmart: WalmartState) -> None:
        self.walmart = walmart
        self.reports: dict[str, list[dict[str, str]]] = {}  # report date -> rows
        self.settled: set[tuple[str, str]] = set()  # (PO, line number) sold in a report
        self.refunds_settled: set[tuple[str, str]] = set()  # ... refunded in a report

    def pending(self) -> bool:
        """Whether a close now would report anything."""
        return any(self._due(po, line) for po, line in self._lines())

    def close(self) -> dict[str, Any]:
        """The next period's report (a day after the last one: a sandbox period is short)."""
        now = datetime.now(UTC)
        report_date = now.strftime("%Y%m%d")
        if self.reports and max(self.reports) >= report_date:
            last = datetime.strptime(max(self.reports), "%Y%m%d").replace(tzinfo=UTC)
            report_date = (last + timedelta(days=1)).strftime("%Y%m%d")
        rows = []
        for po, line in self._lines():
            sold, refunded = self._due(po, line)
            key = (po, line["lineNumber"])
            if sold:
                self.settled.add(key)
                rows += self._rows(po, line, now, "SALE")
            if refunded:
                self.refunds_settled.add(key)
                rows += self._rows(po, line, now, "REFUND")
        total = sum((Decimal(r["Amount"]) for r in rows), Decimal(0))
        summary = {
            "Period Start Date": now.strftime("%m/%d/%Y"),
            "Period End Date": now.strftime("%m/%d/%Y"),
            "Total Payable": f"{total:.2f}",
            "Currency": "USD",
        }
        self.reports[report_date] = [summary] + [{**summary, **row} for row in rows]
        return {
            "report_date": report_date,
            "rows": len(rows),
            "total_payable": summary["Total Payable"],
        }

    def _lines(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (po, line)
            for po, order in self.walmart.orders.items()
            for line in order["orderLines"]["orderLine"]
        ]

    def _due(self, po: str, line: dict[str, Any]) -> tuple[bool, bool]:
        """Whether the line's sale, and its refund, are still to be reported."""
        status = line["orderLineStatuses"]["orderLineStatus"][-1]["status"]
        key = (po, line["lineNumber"])
        sold = status in ("Shipped", "Delivered", "Refund") and key not in self.settled
        return sold, status == "Refund" and key not in self.refunds_settled

    def _rows(
        self, po: str, line: dict[str, Any], when: datetime, transaction: str
    ) -> list[dict[str, str]]:
        """A sale: price, tax and Walmart's commission; a refund: price and tax paid back,
        the commission returned."""
        sign = -1 if transaction == "REFUND" else 1
        amounts: list[tuple[str, Decimal]] = []
        for charge in line["charges"]["charge"]:
            price = Decimal(str(charge["chargeAmount"]["amount"]))
            tax = Decimal(str(charge.get("tax", {}).get("taxAmount", {}).get("amount", 0)))
            kind = "Product" if charge["chargeType"] == "PRODUCT" else "Shipping"
            if transaction == "REFUND" and kind == "Shipping":
                continue  # a returned item's shipping is not paid back
            amounts += [(f"{kind} Price", sign * price), (f"{kind} tax", sign * tax)]
            if kind == "Product":
                commission = (price * COMMISSION).quantize(Decimal("0.01"), ROUND_HALF_UP)
                amounts.append(("Commission on Product", -sign * commission))
        return [
            {
                "Transaction Key": f"{po}-{line['lineNumber']}-{transaction}",
                "Transaction Posted Timestamp": when.strftime("%m/%d/%Y"),
                "Transaction Type": transaction,
                "Transaction Description": "Purchase" if sign > 0 else "Customer return",
                "Customer Order #": f"2{po[1:]}",
                "Customer Order line #": line["lineNumber"],
                "Purchase Order #": po,
                "Purchase Order line #": line["lineNumber"],
                "Amount": f"{amount:.2f}",
                "Amount Type": amount_type,
                "Partner Item Id": line["item"]["sku"],
            }
            for amount_type, amount in amounts
            if amount
        ]


def router(state: WalmartReconState) -> APIRouter:
    api = APIRouter(prefix="/walmart/v3/report/reconreport")

    def authorized(request: Request) -> None:
        check_token(state.walmart, request)

    @api.get("/availableReconFiles")
    async def available(request: Request, reportVersion: str = "v1") -> dict[str, Any]:
        authorized(request)
        return {"availableApReportDates": sorted(state.reports)}

    @api.get("/reconFileJson")
    async def report(request: Request, reportDate: str, reportVersion: str = "v1") -> Any:
        authorized(request)
        if reportDate not in state.reports:
            raise VendorError(
                error(404, "CONTENT_NOT_FOUND.GMP_PAYMENT_API", f"no report for {reportDate}")
            )
        return {"reportDate": reportDate, "reconData": state.reports[reportDate]}

    return api


def control_router(state: WalmartReconState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/walmart", tags=["sandbox control"])

    @api.post("/recon")
    async def close() -> dict[str, Any]:
        """Walmart closes a settlement period now: today's reconciliation report."""
        return state.close()

    return api

"""Walmart closing a settlement period: `POST /_sandbox/walmart/recon` makes the reconciliation
report of the day over every shipped PO line not settled before (product price, product tax,
shipping, Walmart's 15 % commission on the product), which `GET /v3/report/reconreport/
availableReconFiles?reportVersion=v1` lists and `reconFileJson?reportDate=YYYYMMDD` serves,
its rows keyed by the v1 report's column names."""

from __future__ import annotations

from datetime import UTC, datetime
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
        self.settled: set[tuple[str, str]] = set()  # (PO, line number) in a report already

    def close(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        report_date = now.strftime("%Y%m%d")
        rows = []
        for po, order in self.walmart.orders.items():
            for line in order["orderLines"]["orderLine"]:
                shipped = line["orderLineStatuses"]["orderLineStatus"][-1]["status"]
                key = (po, line["lineNumber"])
                if shipped not in ("Shipped", "Delivered") or key in self.settled:
                    continue
                self.settled.add(key)
                rows += self._rows(po, line, now)
        earlier = self.reports.get(report_date, [])[1:]  # a second close the same day adds
        rows = earlier + rows
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

    def _rows(self, po: str, line: dict[str, Any], when: datetime) -> list[dict[str, str]]:
        amounts: list[tuple[str, Decimal]] = []
        for charge in line["charges"]["charge"]:
            price = Decimal(str(charge["chargeAmount"]["amount"]))
            tax = Decimal(str(charge.get("tax", {}).get("taxAmount", {}).get("amount", 0)))
            kind = "Product" if charge["chargeType"] == "PRODUCT" else "Shipping"
            amounts += [(f"{kind} Price", price), (f"{kind} tax", tax)]
            if kind == "Product":
                commission = (price * COMMISSION).quantize(Decimal("0.01"), ROUND_HALF_UP)
                amounts.append(("Commission on Product", -commission))
        return [
            {
                "Transaction Key": f"{po}-{line['lineNumber']}",
                "Transaction Posted Timestamp": when.strftime("%m/%d/%Y"),
                "Transaction Type": "SALE",
                "Transaction Description": "Purchase",
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

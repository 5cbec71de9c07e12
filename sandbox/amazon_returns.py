"""Amazon returns as a seller sees them: the flat-file returns report of the Reports API
(`createReport` for `GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`, played by
`sandbox.amazon_reports`: a tab-separated file). The columns follow Amazon's
published report layout, as far as we need them. The sandbox plays the customer, who opens a
return on Amazon and ships it with Amazon's prepaid label to our returns desk."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.amazon import AmazonState
from sandbox.amazon_reports import AmazonReports
from sandbox.returns_desk import ReturnsDeskState

RETURNS_REPORT = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
COLUMNS = [
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
    "Merchant RMA ID", "Label type", "Currency code", "Return carrier", "Tracking ID", "ASIN",
    "Merchant SKU", "Item Name", "Return quantity", "Return reason", "In policy", "Return type",
    "Resolution", "Order Amount", "Order quantity",
]  # fmt: skip


class CustomerReturn(BaseModel):
    sku: str
    quantity: int = Field(1, gt=0)
    reason: str = "DEFECTIVE"


class AmazonReturnsState:
    def __init__(self, amazon: AmazonState, desk: ReturnsDeskState, reports: AmazonReports) -> None:
        self.amazon = amazon
        self.desk = desk
        self.rows: list[dict[str, str]] = []
        reports.generators[RETURNS_REPORT] = self.report

    def open(self, order_id: str, spec: CustomerReturn) -> dict[str, str]:
        order = self.amazon.orders[order_id]
        items = {item["SellerSKU"]: item for item in self.amazon.items[order_id]}
        item = items.get(spec.sku)
        if order["OrderStatus"] != "Shipped" or item is None:
            raise ValueError(f"{order_id} has no shipped {spec.sku}")
        rma = f"D{uuid.uuid4().int % 10**9:09d}RRMA"
        row = {
            "Order ID": order_id,
            "Order date": order["PurchaseDate"],
            "Return request date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Return request status": "Approved",
            "Amazon RMA ID": rma,
            "Merchant RMA ID": "",
            "Label type": "AmazonPrePaidLabel",
            "Currency code": "USD",
            "Return carrier": "UPS",
            "Tracking ID": f"1Z{uuid.uuid4().hex[:16].upper()}",
            "ASIN": item["ASIN"],
            "Merchant SKU": spec.sku,
            "Item Name": item["Title"],
            "Return quantity": str(spec.quantity),
            "Return reason": spec.reason,
            "In policy": "Y",
            "Return type": "C-Returns",
            "Resolution": "StandardRefund",
            "Order Amount": order["OrderTotal"]["Amount"],
            "Order quantity": str(item["QuantityOrdered"]),
        }
        self.rows.append(row)
        line = {"line_id": item["OrderItemId"], "sku": spec.sku, "quantity": spec.quantity}
        self.desk.expect(rma, order_key=f"amazon-{order_id}", lines=[line])
        return row

    def report(self, spec: dict[str, Any]) -> str:
        """The rows whose return was requested since `dataStartTime`."""
        since = spec.get("dataStartTime") or "1970-01-01T00:00:00Z"
        rows = [r for r in self.rows if r["Return request date"] >= since[:19] + "Z"]
        text = io.StringIO()
        writer = csv.DictWriter(text, COLUMNS, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return text.getvalue()


def control_router(state: AmazonReturnsState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox control"])

    @api.post("/orders/{order_id}/returns")
    async def customer_return(order_id: str, spec: CustomerReturn) -> Response:
        """The customer opens a return on Amazon and ships it with Amazon's prepaid label."""
        if order_id not in state.amazon.orders:
            return JSONResponse({"detail": "unknown order"}, status_code=404)
        try:
            return JSONResponse(state.open(order_id, spec))
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)

    return api

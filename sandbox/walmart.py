"""Walmart-Marketplace-shaped API (v3): token, released orders (quantity-1 split lines),
acknowledge, shipping with tracking, cancel; line statuses move as Walmart's do."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.avatax import STATE_RATES
from sandbox.catalog import BY_SKU
from sandbox.push_log import PushLog
from sandbox.returns_desk import ReturnsDeskState
from sandbox.shopify_orders import CUSTOMERS
from sandbox.vendor_errors import VendorError

CENT = Decimal("0.01")


def error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "code": code,
                    "description": description,
                    "severity": "ERROR",
                    "category": "REQUEST",
                    "causes": [],
                }
            ]
        },
        status,
    )


class NewWalmartOrder(BaseModel):
    skus: list[tuple[str, int]] = Field(default=[("CANDLE-CEDAR-8OZ", 2), ("MUG-STONE-350", 1)])


class CustomerReturn(BaseModel):
    """A customer opens a return on Walmart.com for shipped lines (Walmart's label)."""

    lines: list[str] = Field(min_length=1, description="the PO's line numbers")
    reason: str = "Changed mind"


class WalmartState:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.returns: dict[str, dict[str, Any]] = {}  # by returnOrderId
        self.tokens: set[str] = set()
        self.inventory: dict[str, dict[str, int]] = {}  # ship node -> sku -> quantity
        self.push_log = PushLog()
        self.counter = int(time.time() * 10) % 10**9

    def place(self, spec: NewWalmartOrder) -> dict[str, Any]:
        """Each unit becomes its own line, as Walmart does for multi-quantity purchases."""
        self.counter += 1
        po = f"17{self.counter:011d}"
        name, last, line1, line2, city, region, postal = CUSTOMERS[self.counter % len(CUSTOMERS)]
        rate = Decimal(STATE_RATES[region])
        lines: list[dict[str, Any]] = []
        for sku, quantity in spec.skus:
            item = BY_SKU.get(sku)
            price = item.price if item else Decimal("10.00")
            for _ in range(quantity):
                lines.append(
                    {
                        "lineNumber": str(len(lines) + 1),
                        "item": {"productName": item.title if item else sku, "sku": sku},
                        "charges": {
                            "charge": [
                                {
                                    "chargeType": "PRODUCT",
                                    "chargeName": "ItemPrice",
                                    "chargeAmount": {"currency": "USD", "amount": float(price)},
                                    "tax": {
                                        "taxName": "Tax1",
                                        "taxAmount": {
                                            "currency": "USD",
                                            "amount": float(
                                                (price * rate).quantize(CENT, ROUND_HALF_UP)
                                            ),
                                        },
                                    },
                                },
                                {
                                    "chargeType": "SHIPPING",
                                    "chargeName": "Shipping",
                                    "chargeAmount": {"currency": "USD", "amount": 0.0},
                                },
                            ]
                        },
                        "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                        "orderLineStatuses": {
                            "orderLineStatus": [
                                {
                                    "status": "Created",
                                    "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"},
                                }
                            ]
                        },
                    }
                )
        order = {
            "purchaseOrderId": po,
            "customerOrderId": f"2000{self.counter:011d}",
            "customerEmailId": f"{uuid.uuid4().hex.upper()}@relay.walmart.com",
            "orderType": "REGULAR",
            "orderDate": int(time.time() * 1000),
            "shippingInfo": {
                "phone": "5085550147",
                "methodCode": "Standard",
                "postalAddress": {
                    "name": f"{name} {last}",
                    "address1": line1,
                    "address2": line2,
                    "city": city,
                    "state": region,
                    "postalCode": postal,
                    "country": "USA",
                    "addressType": "RESIDENTIAL",
                },
            },
            "orderLines": {"orderLine": lines},
        }
        self.orders[po] = order
        return order

    def open_return(self, po: str, spec: CustomerReturn) -> dict[str, Any]:
        """A return order in the shape of `GET /v3/returns` (one unit per line)."""
        order = self.orders[po]
        lines = {line["lineNumber"]: line for line in order["orderLines"]["orderLine"]}
        for number in spec.lines:
            if number not in lines or _status(lines[number]) not in ("Shipped", "Delivered"):
                raise ValueError(f"line {number} of {po} has not shipped")
        self.counter += 1
        now = datetime.now(UTC)
        returned = [lines[number] for number in spec.lines]
        amount = sum(
            charge["chargeAmount"]["amount"]
            + charge.get("tax", {}).get("taxAmount", {}).get("amount", 0)
            for line in returned
            for charge in line["charges"]["charge"]
        )
        return_order = {
            "returnOrderId": f"9{self.counter:012d}",
            "customerEmailId": order["customerEmailId"],
            "customerOrderId": order["customerOrderId"],
            "returnOrderDate": now.isoformat(),
            "returnByDate": (now + timedelta(days=30)).isoformat(),
            "refundMode": "ONLINE",
            "totalRefundAmount": {"currencyAmount": round(amount, 2), "currencyUnit": "USD"},
            "returnOrderLines": [
                {
                    "returnOrderLineNumber": n,
                    "salesOrderLineNumber": int(line["lineNumber"]),
                    "purchaseOrderId": po,
                    "purchaseOrderLineNumber": int(line["lineNumber"]),
                    "returnReason": spec.reason,
                    "item": dict(line["item"]),
                    "quantity": {"unitOfMeasure": "EACH", "measurementValue": 1},
                    "status": "INITIATED",
                    "currentRefundStatus": "REFUND_PENDING",
                }
                for n, line in enumerate(returned, start=1)
            ],
            "status": "INITIATED",
        }
        self.returns[return_order["returnOrderId"]] = return_order
        return return_order

    def settle_returns(self, po: str) -> None:
        """A PO refund covering a return's units completes the return."""
        order = self.orders[po]
        refunded: dict[str, int] = {}
        for line in order["orderLines"]["orderLine"]:
            if _status(line) == "Refund":
                refunded[line["item"]["sku"]] = refunded.get(line["item"]["sku"], 0) + 1
        for return_order in self.returns.values():
            lines = [
                line for line in return_order["returnOrderLines"] if line["purchaseOrderId"] == po
            ]
            if not lines or return_order["status"] != "INITIATED":
                continue
            wanted: dict[str, int] = {}
            for line in lines:
                wanted[line["item"]["sku"]] = wanted.get(line["item"]["sku"], 0) + 1
            if all(refunded.get(sku, 0) >= units for sku, units in wanted.items()):
                return_order["status"] = "COMPLETED"
                for line in lines:
                    line["status"] = "COMPLETED"
                    line["currentRefundStatus"] = "REFUNDED"


def _status(line: dict[str, Any]) -> str:
    return str(line["orderLineStatuses"]["orderLineStatus"][-1]["status"])


def _set_status(line: dict[str, Any], status: dict[str, Any]) -> None:
    line["orderLineStatuses"]["orderLineStatus"] = [status]


def check_token(state: WalmartState, request: Request) -> None:
    """Walmart's headers on every call: an access token it issued, a correlation id."""
    if request.headers.get("wm_sec.access_token") not in state.tokens:
        raise VendorError(error(401, "UNAUTHORIZED.GMP_GATEWAY_API", "Unauthorized"))
    if not request.headers.get("wm_qos.correlation_id"):
        raise VendorError(error(400, "MISSING_CORRELATION_ID", "WM_QOS.CORRELATION_ID is required"))


def router(state: WalmartState) -> APIRouter:
    api = APIRouter(prefix="/walmart/v3")

    def authorized(request: Request) -> None:
        check_token(state, request)

    def existing(po: str) -> dict[str, Any]:
        order = state.orders.get(po)
        if order is None:
            raise VendorError(error(404, "CONTENT_NOT_FOUND.GMP_ORDER_API", f"PO {po} not found"))
        return order

    @api.post("/token")
    async def token(request: Request) -> dict[str, Any]:
        if not request.headers.get("authorization", "").startswith("Basic "):
            raise VendorError(error(401, "UNAUTHORIZED", "client credentials required"))
        access = f"ey{uuid.uuid4().hex}"
        state.tokens.add(access)
        return {"access_token": access, "token_type": "Bearer", "expires_in": 900}

    @api.put("/inventory")
    async def set_inventory(request: Request, sku: str, shipNode: str) -> dict[str, Any]:
        authorized(request)
        if sku not in BY_SKU:
            raise VendorError(
                error(404, "CONTENT_NOT_FOUND.GMP_INVENTORY_API", f"SKU {sku} not found")
            )
        body = await request.json()
        state.inventory.setdefault(shipNode, {})[sku] = int(body["quantity"]["amount"])
        state.push_log.record(sku, int(body["quantity"]["amount"]))
        return {"sku": sku, "quantity": body["quantity"]}

    @api.get("/orders/released")
    async def released(request: Request, limit: int = 100) -> dict[str, Any]:
        authorized(request)
        ready = [
            o
            for o in state.orders.values()
            if all(_status(line) == "Created" for line in o["orderLines"]["orderLine"])
        ]
        page = ready[:limit]
        return {
            "list": {
                "meta": {"totalCount": len(ready), "limit": limit, "nextCursor": None},
                "elements": {"order": page},
            }
        }

    @api.get("/orders/{po}")
    async def read(po: str, request: Request) -> dict[str, Any]:
        authorized(request)
        return {"order": existing(po)}

    @api.post("/orders/{po}/acknowledge")
    async def acknowledge(po: str, request: Request) -> dict[str, Any]:
        authorized(request)
        order = existing(po)
        for line in order["orderLines"]["orderLine"]:
            if _status(line) == "Created":
                _set_status(
                    line, {"status": "Acknowledged", "statusQuantity": line["orderLineQuantity"]}
                )
        return {"order": order}

    async def _update(po: str, request: Request, wrapper: str, target: str) -> dict[str, Any]:
        authorized(request)
        order = existing(po)
        lines = {line["lineNumber"]: line for line in order["orderLines"]["orderLine"]}
        updates = (await request.json())[wrapper]["orderLines"]["orderLine"]
        for update in updates:
            line = lines.get(update["lineNumber"])
            if line is None or _status(line) in ("Shipped", "Cancelled"):
                raise VendorError(
                    error(
                        400,
                        "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                        f"line {update['lineNumber']} cannot become {target}",
                    )
                )
        for update in updates:
            _set_status(
                lines[update["lineNumber"]], update["orderLineStatuses"]["orderLineStatus"][0]
            )
        return {"order": order}

    @api.post("/orders/{po}/shipping")
    async def ship(po: str, request: Request) -> dict[str, Any]:
        return await _update(po, request, "orderShipment", "Shipped")

    @api.post("/orders/{po}/cancel")
    async def cancel(po: str, request: Request) -> dict[str, Any]:
        return await _update(po, request, "orderCancellation", "Cancelled")

    @api.post("/orders/{po}/refund")
    async def refund(po: str, request: Request) -> dict[str, Any]:
        """Refund shipped lines (each in full here): their status becomes Refund."""
        authorized(request)
        order = existing(po)
        lines = {line["lineNumber"]: line for line in order["orderLines"]["orderLine"]}
        updates = (await request.json())["orderRefund"]["orderLines"]["orderLine"]
        for update in updates:
            line = lines.get(update["lineNumber"])
            if line is None or _status(line) not in ("Shipped", "Delivered"):
                raise VendorError(
                    error(
                        400,
                        "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
                        f"line {update['lineNumber']} is not shipped; it cannot be refunded",
                    )
                )
        for update in updates:
            line = lines[update["lineNumber"]]
            _set_status(line, {"status": "Refund", "statusQuantity": line["orderLineQuantity"]})
            line["refund"] = update["refunds"]
        state.settle_returns(po)
        return {"order": order}

    @api.get("/returns")
    async def returns(
        request: Request,
        status: str | None = None,
        returnOrderId: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        authorized(request)
        found = [
            r
            for r in state.returns.values()
            if status in (None, r["status"]) and returnOrderId in (None, r["returnOrderId"])
        ][:limit]
        meta = {"totalCount": len(found), "limit": limit, "nextCursor": None}
        return {"meta": meta, "returnOrders": found}

    return api


def control_router(state: WalmartState, desk: ReturnsDeskState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/walmart", tags=["sandbox control"])

    @api.post("/orders/{po}/returns")
    async def customer_return(po: str, spec: CustomerReturn) -> Response:
        """The customer opens a return and ships the parcel with Walmart's label to our
        returns desk (which receives and inspects it on its autopilot)."""
        if po not in state.orders:
            return JSONResponse({"detail": "unknown PO"}, status_code=404)
        try:
            return_order = state.open_return(po, spec)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=422)
        skus = [line["item"]["sku"] for line in return_order["returnOrderLines"]]
        desk.expect(
            return_order["returnOrderId"],
            order_key=f"walmart-{po}",
            lines=[
                {"line_id": sku, "sku": sku, "quantity": skus.count(sku)}
                for sku in dict.fromkeys(skus)
            ],
        )
        return JSONResponse(return_order)

    @api.post("/orders")
    async def place(spec: NewWalmartOrder) -> dict[str, Any]:
        return state.place(spec)

    @api.get("/inventory")
    async def inventory() -> dict[str, dict[str, int]]:
        return state.inventory

    @api.get("/orders/{po}")
    async def read(po: str) -> Any:
        order = state.orders.get(po)
        return order if order else JSONResponse({"detail": "unknown PO"}, 404)

    return api

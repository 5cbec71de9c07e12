"""SP-API-shaped Amazon: Orders v0 (getOrder, getOrderItems, confirmShipment), the Tokens API
for the restricted data token that unlocks address PII, per-operation token buckets answering
429 `QuotaExceeded`. Control routes place orders and change their status, returning the
ORDER_CHANGE notification Amazon would put on the SQS queue."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.avatax import STATE_RATES
from sandbox.catalog import BY_SKU
from sandbox.push_log import PushLog
from sandbox.shopify_orders import CUSTOMERS
from sandbox.vendor_errors import VendorError

MARKETPLACE = "ATVPDKIKX0DER"
CENT = Decimal("0.01")
SHIPPING_PER_ITEM = Decimal("5.99")
# operation -> (rate per second, burst), from the SP-API usage plans
USAGE_PLANS = {
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "patchListingsItem": (5.0, 5),
    "putListingsItem": (5.0, 10),
    "validationPreview": (1.0, 1),  # putListingsItem with mode=VALIDATION_PREVIEW
    "getListingsItem": (5.0, 10),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),  # one every two minutes, once the burst is spent
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
}
RDT_PREFIX = "Atz.sprdt|"


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"code": code, "message": message, "details": ""}]}, status)


def _money(amount: Decimal) -> dict[str, str]:
    return {"CurrencyCode": "USD", "Amount": f"{amount:.2f}"}


class NewAmazonOrder(BaseModel):
    skus: list[tuple[str, int]] = Field(default=[("CANDLE-CEDAR-8OZ", 2), ("MUG-STONE-350", 1)])
    status: str = "Unshipped"
    fulfillment_channel: str = Field("MFN", pattern="^(MFN|AFN)$")


class BuyerCancel(BaseModel):
    reason: str = "Changed my mind"


class StatusChange(BaseModel):
    status: str


class AmazonState:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.confirmations: dict[str, list[dict[str, Any]]] = {}
        self.availability: dict[str, int] = {}
        self.listed: set[str] = set()  # SKUs listed through putListingsItem
        self.refused: dict[str, int] = {}  # operation -> calls refused by its usage plan (429)
        self.push_log = PushLog()
        self.buckets = {
            op: [float(burst), time.monotonic()] for op, (_, burst) in USAGE_PLANS.items()
        }
        self.counter = int(time.time()) % 10_000_000

    def take(self, operation: str) -> None:
        rate, burst = USAGE_PLANS[operation]
        bucket = self.buckets[operation]
        now = time.monotonic()
        bucket[0] = min(burst, bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < 1:
            self.refused[operation] = self.refused.get(operation, 0) + 1
            raise VendorError(
                error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
            )
        bucket[0] -= 1

    def place(self, spec: NewAmazonOrder) -> dict[str, Any]:
        self.counter += 1
        order_id = f"114-{self.counter % 10_000_000:07d}-{(self.counter * 7919) % 10_000_000:07d}"
        first, last, line1, line2, city, region, postal = CUSTOMERS[self.counter % len(CUSTOMERS)]
        rate = Decimal(STATE_RATES[region])
        items, total = [], Decimal(0)
        for n, (sku, quantity) in enumerate(spec.skus):
            item = BY_SKU.get(sku)
            price = (item.price if item else Decimal("10.00")) * quantity
            tax = (price * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            shipping = SHIPPING_PER_ITEM if n == 0 else Decimal(0)
            total += price + tax + shipping
            items.append(
                {
                    "ASIN": f"B0{abs(hash(sku)) % 10**8:08d}",
                    "SellerSKU": sku,
                    "OrderItemId": f"{self.counter}{n:04d}",
                    "Title": item.title if item else sku,
                    "QuantityOrdered": quantity,
                    "QuantityShipped": 0,
                    "ItemPrice": _money(price),
                    "ItemTax": _money(tax),
                    "ShippingPrice": _money(shipping),
                    "ShippingTax": _money(Decimal(0)),
                    "ShippingDiscount": _money(Decimal(0)),
                    "PromotionDiscount": _money(Decimal(0)),
                    "TaxCollection": {
                        "Model": "MarketplaceFacilitator",
                        "ResponsibleParty": "Amazon Services, Inc.",
                    },
                    "IsGift": "false",
                    "BuyerRequestedCancel": {
                        "IsBuyerRequestedCancel": "false",
                        "BuyerCancelReason": "",
                    },
                }
            )
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        order = {
            "AmazonOrderId": order_id,
            "PurchaseDate": now,
            "LastUpdateDate": now,
            "OrderStatus": spec.status,
            "FulfillmentChannel": spec.fulfillment_channel,
            "SalesChannel": "Amazon.com",
            "ShipServiceLevel": "Std US D2D Dom",
            "OrderTotal": _money(total),
            "MarketplaceId": MARKETPLACE,
            "OrderType": "StandardOrder",
            "IsPrime": spec.fulfillment_channel == "AFN",
            "ShippingAddress": {
                "Name": f"{first} {last}",
                "AddressLine1": line1,
                "AddressLine2": line2,
                "City": city.upper(),
                "StateOrRegion": region,
                "PostalCode": postal,
                "CountryCode": "US",
            },
            "BuyerInfo": {"BuyerEmail": f"{self.counter}@marketplace.amazon.com"},
        }
        self.orders[order_id] = order
        self.items[order_id] = items
        return order

    def view(self, order: dict[str, Any], restricted: bool) -> dict[str, Any]:
        """Pending orders carry no total or address; PII needs a restricted data token."""
        shown = dict(order)
        if order["OrderStatus"] == "Pending":
            shown.pop("OrderTotal", None)
            shown.pop("ShippingAddress", None)
        elif not restricted:
            address = dict(order["ShippingAddress"])
            for pii in ("Name", "AddressLine1", "AddressLine2"):
                address.pop(pii, None)
            shown["ShippingAddress"] = address
            shown["BuyerInfo"] = {}
        return shown

    def notification(
        self,
        order: dict[str, Any],
        change: str = "OrderStatusChange",
        reason: str | None = None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": now,
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": "A1EXAMPLESELLERZ",
                    "AmazonOrderId": order["AmazonOrderId"],
                    "OrderChangeType": change,
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": now,
                        "ChangeReason": reason or f"Order status changed to {order['OrderStatus']}",
                    },
                    "Summary": {
                        "MarketplaceId": MARKETPLACE,
                        "OrderStatus": order["OrderStatus"],
                        "FulfillmentType": order["FulfillmentChannel"],
                    },
                }
            },
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sellerapps.app.sandbox",
                "SubscriptionId": "sandbox-subscription",
                "PublishTime": now,
                "NotificationId": str(uuid.uuid4()),
            },
        }


def router(state: AmazonState) -> APIRouter:
    api = APIRouter(prefix="/amazon")

    def existing(order_id: str) -> dict[str, Any]:
        order = state.orders.get(order_id)
        if order is None:
            raise VendorError(error(404, "NotFound", f"Order {order_id} was not found."))
        return order

    @api.post("/tokens/2021-03-01/restrictedDataToken")
    async def restricted_data_token(request: Request) -> dict[str, Any]:
        return {"restrictedDataToken": f"{RDT_PREFIX}{uuid.uuid4().hex}", "expiresIn": 3600}

    @api.get("/orders/v0/orders/{order_id}")
    async def get_order(order_id: str, request: Request) -> dict[str, Any]:
        state.take("getOrder")
        restricted = request.headers.get("x-amz-access-token", "").startswith(RDT_PREFIX)
        return {"payload": state.view(existing(order_id), restricted)}

    @api.get("/orders/v0/orders/{order_id}/orderItems")
    async def get_order_items(order_id: str) -> dict[str, Any]:
        state.take("getOrderItems")
        existing(order_id)
        return {"payload": {"AmazonOrderId": order_id, "OrderItems": state.items[order_id]}}

    @api.post("/orders/v0/orders/{order_id}/shipmentConfirmation")
    async def confirm_shipment(order_id: str, request: Request) -> Response:
        state.take("confirmShipment")
        order = existing(order_id)
        package = (await request.json())["packageDetail"]
        done = state.confirmations.setdefault(order_id, [])
        if any(p["packageReferenceId"] == package["packageReferenceId"] for p in done):
            return Response(status_code=204)  # the same package again: already recorded
        items = {item["OrderItemId"]: item for item in state.items[order_id]}
        for line in package["orderItems"]:
            item = items.get(line["orderItemId"])
            if item is None or item["QuantityShipped"] + line["quantity"] > item["QuantityOrdered"]:
                return error(
                    400, "InvalidInput", "Invalid orderItemId or quantity for the given order."
                )
        for line in package["orderItems"]:
            items[line["orderItemId"]]["QuantityShipped"] += line["quantity"]
        done.append(package)
        shipped_all = all(i["QuantityShipped"] >= i["QuantityOrdered"] for i in items.values())
        order["OrderStatus"] = "Shipped" if shipped_all else "PartiallyShipped"
        return Response(status_code=204)

    @api.patch("/listings/2021-08-01/items/{seller_id}/{sku}")
    async def patch_listing(seller_id: str, sku: str, request: Request) -> dict[str, Any]:
        state.take("patchListingsItem")
        submission = uuid.uuid4().hex
        if sku not in BY_SKU and sku not in state.listed:
            raise VendorError(error(404, "NOT_FOUND", f"No listing for SKU {sku}."))
        for patch in (await request.json())["patches"]:
            if patch["path"] == "/attributes/fulfillment_availability":
                state.availability[sku] = int(patch["value"][0]["quantity"])
                state.push_log.record(sku, state.availability[sku])
        return {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}

    return api


def control_router(state: AmazonState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/amazon", tags=["sandbox control"])

    @api.post("/orders")
    async def place(spec: NewAmazonOrder) -> dict[str, Any]:
        """Place an order; returns its ORDER_CHANGE notification."""
        return state.notification(state.place(spec))

    @api.post("/orders/{order_id}/status")
    async def change(order_id: str, change: StatusChange) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return JSONResponse({"detail": "unknown order"}, 404)
        order["OrderStatus"] = change.status
        return JSONResponse(state.notification(order))

    @api.post("/orders/{order_id}/buyer-cancel")
    async def buyer_cancel(order_id: str, request: BuyerCancel) -> Response:
        """The buyer asks to cancel: every item is flagged, as getOrderItems shows it; returns
        the BuyerRequestedChange notification."""
        if order_id not in state.orders:
            return JSONResponse({"detail": "unknown order"}, 404)
        for item in state.items[order_id]:
            item["BuyerRequestedCancel"] = {
                "IsBuyerRequestedCancel": "true",
                "BuyerCancelReason": request.reason,
            }
        order = state.orders[order_id]
        return JSONResponse(
            state.notification(order, "BuyerRequestedChange", "Buyer Requested Cancel")
        )

    @api.get("/inventory")
    async def inventory() -> dict[str, int]:
        return state.availability

    @api.get("/orders/{order_id}")
    async def read(order_id: str) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return JSONResponse({"detail": "unknown order"}, 404)
        return JSONResponse({**order, "confirmations": state.confirmations.get(order_id, [])})

    return api

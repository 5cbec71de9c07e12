"""ShipStation-shaped WMS: `createorder` upsert on orderKey, order lookup, shipments by batch,
webhook subscriptions with thin SHIP_NOTIFY deliveries. The sandbox plays the warehouse floor
too: `/_sandbox/shipstation/...` ships (whole or split) or voids, by hand or automatically."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.catalog import CATALOG, INITIAL_STOCK
from sandbox.webhook_sender import WebhookSender

log = logging.getLogger("sandbox.shipstation")
WAREHOUSES = ("101", "102")  # the account's warehouses (East, West); orders default to the first
CARRIERS = [
    ("ups", "ups_ground", "1Z84A9W2"),
    ("fedex", "fedex_ground", "7946"),
    ("usps", "usps_priority", "9400"),
]


class ShipLine(BaseModel):
    lineItemKey: str
    quantity: int = Field(gt=0)


class ShipAction(BaseModel):
    lines: list[ShipLine] | None = Field(None, description="default: everything not yet shipped")
    carrier: str | None = None
    notify: bool = Field(True, description="False: the SHIP_NOTIFY webhook is lost on the way")


class AutoShip(BaseModel):
    after_seconds: float | None = Field(None, ge=0, description="None turns the warehouse off")
    split: bool = Field(False, description="ship each line as its own shipment")


class StockLevel(BaseModel):
    on_hand: int = Field(ge=0)


class ShipStationState:
    def __init__(self, autoship: AutoShip | None = None) -> None:
        self.orders: dict[str, dict[str, Any]] = {}  # by orderKey
        # Inventory warehouse -> SKU -> on hand; shipping takes from the order's warehouse.
        self.stock: dict[str, dict[str, int]] = {
            warehouse: {item.sku: INITIAL_STOCK for item in CATALOG} for warehouse in WAREHOUSES
        }
        self.shipments: dict[int, dict[str, Any]] = {}
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.autoship = autoship or AutoShip()
        # Ids never repeat across sandbox restarts, as ShipStation's never do: a persistent
        # inbox dedupes SHIP_NOTIFY on the resource URL, which carries the shipment id.
        self.next_id = int(time.time() * 1000)
        self.webhooks = WebhookSender("ShipStation")
        self.base_url = ""

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def remaining(self, order: dict[str, Any]) -> dict[str, int]:
        left = {item["lineItemKey"]: item["quantity"] for item in order["items"]}
        for shipment in self.shipments.values():
            if shipment["orderKey"] == order["orderKey"] and not shipment["voided"]:
                for item in shipment["shipmentItems"]:
                    left[item["lineItemKey"]] -= item["quantity"]
        return {k: v for k, v in left.items() if v > 0}

    def ship(self, order: dict[str, Any], action: ShipAction) -> dict[str, Any]:
        left = self.remaining(order)
        wanted = (
            {line.lineItemKey: line.quantity for line in action.lines} if action.lines else left
        )
        if not wanted or any(left.get(k, 0) < q for k, q in wanted.items()):
            raise ValueError(f"cannot ship {wanted}; remaining {left}")
        shipment_id = self.new_id()
        carrier, service, prefix = next(
            (c for c in CARRIERS if c[0] == action.carrier), CARRIERS[shipment_id % len(CARRIERS)]
        )
        skus = {item["lineItemKey"]: item["sku"] for item in order["items"]}
        now = datetime.now(UTC)
        shipment = {
            "shipmentId": shipment_id,
            "orderId": order["orderId"],
            "orderKey": order["orderKey"],
            "orderNumber": order["orderNumber"],
            "createDate": now.strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "shipDate": now.date().isoformat(),
            "trackingNumber": f"{prefix}{shipment_id:010d}",
            "batchNumber": str(shipment_id),
            "carrierCode": carrier,
            "serviceCode": service,
            "voided": False,
            "voidDate": None,
            "shipTo": order.get("shipTo"),
            "shipmentItems": [
                {"lineItemKey": k, "sku": skus[k], "quantity": q} for k, q in wanted.items()
            ],
        }
        self.shipments[shipment_id] = shipment
        self.move_stock(order, shipment, -1)
        order["orderStatus"] = "shipped" if not self.remaining(order) else "awaiting_shipment"
        return shipment

    def move_stock(self, order: dict[str, Any], shipment: dict[str, Any], sign: int) -> None:
        """A shipment takes its units from the order's warehouse; a void puts them back."""
        warehouse = str((order.get("advancedOptions") or {}).get("warehouseId") or WAREHOUSES[0])
        stock = self.stock.setdefault(warehouse, {})
        for item in shipment["shipmentItems"]:
            stock[item["sku"]] = stock.get(item["sku"], 0) + sign * item["quantity"]

    def restock(self, warehouse: str, sku: str, units: int) -> None:
        """Returned goods the warehouse's desk found resalable go back on hand."""
        stock = self.stock.setdefault(warehouse, {})
        stock[sku] = stock.get(sku, 0) + units

    def allocated(self, warehouse: str, sku: str) -> int:
        """Units of open orders not yet shipped."""
        total = 0
        for order in self.orders.values():
            chosen = str((order.get("advancedOptions") or {}).get("warehouseId") or WAREHOUSES[0])
            if chosen != warehouse or order["orderStatus"] != "awaiting_shipment":
                continue
            left = self.remaining(order)
            total += sum(left.get(i["lineItemKey"], 0) for i in order["items"] if i["sku"] == sku)
        return total

    def notify(self, shipment: dict[str, Any], event: str = "SHIP_NOTIFY") -> None:
        url = (
            f"{self.base_url}/shipstation/shipments?batchId={shipment['batchNumber']}"
            "&includeShipmentItems=True"
        )
        for subscription in self.subscriptions.values():
            if subscription["event"] == event:
                body = {"resource_url": url, "resource_type": event}
                self.webhooks.post(subscription["target_url"], body)

    def schedule_autoship(self, order_key: str) -> None:
        if self.autoship.after_seconds is not None:
            self.webhooks.spawn(
                self._autoship(order_key, self.autoship.after_seconds, self.autoship.split)
            )

    async def _autoship(self, order_key: str, delay: float, split: bool) -> None:
        await asyncio.sleep(delay)
        order = self.orders.get(order_key)
        if order is None or order["orderStatus"] != "awaiting_shipment":
            return
        groups = (
            [[ShipLine(lineItemKey=k, quantity=q)] for k, q in self.remaining(order).items()]
            if split
            else [None]
        )
        for lines in groups:
            self.notify(self.ship(order, ShipAction(lines=lines)))

    async def aclose(self) -> None:
        await self.webhooks.aclose()


def router(state: ShipStationState) -> APIRouter:
    api = APIRouter(prefix="/shipstation")

    @api.post("/orders/createorder")
    async def create_order(request: Request) -> Response:
        body = await request.json()
        key = body.get("orderKey")
        if not key or not body.get("items"):
            return JSONResponse({"Message": "orderKey and items are required"}, status_code=400)
        existing = state.orders.get(key)
        if (
            existing
            and existing["orderStatus"] == "shipped"
            and body.get("orderStatus") != "shipped"
        ):
            return JSONResponse({"Message": f"Order {key} has already shipped."}, status_code=400)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")
        order = {
            **(existing or {"orderId": state.new_id(), "createDate": now}),
            **{k: v for k, v in body.items() if k not in ("orderId", "createDate")},
            "modifyDate": now,
        }
        state.orders[key] = order
        if existing is None and order["orderStatus"] == "awaiting_shipment":
            state.schedule_autoship(key)
        return JSONResponse(order)

    @api.get("/orders")
    async def list_orders(request: Request, orderKey: str | None = None) -> Response:
        orders = [o for o in state.orders.values() if orderKey in (None, o["orderKey"])]
        return JSONResponse({"orders": orders, "total": len(orders), "page": 1, "pages": 1})

    @api.get("/shipments")
    async def list_shipments(
        request: Request,
        batchId: str | None = None,
        orderKey: str | None = None,
    ) -> Response:
        shipments = [
            s for s in state.shipments.values()
            if batchId in (None, s["batchNumber"]) and orderKey in (None, s["orderKey"])
        ]  # fmt: skip
        return JSONResponse(
            {"shipments": shipments, "total": len(shipments), "page": 1, "pages": 1}
        )

    @api.get("/v2/inventory")
    async def inventory(
        sku: str | None = None, inventory_warehouse_id: str | None = None
    ) -> dict[str, Any]:
        """ShipStation API v2 inventory levels (one location per warehouse here)."""
        rows = [
            {
                "sku": item_sku,
                "on_hand": on_hand,
                "allocated": (allocated := state.allocated(warehouse, item_sku)),
                "available": on_hand - allocated,
                "average_cost": {"amount": 0.0, "currency": "USD"},
                "inventory_warehouse_id": warehouse,
                "inventory_location_id": f"{warehouse}-A1",
            }
            for warehouse, levels in state.stock.items()
            if inventory_warehouse_id in (None, warehouse)
            for item_sku, on_hand in levels.items()
            if sku in (None, item_sku)
        ]
        return {"inventory": rows, "total": len(rows), "page": 1, "pages": 1, "links": {}}

    @api.post("/webhooks/subscribe")
    async def subscribe(request: Request) -> Response:
        body = await request.json()
        for sub_id, existing in state.subscriptions.items():
            if (existing["target_url"], existing["event"]) == (body["target_url"], body["event"]):
                return JSONResponse({"id": sub_id}, status_code=201)
        sub_id = state.new_id()
        state.subscriptions[sub_id] = body
        return JSONResponse({"id": sub_id}, status_code=201)

    return api


def control_router(state: ShipStationState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/shipstation", tags=["sandbox control"])

    @api.post("/orders/{order_key}/ship")
    async def ship(order_key: str, action: ShipAction | None = None) -> Response:
        order = state.orders.get(order_key)
        if order is None:
            return JSONResponse({"detail": f"unknown order {order_key}"}, status_code=404)
        if order["orderStatus"] == "cancelled":
            return JSONResponse({"detail": f"order {order_key} is cancelled"}, status_code=409)
        try:
            shipment = state.ship(order, action or ShipAction())
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=409)
        if action is None or action.notify:
            state.notify(shipment)
        return JSONResponse(shipment)

    @api.post("/shipments/{shipment_id}/void")
    async def void(shipment_id: int) -> Response:
        shipment = state.shipments.get(shipment_id)
        if shipment is None:
            return JSONResponse({"detail": "unknown shipment"}, status_code=404)
        if not shipment["voided"]:
            state.move_stock(state.orders[shipment["orderKey"]], shipment, +1)
        shipment["voided"] = True
        shipment["voidDate"] = datetime.now(UTC).isoformat()
        state.orders[shipment["orderKey"]]["orderStatus"] = "awaiting_shipment"
        state.notify(shipment)
        return JSONResponse(shipment)

    @api.put("/inventory/{warehouse}/{sku}")
    async def set_stock(warehouse: str, sku: str, level: StockLevel) -> dict[str, Any]:
        """Count a SKU in a warehouse (drift the orchestrator's positions do not know of)."""
        state.stock.setdefault(warehouse, {})[sku] = level.on_hand
        return {"warehouse": warehouse, "sku": sku, "on_hand": level.on_hand}

    @api.get("/shipments")
    async def shipments() -> list[dict[str, Any]]:
        """Every shipment the warehouse made (voided ones included)."""
        return list(state.shipments.values())

    @api.put("/autoship")
    async def autoship(settings: AutoShip) -> AutoShip:
        state.autoship = settings
        return settings

    @api.get("/orders/{order_key}")
    async def order(order_key: str) -> Response:
        found = state.orders.get(order_key)
        return JSONResponse(found or {"detail": "unknown order"}, status_code=200 if found else 404)

    return api

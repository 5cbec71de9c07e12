"""A drop-ship supplier's ShipBob-shaped fulfilment API (ShipBob's published Orders API):
`POST /{version}/order` unique on `reference_id` (a duplicate is a 422), read back by
`GET /order?ReferenceIds=`, `POST /order/{id}/cancel`, and `POST /webhook` subscriptions.
Webhooks (`order.shipped`, `order.shipment.cancelled`) are signed the Standard Webhooks way.
The sandbox plays the supplier's warehouse: `/_sandbox/shipbob/...` ships or cancels an order,
by hand or on an autopilot."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.webhook_sender import WebhookSender

VERSION = "2026-07"
TOPICS = ("order.shipped", "order.shipment.cancelled")


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"statusCode": status, "message": message}, status_code=status)


def standard_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """`v1,` + base64 HMAC-SHA256 over `id.timestamp.body`, keyed by the secret's bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


class SupplierAutopilot(BaseModel):
    ship_after_seconds: float | None = Field(None, ge=0, description="None: nothing ships")
    cancel: bool = Field(False, description="the supplier cancels every order (out of stock)")


class ShipBobState:
    def __init__(self, webhook_secret: str) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.subscriptions: dict[str, str] = {}  # topic -> url
        self.autopilot = SupplierAutopilot()
        self.webhooks = WebhookSender("ShipBob-Webhooks")
        self.secret = webhook_secret
        self.next_id = 100_800_000

    def by_reference(self, reference_id: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["reference_id"] == reference_id), None)

    def send(self, topic: str, data: dict[str, Any]) -> None:
        url = self.subscriptions.get(topic)
        if url is None:
            return
        msg_id = f"msg_{uuid.uuid4().hex}"
        timestamp = str(int(time.time()))
        body = {"topic": topic, "data": data}
        raw = json.dumps(body).encode()
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": standard_signature(self.secret, msg_id, timestamp, raw),
        }
        self.webhooks.post(url, raw, headers)

    def ship(self, order: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        shipment = {
            "id": self.next_id,
            "order_id": order["id"],
            "reference_id": order["reference_id"],
            "status": "Completed",
            "tracking": {
                "carrier": "FedEx",
                "tracking_number": f"7{uuid.uuid4().int % 10**11:011d}",
                "tracking_url": None,
            },
            "products": order["products"],
        }
        order["status"] = "Fulfilled"
        order["shipments"].append(shipment)
        self.send("order.shipped", shipment)
        return shipment

    def cancel(self, order: dict[str, Any], reason: str) -> None:
        order["status"] = "Cancelled"
        self.send(
            "order.shipment.cancelled",
            {"order_id": order["id"], "reference_id": order["reference_id"], "reason": reason},
        )

    async def run_autopilot(self, order: dict[str, Any]) -> None:
        pilot = self.autopilot
        if pilot.ship_after_seconds is None:
            return
        await asyncio.sleep(pilot.ship_after_seconds)
        if order["status"] != "Processing":
            return
        if pilot.cancel:
            self.cancel(order, "Out of stock at the supplier")
        else:
            self.ship(order)


def router(state: ShipBobState) -> APIRouter:
    api = APIRouter(prefix=f"/shipbob/{VERSION}")

    @api.post("/order")
    async def create(request: Request) -> Response:
        body = await request.json()
        if not request.headers.get("shipbob_channel_id"):
            return error(400, "shipbob_channel_id header is required")
        if not body.get("reference_id") or not body.get("products"):
            return error(422, "reference_id and products are required")
        if state.by_reference(body["reference_id"]) is not None:
            return error(422, f"Order with reference id {body['reference_id']} already exists")
        state.next_id += 1
        order = {
            **body,
            "id": state.next_id,
            "status": "Processing",
            "created_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "shipments": [],
        }
        state.orders[order["id"]] = order
        state.webhooks.spawn(state.run_autopilot(order))
        return JSONResponse(order, status_code=201)

    @api.get("/order")
    async def search(references: str = Query("", alias="ReferenceIds")) -> list[dict[str, Any]]:
        wanted = set(references.split(","))
        return [o for o in state.orders.values() if o["reference_id"] in wanted]

    @api.post("/order/{order_id}/cancel")
    async def cancel(order_id: int) -> Response:
        order = state.orders.get(order_id)
        if order is None:
            return error(404, f"Order {order_id} not found")
        if order["status"] == "Fulfilled":
            return error(422, f"Order {order_id} has shipped and cannot be cancelled")
        order["status"] = "Cancelled"
        return JSONResponse(order)

    @api.post("/webhook")
    async def subscribe(request: Request) -> Response:
        body = await request.json()
        if body.get("topic") not in TOPICS:
            return error(422, f"unknown topic {body.get('topic')}")
        state.subscriptions[body["topic"]] = body["subscription_url"]
        return JSONResponse({"id": abs(hash(body["topic"])) % 10**6, **body}, status_code=201)

    return api


def control_router(state: ShipBobState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/shipbob", tags=["sandbox control"])

    def open_order(reference_id: str) -> dict[str, Any] | None:
        order = state.by_reference(reference_id)
        return order if order and order["status"] == "Processing" else None

    @api.post("/orders/{reference_id}/ship")
    async def ship(reference_id: str) -> Response:
        order = open_order(reference_id)
        if order is None:
            return JSONResponse({"detail": "no open order"}, status_code=409)
        return JSONResponse(state.ship(order))

    @api.post("/orders/{reference_id}/cancel")
    async def cancel(reference_id: str, reason: str = "Out of stock at the supplier") -> Response:
        order = open_order(reference_id)
        if order is None:
            return JSONResponse({"detail": "no open order"}, status_code=409)
        state.cancel(order, reason)
        return JSONResponse(order)

    @api.get("/orders/{reference_id}")
    async def read(reference_id: str) -> Response:
        order = state.by_reference(reference_id)
        return JSONResponse(order or {"detail": "unknown order"}, status_code=200 if order else 404)

    @api.put("/autopilot")
    async def autopilot(settings: SupplierAutopilot) -> SupplierAutopilot:
        state.autopilot = settings
        return settings

    return api

"""Returns: ShipStation API v2 return labels (`POST /v2/labels` with `is_return_label`, listed by
`external_shipment_id`, voided with `PUT /v2/labels/{id}/void`), and the returns desks of the
warehouse and the stores, which receive parcels and inspect them. A desk's events (`requested`
at a store's counter, `received`, `inspected`) go to subscribers of `POST /returns/v1/webhooks`.
No vendor publishes a returns desk's API: its shape is ours (README). The
sandbox plays the carrier, the warehouse staff and the customer at the counter:
`/_sandbox/returns/...` by hand, or on an autopilot."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.subscribers import Subscribers
from sandbox.webhook_sender import WebhookSender


class DeskAutopilot(BaseModel):
    receive_after_seconds: float | None = Field(None, ge=0, description="None: never arrives")
    inspect_after_seconds: float = Field(0.2, ge=0)
    condition: str = Field("resalable", description="resalable, damaged or wrong_item")


class Inspect(BaseModel):
    condition: str = "resalable"
    lines: list[dict[str, Any]] | None = Field(None, description="default: every line")


class CounterReturn(BaseModel):
    """A customer brings an online order back to a store."""

    order_key: str
    lines: list[dict[str, Any]] = Field(min_length=1, description="[{line_id, sku, quantity}]")
    reason: str = ""


# A warehouse's desk puts resalable goods back on its shelves: (warehouse, SKU, units).
Restock = Callable[[str, str, int], None]


class ReturnsDeskState:
    def __init__(self, restock: Restock | None = None, warehouse: str = "") -> None:
        self.restock = restock
        self.warehouse = warehouse  # where parcels without a warehouse of their own arrive
        self.labels: dict[str, dict[str, Any]] = {}  # by label id
        self.returns: dict[str, dict[str, Any]] = {}  # by RMA
        self.autopilot = DeskAutopilot()
        self.webhooks = WebhookSender("ReturnsDesk")
        self.subscriptions = Subscribers(self.webhooks)

    def event(self, kind: str, parcel: dict[str, Any], **extra: Any) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "kind": kind,
            "rma": parcel.get("rma"),
            "return_id": parcel.get("return_id"),
            "order_key": parcel.get("order_key"),
            "store": parcel.get("store"),
            "warehouse_id": parcel.get("warehouse_id"),
            "lines": parcel.get("lines", []),
            "occurred_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        self.subscriptions.notify(body)

    def expect(self, return_id: str, order_key: str, lines: list[dict[str, Any]]) -> None:
        """A parcel on its way under a channel's label (Walmart's): known by the channel's
        return id, received and inspected like ours."""
        parcel = {
            "rma": None,
            "return_id": return_id,
            "order_key": order_key,
            "lines": lines,
            "status": "label_created",
        }
        self.returns[return_id] = parcel
        self.webhooks.spawn(self.run_autopilot(parcel, received=False))

    def receive(self, parcel: dict[str, Any]) -> None:
        parcel["status"] = "received"
        self.event("received", parcel)

    def inspect(self, parcel: dict[str, Any], action: Inspect) -> None:
        parcel["status"] = "inspected"
        lines = action.lines or [
            {
                "line_id": line["line_id"],
                "quantity": line["quantity"],
                "condition": action.condition,
            }
            for line in parcel.get("lines") or []
        ]
        if self.restock is not None and not parcel.get("store"):
            skus = {line["line_id"]: line.get("sku") for line in parcel.get("lines") or []}
            warehouse = str(parcel.get("warehouse_id") or self.warehouse)
            for line in lines:
                if line["condition"] == "resalable" and skus.get(line["line_id"]):
                    self.restock(warehouse, str(skus[line["line_id"]]), int(line["quantity"]))
        self.event("inspected", parcel, lines=lines)

    async def run_autopilot(self, parcel: dict[str, Any], received: bool) -> None:
        pilot = self.autopilot
        if not received:
            if pilot.receive_after_seconds is None:
                return
            await asyncio.sleep(pilot.receive_after_seconds)
            if parcel["status"] != "label_created":
                return
            self.receive(parcel)
        await asyncio.sleep(pilot.inspect_after_seconds)
        if parcel["status"] in ("received", "requested"):
            self.inspect(parcel, Inspect(condition=pilot.condition))


def router(state: ReturnsDeskState) -> APIRouter:
    api = APIRouter()

    @api.get("/shipstation/v2/labels")
    async def list_labels(external_shipment_id: str | None = None) -> dict[str, Any]:
        labels = [
            label
            for label in state.labels.values()
            if external_shipment_id in (None, label["external_shipment_id"])
        ]
        return {"labels": labels, "total": len(labels), "page": 1, "pages": 1}

    @api.post("/shipstation/v2/labels")
    async def create_label(request: Request) -> Response:
        body = await request.json()
        shipment = body.get("shipment") or {}
        if not shipment.get("ship_from") or not shipment.get("packages"):
            return JSONResponse(
                {"errors": [{"error_code": "invalid_field", "message": "ship_from and packages"}]},
                status_code=400,
            )
        label_id = f"se-{uuid.uuid4().int % 10**9}"
        tracking = f"9202{uuid.uuid4().int % 10**18:018d}"
        label = {
            "label_id": label_id,
            "status": "completed",
            "is_return_label": bool(body.get("is_return_label")),
            "rma_number": body.get("rma_number"),
            "external_shipment_id": shipment.get("external_shipment_id"),
            "carrier_code": "usps",
            "service_code": shipment.get("service_code"),
            "tracking_number": tracking,
            "label_download": {"pdf": f"https://sandbox.example/labels/{label_id}.pdf"},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        state.labels[label_id] = label
        rma = body.get("rma_number") or label_id
        parcel = state.returns.setdefault(rma, {"rma": rma})
        parcel |= {
            "status": "label_created",
            "warehouse_id": shipment.get("warehouse_id"),
            "lines": [
                {"line_id": item.get("external_order_item_id"), "sku": item.get("sku"),
                 "quantity": item.get("quantity")}
                for item in shipment.get("items") or []
            ],
        }  # fmt: skip
        state.webhooks.spawn(state.run_autopilot(parcel, received=False))
        return JSONResponse(label, status_code=200)

    @api.put("/shipstation/v2/labels/{label_id}/void")
    async def void_label(label_id: str) -> Response:
        label = state.labels.get(label_id)
        if label is None:
            return JSONResponse({"errors": [{"message": "label not found"}]}, status_code=404)
        parcel = state.returns.get(label["rma_number"] or "")
        if parcel and parcel["status"] != "label_created":
            return JSONResponse({"approved": False, "message": "The label was already used."})
        label["status"] = "voided"
        if parcel:
            parcel["status"] = "voided"
        return JSONResponse({"approved": True, "message": "Request for refund submitted."})

    state.subscriptions.route(api, "/returns/v1/webhooks")

    return api


def control_router(state: ReturnsDeskState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/returns", tags=["sandbox control"])

    def parcel_in(rma: str, *statuses: str) -> dict[str, Any] | None:
        parcel = state.returns.get(rma)
        return parcel if parcel and parcel["status"] in statuses else None

    @api.post("/stores/{store}")
    async def at_the_counter(store: str, spec: CounterReturn) -> dict[str, Any]:
        """A customer brings goods back to `store`: `requested` (already received there)."""
        return_id = f"POS-{uuid.uuid4().hex[:10]}"
        parcel = {
            "rma": None,
            "return_id": return_id,
            "order_key": spec.order_key,
            "store": store,
            "lines": [{**line, "reason": spec.reason} for line in spec.lines],
            "status": "requested",
        }
        state.returns[return_id] = parcel
        state.event("requested", parcel)
        state.webhooks.spawn(state.run_autopilot(parcel, received=True))
        return parcel

    @api.post("/{rma:path}/receive")
    async def receive(rma: str) -> Response:
        parcel = parcel_in(rma, "label_created")
        if parcel is None:
            return JSONResponse({"detail": "no parcel on its way"}, status_code=409)
        state.receive(parcel)
        return JSONResponse(parcel)

    @api.post("/{rma:path}/inspect")
    async def inspect(rma: str, action: Inspect | None = None) -> Response:
        parcel = parcel_in(rma, "received", "requested")
        if parcel is None:
            return JSONResponse({"detail": "nothing received to inspect"}, status_code=409)
        state.inspect(parcel, action or Inspect())
        return JSONResponse(parcel)

    @api.put("/autopilot")
    async def autopilot(settings: DeskAutopilot) -> DeskAutopilot:
        state.autopilot = settings
        return settings

    @api.get("/{rma:path}")
    async def read(rma: str) -> Response:
        parcel = state.returns.get(rma)
        return JSONResponse(parcel or {"detail": "unknown"}, status_code=200 if parcel else 404)

    return api

"""A store POS's fulfilment API: pick tasks upserted per store and order, either collected at
the counter (handed over there) or shipped from the store (`ship_to` given); cancelled until
they are done; store events (`ready_for_pickup`, `picked_up`, `shipped`, `rejected`) pushed to
subscribers. No vendor standard exists for this: the shape follows common POS
pickup and ship-from-store APIs. The sandbox plays the store staff and the customer too:
`/_sandbox/pos/...` marks a task ready, collected, shipped or rejected, by hand or on an
autopilot."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.subscribers import Subscribers
from sandbox.webhook_sender import WebhookSender

STORES = ("STORE-BOS", "STORE-NYC", "STORE-SF")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


class CollectLine(BaseModel):
    line_id: str
    quantity: int = Field(gt=0)


class Collect(BaseModel):
    lines: list[CollectLine] | None = Field(None, description="default: everything picked")
    event_lost: bool = Field(False, description="the POS's `picked_up` never reaches anyone")


class Autopilot(BaseModel):
    ready_after_seconds: float | None = Field(None, ge=0, description="None: staff idle")
    collect_after_seconds: float | None = Field(None, ge=0, description="None: nobody comes")
    collect_first_line_only: bool = Field(False, description="a partial pickup")
    reject_shipments: bool = Field(
        False, description="ship-from-store tasks are rejected (the goods cannot be found)"
    )


class PosStoreState:
    def __init__(self) -> None:
        self.pickups: dict[tuple[str, str], dict[str, Any]] = {}
        self.autopilot = Autopilot()
        self.webhooks = WebhookSender("StorePOS")
        self.subscriptions = Subscribers(self.webhooks)

    def event(
        self, pickup: dict[str, Any], kind: str, lines: list[dict[str, Any]], **extra: str
    ) -> None:
        body = {
            "event_id": uuid.uuid4().hex,
            "store": pickup["store"],
            "order_key": pickup["order_key"],
            "kind": kind,
            "lines": lines,
            "occurred_at": datetime.now(UTC).isoformat(),
            **extra,
        }
        self.subscriptions.notify(body)

    def ship(self, pickup: dict[str, Any]) -> None:
        pickup["status"] = "shipped"
        pickup["carrier"] = "usps"
        pickup["tracking_number"] = f"9400{uuid.uuid4().int % 10**18:018d}"
        pickup["shipped_at"] = datetime.now(UTC).isoformat()
        self.event(
            pickup,
            "shipped",
            pickup["lines"],
            carrier=pickup["carrier"],
            tracking_number=pickup["tracking_number"],
        )

    def reject(self, pickup: dict[str, Any], reason: str) -> None:
        pickup["status"] = "rejected"
        self.event(pickup, "rejected", pickup["lines"], reason=reason)

    def ready(self, pickup: dict[str, Any]) -> None:
        pickup["status"] = "ready"
        self.event(pickup, "ready_for_pickup", [])

    def collect(
        self, pickup: dict[str, Any], lines: list[CollectLine] | None, event_lost: bool = False
    ) -> None:
        picked = {line["line_id"]: line for line in pickup["lines"]}
        taken = [
            {**picked[x.line_id], "quantity": x.quantity}
            for x in lines or []
            if x.line_id in picked
        ] or list(picked.values())
        pickup["status"], pickup["collected"] = "collected", taken
        if not event_lost:
            self.event(pickup, "picked_up", taken)

    def start_autopilot(self, pickup: dict[str, Any]) -> None:
        if self.autopilot.ready_after_seconds is not None:
            self.webhooks.spawn(self._autopilot(pickup))

    async def _autopilot(self, pickup: dict[str, Any]) -> None:
        pilot = self.autopilot
        await asyncio.sleep(pilot.ready_after_seconds or 0)
        if pickup["status"] != "open":
            return
        if pickup["ship_to"] and pilot.reject_shipments:
            self.reject(pickup, "goods not found on the shelf")
            return
        if pickup["ship_to"]:
            self.ship(pickup)
            return
        self.ready(pickup)
        if pilot.collect_after_seconds is None:
            return
        await asyncio.sleep(pilot.collect_after_seconds)
        if pickup["status"] == "ready":
            first = pickup["lines"][0]
            only = [CollectLine(line_id=first["line_id"], quantity=first["quantity"])]
            self.collect(pickup, only if pilot.collect_first_line_only else None)


def router(state: PosStoreState) -> APIRouter:
    api = APIRouter(prefix="/pos/v1")

    def known(store: str) -> JSONResponse | None:
        if store not in STORES:
            return error(404, "store_not_found", f"no store {store}")
        return None

    def task(store: str, order_key: str) -> dict[str, Any] | JSONResponse:
        """The store's task for the order, or the POS's 404 saying why there is none."""
        if refusal := known(store):
            return refusal
        pickup = state.pickups.get((store, order_key))
        if pickup is None:
            return error(404, "pickup_not_found", f"no pickup for {order_key}")
        return pickup

    @api.put("/stores/{store}/pickups/{order_key}")
    async def upsert(store: str, order_key: str, request: Request) -> Response:
        if refusal := known(store):
            return refusal
        body = await request.json()
        if not body.get("lines"):
            return error(422, "invalid", "lines are required")
        existing = state.pickups.get((store, order_key))
        if existing is not None:
            return JSONResponse(existing)
        pickup = {
            "id": f"pk_{uuid.uuid4().hex[:12]}",
            "store": store,
            "order_key": order_key,
            "status": "open",
            "order_number": body.get("order_number"),
            "customer": body.get("customer"),
            "lines": body["lines"],
            "pick_by": body.get("pick_by"),
            "ship_to": body.get("ship_to"),
            "handovers": {},
            "created_at": time.time(),
        }
        state.pickups[store, order_key] = pickup
        state.start_autopilot(pickup)
        return JSONResponse(pickup, status_code=201)

    @api.get("/stores/{store}/pickups/{order_key}")
    async def read_task(store: str, order_key: str) -> Response:
        """The task as the store's staff left it (a shipped one names its parcel)."""
        pickup = task(store, order_key)
        return pickup if isinstance(pickup, JSONResponse) else JSONResponse(pickup)

    @api.delete("/stores/{store}/pickups/{order_key}")
    async def cancel(store: str, order_key: str) -> Response:
        pickup = task(store, order_key)
        if isinstance(pickup, JSONResponse):
            return pickup
        if pickup["status"] in ("collected", "shipped"):
            return error(409, pickup["status"], f"{order_key} was already {pickup['status']}")
        pickup["status"] = "cancelled"
        return Response(status_code=204)

    @api.post("/stores/{store}/pickups/{order_key}/handovers")
    async def hand_over(store: str, order_key: str, request: Request) -> Response:
        if refusal := known(store):
            return refusal
        pickup = state.pickups.get((store, order_key))
        if pickup is None or pickup["status"] == "cancelled":
            return error(409, "not_collectable", f"no open pickup for {order_key}")
        body = await request.json()
        handover_id = body.get("handover_id")
        if not handover_id or not body.get("lines"):
            return error(422, "invalid", "handover_id and lines are required")
        receipt = pickup["handovers"].setdefault(
            handover_id, {"receipt_id": f"rc_{uuid.uuid4().hex[:12]}", "lines": body["lines"]}
        )
        pickup["status"] = "collected"
        pickup.setdefault("collected", body["lines"])
        return JSONResponse(receipt)

    state.subscriptions.route(api, "/webhooks")

    return api


def control_router(state: PosStoreState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/pos", tags=["sandbox control"])

    def found(store: str, order_key: str) -> dict[str, Any] | None:
        return state.pickups.get((store, order_key))

    @api.post("/stores/{store}/pickups/{order_key}/ready")
    async def ready(store: str, order_key: str) -> Response:
        """The staff picked it: `ready_for_pickup` goes to the subscribers."""
        pickup = found(store, order_key)
        if pickup is None or pickup["status"] != "open":
            return JSONResponse({"detail": "no open pickup"}, status_code=409)
        state.ready(pickup)
        return JSONResponse(pickup)

    @api.post("/stores/{store}/pickups/{order_key}/collect")
    async def collect(store: str, order_key: str, action: Collect | None = None) -> Response:
        """The customer came: `picked_up` (all lines, or those given) goes to the subscribers
        (unless `event_lost`)."""
        pickup = found(store, order_key)
        if pickup is None or pickup["status"] != "ready":
            return JSONResponse({"detail": "no pickup ready"}, status_code=409)
        action = action or Collect()
        state.collect(pickup, action.lines, action.event_lost)
        return JSONResponse(pickup)

    @api.post("/stores/{store}/pickups/{order_key}/ship")
    async def ship(store: str, order_key: str) -> Response:
        """Ship from store: the parcel left, `shipped` with its tracking goes out."""
        pickup = found(store, order_key)
        if pickup is None or pickup["status"] != "open" or not pickup["ship_to"]:
            return JSONResponse({"detail": "no open ship-from-store task"}, status_code=409)
        state.ship(pickup)
        return JSONResponse(pickup)

    @api.post("/stores/{store}/pickups/{order_key}/reject")
    async def reject(store: str, order_key: str, reason: str = "goods not found") -> Response:
        """The staff cannot fulfil the task: `rejected` goes to the subscribers."""
        pickup = found(store, order_key)
        if pickup is None or pickup["status"] != "open":
            return JSONResponse({"detail": "no open task"}, status_code=409)
        state.reject(pickup, reason)
        return JSONResponse(pickup)

    @api.get("/stores/{store}/pickups/{order_key}")
    async def read(store: str, order_key: str) -> Response:
        pickup = found(store, order_key)
        return JSONResponse(
            pickup or {"detail": "unknown pickup"}, status_code=200 if pickup else 404
        )

    @api.put("/autopilot")
    async def autopilot(settings: Autopilot) -> Autopilot:
        state.autopilot = settings
        return settings

    return api

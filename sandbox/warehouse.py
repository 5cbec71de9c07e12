"""The warehouse's stock reservations (on hand minus reserved), keyed by order. A stop-gap for
the inventory service; idempotent per reservation key like the adapter expects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sandbox.catalog import CATALOG, INITIAL_STOCK


class ReserveLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class ReserveBody(BaseModel):
    lines: list[ReserveLine]


class StockLevel(BaseModel):
    on_hand: int = Field(ge=0)


class WarehouseState:
    def __init__(self) -> None:
        self.on_hand: dict[str, int] = {item.sku: INITIAL_STOCK for item in CATALOG}
        self.reservations: dict[str, dict[str, Any]] = {}

    def reserved(self, sku: str) -> int:
        return sum(
            line["quantity"]
            for r in self.reservations.values()
            if r["status"] == "active"
            for line in r["lines"]
            if line["sku"] == sku
        )


def router(state: WarehouseState) -> APIRouter:
    api = APIRouter(prefix="/warehouse/v1")

    @api.put("/reservations/{key}")
    async def reserve(key: str, body: ReserveBody, request: Request) -> Response:
        lines = [line.model_dump() for line in body.lines]
        existing = state.reservations.get(key)
        if existing and existing["status"] != "released":
            return JSONResponse(existing)
        for line in lines:
            if line["sku"] not in state.on_hand:
                return JSONResponse(
                    {"error": "unknown_sku", "message": f"unknown SKU {line['sku']}"},
                    status_code=422,
                )
            available = state.on_hand[line["sku"]] - state.reserved(line["sku"])
            if available < line["quantity"]:
                message = f"{line['sku']}: requested {line['quantity']}, available {available}"
                return JSONResponse(
                    {"error": "insufficient_stock", "message": message}, status_code=409
                )
        state.reservations[key] = {"key": key, "status": "active", "lines": lines}
        return JSONResponse(state.reservations[key], status_code=201)

    @api.delete("/reservations/{key}")
    async def release(key: str) -> Response:
        existing = state.reservations.get(key)
        if existing is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        if existing["status"] == "active":
            existing["status"] = "released"
        return Response(status_code=204)

    @api.post("/reservations/{key}/commit")
    async def commit(key: str) -> Response:
        existing = state.reservations.get(key)
        if existing is None:
            return JSONResponse(
                {"error": "not_found", "message": f"no reservation {key}"}, status_code=404
            )
        if existing["status"] == "active":
            for line in existing["lines"]:
                state.on_hand[line["sku"]] -= line["quantity"]
            existing["status"] = "committed"
        return JSONResponse(existing)

    @api.get("/stock/{sku}")
    async def stock(sku: str) -> Response:
        if sku not in state.on_hand:
            return JSONResponse({"error": "unknown_sku"}, status_code=404)
        reserved = state.reserved(sku)
        return JSONResponse({"sku": sku, "on_hand": state.on_hand[sku], "reserved": reserved,
                             "available": state.on_hand[sku] - reserved})  # fmt: skip

    return api


def control_router(state: WarehouseState) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/warehouse", tags=["sandbox control"])

    @api.put("/stock/{sku}")
    async def set_stock(sku: str, level: StockLevel) -> dict[str, Any]:
        state.on_hand[sku] = level.on_hand
        return {"sku": sku, "on_hand": level.on_hand}

    return api

"""`POST /webhooks/returns`: the returns desks' events (bearer key)."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.dispatcher import Dispatcher
from ingest.returns import SOURCE
from webhooks.token import bearer_router


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    return bearer_router(
        dispatcher,
        source=SOURCE,
        api_key=api_key,
        key=lambda body: (body["kind"], body["event_id"]),
        summary="A returns desk event (warehouse or store counter)",
        description='`{"event_id", "kind": "requested" | "received" | "inspected", '
        '"order_key", "rma", "return_id", "store", "warehouse_id", "lines": [{"line_id", '
        '"sku", "quantity", "condition": "resalable" | "damaged" | "wrong_item", "reason"}], '
        '"occurred_at"}`, `Authorization: Bearer <RETURNS_API_KEY>`.',
    )

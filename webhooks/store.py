"""`POST /webhooks/store`: stores' events for pick tasks (bearer key)."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.dispatcher import Dispatcher
from ingest.store import SOURCE
from webhooks.token import bearer_router


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    return bearer_router(
        dispatcher,
        source=SOURCE,
        api_key=api_key,
        key=lambda body: (body["kind"], f"{body['store']}:{body['event_id']}"),
        summary="A store event for an order collected in store or shipped from the store",
        description='`{"event_id", "store", "order_key", "kind": "ready_for_pickup" | '
        '"picked_up" | "shipped" | "rejected", "lines": [{"line_id", "sku", "quantity"}], '
        '"occurred_at", "carrier", "tracking_number", "reason"}`, '
        "`Authorization: Bearer <POS_API_KEY>`.",
    )

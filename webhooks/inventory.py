"""`POST /webhooks/inventory`: batches of stock movements (bearer key)."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.dispatcher import Dispatcher
from ingest.inventory import SOURCE
from webhooks.token import bearer_router


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    return bearer_router(
        dispatcher,
        source=SOURCE,
        api_key=api_key,
        key=lambda body: ("events", f"{body['source']}:{body['batch_id']}"),
        summary="A batch of stock movements",
        description='`{"source", "batch_id", "events": [{"event_id", "kind", "sku", "node", '
        '"quantity", "to_node"?, "occurred_at"?, "reference"?}]}`, '
        "`Authorization: Bearer <INVENTORY_API_KEY>`.",
    )

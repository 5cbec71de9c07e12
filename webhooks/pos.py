"""`POST /webhooks/pos`: batches of store sales (bearer key)."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.dispatcher import Dispatcher
from ingest.pos import SOURCE
from webhooks.token import bearer_router


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    return bearer_router(
        dispatcher,
        source=SOURCE,
        api_key=api_key,
        key=lambda body: ("sales", f"{body['store_id']}:{body['batch_id']}"),
        summary="A batch of store sales",
        description='`{"store_id", "batch_id", "sales": [...]}`, '
        "`Authorization: Bearer <POS_API_KEY>`.",
    )

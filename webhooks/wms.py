"""`POST /webhooks/wms?token=…`: ShipStation V1 notifications (unsigned: token in the URL)."""

from __future__ import annotations

from fastapi import APIRouter

from ingest.dispatcher import Dispatcher
from ingest.wms import SOURCE
from webhooks.token import token_router


def router(dispatcher: Dispatcher, token: str) -> APIRouter:
    return token_router(
        dispatcher,
        source=SOURCE,
        token=token,
        key=lambda body: (body["resource_type"], f"{body['resource_type']}:{body['resource_url']}"),
        summary="ShipStation V1 webhook (resource_url, resource_type)",
    )

"""`POST /webhooks/dropship`: the drop-ship supplier's Standard Webhooks signature checked
before anything is parsed, then handed to the ingest service under `webhook-id`."""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.shipbob import signature_valid
from ingest.dispatcher import Dispatcher
from ingest.dropship import SOURCE
from webhooks.answer import answered


def router(dispatcher: Dispatcher, secret: str) -> APIRouter:
    api = APIRouter(tags=[SOURCE])

    @api.post(
        "/webhooks/dropship",
        status_code=202,
        summary="A drop-ship supplier's webhook (ShipBob-shaped, Standard Webhooks signature)",
    )
    async def supplier_event(request: Request) -> JSONResponse:
        raw = await request.body()
        headers = {
            name: request.headers.get(name, "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        if not signature_valid(secret, headers, raw, time.time()):
            return JSONResponse({"detail": "bad, old or missing signature"}, status_code=401)
        try:
            topic = str(json.loads(raw).get("topic", ""))
        except (ValueError, AttributeError):
            topic = ""
        kept = {"webhook-id": headers["webhook-id"]}
        return answered(await dispatcher.receive(SOURCE, topic, headers["webhook-id"], kept, raw))

    return api

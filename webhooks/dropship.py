"""`POST /webhooks/dropship`: a drop-ship supplier's ShipBob-shaped webhooks, signed the
Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,` + base64
HMAC-SHA256 of `id.timestamp.body` keyed by the `whsec_` secret), checked before parsing, at
most five minutes old, deduplicated on `webhook-id`. `order.shipped` becomes a shipment of the
group whose key is the order's `reference_id`; `order.shipment.cancelled` tells that group its
supplier will not ship it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError, RPCStatusCode

from adapters.shipbob import shipment_from
from canonical.order import order_workflow_id, parse_order_key
from inbox.store import InboxEntry, InboxStatus
from webhooks.dispatcher import Dispatcher
from webhooks.outcome import Outcome, accepted, rejected, temporal_call
from webhooks.temporal_link import TemporalLink
from workflows.order_inputs import NodeRejection
from workflows.shipment_group import ShipmentGroupWorkflow

SOURCE = "dropship"
TOLERANCE_SECONDS = 300


def signature_valid(secret: str, headers: dict[str, str], raw: bytes, now: float) -> bool:
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        return False
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    given = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, g.encode()) for g in given if g)


class SupplierEvents:
    def __init__(self, temporal: TemporalLink) -> None:
        self._temporal = temporal

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            body = json.loads(entry.body)
            data = body["data"]
            workflow_id = order_workflow_id(*parse_order_key(data["reference_id"]))
        except (ValueError, KeyError, TypeError) as exc:
            return rejected(422, f"not a supplier webhook: {exc!r}")
        handle = (await self._temporal.client()).get_workflow_handle(workflow_id)
        try:
            with temporal_call():
                if entry.topic == "order.shipped":
                    await handle.signal(
                        ShipmentGroupWorkflow.shipment_received, shipment_from(data)
                    )
                elif entry.topic == "order.shipment.cancelled":
                    reason = data.get("reason") or "cancelled by the supplier"
                    await handle.signal(
                        ShipmentGroupWorkflow.node_rejected, NodeRejection(reason=reason)
                    )
                else:
                    return Outcome(InboxStatus.IGNORED, 200, detail=f"{entry.topic} ignored")
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            return Outcome(InboxStatus.FAILED, 202, workflow_id, "no open shipment group")
        return accepted(workflow_id, entry.topic)


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
        return await dispatcher.receive(SOURCE, topic, headers["webhook-id"], kept, raw)

    return api

"""`POST /webhooks/wms`: ShipStation-style thin SHIP_NOTIFY. The body is only a pointer, V1
webhooks are unsigned, so the URL carries a secret token and shipments are re-fetched from
the WMS before the order workflow is signalled."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from adapters.errors import BusinessError, PartnerError
from adapters.ports import WmsPort
from canonical.order import order_workflow_id, parse_order_key
from webhooks.temporal_link import TemporalLink
from workflows.order_to_cash import OrderToCashWorkflow

log = logging.getLogger("webhooks.wms")
SHIPMENT_EVENTS = {"SHIP_NOTIFY", "ITEM_SHIP_NOTIFY", "FULFILLMENT_SHIPPED"}


class ThinNotification(BaseModel):
    resource_url: str
    resource_type: str


def router(wms: WmsPort, temporal: TemporalLink, token: str) -> APIRouter:
    api = APIRouter()

    @api.post("/webhooks/wms", status_code=202)
    async def wms_notification(
        notification: ThinNotification, request: Request, token_: str = Query("", alias="token")
    ) -> JSONResponse:
        if not hmac.compare_digest(token_.encode(), token.encode()):
            return JSONResponse({"detail": "bad or missing token"}, status_code=401)
        if notification.resource_type not in SHIPMENT_EVENTS:
            return JSONResponse(
                {"detail": f"{notification.resource_type} ignored"}, status_code=200
            )
        try:
            shipments = await wms.fetch_shipments(notification.resource_url)
        except BusinessError as exc:
            return JSONResponse({"detail": exc.message}, status_code=422)
        except PartnerError as exc:
            # The WMS will deliver again; we could not read the resource now.
            return JSONResponse({"detail": f"WMS unavailable: {exc.message}"}, status_code=503)
        try:
            client = await temporal.client()
        except RuntimeError as exc:
            return JSONResponse({"detail": f"Temporal unavailable: {exc}"}, status_code=503)
        signalled, unknown = [], []
        for shipment in shipments:
            workflow_id = order_workflow_id(*parse_order_key(shipment.order_key))
            try:
                await client.get_workflow_handle(workflow_id).signal(
                    OrderToCashWorkflow.shipment_received, shipment
                )
                signalled.append(workflow_id)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    return JSONResponse({"detail": f"Temporal unavailable: {exc}"}, status_code=503)
                log.warning(
                    "shipment %s for unknown or closed order %s", shipment.shipment_id, workflow_id
                )
                unknown.append(workflow_id)
        return JSONResponse({"signalled": signalled, "unknown": unknown}, status_code=202)

    return api

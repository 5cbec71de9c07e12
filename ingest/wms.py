"""`POST /webhooks/wms`: ShipStation-style thin SHIP_NOTIFY. The body is only a pointer and V1
webhooks are unsigned, so the URL carries a secret token and shipments are re-fetched from
the WMS before the order workflows are signalled (voided shipments included: the workflow
drops a voided shipment it has not confirmed yet)."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ValidationError
from temporalio.service import RPCError, RPCStatusCode

from adapters.errors import BusinessError, PartnerError
from adapters.ports import WmsPort
from canonical.order import order_workflow_id, parse_order_key
from inbox.outcome import Outcome, accepted, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.temporal import temporal_call
from ingest.temporal_link import TemporalLink
from workflows.order_to_cash import OrderToCashWorkflow

log = logging.getLogger("ingest.wms")
SOURCE = "wms"
SHIPMENT_EVENTS = {"SHIP_NOTIFY", "ITEM_SHIP_NOTIFY", "FULFILLMENT_SHIPPED"}


class ThinNotification(BaseModel):
    resource_url: str
    resource_type: str


class WmsNotifications:
    def __init__(self, wms: WmsPort, temporal: TemporalLink) -> None:
        self._wms = wms
        self._temporal = temporal

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            notification = ThinNotification.model_validate_json(entry.body)
        except ValidationError as exc:
            return rejected(422, f"not a WMS notification: {exc.errors()[0]['msg']}")
        if notification.resource_type not in SHIPMENT_EVENTS:
            return Outcome(InboxStatus.IGNORED, 200, detail=f"{notification.resource_type} ignored")
        try:
            shipments = await self._wms.fetch_shipments(notification.resource_url)
        except BusinessError as exc:
            return rejected(422, exc.message)
        except PartnerError as exc:
            # Kept as failed; the WMS redelivers and the redelivery is processed again.
            return Outcome(InboxStatus.FAILED, 503, detail=f"WMS unavailable: {exc.message}")
        client = await self._temporal.client()
        signalled, unknown = [], []
        for shipment in shipments:
            workflow_id = order_workflow_id(*parse_order_key(shipment.order_key))
            try:
                with temporal_call():
                    await client.get_workflow_handle(workflow_id).signal(
                        OrderToCashWorkflow.shipment_received, shipment
                    )
                signalled.append(workflow_id)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                log.warning(
                    "shipment %s for unknown or closed %s", shipment.shipment_id, workflow_id
                )
                unknown.append(workflow_id)
        if not signalled:
            return Outcome(InboxStatus.FAILED, 202, detail=f"no open order for {unknown}")
        return accepted(", ".join(sorted(set(signalled))))

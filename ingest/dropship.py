"""`POST /webhooks/dropship`: a drop-ship supplier's ShipBob-shaped webhooks, signed the
Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`: `v1,` + base64
HMAC-SHA256 of `id.timestamp.body` keyed by the `whsec_` secret), checked before parsing, at
most five minutes old, deduplicated on `webhook-id`. `order.shipped` becomes a shipment of the
group whose key is the order's `reference_id`; `order.shipment.cancelled` tells that group its
supplier will not ship it."""

from __future__ import annotations

import json

from temporalio.service import RPCError, RPCStatusCode

from adapters.shipbob import shipment_from
from canonical.order import order_workflow_id, parse_order_key
from inbox.outcome import Outcome, accepted, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.temporal import temporal_call
from ingest.temporal_link import TemporalLink
from workflows.order_inputs import NodeRejection
from workflows.shipment_group import ShipmentGroupWorkflow

SOURCE = "dropship"


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

"""`POST /webhooks/store`: events from a store's POS. For orders collected in store,
`ready_for_pickup` (signalled to the order's click-and-collect workflow) and `picked_up` (an
update named by the POS's event id: a pickup the order can never take, e.g. after it was
cancelled, is answered `refused` with the reason; one that overtook the order is held by it
until the pick task is out, and a redelivery gets the first delivery's answer). For a split
order's group shipped from the store, `shipped` (a shipment with its tracking) and `rejected`
(the store cannot ship it), signalled to the group's workflow.
Authenticated with the stores' API key; deduplicated on the POS event id."""

from __future__ import annotations

from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import Shipment
from canonical.order import order_workflow_id, parse_order_key
from canonical.pickup import StoreEvent, StoreEventKind, store_parcel
from inbox.outcome import Outcome, accepted, refused, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.temporal import temporal_call
from ingest.event_updates import deliver_event
from ingest.temporal_link import TemporalLink
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.order_inputs import NodeRejection
from workflows.shipment_group import ShipmentGroupWorkflow

SOURCE = "store"


def shipment_of(event: StoreEvent) -> Shipment:
    """A parcel shipped from the store (one without a tracking number named by the event)."""
    return store_parcel(
        event.store,
        event.order_key,
        event.lines,
        event.carrier,
        event.tracking_number or event.event_id,
        event.occurred_at.date(),
    )


class StoreEvents:
    def __init__(self, temporal: TemporalLink) -> None:
        self._temporal = temporal

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            event = StoreEvent.model_validate_json(entry.body)
            workflow_id = order_workflow_id(*parse_order_key(event.order_key))
        except (ValidationError, ValueError) as exc:
            return rejected(422, f"not a store event: {exc}")
        handle = (await self._temporal.client()).get_workflow_handle(workflow_id)
        try:
            with temporal_call():
                match event.kind:
                    case StoreEventKind.READY_FOR_PICKUP:
                        await handle.signal(ClickAndCollectWorkflow.ready_for_pickup, event)
                    case StoreEventKind.PICKED_UP:
                        picked_up = ClickAndCollectWorkflow.picked_up
                        if not await deliver_event(
                            handle, picked_up, event, SOURCE, event.event_id
                        ):
                            return accepted(workflow_id, "picked_up: held until the pick task")
                    case StoreEventKind.SHIPPED:
                        await handle.signal(
                            ShipmentGroupWorkflow.shipment_received, shipment_of(event)
                        )
                    case StoreEventKind.REJECTED:
                        await handle.signal(
                            ShipmentGroupWorkflow.node_rejected,
                            NodeRejection(reason=event.reason or "rejected by the store"),
                        )
        except WorkflowUpdateFailedError as exc:
            return refused(workflow_id, str(getattr(exc.cause, "message", exc.cause or exc)))
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            return Outcome(InboxStatus.FAILED, 202, workflow_id, "no open order to route it to")
        return accepted(workflow_id, event.kind.value)

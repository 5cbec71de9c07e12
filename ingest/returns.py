"""`POST /webhooks/returns`: events of the returns desks, at the warehouse and at the stores'
counters (`Authorization: Bearer <RETURNS_API_KEY>`; the service subscribes to the desk at
start), deduplicated on the desk's event id. `requested` starts a return brought to a store;
`received` tells the return its parcel arrived; `inspected` gives it the inspection result (an
update: a result the return refuses is answered `refused` with the reason). An event for a
return not started yet is answered 409 after a short wait, so the desk sends it again; one
for a return that has closed is refused, unless that return took it (an inspection is an
update named by the desk's event id: a redelivery gets the first delivery's answer).
Channels start returns too: Shopify `refunds/create` with returned lines (webhooks/shopify.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from canonical.order import parse_order_key
from canonical.returns import (
    InspectedLine,
    Inspection,
    ReturnLine,
    ReturnReceipt,
    ReturnRequest,
    ReturnSource,
)
from inbox.outcome import Outcome, accepted, refused, rejected
from inbox.store import InboxEntry, InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from ingest.event_updates import deliver_event
from ingest.temporal_link import TemporalLink
from inventory.network import configured_network
from services.returns import UnknownOrder, start_return
from workflows.returns import ReturnWorkflow

SOURCE = "returns"
START_PATIENCE_SECONDS = 3.0  # how long an event waits for the return it belongs to


class DeskLine(BaseModel):
    line_id: str
    sku: str = ""
    quantity: int = Field(gt=0)
    condition: str | None = None
    reason: str = ""


class DeskEvent(BaseModel):
    event_id: str = Field(min_length=1)
    kind: str = Field(pattern="^(requested|received|inspected)$")
    order_key: str | None = Field(default=None, description="requested: the order returned")
    rma: str | None = Field(default=None, description="Our RMA: the return's workflow id")
    return_id: str | None = Field(default=None, description="requested: the POS's return id")
    store: str | None = None
    warehouse_id: str | None = None
    lines: list[DeskLine] = Field(default_factory=list)
    occurred_at: datetime


async def return_started(
    temporal: TemporalLink, settings: Settings, request: ReturnRequest, *, may_precede: bool
) -> Outcome:
    """One return, one workflow, however often it is reported. A channel may report a return
    before its order (`may_precede`): kept as failed, `inbox replay` starts it later."""
    client = await temporal.client()
    try:
        with temporal_call():
            handle = await start_return(client, settings, request)
    except UnknownOrder as exc:
        if may_precede:
            return Outcome(InboxStatus.FAILED, 202, request.workflow_id, str(exc))
        return rejected(422, str(exc))
    return accepted(handle.id, "return started")


async def returns_started(
    temporal: TemporalLink, settings: Settings, requests: list[ReturnRequest]
) -> Outcome:
    """The returns a channel's report names (polled: its order may not be known yet, kept as
    failed and tried again by the next poll)."""
    started = [
        await return_started(temporal, settings, request, may_precede=True) for request in requests
    ]
    failed = [outcome for outcome in started if outcome.status is not InboxStatus.ACCEPTED]
    return failed[0] if failed else started[0]


class ReturnDeskEvents:
    def __init__(self, temporal: TemporalLink, settings: Settings) -> None:
        self._temporal = temporal
        self._settings = settings
        nodes = configured_network(settings.inventory_network, settings.erp).nodes
        self._by_warehouse = {n.wms_warehouse: n.code for n in nodes if n.wms_warehouse}

    async def _requested(self, event: DeskEvent) -> Outcome:
        """A customer brought goods back to a store's counter: a new return."""
        try:
            channel, external_id = parse_order_key(event.order_key or "")
        except ValueError:
            return rejected(422, f"unknown order key {event.order_key!r}")
        if not event.store or not event.return_id or not event.lines:
            return rejected(422, "a return at the counter names its store, id and lines")
        request = ReturnRequest(
            return_id=event.return_id,
            channel=channel,
            external_order_id=external_id,
            source=ReturnSource.STORE,
            lines=[ReturnLine(**line.model_dump(exclude={"condition"})) for line in event.lines],
            requested_at=event.occurred_at,
            store=event.store,
        )
        return await return_started(self._temporal, self._settings, request, may_precede=False)

    async def handle(self, entry: InboxEntry) -> Outcome:
        try:
            event = DeskEvent.model_validate_json(entry.body)
        except ValidationError as exc:
            return rejected(422, f"not a returns desk event: {exc}")
        if event.kind == "requested":
            return await self._requested(event)
        if event.rma:
            workflow_id = event.rma
        else:
            try:
                channel, external_id = parse_order_key(event.order_key or "")
            except ValueError:
                return rejected(422, "a desk event names its RMA, or its order_key and return_id")
            workflow_id = ReturnRequest.workflow_id_of(channel, external_id, event.return_id or "")
        handle = (await self._temporal.client()).get_workflow_handle(workflow_id)
        waited = 0.0
        while True:
            try:
                with temporal_call():
                    applied = await self._route(handle, event)
                held = "" if applied else ": held until the return is authorised"
                return accepted(workflow_id, event.kind + held)
            except (WorkflowUpdateFailedError, ValidationError) as exc:
                cause = getattr(getattr(exc, "cause", None), "message", None) or str(exc)
                return refused(workflow_id, cause)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:
                    raise
                if closed := await _closed(handle):
                    return refused(workflow_id, f"return {workflow_id} is closed ({closed})")
                if waited >= START_PATIENCE_SECONDS:  # kept; the desk delivers it again
                    return Outcome(
                        InboxStatus.FAILED, 409, workflow_id, "no open return for it yet: resend"
                    )
            # A desk can report its inspection before the return it started has begun.
            await asyncio.sleep(0.25)
            waited += 0.25

    async def _route(self, handle: WorkflowHandle[Any, Any], event: DeskEvent) -> bool:
        """An inspected parcel was received: its receipt goes first (the return keeps the
        first), so an inspection overtaking its receipt event is not refused. False when the
        return holds the inspection until it is authorised."""
        node = event.store or self._by_warehouse.get(
            event.warehouse_id or "", self._settings.returns_node
        )
        receipt = ReturnReceipt(event_id=event.event_id, node=node, received_at=event.occurred_at)
        try:
            await handle.signal(ReturnWorkflow.return_received, receipt)
        except RPCError as exc:
            # A closed return that took this inspection answers from its update below.
            if exc.status is not RPCStatusCode.NOT_FOUND or event.kind == "received":
                raise
        if event.kind == "received":
            return True
        inspection = Inspection(
            event_id=event.event_id,
            lines=[
                InspectedLine(
                    line_id=line.line_id,
                    quantity=line.quantity,
                    condition=line.condition or "resalable",
                )
                for line in event.lines
            ],
        )
        inspected = ReturnWorkflow.inspection_result
        return await deliver_event(handle, inspected, inspection, SOURCE, event.event_id)


async def _closed(handle: WorkflowHandle[Any, Any]) -> str | None:
    """How the workflow ended, when it did; None while it runs or before it started."""
    try:
        with temporal_call():
            description = await handle.describe()
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        return None
    status = description.status
    if status is None or status is WorkflowExecutionStatus.RUNNING:
        return None
    return status.name.lower()

"""`POST /webhooks/store`: events from a store's POS for orders collected in store —
`ready_for_pickup` (signalled to the order's click-and-collect workflow) and `picked_up` (an
update: a pickup the order refuses, e.g. after it was cancelled, is answered `refused` with
the reason). Authenticated with the stores' API key; deduplicated on the POS event id."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from canonical.order import order_workflow_id, parse_order_key
from canonical.pickup import StoreEvent, StoreEventKind
from inbox.store import InboxEntry, InboxStatus
from webhooks.dispatcher import Dispatcher
from webhooks.outcome import Outcome, accepted, refused, rejected, temporal_call
from webhooks.temporal_link import TemporalLink
from webhooks.token import bearer_router
from workflows.click_and_collect import ClickAndCollectWorkflow

SOURCE = "store"


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
                if event.kind is StoreEventKind.READY_FOR_PICKUP:
                    await handle.signal(ClickAndCollectWorkflow.ready_for_pickup, event)
                else:
                    await handle.execute_update(ClickAndCollectWorkflow.picked_up, event)
        except WorkflowUpdateFailedError as exc:
            return refused(workflow_id, str(getattr(exc.cause, "message", exc.cause or exc)))
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            return Outcome(InboxStatus.FAILED, 202, workflow_id, "no open order to route it to")
        return accepted(workflow_id, event.kind.value)


def router(dispatcher: Dispatcher, api_key: str) -> APIRouter:
    return bearer_router(
        dispatcher,
        source=SOURCE,
        api_key=api_key,
        key=lambda body: (body["kind"], f"{body['store']}:{body['event_id']}"),
        summary="A store event for an order collected in store",
        description='`{"event_id", "store", "order_key", "kind": "ready_for_pickup" | '
        '"picked_up", "lines": [{"line_id", "sku", "quantity"}], "occurred_at"}`, '
        "`Authorization: Bearer <POS_API_KEY>`.",
    )

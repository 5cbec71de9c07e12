"""What starting or cancelling an order from a channel delivery comes to, for every channel."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import Order
from inbox.store import InboxStatus
from infra.settings import Settings
from ingest.outcome import Outcome, accepted, refused, temporal_call
from services.orders import cancel_from_channel, start_order


async def order_started(client: Client, settings: Settings, order: Order) -> Outcome:
    """One order, one workflow: a closed one is reported, never started again."""
    try:
        with temporal_call():
            await start_order(client, settings, order)
    except WorkflowAlreadyStartedError:
        return Outcome(InboxStatus.ACCEPTED, 200, order.workflow_id, "order already processed")
    return accepted(order.workflow_id)


async def order_cancelled(client: Client, settings: Settings, order: Order, reason: str) -> Outcome:
    """Cancelled by the channel, also before the order arrived; refused once shipped or closed."""
    try:
        with temporal_call():
            await cancel_from_channel(client, settings, order, reason)
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        return refused(order.workflow_id, cause)
    except (WorkflowAlreadyStartedError, RPCError) as exc:
        if isinstance(exc, RPCError) and exc.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
        return refused(order.workflow_id, "the order is already closed")
    return accepted(order.workflow_id, "cancellation accepted")

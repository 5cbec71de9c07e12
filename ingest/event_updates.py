"""A partner's event (a store's collection, a desk's inspection) delivered as a workflow update
named by the event's own id: Temporal keeps one update per id, so a resend or a re-drive after
a lost answer gets the first delivery's outcome (even once the workflow has closed) instead of
being checked again and refused as a repeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)

ANSWER_WAIT = timedelta(seconds=2)  # how long a delivery waits for the update to be applied


async def deliver_event(
    handle: WorkflowHandle[Any, Any], update: Any, arg: Any, source: str, event_id: str
) -> bool:
    """True once the workflow applied the event; False when it accepted it and applies it
    when it reaches the state the event belongs to. Raises `WorkflowUpdateFailedError` when
    the workflow refused it."""
    pending = await handle.start_update(
        update, arg, id=f"{source}:{event_id}", wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    try:
        await pending.result(rpc_timeout=ANSWER_WAIT)
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return False
    return True

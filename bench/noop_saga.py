"""The engine's ceiling for the saga: a no-op workflow that plays the shape of a completed
order's recorded history (tests/histories) with none of its work. Either its activities alone,
or its whole event shape: the search attributes it starts with, its status upserts, and the
wait for the warehouse's shipment signal (sent by the activity before it, as a warehouse that
ships at once would)."""

from __future__ import annotations

import base64
import json
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

COMPLETED_ORDER = "tests/histories/order_to_cash__completed.json"
ACTIVITY, WAIT, STATUS = "activity", "wait", "status:"  # steps; STATUS is followed by the value
ORDER_STATUS = "OrderStatus"


@dataclass(frozen=True)
class NoopShape:
    steps: list[str]
    start_attributes: dict[str, str]

    @property
    def activities(self) -> int:
        return self.steps.count(ACTIVITY)

    def search_attributes(self) -> TypedSearchAttributes:
        return TypedSearchAttributes(
            [
                SearchAttributePair(SearchAttributeKey.for_keyword(name), value)
                for name, value in self.start_attributes.items()
            ]
        )


def _keywords(fields: dict[str, dict[str, str]]) -> dict[str, str]:
    return {name: json.loads(base64.b64decode(p["data"])) for name, p in fields.items()}


def order_shape(*, whole: bool) -> NoopShape:
    """The completed order's shape: its activities, and with `whole` the rest of its events."""
    steps: list[str] = []
    history = Path(__file__).resolve().parents[1] / COMPLETED_ORDER
    events = json.loads(history.read_text())["events"]
    for event in events:
        kind = event["eventType"].removeprefix("EVENT_TYPE_")
        if kind == "ACTIVITY_TASK_SCHEDULED":
            steps.append(ACTIVITY)
        elif whole and kind == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
            fields = event["upsertWorkflowSearchAttributesEventAttributes"]["searchAttributes"]
            steps.append(STATUS + _keywords(fields["indexedFields"])[ORDER_STATUS])
        elif whole and kind == "WORKFLOW_EXECUTION_SIGNALED":
            steps.append(WAIT)
    started = events[0]["workflowExecutionStartedEventAttributes"]
    attributes = _keywords(started["searchAttributes"]["indexedFields"]) if whole else {}
    return NoopShape(steps=steps, start_attributes=attributes)


@activity.defn
async def noop_step(signals_shipped: bool) -> None:
    if signals_shipped:
        workflow_id = str(activity.info().workflow_id)
        await activity.client().get_workflow_handle(workflow_id).signal("shipped")


@workflow.defn
class NoopSagaWorkflow:
    def __init__(self) -> None:
        self._shipped = False

    @workflow.signal
    def shipped(self) -> None:
        self._shipped = True

    @workflow.run
    async def run(self, shape: NoopShape) -> None:
        for n, step in enumerate(shape.steps):
            if step == WAIT:
                with suppress(TimeoutError):  # as the saga's SLA timer
                    await workflow.wait_condition(lambda: self._shipped, timeout=timedelta(days=1))
            elif step.startswith(STATUS):
                key = SearchAttributeKey.for_keyword(ORDER_STATUS)
                workflow.upsert_search_attributes([key.value_set(step.removeprefix(STATUS))])
            else:
                next_wait_or_activity = [s for s in shape.steps[n + 1 :] if s in (WAIT, ACTIVITY)]
                await workflow.execute_activity(
                    noop_step,
                    next_wait_or_activity[:1] == [WAIT],
                    start_to_close_timeout=timedelta(seconds=30),
                )

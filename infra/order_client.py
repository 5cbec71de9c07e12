"""Client-side helpers for order workflows: start one exactly once, find one by id."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from canonical import Order
from canonical.order import order_workflow_id
from infra.settings import Settings
from workflows import search_attributes as sa
from workflows.order_inputs import OrderToCashInput
from workflows.order_to_cash import OrderToCashWorkflow


def order_summary(order: Order) -> str:
    units = sum(line.quantity for line in order.lines)
    return f"{order.channel.value} {order.order_number} · {units} unit(s) · {order.total}"


async def start_order(
    client: Client, settings: Settings, order: Order, input: OrderToCashInput | None = None
) -> WorkflowHandle[OrderToCashWorkflow, object]:
    """Start the order's saga; a second start of the same order joins the first one
    (running: USE_EXISTING; closed: REJECT_DUPLICATE raises WorkflowAlreadyStartedError)."""
    input = input or OrderToCashInput(
        order=order, shipment_sla=timedelta(hours=settings.shipment_sla_hours)
    )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.CHANNEL, order.channel.value),
            SearchAttributePair(sa.EXTERNAL_ORDER_ID, order.external_id),
            SearchAttributePair(sa.ORDER_STATUS, "RECEIVED"),
        ]
    )
    return await client.start_workflow(
        OrderToCashWorkflow.run,
        input,
        id=order.workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=attributes if input.publish_search_attributes else None,
        static_summary=order_summary(order),
    )


def workflow_id_from(text: str) -> str:
    """Accept `order:shopify:123`, `shopify:123` or `shopify-123` (the partner key)."""
    if text.startswith("order:"):
        return text
    channel, sep, external_id = text.partition(":")
    if not sep:
        channel, sep, external_id = text.partition("-")
    if not sep or not external_id:
        raise ValueError(f"'{text}' is not an order id; use order:<channel>:<external id>")
    return order_workflow_id(channel, external_id)

"""Starting a return: one workflow per return (`return:{channel}:{order}:{return id}`), fed
with what the order's workflow knows of the order (it answers queries after it closed)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import ReturnView
from canonical.order import Channel, order_key_of_workflow, order_workflow_id, parse_order_key
from canonical.returns import (
    ReturnableOrder,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnSource,
)
from infra.settings import Settings
from inventory.network import configured_network
from services.orders import settlement_terms
from workflows.order_inputs import ReturnInput
from workflows.returns import ReturnWorkflow


class UnknownOrder(LookupError):
    """No order workflow for the return (never imported, or past the retention period), or
    no such line on it."""


async def returnable_order(
    client: Client, channel: Channel, external_order_id: str
) -> ReturnableOrder:
    """What the order's workflow knows of the order. `UnknownOrder` only when there is no such
    order to return against; a query that could not be answered now (Temporal restarting, no
    worker in time) is raised as it is, so the return is tried again rather than refused."""
    order_id = order_workflow_id(channel, external_order_id)
    try:
        returnable: ReturnableOrder = await client.get_workflow_handle(order_id).query(
            "returnable", result_type=ReturnableOrder
        )
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise UnknownOrder(f"no order workflow {order_id} to return against") from exc
    except WorkflowQueryFailedError as exc:  # a workflow type without the query
        raise UnknownOrder(f"{order_id} is not an order to return against: {exc}") from exc
    return returnable


def return_input(
    settings: Settings, request: ReturnRequest, returnable: ReturnableOrder
) -> ReturnInput:
    nodes = {
        node.code: node
        for node in configured_network(settings.inventory_network, settings.erp).nodes
    }
    node = nodes.get(settings.returns_node)
    return ReturnInput(
        request=request,
        returnable=returnable,
        policy=ReturnPolicy(
            window_days=settings.return_window_days,
            non_returnable_skus=settings.return_non_returnable_skus,
            receipt_days=settings.return_receipt_days,
        ),
        returns_node=settings.returns_node,
        returns_warehouse=node.wms_warehouse if node else None,
        settlement=settlement_terms(settings, request.channel),
    )


def _lines_by_sku(request: ReturnRequest, returnable: ReturnableOrder) -> ReturnRequest:
    """A channel that names only SKUs (Amazon's returns report): each is the order's line of
    that SKU; a SKU not on the order keeps no line id and the policy refuses it."""
    if all(line.line_id for line in request.lines):
        return request
    by_sku = {line.sku: line.line_id for line in returnable.order.lines}
    lines = [
        line
        if line.line_id
        else line.model_copy(update={"line_id": by_sku.get(line.sku, line.sku)})
        for line in request.lines
    ]
    return request.model_copy(update={"lines": lines})


async def start_return(
    client: Client, settings: Settings, request: ReturnRequest
) -> WorkflowHandle[Any, ReturnView]:
    """Start the return once: a redelivery finds the running return, or the closed one."""
    returnable = await returnable_order(client, request.channel, request.external_order_id)
    request = _lines_by_sku(request, returnable)
    try:
        return await client.start_workflow(
            ReturnWorkflow.run,
            return_input(settings, request, returnable),
            id=request.workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"return {request.return_id} of {request.channel.value} order "
            f"{request.external_order_id}",
        )
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(request.workflow_id, result_type=ReturnView)


async def book_support_return(
    client: Client, settings: Settings, order_workflow: str, lines: dict[str, int], reason: str
) -> WorkflowHandle[Any, ReturnView]:
    """Customer service books a return of these units (line id -> quantity)."""
    key = order_key_of_workflow(order_workflow)
    if key is None or not order_workflow.startswith("order:"):
        raise UnknownOrder(f"{order_workflow} is not an order to return against.")
    channel, external_id = parse_order_key(key)
    returnable = await returnable_order(client, channel, external_id)
    by_id = {line.line_id: line for line in returnable.order.lines}
    unknown = sorted(set(lines) - set(by_id))
    if unknown:
        raise UnknownOrder(f"{returnable.order.order_number} has no line {', '.join(unknown)}.")
    request = ReturnRequest(
        return_id=f"CS-{uuid.uuid4().hex[:8]}",
        channel=channel,
        external_order_id=external_id,
        source=ReturnSource.SUPPORT,
        lines=[
            ReturnLine(line_id=line, sku=by_id[line].sku, quantity=q, reason=reason)
            for line, q in lines.items()
        ],
        requested_at=datetime.now(UTC),
    )
    return await start_return(client, settings, request)

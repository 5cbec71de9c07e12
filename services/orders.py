"""Client-side operations on order workflows: start exactly once, cancel from the channel
(also before the order was created), report channel events, find one by id; and what starting
or cancelling an order from a delivery comes to (`order_started`, `order_cancelled`)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, TypeVar, cast, overload

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from canonical import (
    AnyView,
    ChannelEvent,
    FulfillmentMethod,
    Order,
    OrderView,
    PickupView,
    SagaView,
)
from canonical.order import Channel, order_workflow_id
from inbox.outcome import Outcome, accepted, refused
from inbox.store import InboxStatus
from infra.settings import Settings
from infra.temporal import temporal_call
from workflows import search_attributes as sa
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.order_inputs import (
    CancelRequest,
    CancelSource,
    ClickAndCollectInput,
    OrderToCashInput,
    SettlementTerms,
)
from workflows.order_to_cash import OrderToCashWorkflow


def order_summary(order: Order) -> str:
    units = sum(line.quantity for line in order.lines)
    return f"{order.channel.value} {order.order_number} · {units} unit(s) · {order.total}"


def settlement_terms(settings: Settings, channel: Channel) -> SettlementTerms | None:
    """How a saga of the channel waits for its settlement; None when its payouts are not
    imported (SETTLEMENT_CHANNELS), and the saga completes without."""
    if channel.value not in settings.settlement_channels:
        return None
    return SettlementTerms(
        overdue=timedelta(days=settings.settlement_overdue_days),
        tolerance_minor_units=settings.settlement_tolerance_minor_units,
    )


def _start_options(
    settings: Settings, order: Order, input: OrderToCashInput | ClickAndCollectInput | None
) -> tuple[Any, OrderToCashInput | ClickAndCollectInput, dict[str, Any]]:
    """The order's saga (collected in store or shipped), its input and start options. One
    order, one execution: a running one is joined (USE_EXISTING), a closed one is never
    started again (REJECT_DUPLICATE raises WorkflowAlreadyStartedError)."""
    run: Any
    if order.fulfillment is FulfillmentMethod.PICKUP:
        run = ClickAndCollectWorkflow.run
        input = input or ClickAndCollectInput(
            order=order,
            pick_sla=timedelta(hours=settings.pick_sla_hours),
            pickup_window=timedelta(days=settings.pickup_window_days),
            settlement=settlement_terms(settings, order.channel),
        )
    else:
        run = OrderToCashWorkflow.run
        input = input or OrderToCashInput(
            order=order,
            shipment_sla=timedelta(hours=settings.shipment_sla_hours),
            backorder_retry=timedelta(minutes=settings.backorder_retry_minutes),
            settlement=settlement_terms(settings, order.channel),
        )
    attributes = TypedSearchAttributes(
        [
            SearchAttributePair(sa.CHANNEL, order.channel.value),
            SearchAttributePair(sa.EXTERNAL_ORDER_ID, order.external_id),
            SearchAttributePair(sa.ORDER_STATUS, "RECEIVED"),
        ]
    )
    return (
        run,
        input,
        {
            "id": order.workflow_id,
            "task_queue": settings.task_queue,
            "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
            "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
            "search_attributes": attributes if input.publish_search_attributes else None,
            "static_summary": order_summary(order),
        },
    )


V = TypeVar("V", bound=BaseModel)
# Results and update answers arrive as whichever view the saga answers with (its `kind`).
ANY_VIEW = cast(type, AnyView)


@overload
async def start_order(
    client: Client, settings: Settings, order: Order, input: OrderToCashInput
) -> WorkflowHandle[Any, OrderView]: ...


@overload
async def start_order(
    client: Client, settings: Settings, order: Order, input: ClickAndCollectInput
) -> WorkflowHandle[Any, PickupView]: ...


@overload
async def start_order(
    client: Client, settings: Settings, order: Order, input: None = None
) -> WorkflowHandle[Any, OrderView | PickupView]: ...


async def start_order(
    client: Client,
    settings: Settings,
    order: Order,
    input: OrderToCashInput | ClickAndCollectInput | None = None,
) -> WorkflowHandle[Any, Any]:
    run, input, options = _start_options(settings, order, input)
    return await client.start_workflow(run, input, result_type=ANY_VIEW, **options)


async def cancel_from_channel(
    client: Client,
    settings: Settings,
    order: Order,
    reason: str,
    source: CancelSource = CancelSource.CHANNEL,
) -> WorkflowUpdateHandle[OrderView | PickupView]:
    """Cancel the order's saga, starting it first when the cancellation arrived before the
    order itself: either way the order ends cancelled. Returns once the cancel is accepted.
    `source`: the channel cancelled it already, or the buyer asks (it is cancelled there too)."""
    run, input, options = _start_options(settings, order, None)
    start = WithStartWorkflowOperation(run, input, **options)
    try:
        return await client.start_update_with_start_workflow(
            "cancel",  # both sagas name it so
            CancelRequest(reason=reason, source=source),
            start_workflow_operation=start,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=ANY_VIEW,
        )
    except Exception:
        # The start half failed too (e.g. the order is closed): read its outcome so it is not
        # reported as never retrieved; the caller handles the update's error.
        with contextlib.suppress(Exception):
            await start.workflow_handle()
        raise


def order_handle(
    client: Client, workflow_id: str
) -> WorkflowHandle[OrderToCashWorkflow, OrderView]:
    """A handle whose `result()` is the typed `OrderView`."""
    return client.get_workflow_handle(workflow_id, result_type=OrderView)


@overload
async def result_once_started(
    client: Client, workflow_id: str, view: None = None, timeout: float | None = 60
) -> SagaView: ...


@overload
async def result_once_started(
    client: Client, workflow_id: str, view: type[V], timeout: float | None = 60
) -> V: ...


async def result_once_started(
    client: Client,
    workflow_id: str,
    view: type[BaseModel] | None = None,
    timeout: float | None = 60,
) -> BaseModel:
    """The result of a workflow started in the background (after a webhook's answer, by a
    poll), as `view` (an order's, a pickup's or a return's, any other workflow's result; any
    saga's by default): not found is waited out like the run itself, for `timeout` seconds
    in all."""
    handle = client.get_workflow_handle(workflow_id, result_type=view or ANY_VIEW)
    async with asyncio.timeout(timeout):
        while True:
            try:
                result = await handle.result()
            except RPCError:  # not started yet
                await asyncio.sleep(0.05)
                continue
            if not isinstance(result, view or SagaView):
                raise TypeError(f"{workflow_id} answered a {type(result).__name__}")
            return result


async def order_started(client: Client, settings: Settings, order: Order) -> Outcome:
    """One order, one workflow: a closed one is reported, never started again."""
    try:
        with temporal_call():
            await start_order(client, settings, order)
    except WorkflowAlreadyStartedError:
        return Outcome(InboxStatus.ACCEPTED, 200, order.workflow_id, "order already processed")
    return accepted(order.workflow_id)


async def order_cancelled(
    client: Client,
    settings: Settings,
    order: Order,
    reason: str,
    source: CancelSource = CancelSource.CHANNEL,
) -> Outcome:
    """Cancelled by the channel (or asked by the buyer), also before the order arrived;
    refused once shipped or closed."""
    try:
        with temporal_call():
            await cancel_from_channel(client, settings, order, reason, source)
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc.cause, "message", None) or str(exc.cause or exc)
        return refused(order.workflow_id, cause)
    except (WorkflowAlreadyStartedError, RPCError) as exc:
        if isinstance(exc, RPCError) and exc.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
        return refused(order.workflow_id, "the order is already closed")
    return accepted(order.workflow_id, "cancellation accepted")


async def report_channel_event(client: Client, workflow_id: str, event: ChannelEvent) -> None:
    await client.get_workflow_handle(workflow_id).signal(OrderToCashWorkflow.channel_event, event)


def _channel(text: str, channel: str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        channels = ", ".join(c.value for c in Channel)
        raise ValueError(
            f"'{text}' names no channel: '{channel}' is not one of {channels}"
        ) from None


def order_ref(text: str) -> str:
    """The workflow id of what support names: an order as `order:shopify:123`, `shopify:123`
    or `shopify-123` (the partner key), or a return as `return:shopify:123:CS-1`."""
    text = text.strip()
    if text.startswith("return:"):
        return return_ref(text)
    kind, sep, rest = text.partition(":")
    bare = rest if kind == "order" and sep else text
    channel, sep, external_id = bare.partition(":")
    if not sep:
        channel, sep, external_id = bare.partition("-")
    if not sep or not external_id.strip():
        raise ValueError(
            f"'{text}' is not an order: give its key (shopify-1042) or workflow id "
            "(order:shopify:1042)"
        )
    return order_workflow_id(_channel(text, channel), external_id)


def return_ref(text: str) -> str:
    """A return's workflow id, `return:{channel}:{order}:{return id}`, checked."""
    kind, _, rest = text.strip().partition(":")
    channel, _, rest = rest.partition(":")
    order, _, return_id = rest.rpartition(":")
    if kind != "return" or not order or not return_id:
        raise ValueError(
            f"'{text}' is not a return: give its workflow id (return:shopify:1042:CS-1a2b3c4d)"
        )
    _channel(text, channel)
    return text.strip()

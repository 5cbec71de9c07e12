"""ClickAndCollectWorkflow on the time-skipping test server with fake partners: every timer
path (pick SLA, pickup window), cancel, a store short of stock moved by support."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.shopify import order_from_webhook
from canonical import ExceptionCode, FulfillmentMethod, Order, OrderStatus, PickupView, Step
from canonical.pickup import PickLine, StoreEvent, StoreEventKind
from canonical.sourcing import Shortfall, SourcingPlan
from testing.eventually import eventually, reaches
from tests.fake_partners import FakePartners
from tests.payloads import shopify_order_body
from tests.test_order_workflow import FAST_RETRY
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.order_inputs import CancelRequest, ChangeStore, ClickAndCollectInput

UNWOUND = [
    "cancel_pick_task", "cancel_sales_order", "release_order", "void_tax", "cancel_channel_order",
    "notify_customer",
]  # fmt: skip


class Pickup:
    def __init__(self, env: WorkflowEnvironment, partners: FakePartners, task_queue: str) -> None:
        self.env, self.partners, self.task_queue = env, partners, task_queue
        order = order_from_webhook(shopify_order_body())
        self.order: Order = order.model_copy(
            update={
                "external_id": uuid.uuid4().hex[:12],
                "fulfillment": FulfillmentMethod.PICKUP,
                "pickup_store": "STORE-BOS",
            }
        )
        self.handle: WorkflowHandle[ClickAndCollectWorkflow, PickupView]

    async def start(self) -> None:
        self.handle = await self.env.client.start_workflow(
            ClickAndCollectWorkflow.run,
            ClickAndCollectInput(
                order=self.order, retry=FAST_RETRY, publish_search_attributes=False
            ),
            id=self.order.workflow_id,
            task_queue=self.task_queue,
        )

    async def wait_for(self, *statuses: OrderStatus) -> PickupView:
        return await reaches(self.handle, ClickAndCollectWorkflow.status, *statuses)

    def event(self, kind: StoreEventKind, store: str = "STORE-BOS") -> StoreEvent:
        return StoreEvent(
            event_id=uuid.uuid4().hex, store=store, order_key=self.order.key, kind=kind,
            occurred_at=datetime.now(UTC),
        )  # fmt: skip

    async def ready(self, store: str = "STORE-BOS") -> None:
        await self.wait_for(OrderStatus.AWAITING_SHIPMENT, OrderStatus.DELAYED)
        await self.handle.signal(
            ClickAndCollectWorkflow.ready_for_pickup,
            self.event(StoreEventKind.READY_FOR_PICKUP, store),
        )
        await self.wait_for(OrderStatus.READY_FOR_PICKUP)


@pytest.fixture
async def pickup(time_env: WorkflowEnvironment) -> AsyncIterator[Pickup]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [ClickAndCollectWorkflow]):
        yield Pickup(time_env, partners, task_queue)


async def test_collected_in_store_completes(pickup: Pickup) -> None:
    await pickup.start()
    await pickup.ready()
    assert pickup.partners.templates() == ["ready_for_pickup"]
    (task,) = pickup.partners.args["create_pick_task"]
    assert task.store == "STORE-BOS" and task.order_key == pickup.order.key
    allocation = pickup.partners.args["allocate_order"][0]
    assert allocation.pickup_node == "STORE-BOS"
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
    )
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.compensations_done == []
    calls = pickup.partners.calls
    assert calls[calls.index("hand_over") :] == [
        "hand_over", "commit_shipment", "confirm_collected", "fulfil_sales_order", "commit_tax",
        "invoice_sales_order",
    ]  # fmt: skip
    (fulfilled,) = pickup.partners.args["confirm_collected"]  # the channel hears of it
    assert fulfilled.handover == pickup.partners.args["hand_over"][0]


async def test_partial_pickup_completes_what_was_taken_and_cancels_the_rest(
    pickup: Pickup,
) -> None:
    await pickup.start()
    await pickup.ready()
    first, *others = pickup.order.lines
    taken = PickLine(line_id=first.line_id, sku=first.sku, quantity=1)
    event = pickup.event(StoreEventKind.PICKED_UP).model_copy(update={"lines": [taken]})
    with pytest.raises(WorkflowUpdateFailedError):  # more than was ordered
        await pickup.handle.execute_update(
            ClickAndCollectWorkflow.picked_up,
            event.model_copy(update={"lines": [taken.model_copy(update={"quantity": 99})]}),
        )
    await pickup.handle.execute_update(ClickAndCollectWorkflow.picked_up, event)
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED
    partners = pickup.partners
    (handover,) = partners.args["hand_over"]
    assert [(line.line_id, line.quantity) for line in handover.lines] == [(first.line_id, 1)]
    (commit,) = partners.args["commit_shipment"]
    assert commit.lines == {first.line_id: 1}
    left = {first.line_id: first.quantity - 1} if first.quantity > 1 else {}
    left |= {line.line_id: line.quantity for line in others}
    (released,) = partners.args["release_lines"]
    assert released.line_ids == sorted(left)
    (reduction,) = partners.args["reduce_sales_order"]
    assert reduction.keep == {first.line_id: 1} | {line.line_id: 0 for line in others}
    (cancellation,) = partners.args["cancel_channel_lines"]
    assert cancellation.lines == left
    requote = partners.args["quote_tax"][-1]
    assert [(line.line_id, line.quantity) for line in requote.lines] == [(first.line_id, 1)]
    calls = partners.calls
    assert calls[calls.index("hand_over") :] == [
        "hand_over", "commit_shipment", "release_lines", "reduce_sales_order",
        "cancel_channel_lines", "quote_tax", "confirm_collected", "fulfil_sales_order",
        "commit_tax", "invoice_sales_order",
    ]  # fmt: skip
    (fulfilled,) = partners.args["confirm_collected"]  # only what was taken
    assert [(line.line_id, line.quantity) for line in fulfilled.handover.lines] == [
        (first.line_id, 1)
    ]


async def test_pick_sla_marks_the_order_delayed_and_it_still_completes(pickup: Pickup) -> None:
    await pickup.start()
    await pickup.wait_for(OrderStatus.AWAITING_SHIPMENT)
    await pickup.env.sleep(timedelta(hours=3))  # the SLA is two hours
    delayed = await pickup.wait_for(OrderStatus.DELAYED)
    assert "has not picked it within 2:00:00" in delayed.timeline[-1].note
    await pickup.ready()
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
    )
    assert (await pickup.handle.result()).status is OrderStatus.COMPLETED


async def test_nobody_collects_within_the_window(pickup: Pickup) -> None:
    await pickup.start()
    await pickup.ready()
    await pickup.env.sleep(timedelta(days=5, hours=1))
    result = await pickup.handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == UNWOUND  # stock back to ATP, ERP order cancelled, …
    assert result.cancel_reason == "not collected within 5 days, 0:00:00"
    assert pickup.partners.templates() == ["ready_for_pickup", "pickup_expired"]
    assert "hand_over" not in pickup.partners.calls


async def test_customer_cancels_while_it_waits_at_the_counter(pickup: Pickup) -> None:
    await pickup.start()
    await pickup.ready()
    view = await pickup.handle.execute_update(
        ClickAndCollectWorkflow.cancel, CancelRequest(reason="changed my mind", source="customer")
    )
    assert view.status is OrderStatus.CANCELLED and view.compensations_done == UNWOUND
    assert pickup.partners.templates() == ["ready_for_pickup", "order_cancelled"]
    # Too late to collect: refused by the validator, or the run has already closed.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await pickup.handle.execute_update(
            ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
        )


async def test_a_store_short_of_stock_holds_and_support_moves_the_order(pickup: Pickup) -> None:
    line = pickup.order.lines[0]
    pickup.partners.plans.append(
        SourcingPlan(
            shortfalls=[
                Shortfall(line_id=line.line_id, sku=line.sku, requested=line.quantity,
                          available=0, inbound=0)
            ]
        )
    )  # fmt: skip
    await pickup.start()
    held = await pickup.wait_for(OrderStatus.ON_HOLD)
    assert held.exception is not None and held.exception.code is ExceptionCode.OUT_OF_STOCK
    assert "STORE-BOS lacks" in held.exception.message
    assert "in stock at: STORE-NYC, STORE-SF" in held.exception.message
    with pytest.raises(WorkflowUpdateFailedError):
        await pickup.handle.execute_update(
            ClickAndCollectWorkflow.change_store, ChangeStore(store="STORE-LA")
        )
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.change_store, ChangeStore(store="STORE-NYC", note="customer ok")
    )
    await pickup.ready(store="STORE-NYC")
    (task,) = pickup.partners.args["create_pick_task"]
    assert task.store == "STORE-NYC"
    assert pickup.partners.args["allocate_order"][1].pickup_node == "STORE-NYC"
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP, "STORE-NYC")
    )
    assert (await pickup.handle.result()).status is OrderStatus.COMPLETED


async def test_a_pickup_reported_before_ready_counts_as_ready(pickup: Pickup) -> None:
    """The chaos run's race: the store's `picked_up` reached the order before its
    `ready_for_pickup` was taken (or that one was lost). Refused, it left the order waiting at
    the counter for good; now the collection counts as ready and the order completes, without a
    'ready for pickup' message to a customer who has the goods."""
    await pickup.start()
    await pickup.wait_for(OrderStatus.AWAITING_SHIPMENT)
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
    )
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert pickup.partners.templates() == []
    assert pickup.partners.calls.count("hand_over") == 1


async def test_a_pickup_reported_while_the_pick_task_request_is_retried(pickup: Pickup) -> None:
    """The pick task reached the store but its answer was lost: while the request is retried
    the store picks, the customer collects. The collection counts; the order completes."""
    pickup.partners.outage("create_pick_task", ApplicationError("cut", type="Transient"))
    await pickup.start()
    await eventually(lambda: "create_pick_task" in pickup.partners.calls, what="pick task asked")
    await pickup.handle.execute_update(
        ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
    )
    pickup.partners.recover("create_pick_task")
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert pickup.partners.templates() == []


async def test_the_window_closes_on_goods_the_customer_took_and_the_order_completes(
    pickup: Pickup,
) -> None:
    """The chaos run's loss: the store's `picked_up` never reached the order, the window ran
    out, and the store refused to withdraw the task ("already collected"). Unwinding left the
    goods with the customer and the order in COMPENSATION_FAILED; now the collection is read
    back from the POS and the order completes: handed over, fulfilled on the channel, invoiced."""
    taken = [
        PickLine(line_id=line.line_id, sku=line.sku, quantity=line.quantity)
        for line in pickup.order.lines
    ]
    pickup.partners.collected[pickup.order.key] = taken
    pickup.partners.fail(
        "cancel_pick_task",
        ApplicationError("was already collected", type="ALREADY_COLLECTED", non_retryable=True),
    )
    await pickup.start()
    await pickup.ready()
    await pickup.env.sleep(timedelta(days=5, hours=1))
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.compensations_done == [] and result.exception is None
    assert any("the goods left, the order goes on" in c.note for c in result.timeline)
    calls = pickup.partners.calls
    assert calls[calls.index("cancel_pick_task") :] == [
        "cancel_pick_task", "store_collection", "hand_over", "commit_shipment",
        "confirm_collected", "fulfil_sales_order", "commit_tax", "invoice_sales_order",
    ]  # fmt: skip
    (fulfilled,) = pickup.partners.args["confirm_collected"]
    assert fulfilled.handover.lines == taken
    assert pickup.partners.templates() == ["ready_for_pickup"]  # no "expired" message


async def test_a_collection_reported_before_the_pick_task_is_held_until_then(
    pickup: Pickup,
) -> None:
    """Re-driven store events can overtake the order (still creating its ERP order here): the
    collection is no longer refused for good but waits for the pick task, then counts."""
    pickup.partners.outage("create_sales_order", ApplicationError("down", type="Transient"))
    await pickup.start()
    await eventually(lambda: "create_sales_order" in pickup.partners.calls, what="ERP order asked")
    early = await pickup.handle.start_update(
        ClickAndCollectWorkflow.picked_up,
        pickup.event(StoreEventKind.PICKED_UP),
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
    )
    assert (await pickup.handle.query(ClickAndCollectWorkflow.status)).step is Step.ERP_ORDER
    pickup.partners.recover("create_sales_order")
    assert (await early.result()).status in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_PROGRESS)
    result = await pickup.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert pickup.partners.templates() == []  # no "ready" message to who has the goods
    assert pickup.partners.calls.count("hand_over") == 1
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # closed: nothing more to take
        await pickup.handle.execute_update(
            ClickAndCollectWorkflow.picked_up, pickup.event(StoreEventKind.PICKED_UP)
        )

"""OrderToCashWorkflow on the time-skipping test server with fake partners."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.shopify import order_from_webhook
from canonical import ExceptionCode, Order, OrderStatus, OrderView, Shipment, ShipmentLine
from canonical.sourcing import Shortfall, SourcingPlan
from infra.settings import Settings
from services.orders import start_order
from testing.eventually import reaches
from tests.fake_partners import FakePartners, business
from tests.payloads import shopify_order_body
from workflows.order_inputs import CancelRequest, OrderToCashInput, ResumeRequest, RetryBudget
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.task_queues import channel_task_queue, erp_task_queue

FORWARD = [
    "resolve_items", "quote_tax", "allocate_order", "acknowledge_order", "create_sales_order",
    "request_fulfillment",
]  # fmt: skip
FULL_UNWIND = [
    "cancel_fulfillment",
    "cancel_sales_order",
    "release_order",
    "void_tax",
    "cancel_channel_order",
]
FAST_RETRY = RetryBudget(
    initial_interval=timedelta(milliseconds=10),
    maximum_interval=timedelta(milliseconds=50),
    transient_budget=timedelta(seconds=2),
    compensation_budget=timedelta(seconds=2),
)


class Saga:
    """One workflow under test, its fake partners and shortcuts to steer it."""

    def __init__(self, env: WorkflowEnvironment, partners: FakePartners, task_queue: str) -> None:
        self.env, self.partners, self.task_queue = env, partners, task_queue
        self.order = order_from_webhook(shopify_order_body()).model_copy(
            update={"external_id": uuid.uuid4().hex[:12]}
        )
        self.handle: WorkflowHandle[OrderToCashWorkflow, OrderView]

    async def start(self, sla: timedelta = timedelta(hours=48), order: Order | None = None) -> None:
        self.order = order or self.order
        settings = Settings.from_env({"ORDER_TASK_QUEUE": self.task_queue})
        self.handle = await start_order(
            self.env.client,
            settings,
            self.order,
            OrderToCashInput(
                order=self.order,
                shipment_sla=sla,
                retry=FAST_RETRY,
                publish_search_attributes=False,
            ),
        )

    async def view(self) -> OrderView:
        return await self.handle.query(OrderToCashWorkflow.status)

    async def wait_for(self, *statuses: OrderStatus, timeout: float = 10) -> OrderView:
        return await reaches(self.handle, OrderToCashWorkflow.status, *statuses, timeout=timeout)

    def shipment(
        self, shipment_id: str = "500112987", lines: list[tuple[int, int]] | None = None
    ) -> Shipment:
        picked = lines or [(n, line.quantity) for n, line in enumerate(self.order.lines)]
        return Shipment(
            shipment_id=shipment_id,
            order_key=self.order.key,
            carrier="ups",
            tracking_number=f"1Z{shipment_id}",
            lines=[
                ShipmentLine(
                    line_id=self.order.lines[n].line_id, sku=self.order.lines[n].sku, quantity=q
                )
                for n, q in picked
            ],
        )

    async def held(self, code: ExceptionCode) -> OrderView:
        view = await self.wait_for(OrderStatus.ON_HOLD)
        assert view.exception is not None and view.exception.code is code, view.exception
        return view

    async def ship(self, shipment: Shipment | None = None) -> None:
        await self.wait_for(
            OrderStatus.AWAITING_SHIPMENT, OrderStatus.DELAYED, OrderStatus.PARTIALLY_SHIPPED
        )
        await self.handle.signal(OrderToCashWorkflow.shipment_received, shipment or self.shipment())


@pytest.fixture
async def saga(time_env: WorkflowEnvironment) -> AsyncIterator[Saga]:
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [OrderToCashWorkflow]):
        yield Saga(time_env, partners, task_queue)


async def test_happy_path_runs_every_step_once(saga: Saga) -> None:
    await saga.start()
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert saga.partners.calls == [
        *FORWARD, "confirm_shipment", "commit_shipment", "fulfil_sales_order", "commit_tax",
        "invoice_sales_order",
    ]  # fmt: skip
    assert result.erp_order is not None and result.erp_order.number == "SO88214"
    assert [s.shipment_id for s in result.shipments] == ["500112987"]
    statuses = [change.status for change in result.timeline]
    assert statuses[0] is OrderStatus.RECEIVED and statuses[-1] is OrderStatus.COMPLETED
    assert OrderStatus.SHIPPED in statuses and result.compensations_done == []
    # Channel and ERP calls run on their own rate-limited queues, the rest on the order queue.
    channel_queue = channel_task_queue(saga.task_queue, "shopify")
    assert saga.partners.queues["acknowledge_order"] == channel_queue
    assert saga.partners.queues["confirm_shipment"] == channel_queue
    for erp_call in ("resolve_items", "create_sales_order", "fulfil_sales_order"):
        assert saga.partners.queues[erp_call] == erp_task_queue(saga.task_queue)
    assert saga.partners.queues["allocate_order"] == saga.task_queue
    # The WMS is told which warehouse sourcing chose; the shipment leaves our stock.
    assert saga.partners.args["request_fulfillment"][0].warehouse == "101"
    (commit,) = saga.partners.args["commit_shipment"]
    assert commit.shipment_id == "500112987" and commit.order_id == saga.order.key
    assert commit.lines == {line.line_id: line.quantity for line in saga.order.lines}


async def test_each_transition_is_logged_once_with_the_order_key(
    saga: Saga, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="temporalio.workflow"):
        await saga.start()
        await saga.ship()
        await saga.handle.result()
    lines = [r.getMessage() for r in caplog.records if saga.order.key in r.getMessage()]
    moves = [line.split(" at ")[0].removeprefix(f"{saga.order.key} ") for line in lines]
    assert moves == [
        "RECEIVED -> RECEIVED",
        "RECEIVED -> IN_PROGRESS",
        "IN_PROGRESS -> AWAITING_SHIPMENT",
        "AWAITING_SHIPMENT -> SHIPPED",
        "SHIPPED -> COMPLETED",
    ]


async def test_duplicate_start_joins_the_running_order(saga: Saga) -> None:
    await saga.start()
    first = saga.handle
    await saga.start()
    assert saga.handle.result_run_id == first.result_run_id
    await saga.ship()
    assert (await saga.handle.result()).status is OrderStatus.COMPLETED


def _short(saga: Saga, available: int, inbound: int) -> SourcingPlan:
    line = saga.order.lines[0]
    return SourcingPlan(
        shortfalls=[
            Shortfall(
                line_id=line.line_id, sku=line.sku, requested=line.quantity,
                available=available, inbound=inbound,
            )
        ]
    )  # fmt: skip


async def test_out_of_stock_with_nothing_inbound_cancels_the_order(saga: Saga) -> None:
    saga.partners.plans.append(_short(saga, available=0, inbound=0))
    await saga.start()
    result = await saga.handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert result.exception is not None and result.exception.code is ExceptionCode.OUT_OF_STOCK
    assert result.compensations_done == ["release_order", "void_tax", "cancel_channel_order"]
    reason = saga.partners.args["cancel_channel_order"][0].reason
    assert "out of stock" in reason and "requested 2, available 0" in reason
    assert "create_sales_order" not in saga.partners.calls


async def test_backordered_order_waits_and_tries_again_by_itself(saga: Saga) -> None:
    saga.partners.plans += [_short(saga, 1, 5), _short(saga, 1, 5)]
    await saga.start()
    held = await saga.held(ExceptionCode.OUT_OF_STOCK)
    assert held.exception is not None and "backordered" in held.exception.message
    await saga.env.sleep(timedelta(hours=1, minutes=1))  # the first retry: still short
    await saga.wait_for(OrderStatus.ON_HOLD)
    await saga.env.sleep(timedelta(hours=1, minutes=1))  # the goods arrived
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert saga.partners.calls.count("allocate_order") == 3
    assert result.compensations_done == []


async def test_cancel_before_the_erp_order_only_undoes_what_was_done(saga: Saga) -> None:
    saga.partners.plans.append(_short(saga, available=1, inbound=4))
    await saga.start()
    await saga.held(ExceptionCode.OUT_OF_STOCK)
    result = await saga.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="customer changed mind")
    )
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == ["release_order", "void_tax", "cancel_channel_order"]
    assert "create_sales_order" not in saga.partners.calls
    assert saga.partners.args["cancel_channel_order"][0].reason == "customer changed mind"


async def test_cancel_after_the_erp_order_compensates_in_reverse(saga: Saga) -> None:
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    result = await saga.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="fraud check")
    )
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == FULL_UNWIND
    assert saga.partners.calls[len(FORWARD) :] == result.compensations_done
    assert (await saga.handle.result()).status is OrderStatus.CANCELLED


async def test_channel_cancel_does_not_call_the_channel_back(saga: Saga) -> None:
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    request = CancelRequest(reason="orders/cancelled webhook", source="channel")
    result = await saga.handle.execute_update(OrderToCashWorkflow.cancel, request)
    assert result.status is OrderStatus.CANCELLED
    assert "cancel_channel_order" not in saga.partners.calls


async def test_erp_permanent_failure_compensates_and_fails(saga: Saga) -> None:
    saga.partners.fail(
        "create_sales_order", business(ExceptionCode.ERP_REJECTED, "INVALID_CONTENT: item")
    )
    await saga.start()
    result = await saga.handle.result()
    assert result.status is OrderStatus.FAILED
    assert result.exception is not None and result.exception.code is ExceptionCode.ERP_REJECTED
    assert result.compensations_done == [
        "cancel_sales_order",
        "release_order",
        "void_tax",
        "cancel_channel_order",
    ]
    assert "INVALID_CONTENT" in saga.partners.args["cancel_channel_order"][0].reason


async def test_transient_errors_retry_and_an_outage_holds_the_order(saga: Saga) -> None:
    saga.partners.fail("quote_tax", ApplicationError("503 from AvaTax", type="Transient"))
    saga.partners.outage("allocate_order", ApplicationError("database down", type="Transient"))
    await saga.start()
    held = await saga.held(ExceptionCode.PARTNER_UNAVAILABLE)
    assert saga.partners.calls.count("quote_tax") == 2
    assert held.exception is not None and "database down" in held.exception.message
    assert saga.partners.calls.count("allocate_order") > 1
    saga.partners.recover("allocate_order")
    await saga.handle.execute_update(
        OrderToCashWorkflow.resume, ResumeRequest(note="database back")
    )
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.compensations_done == []


async def test_rate_limited_calls_wait_without_using_up_the_budget(saga: Saga) -> None:
    limited = ApplicationError(
        "THROTTLED", type="RateLimited", next_retry_delay=timedelta(milliseconds=20)
    )
    saga.partners.fail("acknowledge_order", *[limited for _ in range(5)])
    # Throttled for longer than the whole 2 s budget: slowed down is not failing.
    slow_down = ApplicationError(
        "CONCURRENCY_LIMIT_EXCEEDED", type="RateLimited", next_retry_delay=timedelta(seconds=1)
    )
    saga.partners.fail("create_sales_order", *[slow_down for _ in range(3)])
    await saga.start()
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert OrderStatus.ON_HOLD not in [change.status for change in result.timeline]
    assert "create_sales_order waited 0:00:02 for its turn" in str(result.timeline)
    assert saga.partners.calls.count("acknowledge_order") == 6
    assert saga.partners.calls.count("create_sales_order") == 4


async def test_a_call_queued_past_its_budget_waits_on(time_env: WorkflowEnvironment) -> None:
    """Nobody serves the ERP's queue for longer than the budget (a backlog behind its quota
    looks the same): the order waits in progress and goes on once the calls are served."""
    partners, task_queue = FakePartners(), f"test-{uuid.uuid4()}"
    async with partners.workers(time_env.client, task_queue, [OrderToCashWorkflow], erp=False):
        saga = Saga(time_env, partners, task_queue)
        await saga.start()
        await time_env.sleep(timedelta(seconds=5))
        view = await saga.view()
        assert view.status is OrderStatus.IN_PROGRESS and view.exception is None, view.exception
        assert "resolve_items waited 0:00:02 for its turn" in str(view.timeline)
        assert "resolve_items" not in partners.calls
        erp = Worker(
            time_env.client,
            task_queue=erp_task_queue(task_queue),
            activities=partners.activities(),
        )
        async with erp:
            await saga.ship()
            assert (await saga.handle.result()).status is OrderStatus.COMPLETED


async def test_failing_compensation_needs_attention_until_resumed(saga: Saga) -> None:
    saga.partners.fail(
        "cancel_sales_order", business(ExceptionCode.ERP_REJECTED, "order is billed")
    )
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    view = await saga.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="support")
    )
    assert view.status is OrderStatus.NEEDS_ATTENTION
    assert view.exception is not None and view.exception.code is ExceptionCode.COMPENSATION_FAILED
    assert "cancel_sales_order" in view.exception.message and "billed" in view.exception.message
    assert view.compensations_done == ["cancel_fulfillment"]
    await saga.handle.execute_update(
        OrderToCashWorkflow.resume, ResumeRequest(note="closed in ERP by hand")
    )
    result = await saga.handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == FULL_UNWIND


async def test_hold_then_resume_with_corrected_sku(saga: Saga) -> None:
    saga.partners.fail(
        "resolve_items", business(ExceptionCode.UNKNOWN_SKU, "no ERP item for SKU MUG-STONE-350")
    )
    await saga.start()
    await saga.held(ExceptionCode.UNKNOWN_SKU)
    await saga.handle.execute_update(
        OrderToCashWorkflow.resume,
        ResumeRequest(note="mapped", sku_overrides={"MUG-STONE-350": "MUG-STONE-350-SAGE"}),
    )
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.exception is None
    retried_order = saga.partners.args["resolve_items"][1]
    assert "MUG-STONE-350-SAGE" in retried_order.skus()
    assert OrderStatus.ON_HOLD in [change.status for change in result.timeline]


async def test_resume_is_refused_when_not_on_hold(saga: Saga) -> None:
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await saga.handle.execute_update(OrderToCashWorkflow.resume, ResumeRequest())
    assert "not on hold" in str(refused.value.cause)


async def test_totals_mismatch_holds_and_resume_accepts_as_is(saga: Saga) -> None:
    order = saga.order.model_copy(update={"total": saga.order.total + saga.order.shipping})
    await saga.start(order=order)
    await saga.held(ExceptionCode.TOTALS_MISMATCH)
    assert "resolve_items" not in saga.partners.calls
    await saga.handle.execute_update(
        OrderToCashWorkflow.resume, ResumeRequest(note="checked with finance")
    )
    await saga.ship()
    assert (await saga.handle.result()).status is OrderStatus.COMPLETED


async def test_sla_timer_marks_delayed_and_keeps_waiting(saga: Saga) -> None:
    await saga.start(sla=timedelta(hours=4))
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    await saga.env.sleep(timedelta(hours=5))
    delayed = await saga.wait_for(OrderStatus.DELAYED)
    assert "SLA" in delayed.timeline[-1].note
    await saga.ship()
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED
    statuses = [c.status for c in result.timeline]
    assert statuses.index(OrderStatus.DELAYED) < statuses.index(OrderStatus.SHIPPED)


async def test_partial_shipments_then_cancel_is_refused(saga: Saga) -> None:
    await saga.start()
    await saga.ship(saga.shipment("1", lines=[(0, 2)]))
    await saga.wait_for(OrderStatus.PARTIALLY_SHIPPED)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await saga.handle.execute_update(
            OrderToCashWorkflow.cancel, CancelRequest(reason="too late")
        )
    assert "already shipped" in str(refused.value.cause)
    await saga.handle.signal(
        OrderToCashWorkflow.shipment_received, saga.shipment("1", lines=[(0, 2)])
    )  # duplicate
    await saga.ship(saga.shipment("2", lines=[(1, 1)]))
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert saga.partners.calls.count("confirm_shipment") == 2


async def test_failure_after_shipment_needs_attention_not_rollback(saga: Saga) -> None:
    saga.partners.fail("invoice_sales_order", business(ExceptionCode.ERP_REJECTED, "period closed"))
    await saga.start()
    await saga.ship()
    view = await saga.wait_for(OrderStatus.NEEDS_ATTENTION)
    assert view.exception is not None and "period closed" in view.exception.message
    await saga.handle.execute_update(
        OrderToCashWorkflow.resume, ResumeRequest(note="period reopened")
    )
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.compensations_done == []
    assert saga.partners.calls.count("invoice_sales_order") == 2


async def test_a_refused_request_after_the_warehouse_shipped_goes_on(saga: Saga) -> None:
    """The chaos run's case: the WMS took the order and shipped it, the retried request was
    refused. The shipment reported meanwhile moves the order forward, never into compensation."""
    saga.partners.fail("resolve_items", business(ExceptionCode.UNKNOWN_SKU, "held"))
    saga.partners.fail(
        "request_fulfillment", business(ExceptionCode.WMS_REJECTED, "has already shipped")
    )
    await saga.start()
    await saga.held(ExceptionCode.UNKNOWN_SKU)
    # While the order is held, the warehouse reports the shipment (a lost answer before).
    await saga.handle.signal(OrderToCashWorkflow.shipment_received, saga.shipment())
    await saga.handle.execute_update(OrderToCashWorkflow.resume, ResumeRequest(note="ok"))
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.compensations_done == [] and "cancel_fulfillment" not in saga.partners.calls
    assert saga.partners.calls.count("invoice_sales_order") == 1


async def test_a_cancel_refused_because_the_goods_left_completes_the_order(saga: Saga) -> None:
    """Support cancels; the WMS says the order already shipped: the order is not unwound but
    completed with what the warehouse shipped (read back from it), invoiced once."""
    saga.partners.fail(
        "cancel_fulfillment", business(ExceptionCode.ALREADY_SHIPPED, "order has already shipped")
    )
    saga.partners.shipped = [saga.shipment()]
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    view = await saga.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="customer changed mind")
    )
    assert view.status is OrderStatus.COMPLETED and view.compensations_done == []
    assert [s.shipment_id for s in (await saga.view()).shipments] == ["500112987"]
    assert saga.partners.calls.count("confirm_shipment") == 1
    assert saga.partners.calls[-3:] == ["fulfil_sales_order", "commit_tax", "invoice_sales_order"]
    assert "cancel_sales_order" not in saga.partners.calls


async def test_resume_of_an_order_stuck_on_a_refused_cancel_completes_it(saga: Saga) -> None:
    """An order left in COMPENSATION_FAILED by a refusal the WMS now reports as 'already
    shipped': resume retries the withdrawal, hears the goods left, and completes the order."""
    saga.partners.fail(
        "cancel_fulfillment",
        business(ExceptionCode.WMS_REJECTED, "Order has already shipped."),
        business(ExceptionCode.ALREADY_SHIPPED, "order has already shipped"),
    )
    saga.partners.shipped = [saga.shipment()]
    await saga.start()
    await saga.wait_for(OrderStatus.AWAITING_SHIPMENT)
    view = await saga.handle.execute_update(
        OrderToCashWorkflow.cancel, CancelRequest(reason="support")
    )
    assert view.exception is not None and view.exception.code is ExceptionCode.COMPENSATION_FAILED
    await saga.handle.execute_update(OrderToCashWorkflow.resume, ResumeRequest(note="retry"))
    result = await saga.handle.result()
    assert result.status is OrderStatus.COMPLETED and result.compensations_done == []
    assert saga.partners.calls.count("invoice_sales_order") == 1

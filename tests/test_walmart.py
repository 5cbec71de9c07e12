"""Walmart: mapping of split lines, and the poller run by a real schedule on the dev server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.payload import PayloadError
from adapters.walmart import order_from_walmart, returns_from_walmart
from canonical import ExceptionCode, Money, OrderStatus, ReturnView
from canonical.validation import order_problems
from inbox.keys import WALMART_PO, WALMART_RETURN
from inbox.store import Inbox, InboxStatus
from sandbox.shipstation import AutoShip
from services.orders import order_handle, result_once_started
from services.schedules import WALMART_POLL, WALMART_RETURN_POLL, ensure_schedules
from testing.eventually import eventually, reaches
from testing.harness import Harness, order_harness
from tests.payloads import payload
from tests.replays import replay_latest
from workflows.order_inputs import ResumeRequest
from workflows.order_to_cash import OrderToCashWorkflow

PO = payload("walmart_purchase_order")


def test_split_lines_are_grouped_by_sku_with_their_line_numbers() -> None:
    order = order_from_walmart(PO)
    candle = next(line for line in order.lines if line.sku == "CANDLE-CEDAR-8OZ")
    assert candle.quantity == 2 and candle.channel_lines == {"1": 1, "2": 1}
    assert candle.gross == Money.of("45.00", "USD") and candle.tax == Money.of("3.15", "USD")
    assert (
        order.external_id == "2871530046118" and order.workflow_id == "order:walmart:2871530046118"
    )
    assert order.ship_to is not None and order.ship_to.country == "US"
    assert order.placed_at.year == 2026
    assert order_problems(order) == []


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.3), WALMART_POLL_SECONDS="1"
    ) as harness:
        yield harness


async def sandbox(h: Harness, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url, timeout=30) as client:
        response = await client.request(method, path, **kw)
        response.raise_for_status()
        return response.json()


@asynccontextmanager
async def polling(h: Harness) -> AsyncIterator[None]:
    """The Walmart schedules of this stack, deleted after (their ids are the server's)."""
    await ensure_schedules(h.client, h.settings)
    try:
        yield
    finally:
        for schedule_id in (WALMART_POLL, WALMART_RETURN_POLL):
            await h.client.get_schedule_handle(schedule_id).delete()


def line_statuses(po: dict[str, Any]) -> dict[str, str]:
    return {
        line["lineNumber"]: line["orderLineStatuses"]["orderLineStatus"][-1]["status"]
        for line in po["orderLines"]["orderLine"]
    }


async def test_schedule_imports_acknowledges_ships_each_line(stack: Harness) -> None:
    po = await sandbox(stack, "POST", "/_sandbox/walmart/orders", json={})
    async with polling(stack):
        workflow_id = f"order:walmart:{po['purchaseOrderId']}"
        entries = await eventually(
            lambda: Inbox.of(stack.settings).latest(source="walmart"),
            lambda entries: bool(entries) and entries[0].status is InboxStatus.ACCEPTED,
            what="the PO accepted",
        )
        assert (
            entries[0].workflow_id == workflow_id and json.loads(entries[0].body)["purchaseOrderId"]
        )
        result = await asyncio.wait_for(order_handle(stack.client, workflow_id).result(), 60)
        assert result.status is OrderStatus.COMPLETED, result.timeline
    walmart = await sandbox(stack, "GET", f"/_sandbox/walmart/orders/{po['purchaseOrderId']}")
    assert set(line_statuses(walmart).values()) == {"Shipped"}  # each quantity-1 line
    tracking = {
        line["orderLineStatuses"]["orderLineStatus"][-1]["trackingInfo"]["trackingNumber"]
        for line in walmart["orderLines"]["orderLine"]
    }
    assert tracking == {result.shipments[0].tracking_number}
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1  # polled every second, imported once
    replayed = await replay_latest(stack, *WALMART_PO)  # `inbox replay`: the same order
    assert (replayed.status, replayed.workflow_id) == (InboxStatus.ACCEPTED, workflow_id)


async def test_a_held_po_is_acknowledged_only_once_support_resumes_it(stack: Harness) -> None:
    """Acknowledging commits the seller to ship: not while the order waits on an unknown SKU."""
    po = await sandbox(
        stack, "POST", "/_sandbox/walmart/orders", json={"skus": [["MUG-STONE-35O", 1]]}
    )
    po_id = po["purchaseOrderId"]
    workflow_id = f"order:walmart:{po_id}"
    async with polling(stack):
        handle = order_handle(stack.client, workflow_id)
        view = await reaches(handle, OrderToCashWorkflow.status, OrderStatus.ON_HOLD)
        assert view.exception is not None and view.exception.code is ExceptionCode.UNKNOWN_SKU
        walmart = await sandbox(stack, "GET", f"/_sandbox/walmart/orders/{po_id}")
        assert set(line_statuses(walmart).values()) == {"Created"}  # polled again and again
        fix = ResumeRequest(note="typo", sku_overrides={"MUG-STONE-35O": "MUG-STONE-350"})
        await handle.execute_update(OrderToCashWorkflow.resume, fix)
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    walmart = await sandbox(stack, "GET", f"/_sandbox/walmart/orders/{po_id}")
    assert set(line_statuses(walmart).values()) == {"Shipped"}


async def test_a_customer_return_on_walmart_is_polled_received_and_refunded(
    stack: Harness,
) -> None:
    await sandbox(stack, "PUT", "/_sandbox/returns/autopilot", json={"receive_after_seconds": 0.3})
    po = await sandbox(
        stack, "POST", "/_sandbox/walmart/orders", json={"skus": [["CANDLE-CEDAR-8OZ", 2]]}
    )
    po_id = po["purchaseOrderId"]
    async with polling(stack):
        order = await result_once_started(stack.client, f"order:walmart:{po_id}")
        assert order.status is OrderStatus.COMPLETED, order.timeline
        opened = await sandbox(
            stack, "POST", f"/_sandbox/walmart/orders/{po_id}/returns",
            json={"lines": ["2"], "reason": "Arrived damaged"},
        )  # fmt: skip
        return_id = f"return:walmart:{po_id}:{opened['returnOrderId']}"
        result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    details = result.return_details
    assert details is not None and details.label_url is None  # Walmart's label
    assert details.refunded == {"CANDLE-CEDAR-8OZ": 1} and details.received_at_node == "WH-EAST"
    walmart = await sandbox(stack, "GET", f"/_sandbox/walmart/orders/{po_id}")
    assert sorted(line_statuses(walmart).values()) == ["Refund", "Shipped"]
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{return_id}'")]
    assert len(runs) == 1  # polled every second, started once
    replayed = await replay_latest(stack, *WALMART_RETURN)  # `inbox replay`: the same return
    assert (replayed.status, replayed.workflow_id) == (InboxStatus.ACCEPTED, return_id)


def test_a_walmart_return_order_maps_to_one_return_per_purchase_order() -> None:
    line = {
        "purchaseOrderId": "1796",
        "item": {"sku": "MUG-STONE-350", "productName": "Mug"},
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": 1},
        "returnReason": "Too small",
    }
    raw = {
        "returnOrderId": "9001",
        "returnOrderDate": "2026-11-20T10:00:00Z",
        "returnOrderLines": [line, line, {**line, "purchaseOrderId": "1797"}],
    }
    first, second = returns_from_walmart(raw)
    assert first.workflow_id == "return:walmart:1796:9001" and first.label_by_channel
    assert [(x.line_id, x.quantity) for x in first.lines] == [("MUG-STONE-350", 2)]
    assert second.external_order_id == "1797" and second.lines[0].quantity == 1
    with pytest.raises(PayloadError):
        returns_from_walmart({"returnOrderId": "9002"})

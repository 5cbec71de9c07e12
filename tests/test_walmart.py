"""Walmart: mapping of split lines, and the poller run by a real schedule on the dev server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import ScheduleHandle
from temporalio.testing import WorkflowEnvironment

from adapters.walmart import order_from_walmart
from canonical import Money, OrderStatus
from canonical.validation import order_problems
from inbox.database import engine_for
from inbox.store import Inbox, InboxStatus
from infra.harness import Harness, order_harness
from infra.order_client import order_handle
from infra.schedules import WALMART_POLL, ensure_schedules
from sandbox.shipstation import AutoShip
from tests.contracts import contract

PO = contract("walmart_order")["response_body"]["list"]["elements"]["order"][0]


def test_split_lines_are_grouped_by_sku_with_their_line_numbers() -> None:
    order = order_from_walmart(PO)
    candle = next(line for line in order.lines if line.sku == "CANDLE-CEDAR-8OZ")
    assert candle.quantity == 2 and candle.channel_lines == {"1": 1, "2": 1}
    assert candle.gross == Money.of("45.00", "USD") and candle.tax == Money.of("2.82", "USD")
    assert (
        order.external_id == "1796277083022" and order.workflow_id == "order:walmart:1796277083022"
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


def line_statuses(po: dict[str, Any]) -> dict[str, str]:
    return {
        line["lineNumber"]: line["orderLineStatuses"]["orderLineStatus"][-1]["status"]
        for line in po["orderLines"]["orderLine"]
    }


async def test_schedule_imports_acknowledges_ships_each_line(stack: Harness) -> None:
    po = await sandbox(stack, "POST", "/_sandbox/walmart/orders", json={})
    await ensure_schedules(stack.client, stack.settings)
    schedule: ScheduleHandle = stack.client.get_schedule_handle(WALMART_POLL)
    try:
        workflow_id = f"order:walmart:{po['purchaseOrderId']}"
        for _ in range(100):
            entries = Inbox(engine_for(stack.settings.database_url)).latest(source="walmart")
            if entries and entries[0].status is InboxStatus.ACCEPTED:
                break
            await asyncio.sleep(0.1)
        assert (
            entries[0].workflow_id == workflow_id and json.loads(entries[0].body)["purchaseOrderId"]
        )
        result = await asyncio.wait_for(order_handle(stack.client, workflow_id).result(), 60)
        assert result.status is OrderStatus.COMPLETED, result.timeline
    finally:
        await schedule.delete()
    walmart = await sandbox(stack, "GET", f"/_sandbox/walmart/orders/{po['purchaseOrderId']}")
    assert set(line_statuses(walmart).values()) == {"Shipped"}  # each quantity-1 line
    tracking = {
        line["orderLineStatuses"]["orderLineStatus"][-1]["trackingInfo"]["trackingNumber"]
        for line in walmart["orderLines"]["orderLine"]
    }
    assert tracking == {result.shipments[0].tracking_number}
    runs = [w async for w in stack.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) == 1  # polled every second, imported once

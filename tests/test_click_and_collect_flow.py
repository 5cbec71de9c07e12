"""Click-and-collect end to end on the dev server with the real worker: the sandbox POS's
staff pick the order and the customer collects it, their events arrive as webhooks, and the
customer's messages land in the sandbox SendGrid."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shopify import order_from_webhook
from bootstrap.inventory import open_inventory
from canonical import FulfillmentMethod, Order, OrderStatus, PickupView
from inbox.store import InboxStatus
from services.orders import cancel_from_channel, result_once_started, start_order
from testing.eventually import reaches
from testing.harness import Harness, order_harness
from tests.inventory_fixtures import receipt
from tests.replays import replay_latest
from tests.signing import deliver_shopify
from tests.support_cli import cli_env
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.order_inputs import ClickAndCollectInput, RetryBudget

QUICK = RetryBudget(initial_interval=timedelta(milliseconds=200))


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client) as harness:
        yield harness


def pickup_order(
    h: Harness, store: str, skus: tuple[tuple[str, int], ...] = (("CANDLE-FIG-12OZ", 2),)
) -> Order:
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders",
        json={"count": 1, "skus": skus, "pickup_location": f"{store} location"},
    ).json()[0]  # a local pickup on Shopify too: its fulfillment order is PICK_UP
    order = order_from_webhook(body)
    return order.model_copy(update={"fulfillment": FulfillmentMethod.PICKUP, "pickup_store": store})


def stock_store(h: Harness, store: str, units: int, sku: str = "CANDLE-FIG-12OZ") -> None:
    open_inventory(h.settings).store.record([receipt(sku, store, units, uuid.uuid4().hex)])


async def test_picked_by_the_store_and_collected_by_the_customer(stack: Harness) -> None:
    sandbox = stack.settings.sandbox_url
    httpx.put(
        f"{sandbox}/_sandbox/pos/autopilot",
        json={"ready_after_seconds": 0.3, "collect_after_seconds": 0.5},
    ).raise_for_status()
    stock_store(stack, "STORE-BOS", 10)
    # Ordered on Shopify for local pickup at the Boston location, delivered as a webhook.
    body = httpx.post(
        f"{sandbox}/_sandbox/shopify/orders",
        json={"skus": [("CANDLE-FIG-12OZ", 2)], "pickup_location": "Boston Newbury St store"},
    ).json()[0]
    answer = await deliver_shopify(stack.settings, body)
    assert answer.status_code == 202, answer.text
    order = order_from_webhook(body, {"Boston Newbury St store": "STORE-BOS"})
    result = await result_once_started(stack.client, answer.json()["workflow_id"], PickupView)
    handle = stack.client.get_workflow_handle(answer.json()["workflow_id"])
    assert (await handle.describe()).workflow_type == "ClickAndCollectWorkflow"
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.pickup_store == "STORE-BOS"
    pickup = httpx.get(f"{sandbox}/_sandbox/pos/stores/STORE-BOS/pickups/{order.key}").json()
    assert pickup["status"] == "collected" and len(pickup["handovers"]) == 1
    (message,) = httpx.get(f"{sandbox}/_sandbox/sendgrid/messages").json()
    assert message["custom_args"]["notification_id"] == f"{order.key}:ready_for_pickup"
    (position,) = open_inventory(stack.settings).store.positions(
        skus=["CANDLE-FIG-12OZ"], nodes=["STORE-BOS"]
    )
    assert (position.on_hand, position.reserved) == (8, 0)  # collected: out of the store
    # Re-driven after the order closed: the collection it took answers as taken (its update
    # is named by the POS's event id), the ready signal finds no open order.
    picked_up = await replay_latest(stack, "store", "picked_up")
    assert (picked_up.status, picked_up.workflow_id) == (InboxStatus.ACCEPTED, order.workflow_id)
    ready = await replay_latest(stack, "store", "ready_for_pickup")
    assert ready.workflow_id == order.workflow_id, ready
    assert ready.detail == "no open order to route it to"


async def test_a_partial_pickup_bills_what_was_taken_and_refunds_the_rest(
    stack: Harness,
) -> None:
    sandbox = stack.settings.sandbox_url
    httpx.put(
        f"{sandbox}/_sandbox/pos/autopilot",
        json={
            "ready_after_seconds": 0.3,
            "collect_after_seconds": 0.3,
            "collect_first_line_only": True,
        },
    ).raise_for_status()
    stock_store(stack, "STORE-SF", 10)
    stock_store(stack, "STORE-SF", 10, sku="MUG-STONE-350")
    order = pickup_order(stack, "STORE-SF", (("CANDLE-FIG-12OZ", 2), ("MUG-STONE-350", 1)))
    candle, mug = order.lines
    handle = await start_order(
        stack.client, stack.settings, order, ClickAndCollectInput(order=order, retry=QUICK)
    )
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    positions = {
        p.sku: (p.on_hand, p.reserved)
        for p in open_inventory(stack.settings).store.positions(nodes=["STORE-SF"])
    }
    assert positions["CANDLE-FIG-12OZ"] == (8, 0) and positions["MUG-STONE-350"] == (10, 0)
    shopify = httpx.get(f"{sandbox}/_sandbox/shopify/orders/{order.external_id}").json()
    (refund,) = shopify["refunds"]
    assert [
        (i["lineItemId"], i["quantity"], i["restockType"]) for i in refund["refundLineItems"]
    ] == [(f"gid://shopify/LineItem/{mug.line_id}", 1, "CANCEL")]
    (erp_order,) = [
        o for o in httpx.get(f"{sandbox}/_sandbox/netsuite/salesOrders").json()
        if o["externalId"] == order.key
    ]  # fmt: skip
    assert [line["isClosed"] for line in erp_order["item"]["items"]] == [False, True]
    (invoice,) = [
        i for i in httpx.get(f"{sandbox}/_sandbox/netsuite/invoices").json()
        if i["createdFrom"] == erp_order["id"]
    ]  # fmt: skip
    assert invoice["total"] == float(candle.net.amount)
    tax = httpx.get(f"{sandbox}/_sandbox/avatax/documents/{order.key}").json()
    codes = {line["itemCode"] for line in tax["lines"]}
    assert candle.sku in codes and mug.sku not in codes and tax["status"] == "Committed"


async def test_cancelled_by_the_channel_while_waiting_at_the_counter(stack: Harness) -> None:
    sandbox = stack.settings.sandbox_url
    httpx.put(
        f"{sandbox}/_sandbox/pos/autopilot", json={"ready_after_seconds": 0.2}
    ).raise_for_status()
    stock_store(stack, "STORE-NYC", 5)
    order = pickup_order(stack, "STORE-NYC")
    handle = await start_order(
        stack.client, stack.settings, order, ClickAndCollectInput(order=order, retry=QUICK)
    )
    await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.READY_FOR_PICKUP)
    await cancel_from_channel(stack.client, stack.settings, order, "customer")
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.CANCELLED
    assert "cancel_pick_task" in result.compensations_done
    pickup = httpx.get(f"{sandbox}/_sandbox/pos/stores/STORE-NYC/pickups/{order.key}").json()
    assert pickup["status"] == "cancelled"
    (position,) = open_inventory(stack.settings).store.positions(
        skus=["CANDLE-FIG-12OZ"], nodes=["STORE-NYC"]
    )
    assert (position.on_hand, position.reserved) == (5, 0)  # back to ATP at once
    templates = [
        m["template_id"] for m in httpx.get(f"{sandbox}/_sandbox/sendgrid/messages").json()
    ]
    assert templates == ["d-readyforpickup", "d-ordercancelled"]


async def wait_status(handle: Any, status: OrderStatus) -> PickupView:
    return await reaches(handle, ClickAndCollectWorkflow.status, status)


async def test_support_reports_ready_and_a_partial_collection_for_the_store(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, stack.settings)
    httpx.put(f"{stack.settings.sandbox_url}/_sandbox/pos/autopilot", json={}).raise_for_status()
    stock_store(stack, "STORE-NYC", 4)
    order = pickup_order(stack, "STORE-NYC")
    handle = await start_order(
        stack.client, stack.settings, order, ClickAndCollectInput(order=order, retry=QUICK)
    )
    await wait_status(handle, OrderStatus.AWAITING_SHIPMENT)
    assert await asyncio.to_thread(starter.main, ["ready", order.workflow_id]) == 0
    await wait_status(handle, OrderStatus.READY_FOR_PICKUP)
    (line,) = order.lines
    too_many = ["picked-up", order.workflow_id, "--line", f"{line.line_id}=5"]
    assert await asyncio.to_thread(starter.main, too_many) == 1
    assert "is not on order" in capsys.readouterr().err
    one = ["picked-up", order.key, "--line", f"{line.line_id}=1"]
    assert await asyncio.to_thread(starter.main, one) == 0
    assert "collected (partly)" in capsys.readouterr().out
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED
    (position,) = open_inventory(stack.settings).store.positions(
        skus=["CANDLE-FIG-12OZ"], nodes=["STORE-NYC"]
    )
    assert (position.on_hand, position.reserved) == (3, 0)


async def test_support_moves_an_order_to_a_store_that_has_the_stock(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = stack.settings
    cli_env(monkeypatch, settings)
    httpx.put(
        f"{settings.sandbox_url}/_sandbox/pos/autopilot",
        json={"ready_after_seconds": 0.2, "collect_after_seconds": 0.2},
    ).raise_for_status()
    stock_store(stack, "STORE-BOS", 4)  # STORE-SF has none
    order = pickup_order(stack, "STORE-SF")
    handle = await start_order(
        stack.client, settings, order, ClickAndCollectInput(order=order, retry=QUICK)
    )
    view = await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.ON_HOLD)
    assert view.exception is not None and "in stock at: STORE-BOS" in view.exception.message
    move = ["change-store", order.workflow_id, "STORE-BOS", "--note", "customer agreed"]
    assert await asyncio.to_thread(starter.main, move) == 0
    assert "moved to STORE-BOS" in capsys.readouterr().out
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED
    assert (
        await asyncio.to_thread(starter.main, ["change-store", order.workflow_id, "STORE-SF"]) == 1
    )
    assert "is already COMPLETED; nothing to change" in capsys.readouterr().err
    assert await asyncio.to_thread(starter.main, ["ready", order.workflow_id]) == 1
    assert "is already COMPLETED; nothing to change" in capsys.readouterr().err


def shopify_fulfilled(h: Harness, order: Order) -> dict[str, int]:
    """Units fulfilled on the sandbox Shopify per line item id."""
    shopify = httpx.get(f"{h.settings.sandbox_url}/_sandbox/shopify/orders/{order.external_id}")
    (fo,) = shopify.json()["fulfillmentOrders"]["nodes"]
    return {
        item["lineItem"]["id"].rsplit("/", 1)[1]: item["totalQuantity"] - item["remainingQuantity"]
        for item in fo["lineItems"]["nodes"]
    }


async def test_the_window_closes_on_goods_the_customer_took(stack: Harness) -> None:
    """The store's `picked_up` is lost; the pickup window runs out and the POS refuses to
    withdraw the task: it was collected. The order completes as collected (read back from
    the POS) instead of ending COMPENSATION_FAILED with the goods in the customer's hands."""
    sandbox = stack.settings.sandbox_url
    httpx.put(f"{sandbox}/_sandbox/pos/autopilot", json={"ready_after_seconds": 0.2})
    stock_store(stack, "STORE-BOS", 5)
    order = pickup_order(stack, "STORE-BOS")
    window = ClickAndCollectInput(order=order, retry=QUICK, pickup_window=timedelta(seconds=4))
    handle = await start_order(stack.client, stack.settings, order, window)
    await wait_status(handle, OrderStatus.READY_FOR_PICKUP)
    collect = f"{sandbox}/_sandbox/pos/stores/STORE-BOS/pickups/{order.key}/collect"
    httpx.post(collect, json={"event_lost": True}).raise_for_status()
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.compensations_done == [] and result.exception is None
    (line,) = order.lines
    assert shopify_fulfilled(stack, order) == {line.line_id: line.quantity}
    (position,) = open_inventory(stack.settings).store.positions(
        skus=["CANDLE-FIG-12OZ"], nodes=["STORE-BOS"]
    )
    assert (position.on_hand, position.reserved) == (3, 0)
    templates = [
        m["template_id"] for m in httpx.get(f"{sandbox}/_sandbox/sendgrid/messages").json()
    ]
    assert templates == ["d-readyforpickup"]  # never told it expired


async def test_a_collection_overtaking_the_order_is_held_not_refused(stack: Harness) -> None:
    """A store's `picked_up` that arrives before the order sent its pick task (re-driven
    after an outage while the ERP is slow) is held by the order and applied in order."""
    sandbox = stack.settings.sandbox_url
    httpx.put(f"{sandbox}/_sandbox/pos/autopilot", json={}).raise_for_status()
    httpx.put(f"{sandbox}/_sandbox/faults/netsuite", json={"outage": True}).raise_for_status()
    stock_store(stack, "STORE-NYC", 5)
    order = pickup_order(stack, "STORE-NYC")
    handle = await start_order(
        stack.client, stack.settings, order, ClickAndCollectInput(order=order, retry=QUICK)
    )
    await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.IN_PROGRESS)
    event = {
        "event_id": uuid.uuid4().hex, "store": "STORE-NYC", "order_key": order.key,
        "kind": "picked_up", "lines": [], "occurred_at": "2026-12-07T10:00:00Z",
    }  # fmt: skip
    url = f"http://127.0.0.1:{stack.settings.webhooks_port}/webhooks/store"
    headers = {"Authorization": f"Bearer {stack.settings.pos_api_key}"}
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(url, json=event, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    assert "held until the pick task" in answer.json()["detail"]
    httpx.put(f"{sandbox}/_sandbox/faults/netsuite", json={}).raise_for_status()
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    (line,) = order.lines
    assert shopify_fulfilled(stack, order) == {line.line_id: line.quantity}
    templates = [
        m["template_id"] for m in httpx.get(f"{sandbox}/_sandbox/sendgrid/messages").json()
    ]
    assert templates == []  # no "ready" message to a customer who has the goods
    other = {**event, "event_id": uuid.uuid4().hex}  # another collection: nothing to take
    async with httpx.AsyncClient(timeout=30) as client:
        again = await client.post(url, json=other, headers=headers)
    assert again.json()["status"] in ("refused", "failed"), again.text

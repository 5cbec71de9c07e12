"""Split orders end to end on the dev server with the real worker: candles from the east
warehouse (the sandbox ShipStation ships them), the mug shipped from a store (the sandbox POS)
or by the drop-ship supplier (the sandbox ShipBob, whose signed webhooks come back), each
confirmed to Shopify with its own tracking; a store that cannot ship is replaced or, when no
node has the goods, its lines are cancelled and refunded and the rest ships."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shipbob import signature_valid
from bootstrap.inventory import open_inventory
from canonical import Order, OrderStatus
from infra.settings import SANDBOX_DROPSHIP_SECRET
from sandbox.shipbob import standard_signature
from sandbox.shipstation import AutoShip
from services.orders import start_order
from testing.eventually import reaches
from testing.harness import Harness, order_harness
from tests.replays import replay_latest
from tests.split_orders import CANDLE, MUG, get, put, split_order
from tests.support_cli import cli_env
from workflows.order_inputs import OrderToCashInput, RetryBudget
from workflows.order_to_cash import OrderToCashWorkflow

QUICK = RetryBudget(initial_interval=timedelta(milliseconds=200))


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client, autoship=AutoShip(after_seconds=0.3)) as harness:
        yield harness


async def run(h: Harness, order: Order) -> Any:
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=QUICK)
    )
    try:
        return await asyncio.wait_for(handle.result(), 60)
    except TimeoutError:
        view = await handle.query(OrderToCashWorkflow.status)
        raise AssertionError(f"{view.status}: {view.groups} {view.timeline}") from None


def tracking_on_shopify(h: Harness, order: Order) -> list[str]:
    view = get(h, f"/_sandbox/shopify/orders/{order.external_id}")
    return sorted(t["number"] for f in view["fulfillments"] for t in f["trackingInfo"])


def erp_invoice_total(h: Harness, order: Order) -> float:
    (erp,) = [o for o in get(h, "/_sandbox/netsuite/salesOrders") if o["externalId"] == order.key]
    (invoice,) = [i for i in get(h, "/_sandbox/netsuite/invoices") if i["createdFrom"] == erp["id"]]
    total: float = invoice["total"]
    return total


async def test_a_split_order_ships_from_a_warehouse_and_a_store(stack: Harness) -> None:
    put(stack, "/_sandbox/pos/autopilot", {"ready_after_seconds": 0.3})
    order = await split_order(stack, mug_at=("STORE-BOS",))
    result = await run(stack, order)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert [(g.node, g.status) for g in result.groups] == [
        ("WH-EAST", "shipped"), ("STORE-BOS", "shipped"),
    ]  # fmt: skip
    task = get(stack, f"/_sandbox/pos/stores/STORE-BOS/pickups/{order.key}~g2")
    assert task["status"] == "shipped" and task["ship_to"]["postal_code"]
    assert tracking_on_shopify(stack, order) == sorted(s.tracking_number for s in result.shipments)
    assert len(result.shipments) == 2
    assert erp_invoice_total(stack, order) == float(sum(line.net.amount for line in order.lines))
    positions = {
        (p.sku, p.node): (p.on_hand, p.reserved)
        for p in open_inventory(stack.settings).store.positions(skus=[CANDLE, MUG])
    }
    assert positions[CANDLE, "WH-EAST"] == (8, 0) and positions[MUG, "STORE-BOS"] == (4, 0)


async def test_a_store_that_cannot_ship_is_replaced_by_the_drop_ship_supplier(
    stack: Harness,
) -> None:
    put(stack, "/_sandbox/pos/autopilot", {"ready_after_seconds": 0.2, "reject_shipments": True})
    put(stack, "/_sandbox/shipbob/autopilot", {"ship_after_seconds": 0.3})
    order = await split_order(stack, mug_at=("STORE-BOS", "DS-LUMEN"))
    result = await run(stack, order)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert [(g.node, g.status) for g in result.groups] == [
        ("WH-EAST", "shipped"), ("STORE-BOS", "rejected"), ("DS-LUMEN", "shipped"),
    ]  # fmt: skip
    supplier = get(stack, f"/_sandbox/shipbob/orders/{order.key}~g3")
    assert supplier["status"] == "Fulfilled"
    assert len(tracking_on_shopify(stack, order)) == 2
    positions = {
        (p.sku, p.node): (p.on_hand, p.reserved)
        for p in open_inventory(stack.settings).store.positions(skus=[MUG])
    }
    assert positions[MUG, "STORE-BOS"] == (5, 0) and positions[MUG, "DS-LUMEN"] == (4, 0)
    # `inbox replay` after the groups closed: routed to them, nothing happens twice.
    replayed = await replay_latest(stack, "dropship", "order.shipped")
    assert (replayed.workflow_id, replayed.detail) == (
        f"{order.workflow_id}~g3",
        "no open shipment group",
    )
    replayed = await replay_latest(stack, "store", "rejected")
    assert replayed.workflow_id == f"{order.workflow_id}~g2", replayed


async def test_lines_no_node_can_ship_are_refunded_and_the_rest_is_invoiced(
    stack: Harness,
) -> None:
    put(stack, "/_sandbox/pos/autopilot", {"ready_after_seconds": 0.2, "reject_shipments": True})
    order = await split_order(stack, mug_at=("STORE-BOS",))
    candle, mug = order.lines
    result = await run(stack, order)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.cancelled_lines == {mug.line_id: 1}
    view = get(stack, f"/_sandbox/shopify/orders/{order.external_id}")
    (refund,) = view["refunds"]
    assert [(i["quantity"], i["restockType"]) for i in refund["refundLineItems"]] == [(1, "CANCEL")]
    assert erp_invoice_total(stack, order) == float(candle.net.amount)


def test_supplier_webhooks_need_a_fresh_valid_signature() -> None:
    raw = b'{"topic": "order.shipped", "data": {}}'
    now = time.time()
    stamp = str(int(now))
    good = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v0,xyz "
        + standard_signature(SANDBOX_DROPSHIP_SECRET, "msg_1", stamp, raw),
    }
    assert signature_valid(SANDBOX_DROPSHIP_SECRET, good, raw, now)
    assert not signature_valid(SANDBOX_DROPSHIP_SECRET, good, raw + b" ", now)
    assert not signature_valid(SANDBOX_DROPSHIP_SECRET, good, raw, now + 301)
    other = "whsec_" + base64.b64encode(b"another key").decode()
    assert not signature_valid(other, good, raw, now)
    assert not signature_valid(SANDBOX_DROPSHIP_SECRET, {**good, "webhook-id": "msg_2"}, raw, now)


async def test_an_unsigned_supplier_webhook_is_refused(stack: Harness) -> None:
    url = f"http://127.0.0.1:{stack.settings.webhooks_port}/webhooks/dropship"
    response = httpx.post(url, json={"topic": "order.shipped", "data": {}})
    assert response.status_code == 401


async def test_support_cancels_or_rejects_a_group_from_the_command_line(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, stack.settings)
    put(stack, "/_sandbox/pos/autopilot", {})  # the store's staff do not get to it
    for command in ("cancel-group", "reject-group"):
        order = await split_order(stack, mug_at=("STORE-BOS",))
        handle = await start_order(
            stack.client, stack.settings, order, OrderToCashInput(order=order, retry=QUICK)
        )
        await reaches(handle, OrderToCashWorkflow.status, OrderStatus.PARTIALLY_SHIPPED)
        shipped = ["cancel-group", order.workflow_id, "g1", "--reason", "too late"]
        assert await asyncio.to_thread(starter.main, shipped) == 1
        assert "has shipped" in capsys.readouterr().err
        args = [command, order.workflow_id, "g2", "--reason", "customer phoned"]
        assert await asyncio.to_thread(starter.main, args) == 0
        result = await asyncio.wait_for(handle.result(), 60)
        assert result.status is OrderStatus.COMPLETED
        assert result.cancelled_lines == {order.lines[1].line_id: 1}
        expected = "cancelled" if command == "cancel-group" else "rejected"
        assert result.groups[1].status == expected
        assert await asyncio.to_thread(starter.main, ["status", order.workflow_id]) == 0
        assert f"STORE-BOS: {expected}" in capsys.readouterr().out

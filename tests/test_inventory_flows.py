"""The inventory service end to end on the dev server, the sandbox over HTTP and the real
worker: stock events in, channels told, store sales out of stock, reconciliation from the
WMS, and orders racing for the last units."""

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
from canonical import ExceptionCode, OrderStatus
from inbox.store import InboxStatus
from inventory.service import InventoryService
from sandbox.shipstation import AutoShip
from services.orders import start_order
from services.schedules import reconcile_now
from testing.eventually import eventually
from testing.harness import Harness, order_harness
from tests.replays import replay_latest
from tests.support_cli import cli_env
from workflows.order_inputs import OrderToCashInput, RetryBudget

KEY = "inventory-test-key"


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


QUICK = RetryBudget(initial_interval=timedelta(milliseconds=200))


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client,
        autoship=AutoShip(after_seconds=0.3),
        INVENTORY_API_KEY=KEY,
        POS_API_KEY=KEY,
        INVENTORY_RECONCILE_SETTLE_MINUTES="0",
    ) as harness:
        yield harness


async def post(h: Harness, route: str, body: Any, key: str = KEY) -> httpx.Response:
    url = f"http://127.0.0.1:{h.settings.webhooks_port}/webhooks/{route}"
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(url, json=body, headers={"Authorization": f"Bearer {key}"})


def service(h: Harness) -> InventoryService:
    return open_inventory(h.settings)


async def last_push(h: Harness, channel: str, sku: str, value: int) -> None:
    """Wait until the channel's latest push for `sku` is `value`."""

    async def latest() -> list[int]:
        async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as client:
            pushes = (await client.get(f"/_sandbox/pushes/{channel}")).json()
        return [p["quantity"] for p in pushes if p["sku"] == sku]

    await eventually(
        latest, lambda got: bool(got) and got[-1] == value, what=f"{channel} {sku}={value}"
    )


async def test_stock_events_are_booked_once_and_reach_every_channel(stack: Harness) -> None:
    event = {"event_id": "rcpt-1", "kind": "receipt", "sku": "WICK-TRIM-01", "node": "WH-WEST",
             "quantity": 50, "reference": "PO-4711"}  # fmt: skip
    batch: dict[str, Any] = {
        "source": "erp",
        "batch_id": "po-4711",
        "events": [event],
    }
    first = await post(stack, "inventory", batch)
    assert first.status_code == 202 and first.json()["detail"] == "1 booked, 0 already booked"
    assert (await post(stack, "inventory", batch)).status_code == 200  # the same delivery
    again = await post(stack, "inventory", {**batch, "batch_id": "po-4711-resent"})
    assert again.json()["detail"] == "0 booked, 1 already booked"
    inventory = service(stack)
    (west,) = inventory.store.positions(skus=["WICK-TRIM-01"], nodes=["WH-WEST"])
    assert west.on_hand == 100_000 + 50
    for channel in ("shopify", "amazon", "walmart"):
        expected = inventory.available_to_sell(channel, ["WICK-TRIM-01"])["WICK-TRIM-01"]
        await last_push(stack, channel, "WICK-TRIM-01", expected)

    unknown = {**batch, "batch_id": "b2", "events": [{**event, "node": "NOWHERE"}]}
    refused = await post(stack, "inventory", unknown)
    assert refused.status_code == 422 and "NOWHERE" in refused.json()["detail"]
    bad = {**batch, "batch_id": "b3", "events": [{**event, "quantity": -4}]}
    assert (await post(stack, "inventory", bad)).status_code == 422
    assert (await post(stack, "inventory", batch, key="guess")).status_code == 401
    replayed = await replay_latest(stack, "inventory", "events", key="erp:po-4711")
    assert (replayed.status, replayed.detail) == (
        InboxStatus.ACCEPTED,
        "0 booked, 1 already booked",
    )  # `inbox replay` books nothing twice


async def test_store_sales_leave_the_store_stock(stack: Harness) -> None:
    receipt = {
        "source": "pos",
        "batch_id": "delivery-1",
        "events": [{"event_id": "d1", "kind": "receipt", "sku": "MUG-STONE-350",
                    "node": "STORE-BOS", "quantity": 10}],
    }  # fmt: skip
    assert (await post(stack, "inventory", receipt)).status_code == 202
    sale = {
        "transaction_id": f"t-{uuid.uuid4().hex[:6]}",
        "occurred_at": "2026-11-20T15:00:00+00:00",
        "currency": "USD",
        "lines": [{"sku": "MUG-STONE-350", "quantity": 3, "unit_price": usd("18.00")}],
        "tax": usd("3.38"),
        "total": usd("57.38"),
    }
    batch = {"store_id": "STORE-BOS", "batch_id": "b1", "sales": [sale]}
    assert (await post(stack, "pos", batch)).status_code == 202
    assert (await post(stack, "pos", {**batch, "batch_id": "b1-again"})).status_code == 202
    (store,) = service(stack).store.positions(skus=["MUG-STONE-350"], nodes=["STORE-BOS"])
    assert (store.on_hand, store.safety_stock, store.atp) == (7, 2, 5)
    elsewhere = {**batch, "store_id": "S99", "batch_id": "b9"}
    answer = (await post(stack, "pos", elsewhere)).json()
    assert "S99 is not an inventory node" in answer["detail"]


async def test_reconciliation_follows_the_wms_count(stack: Harness) -> None:
    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as client:
        counted = {"on_hand": 90_000}
        await client.put("/_sandbox/shipstation/inventory/102/TRAY-BRASS-S", json=counted)
    report = await reconcile_now(stack.client, stack.settings)
    (line,) = [x for x in report.lines if x.sku == "TRAY-BRASS-S" and x.node == "WH-WEST"]
    assert (line.position, line.wms, line.delta, line.booked) == (100_000, 90_000, -10_000, True)
    (west,) = service(stack).store.positions(skus=["TRAY-BRASS-S"], nodes=["WH-WEST"])
    assert west.on_hand == 90_000
    expected = service(stack).available_to_sell("walmart", ["TRAY-BRASS-S"])["TRAY-BRASS-S"]
    await last_push(stack, "walmart", "TRAY-BRASS-S", expected)
    assert [x for x in (await reconcile_now(stack.client, stack.settings)).lines if x.delta] == []


async def test_orders_racing_for_the_last_units(stack: Harness) -> None:
    """Two units left in the network, three orders at once: two ship, one is cancelled with
    its reason, and nothing is oversold."""
    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as client:
        for warehouse, units in (("101", 1), ("102", 1)):
            await client.put(
                f"/_sandbox/shipstation/inventory/{warehouse}/CANDLE-FIG-12OZ",
                json={"on_hand": units},
            )
        await reconcile_now(stack.client, stack.settings)
        bodies = (
            await client.post(
                "/_sandbox/shopify/orders", json={"count": 3, "skus": [("CANDLE-FIG-12OZ", 1)]}
            )
        ).json()
    orders = [order_from_webhook(body) for body in bodies]
    handles = await asyncio.gather(
        *(
            start_order(stack.client, stack.settings, o, OrderToCashInput(order=o, retry=QUICK))
            for o in orders
        )
    )
    results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 90)
    statuses = sorted(r.status.value for r in results)
    assert statuses == ["CANCELLED", "COMPLETED", "COMPLETED"]
    (cancelled,) = [r for r in results if r.status is OrderStatus.CANCELLED]
    assert cancelled.exception is not None
    assert cancelled.exception.code is ExceptionCode.OUT_OF_STOCK
    assert "CANDLE-FIG-12OZ: requested 1, available 0" in cancelled.exception.message
    positions = service(stack).store.positions(skus=["CANDLE-FIG-12OZ"])
    assert [(p.node, p.on_hand, p.reserved) for p in positions] == [
        ("WH-EAST", 0, 0),
        ("WH-WEST", 0, 0),
    ]


async def test_support_commands_show_a_sku_and_reconcile_now(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = stack.settings
    cli_env(monkeypatch, settings)
    run = starter.main
    assert await asyncio.to_thread(run, ["inventory", "reconcile", "--now"]) == 0
    assert "positions checked, 0 adjusted" in capsys.readouterr().out
    assert await asyncio.to_thread(run, ["inventory", "show", "MUG-STONE-350"]) == 0
    out = capsys.readouterr().out
    assert "WH-WEST" in out and "100000" in out and "Available to sell per channel" in out
    assert "498" in out  # Walmart: 40 % capped at 500 units, less a buffer of 2
    assert await asyncio.to_thread(run, ["inventory", "reconcile"]) == 0
    assert "reconciliation inventory-reconcile-now-" in capsys.readouterr().out
    assert await asyncio.to_thread(run, ["inventory", "network"]) == 0
    assert "amazon: sells from DS-LUMEN, WH-EAST, WH-WEST; 60 %" in capsys.readouterr().out

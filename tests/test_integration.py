"""Order-to-cash on the real Temporal dev server: real worker, real adapters, the sandbox over
HTTP with injected 5xx and 429, shipments arriving as WMS webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from adapters.shopify import order_from_webhook
from bootstrap.inventory import open_inventory
from canonical import Order, OrderStatus, OrderView
from sandbox.shipstation import AutoShip
from services.orders import start_order
from testing.eventually import eventually
from testing.harness import Harness, order_harness
from tests.replays import replay_latest
from workflows.order_inputs import OrderToCashInput, RetryBudget

QUICK = RetryBudget(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2)
)


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(dev_env.client, autoship=AutoShip(after_seconds=0.3)) as harness:
        yield harness


def sandbox_get(h: Harness, path: str) -> Any:
    response = httpx.get(f"{h.settings.sandbox_url}{path}")
    response.raise_for_status()
    return response.json()


def new_order(h: Harness) -> Order:
    response = httpx.post(f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1})
    return order_from_webhook(response.json()[0])


def faults(h: Harness, system: str, **profile: object) -> None:
    httpx.put(f"{h.settings.sandbox_url}/_sandbox/faults/{system}", json=profile).raise_for_status()


async def run_order(h: Harness, order: Order, sla: timedelta = timedelta(hours=1)) -> OrderView:
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, shipment_sla=sla, retry=QUICK)
    )
    return await asyncio.wait_for(handle.result(), 60)


async def visible(h: Harness, query: str, expected: int = 1) -> list[str]:
    """Visibility is eventually consistent: poll until the query finds `expected` runs."""

    async def found() -> list[str]:
        return [w.id async for w in h.client.list_workflows(query)]

    return await eventually(found, lambda ids: len(ids) >= expected, what=query)


async def test_order_completes_through_injected_5xx_and_429(stack: Harness) -> None:
    faults(stack, "netsuite", fail_next=2, match="PUT .*/salesOrder/")
    faults(stack, "avatax", throttle_next=2, retry_after_s=1)
    faults(stack, "shopify", throttle_next=1)
    faults(stack, "shipstation", fail_next=1, throttle_next=1, retry_after_s=1, match="createorder")
    order = new_order(stack)
    result = await run_order(stack, order)

    assert result.status is OrderStatus.COMPLETED, result.timeline
    injected = sandbox_get(stack, "/_sandbox/stats")["faults_injected"]
    faulty = {"netsuite": 2, "avatax": 2, "shopify": 1, "shipstation": 2}
    assert injected == faulty | {system: 0 for system in injected if system not in faulty}
    erp = [
        o
        for o in sandbox_get(stack, "/_sandbox/netsuite/salesOrders")
        if o["externalId"] == order.key
    ]
    assert len(erp) == 1 and erp[0]["orderStatus"]["id"] == "G"  # one order, billed
    assert sandbox_get(stack, f"/_sandbox/avatax/documents/{order.key}")["status"] == "Committed"
    # The inventory service reserved it and the shipment took it out of stock.
    store = open_inventory(stack.settings).store
    reservations = store.reservations(order_id=order.key)
    assert {(r.line_id, r.quantity) for r in reservations} == {
        (line.line_id, line.quantity) for line in order.lines
    }
    ((status, node),) = {(r.status, r.node) for r in reservations}
    wms = sandbox_get(stack, f"/_sandbox/shipstation/orders/{order.key}")
    assert status == "committed"
    assert str(wms["advancedOptions"]["warehouseId"]) == store.nodes()[node].wms_warehouse
    shopify = sandbox_get(stack, f"/_sandbox/shopify/orders/{order.external_id}")
    assert len(shopify["fulfillments"]) == 1 and "orchestrator-accepted" in shopify["tags"]
    assert (
        shopify["fulfillments"][0]["trackingInfo"][0]["number"]
        == result.shipments[0].tracking_number
    )
    found = await visible(
        stack, f"OrderStatus = 'COMPLETED' AND ExternalOrderId = '{order.external_id}'"
    )
    assert found == [order.workflow_id]
    replayed = await replay_latest(stack, "wms", "SHIP_NOTIFY")  # re-fetched, order closed
    assert replayed.detail == f"no open order for {[order.workflow_id]}", replayed


async def test_erp_rejection_fails_and_compensates_every_partner(stack: Harness) -> None:
    faults(stack, "netsuite", reject_next=1, match="PUT .*/salesOrder/")
    order = new_order(stack)
    result = await run_order(stack, order)

    assert result.status is OrderStatus.FAILED
    assert result.exception is not None and result.exception.code.value == "ERP_REJECTED"
    assert result.compensations_done == [
        "cancel_sales_order",
        "release_order",
        "void_tax",
        "cancel_channel_order",
    ]
    assert sandbox_get(stack, f"/_sandbox/avatax/documents/{order.key}")["status"] == "Cancelled"
    reservations = open_inventory(stack.settings).store.reservations(order_id=order.key)
    assert reservations and {r.status for r in reservations} == {"released"}
    assert (
        sandbox_get(stack, f"/_sandbox/shopify/orders/{order.external_id}")["cancelledAt"]
        is not None
    )
    found = await visible(
        stack, f"ExceptionCode = 'ERP_REJECTED' AND ExternalOrderId = '{order.external_id}'"
    )
    assert found == [order.workflow_id]


async def test_late_order_is_delayed_then_cancelled_by_support(
    dev_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with order_harness(dev_env.client) as h:  # no autoship: the warehouse never ships
        order = new_order(h)
        await start_order(
            h.client,
            h.settings,
            order,
            OrderToCashInput(order=order, shipment_sla=timedelta(seconds=1), retry=QUICK),
        )
        await visible(h, f"OrderStatus = 'DELAYED' AND ExternalOrderId = '{order.external_id}'")

        monkeypatch.setenv("TEMPORAL_ADDRESS", h.settings.temporal_target)
        assert await asyncio.to_thread(starter.main, ["status", order.workflow_id]) == 0
        assert "DELAYED" in capsys.readouterr().out
        assert (
            await asyncio.to_thread(
                starter.main, ["list", "--status", "delayed", "--channel", "shopify"]
            )
            == 0
        )
        assert "1 order(s)" in capsys.readouterr().out
        assert (
            await asyncio.to_thread(
                starter.main, ["cancel", order.workflow_id, "--reason", "customer called"]
            )
            == 0
        )
        assert "CANCELLED" in capsys.readouterr().out

        assert (
            sandbox_get(h, f"/_sandbox/shipstation/orders/{order.key}")["orderStatus"]
            == "cancelled"
        )
        erp = [
            o
            for o in sandbox_get(h, "/_sandbox/netsuite/salesOrders")
            if o["externalId"] == order.key
        ]
        assert erp[0]["orderStatus"]["id"] == "H"
        shopify = sandbox_get(h, f"/_sandbox/shopify/orders/{order.external_id}")
        assert shopify["cancelledAt"] is not None

        assert (
            await asyncio.to_thread(
                starter.main, ["cancel", order.workflow_id, "--reason", "again"]
            )
            == 1
        )
        assert "already CANCELLED" in capsys.readouterr().err
        assert await asyncio.to_thread(starter.main, ["status", "shopify:does-not-exist"]) == 1
        assert "No order workflow order:shopify:does-not-exist" in capsys.readouterr().err
        assert await asyncio.to_thread(starter.main, ["resume", "not an id"]) == 2
        assert "'not an id' is not an order" in capsys.readouterr().err


def test_unreachable_temporal_is_a_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.processes import free_port

    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    assert starter.main(["list"]) == 1
    err = capsys.readouterr().err
    assert "Cannot reach Temporal" in err and "Traceback" not in err

"""Amazon ORDER_CHANGE notifications end to end: SP-API sandbox, real worker, dev server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from bootstrap.inventory import open_inventory
from canonical import OrderStatus, OrderView
from inbox.store import Inbox, InboxStatus
from sandbox.shipstation import AutoShip
from services.orders import order_handle
from testing.eventually import reaches
from testing.harness import Harness, order_harness
from tests.signing import deliver_amazon
from workflows.order_inputs import ResumeRequest
from workflows.order_to_cash import OrderToCashWorkflow

TOKEN = "amazon-test-token"


@pytest.fixture
async def stack(dev_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with order_harness(
        dev_env.client, autoship=AutoShip(after_seconds=0.3), AMAZON_WEBHOOK_TOKEN=TOKEN
    ) as harness:
        yield harness


async def notify(h: Harness, notification: dict[str, Any], token: str = TOKEN) -> httpx.Response:
    return await deliver_amazon(h.settings, notification, token)


async def sandbox(h: Harness, method: str, path: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url, timeout=30) as client:
        response = await client.request(method, path, **kw)
        response.raise_for_status()
        return response.json()


async def final(h: Harness, workflow_id: str) -> OrderView:
    handle = order_handle(h.client, workflow_id)
    return await asyncio.wait_for(handle.result(), 60)


def order_id(notification: dict[str, Any]) -> str:
    return str(notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"])


async def test_unshipped_mfn_order_ships_and_is_confirmed_once(stack: Harness) -> None:
    notification = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json={})
    response = await notify(stack, notification)
    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]
    assert workflow_id == f"order:amazon:{order_id(notification)}"
    again = await notify(stack, notification)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    result = await final(stack, workflow_id)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    amazon = await sandbox(stack, "GET", f"/_sandbox/amazon/orders/{order_id(notification)}")
    assert amazon["OrderStatus"] == "Shipped"
    [package] = amazon["confirmations"]
    assert package["packageReferenceId"] == result.shipments[0].shipment_id
    assert package["trackingNumber"] == result.shipments[0].tracking_number
    key = f"amazon-{order_id(notification)}"
    tax = await sandbox(stack, "GET", f"/_sandbox/avatax/documents/{key}")
    assert tax["totalTax"] == 0 and tax["lines"][0]["marketplaceLiabilityType"] == "Marketplace"
    assert tax["lines"][0]["taxCalculated"] > 0  # recorded, remitted by Amazon


async def test_pending_waits_until_unshipped(stack: Harness) -> None:
    pending = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json={"status": "Pending"})
    first = await notify(stack, pending)
    assert first.status_code == 200 and first.json()["status"] == "ignored"
    assert "Pending" in first.json()["detail"]
    unshipped = await sandbox(
        stack,
        "POST",
        f"/_sandbox/amazon/orders/{order_id(pending)}/status",
        json={"status": "Unshipped"},
    )
    response = await notify(stack, unshipped)
    assert response.status_code == 202
    assert (await final(stack, response.json()["workflow_id"])).status is OrderStatus.COMPLETED


async def test_afn_order_never_reaches_our_warehouse(stack: Harness) -> None:
    spec = {"status": "Shipped", "fulfillment_channel": "AFN"}
    notification = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json=spec)
    response = await notify(stack, notification)
    result = await final(stack, response.json()["workflow_id"])
    assert result.status is OrderStatus.COMPLETED
    assert result.shipments == []
    key = f"amazon-{order_id(notification)}"
    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as client:
        assert (await client.get(f"/_sandbox/shipstation/orders/{key}")).status_code == 404
    assert open_inventory(stack.settings).store.reservations(order_id=key) == []  # not our stock
    erp = await sandbox(stack, "GET", "/_sandbox/netsuite/salesOrders")
    assert [o["orderStatus"]["id"] for o in erp if o["externalId"] == key] == ["G"]  # invoiced


async def test_cancelled_on_amazon_before_shipment(stack: Harness) -> None:
    notification = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json={})
    async with httpx.AsyncClient(base_url=stack.settings.sandbox_url) as client:
        await client.put("/_sandbox/shipstation/autoship", json={"after_seconds": None})
    response = await notify(stack, notification)
    workflow_id = response.json()["workflow_id"]
    handle = order_handle(stack.client, workflow_id)
    await reaches(handle, OrderToCashWorkflow.status, OrderStatus.AWAITING_SHIPMENT)
    cancelled = await sandbox(
        stack,
        "POST",
        f"/_sandbox/amazon/orders/{order_id(notification)}/status",
        json={"status": "Canceled"},
    )
    assert (await notify(stack, cancelled)).status_code == 202
    result = await final(stack, workflow_id)
    assert result.status is OrderStatus.CANCELLED
    assert result.compensations_done == [
        "cancel_fulfillment",
        "cancel_sales_order",
        "release_order",
        "void_tax",
    ]


async def test_wrong_token_is_refused(stack: Harness) -> None:
    notification = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json={})
    assert (await notify(stack, notification, token="guess")).status_code == 401


async def test_a_buyer_cancel_request_before_shipment_cancels_the_order(
    dev_env: WorkflowEnvironment,
) -> None:
    """Honoured: compensations run, and the Amazon side is Seller Central's with reason
    BuyerCanceled (no SP-API call for it), which support confirms by hand."""
    async with order_harness(dev_env.client, AMAZON_WEBHOOK_TOKEN=TOKEN) as h:  # never ships
        placed = await sandbox(h, "POST", "/_sandbox/amazon/orders", json={})
        workflow_id = (await notify(h, placed)).json()["workflow_id"]
        handle = order_handle(h.client, workflow_id)
        await reaches(handle, OrderToCashWorkflow.status, OrderStatus.AWAITING_SHIPMENT)
        path = f"/_sandbox/amazon/orders/{order_id(placed)}/buyer-cancel"
        request = await sandbox(h, "POST", path, json={"reason": "Ordered the wrong size"})
        assert request["Payload"]["OrderChangeNotification"]["OrderChangeType"] == (
            "BuyerRequestedChange"
        )
        answer = await notify(h, request)
        assert answer.status_code in (200, 202) and answer.json()["status"] == "accepted", (
            answer.text
        )
        view = await reaches(handle, OrderToCashWorkflow.status, OrderStatus.NEEDS_ATTENTION)
        assert view.exception is not None
        assert "in Seller Central with reason BuyerCanceled" in view.exception.message
        assert "the buyer asked to cancel on Amazon: Ordered the wrong size" in (
            view.exception.message
        )
        done = ResumeRequest(note="cancelled in Seller Central", done_by_hand="SC-CANCEL-1")
        await handle.execute_update(OrderToCashWorkflow.resume, done)
        result = await final(h, workflow_id)
    assert result.status is OrderStatus.CANCELLED, result.timeline
    assert "cancel_channel_order" in result.compensations_done
    assert result.cancel_reason == "the buyer asked to cancel on Amazon: Ordered the wrong size"
    assert any("done by hand: SC-CANCEL-1" in change.note for change in result.timeline)


async def test_a_buyer_cancel_request_after_shipment_goes_to_support(stack: Harness) -> None:
    placed = await sandbox(stack, "POST", "/_sandbox/amazon/orders", json={})
    workflow_id = (await notify(stack, placed)).json()["workflow_id"]
    assert (await final(stack, workflow_id)).status is OrderStatus.COMPLETED
    path = f"/_sandbox/amazon/orders/{order_id(placed)}/buyer-cancel"
    request = await sandbox(stack, "POST", path, json={"reason": "Found it cheaper"})
    answer = await notify(stack, request)
    assert answer.status_code == 200 and answer.json()["status"] == "refused", answer.text
    assert "already closed" in answer.json()["detail"]
    (kept,) = Inbox.of(stack.settings).latest(InboxStatus.REFUSED, "amazon")
    assert kept.workflow_id == workflow_id  # support's queue: `inbox list --status refused`
    assert (await final(stack, workflow_id)).status is OrderStatus.COMPLETED

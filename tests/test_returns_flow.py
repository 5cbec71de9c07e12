"""Returns end to end on the dev server with the real worker: a Shopify refund of returned
goods, a return booked by support, a return at a store's counter. The sandbox plays the
carrier's label, the warehouse's and the store's returns desks, Shopify, NetSuite and AvaTax."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

import starter
from adapters.shopify import order_from_webhook
from bootstrap.inventory import open_inventory
from canonical import ExceptionCode, Order, OrderStatus, OrderView, ReturnView
from inbox.keys import AMAZON_RETURN
from inbox.store import InboxStatus
from services.orders import result_once_started, start_order
from testing.eventually import reaches
from testing.harness import Harness
from tests.replays import replay_latest
from tests.signing import deliver_amazon, deliver_shopify
from tests.support_cli import cli_env
from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.order_inputs import OrderToCashInput, RetryBudget
from workflows.returns import ReturnWorkflow

MUG = "MUG-STONE-350"


@pytest.fixture
def stack(shipping_stack: Harness) -> Harness:
    return shipping_stack


def sandbox(h: Harness, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{h.settings.sandbox_url}{path}", json=body)
    response.raise_for_status()
    return response.json()


async def shipped_order(h: Harness) -> Order:
    body = sandbox(h, "POST", "/_sandbox/shopify/orders", {"count": 1, "skus": [[MUG, 2]]})[0]
    order = order_from_webhook(body)
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=RetryBudget())
    )
    result = await asyncio.wait_for(handle.result(), 60)
    assert result.status is OrderStatus.COMPLETED
    return order


async def poll_amazon_returns(h: Harness) -> list[str]:
    return await h.client.execute_workflow(
        AmazonReturnPollWorkflow.run,
        id=f"amazon-return-poll-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


def on_hand(h: Harness, node: str) -> int:
    (position,) = open_inventory(h.settings).store.positions(skus=[MUG], nodes=[node])
    return position.on_hand


async def test_a_shopify_refund_of_returned_goods_runs_the_return(stack: Harness) -> None:
    sandbox(stack, "PUT", "/_sandbox/returns/autopilot", {"receive_after_seconds": 0.3})
    order = await shipped_order(stack)
    before = on_hand(stack, "WH-EAST")
    (line,) = order.lines
    refund = sandbox(
        stack, "POST", f"/_sandbox/shopify/orders/{order.external_id}/returns",
        {"lines": [{"line_item_id": int(line.line_id), "quantity": 1}],
         "note": "Mug arrived chipped"},
    )  # fmt: skip
    answer = await deliver_shopify(stack.settings, refund, "refunds/create")
    assert answer.status_code == 202, answer.text
    return_id = f"return:shopify:{order.external_id}:{refund['id']}"
    result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    details = result.return_details
    assert details is not None and details.refund_id == refund["admin_graphql_api_id"]
    assert details.received_at_node == "WH-EAST" and details.label_url
    view = sandbox(stack, "GET", f"/_sandbox/shopify/orders/{order.external_id}")
    assert len(view["refunds"]) == 1  # the merchant's own: not refunded again
    memos = [m for m in sandbox(stack, "GET", "/_sandbox/netsuite/creditMemos")
             if m["externalId"] == f"{order.key}-R-{refund['id']}"]  # fmt: skip
    assert len(memos) == 1 and memos[0]["item"]["items"][0]["quantity"] == 1
    tax = sandbox(stack, "GET", f"/_sandbox/avatax/documents/{order.key}-R-{refund['id']}")
    assert tax["type"] == "ReturnInvoice" and tax["status"] == "Committed"
    assert tax["totalAmount"] < 0
    assert on_hand(stack, "WH-EAST") == before + 1
    templates = [m["template_id"] for m in sandbox(stack, "GET", "/_sandbox/sendgrid/messages")]
    assert templates == ["d-returnlabel", "d-refundissued"]


async def test_support_books_receives_and_inspects_a_return(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(monkeypatch, stack.settings)
    order = await shipped_order(stack)
    (line,) = order.lines
    book = ["return", order.workflow_id, "--line", f"{line.line_id}=2", "--reason", "too big"]
    assert await asyncio.to_thread(starter.main, book) == 0
    said = capsys.readouterr().out
    assert f"authorised for 2 x line {line.line_id}" in said
    return_id = said.split()[1]
    handle = stack.client.get_workflow_handle(return_id)
    await reaches(handle, ReturnWorkflow.status, OrderStatus.AWAITING_RETURN)
    received = ["return-received", return_id, "--node", "WH-WEST"]
    assert await asyncio.to_thread(starter.main, received) == 0
    await reaches(handle, ReturnWorkflow.status, OrderStatus.INSPECTING)
    bad = ["inspect", return_id, "--line", f"{line.line_id}=2:broken"]
    assert await asyncio.to_thread(starter.main, bad) == 2
    inspect = ["inspect", return_id, "--line", f"{line.line_id}=1:resalable",
               "--line", f"{line.line_id}=1:damaged"]  # fmt: skip
    assert await asyncio.to_thread(starter.main, inspect) == 0
    result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    capsys.readouterr()
    assert await asyncio.to_thread(starter.main, ["status", return_id]) == 0
    shown = capsys.readouterr().out
    assert "COMPLETED" in shown and "Credit note" in shown and f"2 x {line.line_id}" in shown
    view = sandbox(stack, "GET", f"/_sandbox/shopify/orders/{order.external_id}")
    (refund,) = view["refunds"]
    assert [(i["quantity"], i["restockType"]) for i in refund["refundLineItems"]] == [
        (2, "NO_RESTOCK")
    ]


async def returned_at_counter(stack: Harness, store: str) -> tuple[str, int]:
    """A shipped mug brought back to `store`'s counter: the return's id, and STORE-BOS's mugs
    on hand before."""
    order = await shipped_order(stack)
    before = (
        on_hand(stack, "STORE-BOS")
        if open_inventory(stack.settings).store.positions(skus=[MUG], nodes=["STORE-BOS"])
        else 0
    )
    (line,) = order.lines
    parcel = sandbox(
        stack, "POST", f"/_sandbox/returns/stores/{store}",
        {"order_key": order.key, "lines": [{"line_id": line.line_id, "sku": MUG, "quantity": 1}],
         "reason": "changed mind"},
    )  # fmt: skip
    return f"return:shopify:{order.external_id}:{parcel['return_id']}", before


async def test_a_return_at_the_store_counter(stack: Harness) -> None:
    return_id, before = await returned_at_counter(stack, "STORE-BOS")
    result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.return_details is not None and result.return_details.label_url is None
    assert on_hand(stack, "STORE-BOS") == before + 1
    # The desk's events re-driven once the return closed: the inspection it took answers as
    # taken (an update named by the desk's event id), not refused as a repeat; a receipt
    # is refused with why, not kept to be resent for ever.
    inspected = await replay_latest(stack, "returns", "inspected")
    assert (inspected.status, inspected.workflow_id) == (InboxStatus.ACCEPTED, return_id)
    late = {
        "event_id": uuid.uuid4().hex, "kind": "received", "rma": return_id,
        "store": "STORE-BOS", "occurred_at": "2026-12-07T10:00:00Z",
    }  # fmt: skip
    received = httpx.post(
        f"http://127.0.0.1:{stack.settings.webhooks_port}/webhooks/returns",
        json=late,
        headers={"Authorization": f"Bearer {stack.settings.returns_api_key}"},
        timeout=30,
    )
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "refused"
    assert received.json()["detail"] == f"return {return_id} is closed (completed)"


async def test_a_return_booked_at_an_unknown_node_waits_for_support_to_correct_it(
    stack: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No retry makes a mistyped node exist: the return holds with the reason at once, and
    support's receipt at the right node, then resume, books the units there."""
    cli_env(monkeypatch, stack.settings)
    return_id, before = await returned_at_counter(stack, "STORE-B0S")  # a zero for the O
    handle = stack.client.get_workflow_handle(return_id)
    view = await reaches(handle, ReturnWorkflow.status, OrderStatus.NEEDS_ATTENTION, timeout=20)
    assert view.exception is not None and view.exception.code is ExceptionCode.UNKNOWN_NODE
    assert "STORE-B0S is not a node of the network" in view.exception.message
    capsys.readouterr()
    correct = ["return-received", return_id, "--node", "STORE-BOS"]
    assert await asyncio.to_thread(starter.main, correct) == 0
    assert "received at STORE-BOS (corrected)" in capsys.readouterr().out
    assert await asyncio.to_thread(starter.main, ["resume", return_id]) == 0
    result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.return_details.received_at_node == "STORE-BOS"
    assert on_hand(stack, "STORE-BOS") == before + 1
    again = ["return-received", return_id, "--node", "WH-WEST"]
    assert await asyncio.to_thread(starter.main, again) == 1
    assert "is already COMPLETED; nothing to change" in capsys.readouterr().err


async def test_an_amazon_return_from_the_returns_report_is_refunded_in_seller_central(
    stack: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(monkeypatch, stack.settings)
    sandbox(stack, "PUT", "/_sandbox/returns/autopilot", {"receive_after_seconds": 0.3})
    notification = sandbox(stack, "POST", "/_sandbox/amazon/orders", {})
    amazon_id = notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    answer = await deliver_amazon(stack.settings, notification)
    assert answer.status_code == 202, answer.text
    order = await result_once_started(stack.client, f"order:amazon:{amazon_id}", OrderView)
    assert order.status is OrderStatus.COMPLETED, order.timeline
    line = order.shipments[0].lines[0]
    row = sandbox(
        stack, "POST", f"/_sandbox/amazon/orders/{amazon_id}/returns", {"sku": line.sku}
    )  # the customer opens it on Amazon
    started = await poll_amazon_returns(stack)
    return_id = f"return:amazon:{amazon_id}:{row['Amazon RMA ID']}"
    assert started == [return_id]
    handle = stack.client.get_workflow_handle(return_id)
    view = await reaches(handle, ReturnWorkflow.status, OrderStatus.NEEDS_ATTENTION, timeout=60)
    assert view.exception is not None and "Seller Central" in view.exception.message
    assert view.return_details is not None and view.return_details.label_url is None
    assert view.return_details.accepted == {line.line_id: 1}  # the report's SKU, matched
    again = await poll_amazon_returns(stack)
    assert again == []  # reported again, started once
    done = ["resume", return_id, "--done-by-hand", "SC-4711", "--note", "refunded in SC"]
    assert await asyncio.to_thread(starter.main, done) == 0
    result = await result_once_started(stack.client, return_id, ReturnView)
    assert result.status is OrderStatus.COMPLETED, result.timeline
    assert result.return_details is not None and result.return_details.refund_id == "SC-4711"
    memos = [m for m in sandbox(stack, "GET", "/_sandbox/netsuite/creditMemos")
             if m["externalId"].startswith(f"amazon-{amazon_id}-R-")]  # fmt: skip
    assert len(memos) == 1
    # `inbox replay` of each kind of entry this took reaches what it reached the first time.
    replayed = await replay_latest(stack, *AMAZON_RETURN)
    assert (replayed.status, replayed.workflow_id) == (InboxStatus.ACCEPTED, return_id)
    replayed = await replay_latest(stack, "amazon", "ORDER_CHANGE")
    assert replayed.status is InboxStatus.ACCEPTED
    assert replayed.workflow_id == f"order:amazon:{amazon_id}"
    # The returns desk's events, after the return closed: what it took answers as taken, a
    # receipt it no longer needs is refused with why (not kept to be resent for ever).
    expected = {"received": InboxStatus.REFUSED, "inspected": InboxStatus.ACCEPTED}
    for kind, status in expected.items():
        replayed = await replay_latest(stack, "returns", kind)
        assert (replayed.workflow_id, replayed.status) == (return_id, status), replayed

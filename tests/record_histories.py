"""Records real histories of every workflow type into tests/histories/ (`make
record-histories`), one file per scenario: `{workflow type}_{scenario}.json`.

Each scenario runs on a fresh Temporal dev server with the sandbox over HTTP and the real
worker; `tests/test_replay.py` replays every file, so a workflow change that would break a
running execution fails CI. The scenario's docstring says what the file shows; the index
(`tests/histories/README.md`) and the workflow ids (`workflow_ids.json`) are written with
the files. See the README's "Changing a workflow" for when to keep old files."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.catalog import (
    PriceChange,
    PriceChangeInput,
    PublicationRequest,
    price_change_workflow_id,
)
from adapters.shopify import order_from_webhook, privacy_request_from_webhook
from bootstrap.inventory import open_inventory, publisher_signals
from canonical import (
    Channel,
    ChannelEvent,
    ChannelEventKind,
    FulfillmentMethod,
    Money,
    OrderStatus,
)
from canonical.inventory import InventoryEvent, InventoryEventKind
from canonical.order import order_key_of_workflow
from canonical.pos import PosSale
from canonical.returns import Condition, InspectedLine, Inspection, ReturnReceipt
from canonical.settlement import AmountKind, SettlementLine, SettlementLines
from inbox.store import Inbox
from infra.processes import binary
from infra.settings import Settings
from services.orders import cancel_from_channel, report_channel_event, start_order
from services.returns import book_support_return
from services.schedules import reconcile_now
from testing.eventually import eventually, reaches
from testing.harness import Harness, order_harness
from tests.histories_catalog import (
    AUTO_UPGRADE,
    HISTORIES,
    HISTORY_CONVERTER,
    HISTORY_KEYS,
    recorded,
    replay,
    workflow_type,
)
from tests.inventory_fixtures import receipt
from tests.signing import deliver_amazon
from tests.split_orders import split_order
from workflows.amazon_return_poll import AmazonReturnPollWorkflow
from workflows.catalog_publish import CatalogPublication, CatalogPublishWorkflow
from workflows.click_and_collect import ClickAndCollectWorkflow
from workflows.inventory_publisher import InventoryPublisherWorkflow, publisher_workflow_id
from workflows.inventory_reconciliation import InventoryReconciliationWorkflow, ReconcileInput
from workflows.order_inputs import (
    CancelRequest,
    ClickAndCollectInput,
    OrderToCashInput,
    ResumeRequest,
    RetryBudget,
    SettlementTerms,
)
from workflows.order_to_cash import OrderToCashWorkflow
from workflows.pos_day import PosDayInput, PosDayWorkflow, pos_day_workflow_id
from workflows.price_change import PriceChangeWorkflow
from workflows.privacy_request import PrivacyRequestWorkflow
from workflows.returns import ReturnWorkflow
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES
from workflows.settlement_import import SettlementImportWorkflow
from workflows.walmart_poll import WalmartOrderPollWorkflow
from workflows.walmart_return_poll import WalmartReturnPollWorkflow

RETURNED = "CANDLE-CEDAR-8OZ"
# A history's JSON does not hold its workflow id; workflows that derive child ids from it
# replay only under the id they ran with.
WORKFLOW_IDS = HISTORIES / "workflow_ids.json"
INDEX = HISTORIES / "README.md"
QUICK = RetryBudget(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2)
)
Handle = WorkflowHandle[OrderToCashWorkflow, object]


async def _start(
    h: Harness,
    skus: list[tuple[str, int]] | None = None,
    sla: timedelta = timedelta(hours=1),
    retry: RetryBudget = QUICK,
) -> Handle:
    # SKUs the warehouses always have: a random pick could find one a scenario sold out.
    lines = skus or [("CANDLE-CEDAR-8OZ", 1), ("CANDLE-FIG-12OZ", 1)]
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1, "skus": lines}
    ).json()[0]
    order = order_from_webhook(body)
    return await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, shipment_sla=sla, retry=retry)
    )


async def paid_when_settled(h: Harness) -> Handle:
    """An order of a channel whose payouts are imported: invoiced, it waits; a short settlement
    needs attention, a later one makes up the difference and the order completes paid."""
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        spec = {"count": 1, "skus": [("CANDLE-CEDAR-8OZ", 1)]}
        body = (await http.post("/_sandbox/shopify/orders", json=spec)).json()[0]
    order = order_from_webhook(body)
    terms = SettlementTerms(overdue=timedelta(days=14))
    handle: Handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=QUICK, settlement=terms)
    )
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    await _until(handle, OrderStatus.AWAITING_SETTLEMENT)
    dollar = Money.of("1.00", order.currency)
    for settlement_id, amount in (("S1", order.total - dollar), ("S2", dollar)):
        line = SettlementLine(
            line_id=f"{settlement_id}:1", kind=AmountKind.PRINCIPAL, amount=amount,
            order_id=order.external_id,
        )  # fmt: skip
        lines = SettlementLines(settlement_id=settlement_id, lines=[line])
        await handle.signal(OrderToCashWorkflow.settlement_received, lines)
        if settlement_id == "S1":
            await _until(handle, OrderStatus.NEEDS_ATTENTION)
    return handle


async def _until(handle: Handle, status: OrderStatus) -> None:
    await reaches(handle, OrderToCashWorkflow.status, status)


def _ship(h: Harness, handle: Handle, line: dict[str, object] | None = None) -> None:
    """The sandbox warehouse ships the order (one line of it, or all that is left)."""
    order_key = handle.id.removeprefix("order:").replace(":", "-", 1)
    url = f"{h.settings.sandbox_url}/_sandbox/shipstation/orders/{order_key}"
    body = {"lines": [line]} if line else None
    httpx.post(f"{url}/ship", json=body).raise_for_status()


async def completed(h: Harness) -> Handle:
    """The happy path: shipped by the warehouse, confirmed, delivered in the ERP, invoiced."""
    handle = await _start(h)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    return handle


async def split_shipment_after_delay(h: Harness) -> Handle:
    """The shipment SLA timer fires (DELAYED), then the warehouse ships line by line."""
    handle = await _start(
        h, [("CANDLE-CEDAR-8OZ", 2), ("MUG-STONE-350", 1)], sla=timedelta(seconds=1)
    )
    await _until(handle, OrderStatus.DELAYED)
    order_key = handle.id.removeprefix("order:").replace(":", "-", 1)
    wms = httpx.get(f"{h.settings.sandbox_url}/_sandbox/shipstation/orders/{order_key}").json()
    for item in wms["items"]:
        _ship(h, handle, {"lineItemKey": item["lineItemKey"], "quantity": item["quantity"]})
    return handle


async def cancelled_by_support(h: Harness) -> Handle:
    """Support cancels while it awaits shipment: every compensation runs in reverse."""
    handle = await _start(h)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    await handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="customer asked"))
    return handle


async def cancel_refused_goods_left(h: Harness) -> Handle:
    """The warehouse shipped but its notification was lost; support cancels, the WMS refuses
    (already shipped): the order reads the shipment back and completes instead of unwinding."""
    handle = await _start(h)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    order_key = handle.id.removeprefix("order:").replace(":", "-", 1)
    httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shipstation/orders/{order_key}/ship",
        json={"notify": False},
    ).raise_for_status()
    await handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="too late"))
    return handle


async def hold_resumed(h: Harness) -> Handle:
    """An unknown SKU holds the order; support resumes it with the right SKU; it completes."""
    handle = await _start(h, [("CANDLE-CEDAR-8OZ-OLD", 1)])
    await _until(handle, OrderStatus.ON_HOLD)
    await handle.execute_update(
        OrderToCashWorkflow.resume,
        ResumeRequest(note="old SKU", sku_overrides={"CANDLE-CEDAR-8OZ-OLD": "CANDLE-CEDAR-8OZ"}),
    )
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    return handle


async def compensation_failed_resumed(h: Harness) -> Handle:
    """A cancel whose WMS compensation is refused: NEEDS_ATTENTION, then support resumes and
    the order ends CANCELLED."""
    handle = await _start(h)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    httpx.put(
        f"{h.settings.sandbox_url}/_sandbox/faults/shipstation",
        json={"reject_next": 1, "match": "POST .*/orders/createorder"},
    ).raise_for_status()
    await handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="fraud"))
    await _until(handle, OrderStatus.NEEDS_ATTENTION)
    await handle.execute_update(OrderToCashWorkflow.resume, ResumeRequest(note="WMS fixed"))
    return handle


async def erp_rejected(h: Harness) -> Handle:
    """The ERP refuses the sales order: compensations run, the order ends FAILED."""
    httpx.put(
        f"{h.settings.sandbox_url}/_sandbox/faults/netsuite",
        json={"reject_next": 1, "match": "PUT .*/salesOrder/"},
    ).raise_for_status()
    return await _start(h)


async def throttled_past_budget(h: Harness) -> Handle:
    """The ERP says 'slow down' for longer than the step's budget: the order waits on."""
    httpx.put(
        f"{h.settings.sandbox_url}/_sandbox/faults/netsuite",
        json={"throttle_next": 3, "retry_after_s": 1, "match": "PUT .*/salesOrder/"},
    ).raise_for_status()
    budget = QUICK.model_copy(update={"transient_budget": timedelta(seconds=1)})
    handle = await _start(h, retry=budget)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    return handle


async def cancelled_by_channel_before_create(h: Harness) -> Handle:
    """Shopify's `orders/cancelled` arrives before `orders/create` (update-with-start)."""
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders", json={"count": 1}
    ).json()[0]
    update = await cancel_from_channel(h.client, h.settings, order_from_webhook(body), "customer")
    return h.client.get_workflow_handle(update.workflow_id)


async def refund_reported(h: Harness) -> Handle:
    """A channel refund signalled while it awaits shipment lands on the timeline."""
    handle = await _start(h)
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    event = ChannelEvent(
        kind=ChannelEventKind.REFUND,
        event_id="1108824670465",
        occurred_at=datetime.now(UTC),
        summary="refund 1108824670465: 1 unit(s)",
    )
    await report_channel_event(h.client, handle.id, event)
    _ship(h, handle)
    return handle


async def pos_day(h: Harness) -> Any:
    """A past business day: its sales are posted and the run closes at once."""
    day = (datetime.now(UTC) - timedelta(days=4)).date()
    sale = PosSale.model_validate(
        {
            "transaction_id": "t1",
            "store_id": "S01",
            "occurred_at": datetime.combine(day, datetime.min.time(), UTC),
            "currency": "USD",
            "lines": [
                {"sku": "MUG-STONE-350", "quantity": 1, "unit_price": Money.of("18.00", "USD")}
            ],
            "tax": Money.of("1.13", "USD"),
            "total": Money.of("19.13", "USD"),
        }
    )
    return await h.client.start_workflow(
        PosDayWorkflow.run,
        PosDayInput(store_id="S01", business_day=day, late_grace=timedelta(hours=1)),
        id=pos_day_workflow_id("S01", day),
        task_queue=h.settings.task_queue,
        start_signal="sale_recorded",
        start_signal_args=[sale],
    )


async def walmart_poll(h: Harness) -> Any:
    """One poll imports a released PO and starts its order (which acknowledges it)."""
    httpx.post(f"{h.settings.sandbox_url}/_sandbox/walmart/orders", json={}).raise_for_status()
    return await h.client.start_workflow(
        WalmartOrderPollWorkflow.run, id="walmart-poll-recording", task_queue=h.settings.task_queue
    )


def _count(h: Harness, sku: str, **warehouses: int) -> None:
    """The sandbox WMS counts `sku` (`w<warehouse id>=units`); reconciliation books it."""
    for warehouse, units in warehouses.items():
        httpx.put(
            f"{h.settings.sandbox_url}/_sandbox/shipstation/inventory/"
            f"{warehouse.removeprefix('w')}/{sku}",
            json={"on_hand": units},
        ).raise_for_status()


async def out_of_stock_cancelled(h: Harness) -> Handle:
    """Nothing on hand or inbound: the order is cancelled with its reason."""
    _count(h, "TRAY-BRASS-S", w101=0, w102=0)
    await reconcile_now(h.client, h.settings)
    return await _start(h, [("TRAY-BRASS-S", 1)])


async def backordered_then_cancelled(h: Harness) -> Handle:
    """None on hand, some on its way to a warehouse: the order waits until support cancels."""
    _count(h, "WICK-TRIM-01", w101=0, w102=0)
    await reconcile_now(h.client, h.settings)
    open_inventory(h.settings).store.record(
        [
            InventoryEvent(
                source="erp", event_id=f"transfer-{uuid.uuid4().hex[:8]}",
                kind=InventoryEventKind.TRANSFER_OUT, sku="WICK-TRIM-01", node="DS-LUMEN",
                to_node="WH-EAST", quantity=5,
            )
        ]
    )  # fmt: skip
    handle = await _start(h, [("WICK-TRIM-01", 2)])
    await _until(handle, OrderStatus.ON_HOLD)
    await handle.execute_update(OrderToCashWorkflow.cancel, CancelRequest(reason="too slow"))
    return handle


async def reconciliation(h: Harness) -> Any:
    """The WMS counts more than we hold: the drift is booked."""
    _count(h, "MATCH-LONG-50", w102=99_990)
    return await h.client.start_workflow(
        InventoryReconciliationWorkflow.run,
        ReconcileInput(settle=timedelta(0)),
        id=f"inventory-reconcile-recording-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


async def publisher(h: Harness) -> Any:
    """A burst for two SKUs, pushed; the long-lived run is then terminated to keep it."""
    service = open_inventory(h.settings)
    signals = publisher_signals(lambda: _client(h), service, h.settings, h.adapters)
    for _ in range(5):
        await signals.changed({("MUG-STONE-350", "WH-EAST"), ("CANDLE-CEDAR-8OZ", "WH-WEST")})
    handle = h.client.get_workflow_handle(publisher_workflow_id(h.settings.task_queue, "amazon"))
    await eventually(
        lambda: handle.query(InventoryPublisherWorkflow.state),
        lambda state: (
            {"MUG-STONE-350", "CANDLE-CEDAR-8OZ"} <= set(state.pushes)
            and not state.in_flight
            and not state.pending
        ),
        what="both SKUs pushed",
    )
    await handle.terminate(reason="history recorded")
    return handle


async def _pickup(
    h: Harness,
    store: str,
    window: timedelta = timedelta(days=5),
    skus: tuple[str, ...] = ("CANDLE-FIG-12OZ",),
    settlement: SettlementTerms | None = None,
) -> Any:
    """A pickup order for one of each SKU at `store`, which gets stock for it first."""
    open_inventory(h.settings).store.record(
        [receipt(sku, store, 5, uuid.uuid4().hex) for sku in skus]
    )
    body = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/shopify/orders",
        json={
            "count": 1,
            "skus": [(sku, 1) for sku in skus],
            "pickup_location": f"{store} location",  # a local pickup on Shopify too
        },
    ).json()[0]
    order = order_from_webhook(body).model_copy(
        update={"fulfillment": FulfillmentMethod.PICKUP, "pickup_store": store}
    )
    return await start_order(
        h.client, h.settings, order,
        ClickAndCollectInput(
            order=order, pickup_window=window, retry=QUICK, settlement=settlement
        ),
    )  # fmt: skip


def _autopilot(h: Harness, **settings: object) -> None:
    httpx.put(f"{h.settings.sandbox_url}/_sandbox/pos/autopilot", json=settings).raise_for_status()


async def collected(h: Harness) -> Any:
    """Picked by the store, collected by the customer, invoiced."""
    _autopilot(h, ready_after_seconds=0.3, collect_after_seconds=0.5)
    return await _pickup(h, "STORE-BOS")


async def collected_and_paid(h: Harness) -> Any:
    """Of a channel whose payouts are imported: collected and invoiced, it waits until the
    payout pays it, then completes."""
    _autopilot(h, ready_after_seconds=0.3, collect_after_seconds=0.5)
    handle = await _pickup(h, "STORE-BOS", settlement=SettlementTerms(overdue=timedelta(days=14)))
    view = await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
    external_id = handle.id.split(":")[2]
    line = SettlementLine(
        line_id="P2:charge", kind=AmountKind.PRINCIPAL, amount=view.settlement_due,
        order_id=external_id,
    )  # fmt: skip
    await handle.signal(
        ClickAndCollectWorkflow.settlement_received,
        SettlementLines(settlement_id="P2", lines=[line]),
    )
    return handle


async def partly_collected(h: Harness) -> Any:
    """The customer takes one line: the rest is released, reduced in the ERP and refunded."""
    _autopilot(h, ready_after_seconds=0.3, collect_after_seconds=0.5, collect_first_line_only=True)
    return await _pickup(h, "STORE-BOS", skus=("CANDLE-FIG-12OZ", "MUG-STONE-350"))


async def pickup_expired(h: Harness) -> Any:
    """Ready but never collected: the pickup window's timer fires and the order unwinds."""
    _autopilot(h, ready_after_seconds=0.3)
    return await _pickup(h, "STORE-NYC", window=timedelta(seconds=3))


async def collected_after_window(h: Harness) -> Any:
    """The store's collection event is lost; the window runs out and the store refuses to
    withdraw the task (collected): read back from the POS, the order completes."""
    _autopilot(h, ready_after_seconds=0.3)
    handle = await _pickup(h, "STORE-BOS", window=timedelta(seconds=3))
    await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.READY_FOR_PICKUP)
    key = order_key_of_workflow(handle.id)
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        collect = f"/_sandbox/pos/stores/STORE-BOS/pickups/{key}/collect"
        (await http.post(collect, json={"event_lost": True})).raise_for_status()
    return handle


async def pickup_cancelled(h: Harness) -> Any:
    """Support cancels before the store picked it."""
    _autopilot(h)  # the staff never get to it
    handle = await _pickup(h, "STORE-SF")
    await reaches(handle, ClickAndCollectWorkflow.status, OrderStatus.AWAITING_SHIPMENT)
    await handle.execute_update(ClickAndCollectWorkflow.cancel, CancelRequest(reason="support"))
    return handle


def _partners(h: Harness, **autopilots: dict[str, object]) -> None:
    """Sandbox autopilots by path: `pos`, `shipbob`, `returns`, `shipstation_autoship`."""
    for name, settings in autopilots.items():
        path = "shipstation/autoship" if name == "shipstation_autoship" else f"{name}/autopilot"
        httpx.put(f"{h.settings.sandbox_url}/_sandbox/{path}", json=settings).raise_for_status()


async def _split(h: Harness, mug_at: tuple[str, ...], reject: bool) -> Handle:
    """A split order: the warehouse ships the candles; the store ships the mug or rejects it,
    and then the supplier ships it if it has one."""
    _partners(
        h,
        shipstation_autoship={"after_seconds": 0.3},
        pos={"ready_after_seconds": 0.3, "reject_shipments": reject},
        shipbob={"ship_after_seconds": 0.3},
    )
    order = await split_order(h, mug_at)
    handle = await start_order(
        h.client, h.settings, order, OrderToCashInput(order=order, retry=QUICK)
    )
    try:
        await asyncio.wait_for(handle.result(), 60)
    finally:
        _partners(h, shipstation_autoship={})
    return handle


async def split_lines_cancelled(h: Harness) -> Handle:
    """The store rejects its group and nobody else has the mug: only that line is cancelled."""
    return await _split(h, ("STORE-BOS",), reject=True)


async def split_resourced(h: Harness) -> Handle:
    """The store rejects its group; the mug is re-sourced to the drop-ship supplier."""
    return await _split(h, ("STORE-BOS", "DS-LUMEN"), reject=True)


async def split_shipped(h: Harness) -> Handle:
    """Split between the warehouse and a store; both ship."""
    return await _split(h, ("STORE-BOS",), reject=False)


def _group(split: Callable[[Harness], Awaitable[Handle]], group: str, doc: str) -> Any:
    async def scenario(h: Harness) -> Any:
        parent = await split(h)
        return h.client.get_workflow_handle(f"{parent.id}~{group}")

    scenario.__doc__ = doc
    return scenario


async def _returned(
    h: Harness,
    reason: str,
    skus: list[tuple[str, int]] | None = None,
    settings: Settings | None = None,
    **desk: object,
) -> Any:
    """A shipped order, one unit of it sent back (booked by support), the desk on autopilot."""
    _partners(h, returns={"receive_after_seconds": 0.3, "inspect_after_seconds": 0.3, **desk})
    handle = await _start(h, skus or [(RETURNED, 1)])
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    await asyncio.wait_for(handle.result(), 60)
    view = await handle.query(OrderToCashWorkflow.status)
    line_id = view.shipments[0].lines[0].line_id
    return await book_support_return(
        h.client, settings or h.settings, handle.id, {line_id: 1}, reason
    )


async def return_refund_settled(h: Harness) -> Any:
    """Of a channel whose payouts are imported: refunded, the return waits until a payout
    takes the refund back, then completes."""
    paid_out = replace(h.settings, settlement_channels=("shopify",))
    handle = await _returned(h, "too big", settings=paid_out)
    view = await reaches(handle, ReturnWorkflow.status, OrderStatus.AWAITING_SETTLEMENT)
    refunded = view.return_details.refund_amount
    line = SettlementLine(
        line_id="P1:refund", kind=AmountKind.REFUND, amount=refunded,
        order_id=handle.id.split(":")[2], refund_id=view.return_details.refund_id,
    )  # fmt: skip
    await handle.signal(
        ReturnWorkflow.settlement_received, SettlementLines(settlement_id="P1", lines=[line])
    )
    return handle


async def return_refunded(h: Harness) -> Any:
    """Booked by support, label sent, received, resalable: refunded, credited, restocked."""
    return await _returned(h, "too big")


async def return_damaged(h: Harness) -> Any:
    """Inspected as damaged: refunded, not restocked."""
    return await _returned(h, "cracked", condition="damaged")


async def return_refused(h: Harness) -> Any:
    """A non-returnable SKU: the policy refuses the return."""
    return await _returned(h, "not needed", [("MATCH-LONG-50", 1)])


async def return_node_corrected(h: Harness) -> Any:
    """Received at a node the network lacks: the restock holds (UNKNOWN_NODE) until support's
    receipt names the right node and resumes it."""
    handle = await _returned(h, "too big", receive_after_seconds=None)  # the desk is silent
    await reaches(handle, ReturnWorkflow.status, OrderStatus.AWAITING_RETURN)

    def parcel(event_id: str, node: str) -> ReturnReceipt:
        return ReturnReceipt(event_id=event_id, node=node, received_at=datetime.now(UTC))

    await handle.signal(ReturnWorkflow.return_received, parcel("desk-1", "WH-EAZT"))
    view = await reaches(handle, ReturnWorkflow.status, OrderStatus.INSPECTING)
    ((line_id, units),) = view.return_details.accepted.items()
    inspected = InspectedLine(line_id=line_id, quantity=units, condition=Condition.RESALABLE)
    await handle.execute_update(
        ReturnWorkflow.inspection_result, Inspection(event_id="desk-2", lines=[inspected])
    )
    await reaches(handle, ReturnWorkflow.status, OrderStatus.NEEDS_ATTENTION)
    await handle.signal(ReturnWorkflow.return_received, parcel("support-1", "WH-EAST"))
    await handle.execute_update(ReturnWorkflow.resume, ResumeRequest(note="node corrected"))
    return handle


async def _walmart_return_opened(h: Harness) -> None:
    """A Walmart order imported and shipped; its customer opens a return (Walmart's label)."""
    _partners(h, returns={"receive_after_seconds": 0.3, "inspect_after_seconds": 0.3})
    sandbox = h.settings.sandbox_url
    po = httpx.post(f"{sandbox}/_sandbox/walmart/orders", json={"skus": [[RETURNED, 1]]}).json()
    await h.client.execute_workflow(
        WalmartOrderPollWorkflow.run, id=f"walmart-poll-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )  # fmt: skip
    handle = h.client.get_workflow_handle(f"order:walmart:{po['purchaseOrderId']}")
    await _until(handle, OrderStatus.AWAITING_SHIPMENT)
    _ship(h, handle)
    await asyncio.wait_for(handle.result(), 60)
    httpx.post(
        f"{sandbox}/_sandbox/walmart/orders/{po['purchaseOrderId']}/returns", json={"lines": ["1"]}
    ).raise_for_status()


async def walmart_return_poll(h: Harness) -> Any:
    """One poll imports a return the customer opened on Walmart and starts it."""
    await _walmart_return_opened(h)
    return await h.client.start_workflow(
        WalmartReturnPollWorkflow.run,
        id=f"walmart-return-poll-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


async def return_with_walmart_label(h: Harness) -> Any:
    """A Walmart return: Walmart issued the label, so none of ours."""
    await _walmart_return_opened(h)
    (started,) = await h.client.execute_workflow(
        WalmartReturnPollWorkflow.run,
        id=f"walmart-return-poll-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )
    return h.client.get_workflow_handle(started)


async def _amazon_order(h: Harness) -> tuple[Handle, str]:
    """An Amazon order notified to the webhooks service, awaiting shipment; and its id."""
    notification = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/amazon/orders", json={"skus": [[RETURNED, 1]]}
    ).json()
    await amazon_webhook(h, notification)
    amazon_id = notification["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    order: Handle = h.client.get_workflow_handle(f"order:amazon:{amazon_id}")
    await _until(order, OrderStatus.AWAITING_SHIPMENT)
    return order, amazon_id


async def amazon_webhook(h: Harness, notification: dict[str, Any]) -> None:
    (await deliver_amazon(h.settings, notification)).raise_for_status()


async def _amazon_shipped(h: Harness) -> Handle:
    """An Amazon order notified to the webhooks service and shipped by the warehouse."""
    _partners(h, returns={"receive_after_seconds": 0.3, "inspect_after_seconds": 0.3})
    order, _ = await _amazon_order(h)
    _ship(h, order)
    await asyncio.wait_for(order.result(), 60)
    return order


async def cancelled_by_buyer(h: Harness) -> Handle:
    """The Amazon buyer asks to cancel before shipment: compensations run; Amazon's side is
    Seller Central's (reason BuyerCanceled), confirmed by support by hand."""
    order, amazon_id = await _amazon_order(h)
    asked = httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/amazon/orders/{amazon_id}/buyer-cancel", json={}
    ).json()
    await amazon_webhook(h, asked)
    await reaches(order, OrderToCashWorkflow.status, OrderStatus.NEEDS_ATTENTION)
    done = ResumeRequest(note="cancelled in Seller Central", done_by_hand="SC-CANCEL-1")
    await order.execute_update(OrderToCashWorkflow.resume, done)
    return order


async def _settlement_imported(h: Harness) -> WorkflowHandle[Any, list[str]]:
    """Amazon settles a shipped order (and charges the account): one import, which starts the
    settlement's own workflow."""
    await _amazon_shipped(h)
    async with httpx.AsyncClient(base_url=h.settings.sandbox_url) as http:
        (await http.post("/_sandbox/amazon/settlements", json={})).raise_for_status()
    return await h.client.start_workflow(
        SettlementImportWorkflow.run,
        Channel.AMAZON,
        id=f"settlement-import-amazon-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


async def settlement_import(h: Harness) -> Any:
    """One import finds a settlement report and starts its settlement's workflow."""
    return await _settlement_imported(h)


async def settlement_matched(h: Harness) -> Any:
    """A settlement's lines matched to the order they name, in batches, then summarised."""
    imported = await _settlement_imported(h)
    (started,) = await asyncio.wait_for(imported.result(), 60)
    return h.client.get_workflow_handle(started)


async def catalog_published(h: Harness) -> Any:
    """The ERP's catalogue published to Shopify: one productSet per product; the item that
    cannot be listed refused with why."""
    request = PublicationRequest(channel=Channel.SHOPIFY)
    return await h.client.start_workflow(
        CatalogPublishWorkflow.run,
        CatalogPublication(request=request),
        id=f"catalog-publish-recording-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


async def price_changed(h: Harness) -> Any:
    """A scheduled price's moment: the timer runs out, the SKU's listing is published again."""
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    change = PriceChange(sku="WICK-TRIM-01", at=at)
    return await h.client.start_workflow(
        PriceChangeWorkflow.run,
        PriceChangeInput(channel=Channel.SHOPIFY, change=change),
        id=price_change_workflow_id(Channel.SHOPIFY, change),
        task_queue=h.settings.task_queue,
    )


async def _privacy_request(h: Harness, topic: str) -> Any:
    """A customer asks, through Shopify, about (or to erase) their data."""
    body = {"shop_id": 1, "shop_domain": "recording.myshopify.com",
            "customer": {"id": 1, "email": "ada.lovelace@example.com"},
            "orders_to_redact": [5903317770561]}  # fmt: skip
    delivery = f"recording-{uuid.uuid4().hex[:8]}"
    Inbox.of(h.settings).add("shopify", topic, delivery, {}, json.dumps(body).encode())
    request = privacy_request_from_webhook(topic, body, delivery, datetime.now(UTC))
    return await h.client.start_workflow(
        PrivacyRequestWorkflow.run,
        request,
        id=request.workflow_id,
        task_queue=h.settings.task_queue,
    )


async def privacy_reported(h: Harness) -> Any:
    """What we hold on a customer, found and recorded for support."""
    return await _privacy_request(h, "customers/data_request")


async def privacy_forgotten(h: Harness) -> Any:
    """A customer forgotten: deliveries emptied, ERP record anonymized, key destroyed."""
    return await _privacy_request(h, "customers/redact")


async def amazon_return_poll(h: Harness) -> Any:
    """One poll reads Amazon's returns report and starts the return."""
    order = await _amazon_shipped(h)
    view = await order.query(OrderToCashWorkflow.status)
    amazon_id = order.id.rsplit(":", 1)[1]
    httpx.post(
        f"{h.settings.sandbox_url}/_sandbox/amazon/orders/{amazon_id}/returns",
        json={"sku": view.shipments[0].lines[0].sku},
    ).raise_for_status()
    return await h.client.start_workflow(
        AmazonReturnPollWorkflow.run,
        id=f"amazon-return-poll-{uuid.uuid4().hex[:6]}",
        task_queue=h.settings.task_queue,
    )


async def return_refunded_by_hand(h: Harness) -> Any:
    """An Amazon order returned: SP-API cannot refund, support does it in Seller Central."""
    order = await _amazon_shipped(h)
    view = await order.query(OrderToCashWorkflow.status)
    line_id = view.shipments[0].lines[0].line_id
    handle = await book_support_return(h.client, h.settings, order.id, {line_id: 1}, "broken")
    await reaches(handle, ReturnWorkflow.status, OrderStatus.NEEDS_ATTENTION)
    done = ResumeRequest(note="refunded in Seller Central", done_by_hand="SC-1")
    await handle.execute_update(ReturnWorkflow.resume, done)
    return handle


async def _client(h: Harness) -> Client:
    return h.client


ORDER_SCENARIOS: dict[str, Callable[[Harness], Awaitable[Handle]]] = {
    "completed": completed,
    "split_shipment_after_delay": split_shipment_after_delay,
    "cancelled_by_support": cancelled_by_support,
    "compensation_failed_resumed": compensation_failed_resumed,
    "cancel_refused_goods_left": cancel_refused_goods_left,
    "hold_resumed": hold_resumed,
    "erp_rejected": erp_rejected,
    "cancelled_by_channel_before_create": cancelled_by_channel_before_create,
    "refund_reported": refund_reported,
    "out_of_stock_cancelled": out_of_stock_cancelled,
    "backordered_then_cancelled": backordered_then_cancelled,
    "split_shipped": split_shipped,
    "split_lines_cancelled": split_lines_cancelled,  # before the supplier has any mugs
    "split_resourced": split_resourced,
    "throttled_past_budget": throttled_past_budget,
    "cancelled_by_buyer": cancelled_by_buyer,
    "paid_when_settled": paid_when_settled,
}
# file prefix (the workflow type) -> scenarios
SCENARIOS: dict[str, dict[str, Callable[[Harness], Awaitable[Any]]]] = {
    "order_to_cash": dict(ORDER_SCENARIOS),
    "pos_day": {"sales_posted": pos_day},
    "walmart_order_poll": {"imported": walmart_poll},
    "inventory_reconciliation": {"drift_booked": reconciliation},
    "inventory_publisher": {"burst_pushed": publisher},
    "shipment_group": {
        "warehouse_shipped": _group(split_shipped, "g1", "The warehouse's group ships."),
        "store_shipped": _group(split_shipped, "g2", "A store's group is picked and ships."),
        "store_rejected": _group(split_resourced, "g2", "A store rejects its group."),
        "dropship_shipped": _group(split_resourced, "g3", "The supplier ships a re-sourced line."),
    },
    "return": {
        "refunded": return_refunded,
        "damaged": return_damaged,
        "refused": return_refused,
        "walmart_label": return_with_walmart_label,
        "refunded_by_hand": return_refunded_by_hand,
        "node_corrected": return_node_corrected,
        "refund_settled": return_refund_settled,
    },
    "walmart_return_poll": {"imported": walmart_return_poll},
    "amazon_return_poll": {"imported": amazon_return_poll},
    "settlement_import": {"imported": settlement_import},
    "settlement": {"matched": settlement_matched},
    "catalog_publish": {"published": catalog_published},
    "price_change": {"published_at_its_moment": price_changed},
    "privacy_request": {"reported": privacy_reported, "forgotten": privacy_forgotten},
    "click_and_collect": {
        "collected": collected,
        "partly_collected": partly_collected,
        "expired": pickup_expired,
        "collected_after_window": collected_after_window,
        "collected_and_paid": collected_and_paid,
        "cancelled": pickup_cancelled,
    },
}


async def record(only: set[str] | None = None) -> list[Path]:
    """Every scenario, or only those of the workflow types (file prefixes) in `only`; the
    files of the other types are kept."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=HISTORY_CONVERTER,
        search_attributes=SEARCH_ATTRIBUTES,
    )
    written = []
    ids = json.loads(WORKFLOW_IDS.read_text()) if only and WORKFLOW_IDS.exists() else {}
    for stale in recorded(recursive=False):
        if not only or workflow_type(stale) in only:
            stale.unlink()
            ids.pop(stale.stem, None)
    try:
        # Counts set by a scenario are booked at once, however recently the SKU moved.
        async with order_harness(
            env.client,
            INVENTORY_RECONCILE_SETTLE_MINUTES="0",
            PAYLOAD_KEYS=HISTORY_KEYS.config(),
            # The histories replay without customers' keys: none is kept beside them.
            CUSTOMER_KEYS_DATABASE_URL=f"sqlite:///{tempfile.mkdtemp()}/customer-keys.db",
        ) as harness:
            for prefix, scenarios in SCENARIOS.items():
                if only and prefix not in only:
                    continue
                for name, scenario in scenarios.items():
                    handle = await scenario(harness)
                    with contextlib.suppress(WorkflowFailureError):  # a terminated run
                        await asyncio.wait_for(handle.result(), 60)
                    history = await handle.fetch_history()
                    path = HISTORIES / f"{prefix}__{name}.json"
                    path.write_text(history.to_json())
                    ids[path.stem] = handle.id
                    written.append(path)
    finally:
        await env.shutdown()
        WORKFLOW_IDS.write_text(json.dumps(ids, indent=1, sort_keys=True) + "\n")
        INDEX.write_text(_index(ids))
    return written


def keep(patch: str, types: set[str]) -> list[Path]:
    """Move the current histories of `types` to tests/histories/before-<patch>/, where they
    are replayed until the patch is removed from the code."""
    folder = HISTORIES / f"before-{patch}"
    folder.mkdir(exist_ok=True)
    ids: dict[str, str] = json.loads(WORKFLOW_IDS.read_text())
    kept_ids = (
        json.loads((folder / WORKFLOW_IDS.name).read_text())
        if (folder / WORKFLOW_IDS.name).exists()
        else {}
    )
    moved = []
    for path in recorded(recursive=False):
        if workflow_type(path) in types:
            moved.append(path.rename(folder / path.name))
            kept_ids[path.stem] = ids[path.stem]
    (folder / WORKFLOW_IDS.name).write_text(json.dumps(kept_ids, indent=1, sort_keys=True) + "\n")
    return moved


async def broken(types: set[str]) -> list[str]:
    """Histories of these types that today's code no longer replays."""
    failing = []
    for path in recorded(recursive=False):
        if workflow_type(path) in types and (await replay(path)).replay_failure is not None:
            failing.append(path.name)
    return failing


async def main(only: set[str] | None, patch: str | None) -> int:
    types = only or set(SCENARIOS)
    unknown = types - set(SCENARIOS)
    if unknown:
        print(f"No scenarios for {', '.join(sorted(unknown))}; known: {', '.join(SCENARIOS)}.")
        return 2
    if patch:
        for path in keep(patch, types):
            print(f"kept {path.relative_to(HISTORIES.parent.parent)}")
    else:
        # Running auto-upgrade executions replay on the new code: their old shapes must stay.
        failing = await broken(types & AUTO_UPGRADE)
        if failing:
            print(
                f"Refused: today's code no longer replays {', '.join(failing)}, so running "
                "executions would break; put the change behind workflow.patched('<id>') and "
                "record with KEEP=<id> (README, Changing a workflow)."
            )
            return 1
    for path in await record(only):
        print(f"wrote {path.relative_to(HISTORIES.parent.parent)}")
    return 0


def _index(ids: dict[str, str]) -> str:
    """tests/histories/README.md: which scenario produced which file."""
    rows = [
        f"| `{prefix}__{name}.json` | {' '.join((scenario.__doc__ or '').split())} | `{ids[key]}` |"
        for prefix, scenarios in SCENARIOS.items()
        for name, scenario in scenarios.items()
        if (key := f"{prefix}__{name}") in ids
    ]
    return "\n".join(
        [
            "# Recorded histories",
            "",
            "Written by `make record-histories` (`tests/record_histories.py`; do not edit by",
            "hand), replayed by `tests/test_replay.py` on every `make test`. A file is",
            "`{workflow type}__{scenario}.json`; the id is the workflow id it ran under (child",
            "workflow ids derive from it, so replay uses the same one: `workflow_ids.json`).",
            "",
            "| file | what it shows | workflow id |",
            "|---|---|---|",
            *rows,
            "",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Record tests/histories/ from real runs.")
    parser.add_argument("--only", help="comma-separated workflow types (file prefixes)")
    parser.add_argument("--keep", metavar="PATCH_ID", help="keep the current set before a patch")
    args = parser.parse_args()
    HISTORIES.mkdir(exist_ok=True)
    only = set(args.only.split(",")) if args.only else None
    sys.exit(asyncio.run(main(only, args.keep)))

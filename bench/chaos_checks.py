"""The invariants a chaos run must keep, read from the workflows and from the partners' own
records (the sandbox's state), after everything settled."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.client import Client

from canonical import OrderStatus, OrderView, PickupView, ReturnView, SagaView
from canonical.fulfillment import shipped_quantities
from infra.settings import Settings
from services.schedules import reconcile_now

SETTLED_WELL = {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUSED}


@dataclass
class Run:
    settings: Settings
    client: Client
    http: httpx.AsyncClient
    views: list[tuple[str, SagaView | None]]  # every workflow the traffic started
    deliveries: int


@dataclass
class Check:
    name: str
    value: str
    ok: bool


def _few(items: list[Any], n: int = 3) -> str:
    return ", ".join(map(str, items[:n])) + (f" … (+{len(items) - n})" if len(items) > n else "")


def _listing(name: str, problems: list[str], what: str) -> Check:
    """A check that holds when nothing is listed; the first few are shown."""
    return Check(
        name, f"{len(problems)} {what}" + (f": {_few(problems)}" if problems else ""), not problems
    )


async def _sandbox(run: Run, path: str) -> Any:
    response = await run.http.get(f"{run.settings.sandbox_url}{path}")
    response.raise_for_status()
    return response.json()


async def check(run: Run) -> list[Check]:
    views = {workflow_id: view for workflow_id, view in run.views}
    found = {i: v for i, v in views.items() if v is not None}
    orders = {i: v for i, v in found.items() if isinstance(v, OrderView | PickupView)}
    missing = [i for i, v in views.items() if v is None]
    checks = [
        Check(
            "deliveries = workflows (0 lost)",
            f"{run.deliveries} deliveries taken; {len(found)}/{len(views)} workflows found"
            + (f"; missing {_few(missing)}" if missing else ""),
            not missing,
        ),
        await _one_run_each(run, list(views)),
    ]
    unsettled = [f"{i} {v.status.value}" for i, v in found.items() if v.status not in SETTLED_WELL]
    checks.append(
        Check(
            "every workflow completed or cancelled (nothing stuck, nothing failed)",
            f"{len(found) - len(unsettled)}/{len(found)}"
            + (f"; {_few(unsettled)}" if unsettled else ""),
            not unsettled,
        )
    )
    checks += await _partner_effects(run, orders)
    checks += await _refunds(run, {i: v for i, v in found.items() if isinstance(v, ReturnView)})
    checks += await _stock(run)
    return checks


async def _one_run_each(run: Run, ids: list[str]) -> Check:
    runs: Counter[str] = Counter()
    async for execution in run.client.list_workflows(f'TaskQueue = "{run.settings.task_queue}"'):
        runs[execution.id] += 1
    doubled = [i for i in ids if runs[i] > 1]
    return Check(
        "one workflow per order or return",
        f"{len(doubled)} with more than one run" + (f": {_few(doubled)}" if doubled else ""),
        not doubled,
    )


async def _partner_effects(run: Run, orders: dict[str, OrderView | PickupView]) -> list[Check]:
    """0 duplicate effects at every partner, and each order's effects match how it ended."""
    invoices = Counter(
        str(i["createdFrom"]) for i in await _sandbox(run, "/_sandbox/netsuite/invoices")
    )
    erp_orders = {o["externalId"]: o for o in await _sandbox(run, "/_sandbox/netsuite/salesOrders")}
    tax = {d["code"]: d for d in await _sandbox(run, "/_sandbox/avatax/documents")}
    wms_shipments = await _sandbox(run, "/_sandbox/shipstation/shipments")
    messages = Counter(
        m["custom_args"].get("notification_id")
        for m in await _sandbox(run, "/_sandbox/sendgrid/messages")
    )
    double_invoices = [k for k, n in invoices.items() if n > 1]
    double_messages = [k for k, n in messages.items() if k and n > 1]
    shipped: dict[str, Counter[str]] = {}
    for shipment in wms_shipments:
        if not shipment["voided"]:
            per_line = shipped.setdefault(shipment["orderKey"].split("~")[0], Counter())
            for item in shipment["shipmentItems"]:
                per_line[item["lineItemKey"]] += item["quantity"]
    wrong: list[str] = []
    double_fulfilments: list[str] = []
    for workflow_id, view in orders.items():
        key = workflow_id.removeprefix("order:").replace(":", "-", 1)
        erp = erp_orders.get(key)
        document = tax.get(key)
        if view.status is OrderStatus.COMPLETED:
            if erp is None or invoices[str(erp["id"])] != 1 or erp["orderStatus"]["id"] != "G":
                wrong.append(f"{key}: completed but not delivered and billed once in the ERP")
            if document is None or document.get("status") != "Committed":
                wrong.append(f"{key}: completed but its tax document is not committed")
        if view.status is OrderStatus.CANCELLED:
            if erp is not None and erp["orderStatus"]["id"] != "H":
                wrong.append(f"{key}: cancelled but the ERP order is open")
            if document is not None and document.get("status") == "Committed":
                wrong.append(f"{key}: cancelled but its tax is committed")
        if not isinstance(view, OrderView):  # collected in store: no WMS, one channel fulfilment
            if key.startswith("shopify-"):
                wrong += await _pickup_on_channel(run, key, view)
            continue
        ours = shipped_quantities(view.shipments)
        for line, units in (shipped.get(key) or {}).items():
            if units > ours.get(line, 0):
                wrong.append(
                    f"{key}: line {line} shipped {units}, the order knows {ours.get(line, 0)}"
                )
        if key.startswith("shopify-"):
            channel = await _sandbox(
                run, f"/_sandbox/shopify/orders/{key.removeprefix('shopify-')}"
            )
            confirmed = len([s for s in view.shipments if not s.voided])
            if len(channel["fulfillments"]) > confirmed:
                double_fulfilments.append(f"{key}: {len(channel['fulfillments'])} for {confirmed}")
    return [
        _listing("ERP: one invoice per sales order", double_invoices, "invoiced twice"),
        _listing("channel: one fulfilment per shipment", double_fulfilments, "doubled"),
        _listing("customer: one message per notification", double_messages, "sent twice"),
        _listing(
            "every order's ERP, tax, WMS and channel state matches how it ended",
            wrong,
            "mismatches",
        ),
    ]


async def _pickup_on_channel(run: Run, key: str, view: OrderView | PickupView) -> list[str]:
    """A collected pickup is fulfilled once on Shopify (its PICK_UP fulfillment order); one
    that was cancelled, never."""
    channel = await _sandbox(run, f"/_sandbox/shopify/orders/{key.removeprefix('shopify-')}")
    fulfilments = len(channel["fulfillments"])
    if view.status is OrderStatus.COMPLETED and fulfilments != 1:
        return [f"{key}: collected, {fulfilments} fulfilments on the channel"]
    if view.status is OrderStatus.CANCELLED and fulfilments:
        return [f"{key}: cancelled, yet fulfilled on the channel"]
    return []


async def _refunds(run: Run, returns: dict[str, ReturnView]) -> list[Check]:
    """Each return refunded once on Shopify (every unit Shopify refunded as returned is a unit
    a return refunded, whoever paid it) and credited once in the ERP."""
    expected: dict[str, Counter[str]] = {}
    credited = 0
    for workflow_id, view in returns.items():
        _, channel, order_id, _ = workflow_id.split(":", 3)
        if view.status is OrderStatus.COMPLETED and view.return_details.refunded:
            credited += 1
            if channel == "shopify":
                expected.setdefault(order_id, Counter()).update(view.return_details.refunded)
    twice = []
    for order_id, units in expected.items():
        channel = await _sandbox(run, f"/_sandbox/shopify/orders/{order_id}")
        paid: Counter[str] = Counter()
        for refund in channel["refunds"]:
            for item in refund["refundLineItems"]:
                if item.get("restockType") != "CANCEL":
                    paid[item["lineItemId"].rsplit("/", 1)[-1]] += item["quantity"]
        if paid != units:
            twice.append(f"shopify-{order_id}: refunded {dict(paid)}, returned {dict(units)}")
    memos = len(await _sandbox(run, "/_sandbox/netsuite/creditMemos"))
    return [
        _listing("channel: each return refunded once", twice, "orders refunded otherwise"),
        Check(
            "ERP: one credit memo per refunded return",
            f"{memos} credit memos for {credited} refunded returns",
            memos == credited,
        ),
    ]


async def _stock(run: Run) -> list[Check]:
    """Once nothing is on its way: our ledger against the counts of the system that runs each
    node (the WMS's warehouses, the ERP's stores and supplier), and the ERP's books against the
    WMS's where both count (each delivery, sale and return booked where the goods moved)."""
    settings = replace(run.settings, inventory_reconcile_settle_minutes=0)
    report = await reconcile_now(run.client, settings)
    booked = [f"{x.sku}@{x.node} {x.delta:+d}" for x in report.lines if x.booked and x.delta]
    drift = [f"{x.sku}@{x.node} ERP {x.erp} WMS {x.wms}" for x in report.drift]
    return [
        _listing("stock: our ledger = the counts of the WMS and the ERP", booked, "positions off"),
        _listing("stock: ERP = WMS", drift, "disagreements"),
    ]


def print_checks(console: Console, checks: list[Check], seconds: float) -> None:
    table = Table(title=f"Chaos run invariants ({seconds:.0f} s)")
    table.add_column("invariant")
    table.add_column("measured")
    table.add_column("holds")
    for c in checks:
        holds = "[green]yes[/green]" if c.ok else "[red]NO[/red]"
        table.add_row(c.name, c.value, holds)
    console.print(table)

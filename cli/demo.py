"""`make demo` / `make run`: bring up the local stack, optionally send sample orders and
watch them in a live table until Ctrl-C (or, with --exit, until every order settled)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
from rich.console import Console
from rich.live import Live
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from canonical import OrderView
from cli.render import orders_table
from infra.schedules import ensure_schedules, reconcile_now
from infra.settings import Settings
from infra.stack import LocalStack
from infra.temporal import connect, ensure_search_attributes, ui_url
from webhooks.shopify import sign
from workflows.order_to_cash import OrderToCashWorkflow

console = Console()


async def send_sample_orders(settings: Settings, count: int) -> list[str]:
    """Place `count` storefront orders in the sandbox Shopify and deliver each one as Shopify
    does: a signed `orders/create` webhook to our webhooks service."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{settings.sandbox_url}/_sandbox/shopify/orders", json={"count": count}
        )
        response.raise_for_status()
        ids = []
        for body in response.json():
            raw = json.dumps(body).encode()
            delivery = await http.post(
                f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Hmac-Sha256": sign(raw, settings.shopify_webhook_secrets[0]),
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                    "X-Shopify-Shop-Domain": "northwick-candle-co.myshopify.com",
                },
            )
            delivery.raise_for_status()
            ids.append(delivery.json()["workflow_id"])
    return ids


async def _view(handle: WorkflowHandle[OrderToCashWorkflow, object]) -> OrderView | None:
    try:
        return await handle.query(OrderToCashWorkflow.status)
    except RPCError:
        return None


async def watch(
    client: Client, settings: Settings, ids: list[str], timeout: float | None
) -> list[tuple[str, OrderView | None]]:
    """Live table until all orders are final (or forever when timeout is None)."""
    handles = [client.get_workflow_handle(i) for i in ids]
    ui = ui_url(settings)
    title = f"Orders — Temporal UI: {ui}"
    deadline = time.monotonic() + timeout if timeout else None
    with Live(console=console, refresh_per_second=2) as live:
        while True:
            views = list(zip(ids, await asyncio.gather(*(_view(h) for h in handles)), strict=True))
            live.update(orders_table(views, ui, title))
            settled = all(v is not None and v.status.is_final for _, v in views)
            if timeout is not None and (settled or (deadline and time.monotonic() > deadline)):
                return views
            await asyncio.sleep(1)


async def run_stack(settings: Settings, orders: int, exit_when_done: bool, timeout: float) -> int:
    stack = LocalStack(settings, autoship_seconds=2.0 if orders else None)
    erp = f"Tryton at {settings.tryton_url}" if settings.erp == "tryton" else "NetSuite"
    console.print(f"Starting Temporal, sandbox, webhooks and worker; ERP: {erp}…")
    await asyncio.to_thread(stack.start)
    try:
        client = await connect(settings)
        await ensure_search_attributes(client)
        await ensure_schedules(client, settings)
        report = await reconcile_now(client, settings)
        console.print(
            f"Inventory reconciled with the WMS and the ERP: {report.positions_checked} "
            f"positions, {report.adjustments} adjusted"
        )
        console.print(
            f"Temporal UI: [link={ui_url(settings)}]{ui_url(settings)}[/link]   "
            f"Webhooks: http://127.0.0.1:{settings.webhooks_port}/docs   "
            f"Sandbox: {settings.sandbox_url}/docs   (Ctrl-C stops everything)"
        )
        if not orders:
            while True:
                stack.check()
                await asyncio.sleep(1)
        ids = await send_sample_orders(settings, orders)
        views = await watch(client, settings, ids, timeout if exit_when_done else None)
        unsettled = [(i, v) for i, v in views if v is None or not v.status.is_final]
        if unsettled:
            console.print("[red]Not settled in time:[/red]")
            for workflow_id, view in unsettled:
                console.print(f"  {workflow_id}: {view.status.value if view else 'unknown'}")
            return 1
        console.print(f"[green]All {len(ids)} orders reached a final state.[/green]")
        return 0
    finally:
        stack.stop()

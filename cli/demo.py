"""`make demo` / `make run`: bring up the local stack, optionally send sample orders and
watch them in a live table until Ctrl-C (or, with --exit, until every order settled)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from adapters.tryton import TrytonSettings
from canonical import OrderStatus, ReturnView, SagaView
from canonical.settlement import PAYOUT_CHANNELS
from cli.demo_catalog import publish_catalog
from cli.demo_privacy import forget_a_customer
from cli.demo_traffic import DemoTraffic, share
from cli.render import orders_table
from cli.stack import LocalStack
from infra.settings import Settings
from infra.temporal import connect, ensure_search_attributes, ui_url
from services.deployment import make_current
from services.orders import ANY_VIEW
from services.schedules import ensure_schedules, reconcile_now
from settlements.store import SettlementStore
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

console = Console()
DEMO_PAYOUT_SECONDS = 3.0  # how often the demo's channels pay out, and are imported


async def saga_view(handle: WorkflowHandle[Any, object]) -> SagaView | None:
    try:
        view: SagaView = await handle.query("status", result_type=ANY_VIEW)
    except RPCError:
        return None
    return view


async def watch(
    client: Client,
    settings: Settings,
    ids: list[str],
    sending: asyncio.Task[None] | None,
    timeout: float | None,
) -> list[tuple[str, SagaView | None]]:
    """Live table of `ids` (which grows while `sending` runs) until all are final, or
    forever when timeout is None."""
    ui = ui_url(settings)
    title = f"Orders and returns — Temporal UI: {ui}"
    deadline = time.monotonic() + timeout if timeout else None
    with Live(console=console, refresh_per_second=2) as live:
        while True:
            current = list(ids)
            handles = [client.get_workflow_handle(i) for i in current]
            views = list(
                zip(current, await asyncio.gather(*(saga_view(h) for h in handles)), strict=True)
            )
            live.update(orders_table(views, ui, title))
            sent = sending is None or sending.done()
            settled = sent and all(v is not None and v.status.is_final for _, v in views)
            if timeout is not None and (settled or (deadline and time.monotonic() > deadline)):
                return views
            await asyncio.sleep(1)


def paying_out(settings: Settings) -> Settings:
    """The demo's channels pay out within seconds (the sandbox's payout autopilot) and their
    settlements are imported as often: every order waits to be paid, on the channels
    SETTLEMENT_CHANNELS names, or all three when it names none."""
    channels = settings.settlement_channels or tuple(c.value for c in PAYOUT_CHANNELS)
    return replace(
        settings,
        settlement_channels=channels,
        settlement_import_minutes=DEMO_PAYOUT_SECONDS / 60,
    )


def _settled(settings: Settings, views: list[tuple[str, SagaView | None]], since: datetime) -> None:
    """How the orders and returns ended, and the settlements that paid them, each posted once."""
    endings: Counter[str] = Counter()
    for _, view in views:
        assert view is not None  # every view is final here
        paid = view.status is OrderStatus.COMPLETED and view.settlement_due is not None
        ending = view.status.value.lower()
        if paid:
            ending = "refunds settled" if isinstance(view, ReturnView) else "paid"
        endings[ending] += 1
    console.print("Ended: " + ", ".join(f"{n} {ending}" for ending, n in sorted(endings.items())))
    found = SettlementStore.open(settings.database_url).recent(limit=1000, since=since)
    console.print(f"{len(found)} settlement(s) imported, each posted once:")
    for s in found:
        console.print(
            f"  {s.workflow_id}: net {s.total}, {s.matched} lines matched, "
            f"{len(s.unmatched)} unmatched, ERP journal {s.journal or '(not posted)'}"
        )


async def run_stack(
    settings: Settings, orders: int, exit_when_done: bool, timeout: float, scenario: str = "ship"
) -> int:
    if orders:
        settings = paying_out(settings)
    stack = LocalStack(settings, autoship_seconds=2.0 if orders else None)
    started = datetime.now(UTC)
    tryton = TrytonSettings.from_env(settings.env).url
    erp = f"Tryton at {tryton}" if settings.erp == "tryton" else "NetSuite"
    console.print(f"Starting Temporal, sandbox, webhooks and worker; ERP: {erp}…")
    await asyncio.to_thread(stack.start)
    try:
        client = await connect(settings)
        await ensure_search_attributes(client, SEARCH_ATTRIBUTES)
        await make_current(client, settings)  # as an operator promotes a new build
        await ensure_schedules(client, settings)
        async with httpx.AsyncClient(timeout=30) as http:
            traffic = DemoTraffic(settings, client, http, DEMO_PAYOUT_SECONDS)
            counts = share(scenario, orders)
            if orders:
                await traffic.prepare(counts)
            # Nothing is on its way yet: every count the partners report is booked at once.
            report = await reconcile_now(
                client, replace(settings, inventory_reconcile_settle_minutes=0)
            )
            console.print(
                f"Inventory reconciled with the WMS and the ERP: {report.positions_checked} "
                f"positions, {report.adjustments} adjusted"
            )
            console.print(
                f"Temporal UI: [link={ui_url(settings)}]{ui_url(settings)}[/link]   "
                f"Webhooks: http://127.0.0.1:{settings.webhooks_port}/docs   "
                f"Sandbox: {settings.sandbox_url}/docs   (Ctrl-C stops everything)"
            )
            console.print(
                f"Metrics: http://127.0.0.1:{stack.worker_metrics_port}/metrics (worker)   "
                f"http://127.0.0.1:{settings.webhooks_port}/metrics (webhooks)"
            )
            if scenario == "catalog":
                published = await publish_catalog(client, settings, http, console)
                forgotten = await forget_a_customer(client, settings, traffic, console)
                if exit_when_done:
                    return 0 if published and forgotten else 1
            if not orders or scenario == "catalog":
                while True:
                    stack.check()
                    await asyncio.sleep(1)
            await traffic.stock(counts)
            console.print("Scenario: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
            sending = asyncio.create_task(traffic.send(counts))
            views = await watch(
                client, settings, traffic.watched, sending, timeout if exit_when_done else None
            )
            if not sending.done():
                sending.cancel()
            elif sending.exception() is not None:
                console.print(f"[red]Sending failed: {sending.exception()!r}[/red]")
                return 1
        unsettled = [(i, v) for i, v in views if v is None or not v.status.is_final]
        if unsettled or not sending.done():
            console.print("[red]Not settled in time:[/red]")
            for workflow_id, view in unsettled:
                console.print(f"  {workflow_id}: {view.status.value if view else 'unknown'}")
            return 1
        console.print(f"[green]All {len(views)} orders and returns reached a final state.[/green]")
        _settled(settings, views, started)
        return 0
    finally:
        stack.stop()

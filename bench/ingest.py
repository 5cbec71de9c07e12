"""Ingestion under load: a steady stream of signed Shopify `orders/create` deliveries (a share
of them delivered twice, as Shopify does) while the ERP sandbox allows 2 calls/s.

Prints ack latency p50/p99, accepted, duplicate deliveries answered as such, workflows per
order (duplicated workflows), lost deliveries, and how many orders completed within the drain
time. Targets: p99 < 50 ms, 0 lost, 0 duplicated workflows.
Usage: python bench/ingest.py --rate 100 --seconds 30 --drain-seconds 120"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.service import RPCError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False

from bench.local_stack import (  # noqa: E402
    add_shared_cpus_option,
    bench_stack,
    reserve_ingestion_cpu,
)
from bench.shopify_deliveries import deliver_orders, place_orders  # noqa: E402
from bench.stats import percentile  # noqa: E402
from workflows.search_attributes import ORDER_STATUS  # noqa: E402

REDELIVERED = 0.05  # share of deliveries Shopify sends twice


async def main(rate: float, seconds: float, drain: float, shared_cpus: bool) -> int:
    secret = "bench-secret"
    # The worker holds ERP activities to the ERP's 2 calls/s, so the backlog queues in Temporal.
    stack_settings = {"SHOPIFY_WEBHOOK_SECRET": secret, "ERP_CALLS_PER_SECOND": "2"}
    webhooks_cpus = reserve_ingestion_cpu(shared_cpus)
    async with bench_stack(1.0, stack_settings, webhooks_cpus=webhooks_cpus) as (client, stack):
        settings = stack.settings
        async with httpx.AsyncClient(timeout=30) as http:
            await http.put(
                f"{settings.sandbox_url}/_sandbox/faults/netsuite", json={"rate_limit_per_s": 2}
            )
            await http.put(
                f"{settings.sandbox_url}/_sandbox/shopify/plan",
                json={"maximum_available": 10000, "restore_rate": 1000},
            )
        bodies = await place_orders(settings.sandbox_url, int(rate * seconds))
        url = f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify"
        began = time.perf_counter()
        done = await deliver_orders(url, secret, bodies, rate, REDELIVERED)
        expected = {f"order:shopify:{body['id']}" for body in bodies}
        executions: dict[str, int] = {}
        async for execution in client.list_workflows("WorkflowType = 'OrderToCashWorkflow'"):
            executions[execution.id] = executions.get(execution.id, 0) + 1
        for workflow_id in expected - set(executions):  # visibility lags: ask each one
            try:
                await client.get_workflow_handle(workflow_id).describe()
                executions[workflow_id] = 1
            except RPCError:
                pass
        deadline = time.monotonic() + drain
        completed = 0
        while time.monotonic() < deadline:
            query = "WorkflowType = 'OrderToCashWorkflow' AND OrderStatus = 'COMPLETED'"
            completed = (await client.count_workflows(query)).count
            if completed >= len(expected):
                break
            await asyncio.sleep(2)
        elapsed = time.perf_counter() - began  # since the first delivery
        by_status: dict[str, int] = {}
        async for execution in client.list_workflows("WorkflowType = 'OrderToCashWorkflow'"):
            status = execution.typed_search_attributes.get(ORDER_STATUS) or "?"
            by_status[status] = by_status.get(status, 0) + 1
    cpus = "webhooks on a CPU of their own" if webhooks_cpus else "CPUs shared"
    table = Table(title=f"Ingestion: {rate:g}/s for {seconds:g} s, ERP at 2 calls/s, {cpus}")
    for column in ("measure", "value"):
        table.add_column(column)
    latencies = done.latencies
    table.add_row("deliveries sent", str(len(latencies)))
    table.add_row(
        "ack latency p50 / p99",
        f"{statistics.median(latencies) * 1000:.1f} ms / "
        f"{percentile(latencies, 0.99) * 1000:.1f} ms",
    )
    table.add_row("HTTP answers", ", ".join(f"{k}: {v}" for k, v in sorted(done.answers.items())))
    statuses = sorted(done.statuses.items())
    table.add_row("answer statuses", ", ".join(f"{k}: {v}" for k, v in statuses))
    table.add_row("orders / workflows", f"{len(expected)} / {len(executions)}")
    table.add_row("duplicated workflows", str(sum(1 for c in executions.values() if c > 1)))
    table.add_row("lost (accepted, no workflow)", str(len(expected - set(executions))))
    table.add_row(f"completed within {drain:g} s drain", f"{completed} / {len(expected)}")
    table.add_row("orders by status", ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
    if completed == len(expected):
        table.add_row("all completed after", f"{elapsed / 60:.1f} min")
    elif completed:
        projected = elapsed * len(expected) / completed
        table.add_row("all completed, projected at this rate", f"{projected / 60:.0f} min")
    Console().print(table)
    return 0 if expected <= set(executions) and done.workflow_ids <= set(executions) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--drain-seconds", type=float, default=120)
    add_shared_cpus_option(parser)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(asyncio.run(main(args.rate, args.seconds, args.drain_seconds, args.shared_cpus)))

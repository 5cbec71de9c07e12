"""Ingestion under load: a steady stream of signed Shopify `orders/create` deliveries (a share
of them delivered twice, as Shopify does) while the ERP sandbox allows 2 calls/s.

Prints ack latency p50/p99, accepted, duplicate deliveries answered as such, workflows per
order (duplicated workflows), lost deliveries, and how many orders completed within the drain
time. Targets: p99 < 50 ms, 0 lost, 0 duplicated workflows.
Usage: python bench/ingest.py --rate 100 --seconds 30 --drain-seconds 120"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.service import RPCError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False

from bench.local_stack import bench_stack  # noqa: E402
from bench.stats import percentile  # noqa: E402
from webhooks.shopify import sign  # noqa: E402
from workflows.search_attributes import ORDER_STATUS  # noqa: E402

REDELIVERED = 0.05  # share of deliveries Shopify sends twice


async def place_orders(http: httpx.AsyncClient, sandbox: str, count: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while len(bodies) < count:
        batch = min(1000, count - len(bodies))
        response = await http.post(f"{sandbox}/_sandbox/shopify/orders", json={"count": batch})
        bodies += response.json()
    return bodies


async def main(rate: float, seconds: float, drain: float) -> int:
    secret = "bench-secret"
    latencies: list[float] = []
    answers: dict[int, int] = {}
    statuses: dict[str, int] = {}
    accepted_ids: set[str] = set()
    # The worker holds ERP activities to the ERP's 2 calls/s, so the backlog queues in Temporal.
    async with bench_stack(1.0, SHOPIFY_WEBHOOK_SECRET=secret, ERP_CALLS_PER_SECOND="2") as (
        env,
        stack,
    ):
        settings = stack.settings
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            await http.put(
                f"{settings.sandbox_url}/_sandbox/faults/netsuite", json={"rate_limit_per_s": 2}
            )
            await http.put(
                f"{settings.sandbox_url}/_sandbox/shopify/plan",
                json={"maximum_available": 10000, "restore_rate": 1000},
            )
            bodies = await place_orders(http, settings.sandbox_url, int(rate * seconds))
            url = f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify"

            async def deliver(raw: bytes, webhook_id: str) -> None:
                headers = {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Hmac-Sha256": sign(raw, secret),
                    "X-Shopify-Webhook-Id": webhook_id,
                }
                began = time.perf_counter()
                response = await http.post(url, content=raw, headers=headers)
                latencies.append(time.perf_counter() - began)
                answers[response.status_code] = answers.get(response.status_code, 0) + 1
                body = response.json()
                statuses[body.get("status", "?")] = statuses.get(body.get("status", "?"), 0) + 1
                if response.status_code in (200, 202) and body.get("workflow_id"):
                    accepted_ids.add(body["workflow_id"])

            tasks = []
            began = time.perf_counter()
            for n, body in enumerate(bodies):
                await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
                raw, webhook_id = json.dumps(body).encode(), str(uuid.uuid4())
                tasks.append(asyncio.create_task(deliver(raw, webhook_id)))
                if random.random() < REDELIVERED:
                    tasks.append(asyncio.create_task(deliver(raw, webhook_id)))
            await asyncio.gather(*tasks)
        expected = {f"order:shopify:{body['id']}" for body in bodies}
        executions: dict[str, int] = {}
        async for execution in env.client.list_workflows("WorkflowType = 'OrderToCashWorkflow'"):
            executions[execution.id] = executions.get(execution.id, 0) + 1
        for workflow_id in expected - set(executions):  # visibility lags: ask each one
            try:
                await env.client.get_workflow_handle(workflow_id).describe()
                executions[workflow_id] = 1
            except RPCError:
                pass
        deadline = time.monotonic() + drain
        completed = 0
        while time.monotonic() < deadline:
            query = "WorkflowType = 'OrderToCashWorkflow' AND OrderStatus = 'COMPLETED'"
            completed = (await env.client.count_workflows(query)).count
            if completed >= len(expected):
                break
            await asyncio.sleep(2)
        elapsed = time.perf_counter() - began  # since the first delivery
        by_status: dict[str, int] = {}
        async for execution in env.client.list_workflows("WorkflowType = 'OrderToCashWorkflow'"):
            status = execution.typed_search_attributes.get(ORDER_STATUS) or "?"
            by_status[status] = by_status.get(status, 0) + 1
    table = Table(title=f"Ingestion: {rate:g} deliveries/s for {seconds:g} s, ERP at 2 calls/s")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row("deliveries sent", str(len(latencies)))
    table.add_row(
        "ack latency p50 / p99",
        f"{statistics.median(latencies) * 1000:.1f} ms / "
        f"{percentile(latencies, 0.99) * 1000:.1f} ms",
    )
    table.add_row("HTTP answers", ", ".join(f"{k}: {v}" for k, v in sorted(answers.items())))
    table.add_row("answer statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    table.add_row("orders / workflows", f"{len(expected)} / {len(executions)}")
    table.add_row("duplicated workflows", str(sum(1 for c in executions.values() if c > 1)))
    table.add_row("lost (accepted, no workflow)", str(len(expected - set(executions))))
    table.add_row(f"completed within {drain:g} s drain", f"{completed} / {len(expected)}")
    table.add_row("orders by status", ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
    if 0 < completed < len(expected):
        projected = elapsed * len(expected) / completed
        table.add_row("all completed, projected at this rate", f"{projected / 60:.0f} min")
    Console().print(table)
    return 0 if expected <= set(executions) and accepted_ids <= set(executions) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--drain-seconds", type=float, default=120)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(asyncio.run(main(args.rate, args.seconds, args.drain_seconds)))

"""ATP publication under load: a steady stream of stock movements (200 events/s for 30 s, in
batches as a WMS sends them) over `POST /webhooks/inventory`, on the stack `make run` starts.
Every movement changes what some channel may sell; the publisher of each channel pushes it.

Prints, per channel: event-to-push latency p50/p95 (from the event's acknowledgement to the
first push of that SKU to that channel that arrived after it), events no push followed (the
channel's value did not change, e.g. a cap holds it), pushes per SKU, the most pushes of one
SKU within one interval, and whether the last value each channel holds is what the inventory
service says now. Targets: p95 < 1 s, at most one push per SKU per interval.
Usage: python bench/atp_publish.py --rate 200 --seconds 30 [--batch 10] [--interval 0.6]"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import random
import signal
import statistics
import sys
import time
import uuid
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False

from temporalio.client import Client  # noqa: E402

from bench.local_stack import bench_stack  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bootstrap.inventory import open_inventory  # noqa: E402
from inventory.network import configured_network  # noqa: E402
from sandbox.catalog import CATALOG  # noqa: E402
from workflows.inventory_publisher import publisher_workflow_id  # noqa: E402

CHANNELS = ("shopify", "amazon", "walmart")
KEY = "bench-inventory-key"


async def push_timings(client: Client, task_queue: str, channel: str) -> tuple[list[float], ...]:
    """From the publisher's history: per push, the wait in the channel's queue, the push's own
    time, and the wake-up to push delay (signal or timer to activity scheduled)."""
    history = await client.get_workflow_handle(
        publisher_workflow_id(task_queue, channel)
    ).fetch_history()
    scheduled: dict[int, float] = {}
    started: dict[int, float] = {}
    queued, running = [], []
    for event in history.events:
        at = event.event_time.ToDatetime().timestamp()
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = at
        elif event.HasField("activity_task_started_event_attributes"):
            scheduled_id = event.activity_task_started_event_attributes.scheduled_event_id
            started[scheduled_id] = at
            queued.append(at - scheduled[scheduled_id])
        elif event.HasField("activity_task_completed_event_attributes"):
            scheduled_id = event.activity_task_completed_event_attributes.scheduled_event_id
            running.append(at - started[scheduled_id])
    ticks = sorted(scheduled.values())
    return queued, running, [b - a for a, b in pairwise(ticks)]


def p50_p95(latencies: list[float]) -> str:
    if not latencies:
        return "-"
    return (
        f"{statistics.median(latencies) * 1000:.0f} / {percentile(latencies, 0.95) * 1000:.0f} ms"
    )


def most_in_one_interval(times: list[float], interval: float) -> int:
    """The most pushes that arrived within any window of `interval` seconds (the publisher
    schedules them an interval apart; arrival jitter can bring two closer)."""
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, t + interval * 0.9) - n for n, t in enumerate(times)), default=0
    )


async def main(rate: float, seconds: float, batch: int, interval: float, drain: float) -> int:
    env = {
        "INVENTORY_API_KEY": KEY,
        "INVENTORY_PUSH_INTERVAL_SECONDS": str(interval),
        "INVENTORY_RECONCILE_MINUTES": "0",
    }
    acks: list[tuple[float, set[tuple[str, str]]]] = []  # (acknowledged at, (sku, node))
    answers: dict[int, int] = defaultdict(int)
    async with bench_stack(1.0, env) as (client, stack):
        settings = stack.settings
        await asyncio.sleep(3)  # the resync after the stack's reconciliation reaches the channels
        network = configured_network(settings.inventory_network, settings.erp)
        nodes = [node.code for node in network.nodes]
        url = f"http://127.0.0.1:{settings.webhooks_port}/webhooks/inventory"
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:

            async def send(n: int) -> None:
                events: list[dict[str, Any]] = [
                    {
                        "event_id": f"{n}-{k}-{uuid.uuid4().hex[:6]}",
                        "kind": "adjustment",
                        "sku": random.choice(CATALOG).sku,
                        "node": random.choice(nodes),
                        "quantity": random.choice([-3, -2, -1, 1, 2, 3]),
                    }
                    for k in range(batch)
                ]
                body = {"source": "wms", "batch_id": f"bench-{n}", "events": events}
                response = await http.post(
                    url, json=body, headers={"Authorization": f"Bearer {KEY}"}
                )
                answers[response.status_code] += 1
                if response.status_code == 202:
                    acks.append((time.time(), {(e["sku"], e["node"]) for e in events}))

            started = time.time()
            requests = int(rate * seconds / batch)
            tasks = []
            for n in range(requests):
                await asyncio.sleep(max(0.0, started + n * batch / rate - time.time()))
                tasks.append(asyncio.create_task(send(n)))
            await asyncio.gather(*tasks)
            sent_for = time.time() - started
            await asyncio.sleep(drain)
            pushes = {
                channel: (
                    await http.get(f"{settings.sandbox_url}/_sandbox/pushes/{channel}",
                                   params={"since": started})
                ).json()
                for channel in CHANNELS
            }  # fmt: skip
        service = open_inventory(settings)
        now = {c: service.available_to_sell(c, [i.sku for i in CATALOG]) for c in CHANNELS}
        waits = {c: await push_timings(client, settings.task_queue, c) for c in CHANNELS}

    table = Table(
        title=f"ATP publication: {rate:g} events/s for {seconds:g} s in batches of {batch}, "
        f"interval {interval:g} s"
    )
    for column in ("channel", "events", "latency p50 / p95", "no push after", "pushes per SKU",
                   "most in one interval", "holds the latest"):  # fmt: skip
        table.add_column(column)
    all_latencies: list[float] = []
    per_channel_p95: dict[str, str] = {}
    worst_interval = 0
    all_latest = True
    for channel in CHANNELS:
        allocation = next(a for a in network.allocations if a.channel.value == channel)
        sells_from = set(network.allocation_nodes(allocation))
        arrivals: dict[str, list[float]] = defaultdict(list)
        last: dict[str, int] = {}
        for push in pushes[channel]:
            arrivals[push["sku"]].append(push["at"])
            last[push["sku"]] = push["quantity"]
        latencies, unpublished = [], 0
        for acked, touched in acks:
            for sku in {sku for sku, node in touched if node in sells_from}:
                later = arrivals.get(sku, [])
                n = bisect.bisect_right(later, acked)
                if n < len(later):
                    latencies.append(later[n] - acked)
                else:
                    unpublished += 1
        per_sku = {sku: len(times) for sku, times in sorted(arrivals.items())}
        most = max((most_in_one_interval(t, interval) for t in arrivals.values()), default=0)
        latest = all(last.get(sku) == value for sku, value in now[channel].items() if sku in last)
        all_latencies += latencies
        if latencies:
            per_channel_p95[channel] = f"{percentile(latencies, 0.95) * 1000:.0f}ms"
        worst_interval = max(worst_interval, most)
        all_latest = all_latest and latest
        table.add_row(
            channel,
            str(len(latencies) + unpublished),
            p50_p95(latencies),
            str(unpublished),
            f"{min(per_sku.values(), default=0)}-{max(per_sku.values(), default=0)}",
            str(most),
            "yes" if latest else "NO",
        )
    Console().print(table)
    for channel in CHANNELS:
        queued, running, ticks = waits[channel]
        print(
            f"{channel}: push queued in the channel's rate-limited queue p50/p95 "
            f"{p50_p95(queued)}, push took {p50_p95(running)}, between ticks {p50_p95(ticks)}"
        )
    p95 = percentile(all_latencies, 0.95) if all_latencies else float("inf")
    print(
        f"sent {sum(answers.values())} batches in {sent_for:.1f} s "
        f"({', '.join(f'HTTP {k}: {v}' for k, v in sorted(answers.items()))}); "
        f"p95={p95 * 1000:.0f}ms ({', '.join(f'{c} {v}' for c, v in per_channel_p95.items())}) "
        f"most_pushes_per_sku_per_interval={worst_interval}"
    )
    return 0 if p95 < 1 and worst_interval <= 1 and all_latest else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200, help="events per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", type=int, default=10, help="events per request")
    parser.add_argument("--interval", type=float, default=0.6, help="INVENTORY_PUSH_INTERVAL")
    parser.add_argument("--drain-seconds", type=float, default=10)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(
        asyncio.run(main(args.rate, args.seconds, args.batch, args.interval, args.drain_seconds))
    )

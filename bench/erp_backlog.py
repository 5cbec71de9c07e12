"""ERP backlog: a burst of signed Shopify `orders/create` deliveries (300 at 50/s, a flash
sale) while the ERP — a real Tryton — takes at most ERP_MAX_CONCURRENT_CALLS (4) calls at
once. A proxy in front of Tryton counts what reaches it and loses the answer of some sale
creates (the sale is made, the caller never hears), so duplicates would show if idempotency
failed.

Prints webhook ack latency p50/p99 (target p99 < 50 ms), Tryton requests in flight at peak
(never above the limit) and per second, drain time, and duplicates in Tryton (target 0).
Usage: python bench/erp_backlog.py --orders 300 [--rate 50] [--lost-answers 10]"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False

from adapters.tryton_rpc import TrytonRpc  # noqa: E402
from bench.local_stack import (  # noqa: E402
    add_shared_cpus_option,
    bench_stack,
    reserve_ingestion_cpu,
    share_ingestion_cpu,
)
from bench.shopify_deliveries import deliver_orders, place_orders  # noqa: E402
from bench.stats import percentile  # noqa: E402
from sandbox.lossy_proxy import LossyProxy  # noqa: E402
from tryton_local.instance import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_USER,
    DATABASE,
    TrytonInstance,
)

CONCURRENT_DELIVERIES = 100


def peak_per_second(starts: list[float]) -> int:
    return max(Counter(int(t) for t in starts).values(), default=0)


async def main(
    orders: int, rate: float, limit: int, lost_answers: int, drain: float, shared_cpus: bool
) -> int:
    secret = "bench-secret"
    webhooks_cpus = reserve_ingestion_cpu(shared_cpus)  # before Tryton starts: it keeps off it
    # The ERP is somebody else's machine: niced, so it does not take the webhooks' CPU here.
    tryton = TrytonInstance(Path(tempfile.mkdtemp(prefix="tryton-bench-")), nice=10)
    print("starting Tryton (restored from the seeded dump) …", flush=True)
    await asyncio.to_thread(tryton.start)
    try:
        with LossyProxy(tryton.url) as proxy:
            erp = {
                "SHOPIFY_WEBHOOK_SECRET": secret,
                "ERP": "tryton",
                "TRYTON_URL": proxy.url,
                "ERP_MAX_CONCURRENT_CALLS": str(limit),
            }
            async with bench_stack(1.0, erp, webhooks_cpus=webhooks_cpus) as (client, stack):
                settings = stack.settings
                url = f"http://127.0.0.1:{settings.webhooks_port}/webhooks/shopify"
                bodies = await place_orders(settings.sandbox_url, orders)
                proxy.cut_after_request(r'"model\.sale\.sale\.create"', lost_answers)
                burst_began = time.monotonic()
                done = await deliver_orders(
                    url, secret, bodies, rate, connections=CONCURRENT_DELIVERIES
                )
                burst_seconds = time.monotonic() - burst_began
                print(f"{orders} deliveries answered in {burst_seconds:.1f} s; draining …")
                if webhooks_cpus:  # latency measured: the drain is the ERP's, on every CPU
                    share_ingestion_cpu(webhooks_cpus, tryton.cluster.pid)
                query = "WorkflowType = 'OrderToCashWorkflow' AND OrderStatus = 'COMPLETED'"
                completed, deadline = 0, time.monotonic() + drain
                while completed < orders and time.monotonic() < deadline:
                    await asyncio.sleep(2)
                    completed = (await client.count_workflows(query)).count
                drained = time.monotonic() - burst_began
            keys = [f"shopify-{body['id']}" for body in bodies]
            rpc = TrytonRpc(tryton.url, DATABASE, ADMIN_USER, ADMIN_PASSWORD)
            sales = await rpc.search_read("sale.sale", [["web_id", "in", keys]], ["reference"])
            await rpc.aclose()
            starts = proxy.started
            per_second = len(starts) / (max(starts) - min(starts)) if len(starts) > 1 else 0.0
            peak_in_flight, lost = proxy.peak_in_flight, proxy.cut
    finally:
        tryton.stop()
        shutil.rmtree(tryton.directory, ignore_errors=True)

    per_order = Counter(sale["reference"] for sale in sales)
    cpus = "webhooks on a CPU of their own" if webhooks_cpus else "CPUs shared"
    table = Table(
        title=f"ERP backlog: {orders} orders at {rate:g}/s, Tryton held to {limit} calls at "
        f"once, {cpus}"
    )
    for column in ("measure", "value", "target"):
        table.add_column(column)
    table.add_row(
        "webhook ack latency p50 / p99",
        f"{statistics.median(done.latencies) * 1000:.1f} / "
        f"{percentile(done.latencies, 0.99) * 1000:.1f} ms",
        "p99 < 50 ms",
    )
    answers = ", ".join(f"{k}: {v}" for k, v in sorted(done.answers.items()))
    table.add_row("HTTP answers", answers, "")
    table.add_row("Tryton requests in flight, peak", str(peak_in_flight), f"<= {limit}")
    table.add_row(
        "Tryton requests/s, mean / peak second",
        f"{per_second:.1f} / {peak_per_second(starts)}",
        "",
    )
    table.add_row("sale creates whose answer was lost", str(lost), "")
    table.add_row("completed / drain time", f"{completed} / {orders} in {drained:.0f} s", "all")
    table.add_row("sales in Tryton for these orders", str(len(sales)), str(orders))
    table.add_row(
        "orders with more than one sale", str(sum(1 for n in per_order.values() if n > 1)), "0"
    )
    Console().print(table)
    ok = completed == orders and len(sales) == orders and peak_in_flight <= limit
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50, help="deliveries per second")
    parser.add_argument("--limit", type=int, default=4, help="ERP_MAX_CONCURRENT_CALLS")
    parser.add_argument("--lost-answers", type=int, default=10)
    parser.add_argument("--drain-seconds", type=float, default=1800)
    add_shared_cpus_option(parser)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    run = main(
        args.orders, args.rate, args.limit, args.lost_answers, args.drain_seconds, args.shared_cpus
    )
    sys.exit(asyncio.run(run))

"""Flash sale: many orders at once for a few units of one SKU, through the inventory service's
allocation (sourcing + the atomic reservation) on PostgreSQL (a throwaway cluster from the
machine's binaries, or --database-url). Nothing may be oversold; every order that gets no
unit is cancelled (nothing inbound) or backordered (--inbound units on their way), with its
reason. The last line: `reserved=… oversold=… cancelled=… reservations_per_s=…`, where
reservations_per_s is allocation requests answered per second (won or not).
Usage: python bench/flash_sale.py --orders 1000 --stock 100 --concurrency 200 [--inbound 0]"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentile
from canonical import Address, Channel
from canonical.inventory import InventoryEvent, InventoryEventKind, NodeKind
from canonical.sourcing import DemandLine, SourcingPlan, SourcingRequest
from infra.postgres import PostgresCluster
from infra.processes import free_port
from inventory.database import inventory_engine
from inventory.network import AllocationConfig, Network, NodeConfig
from inventory.service import InventoryService
from inventory.store import InventoryStore

SKU = "CANDLE-FLASH-LTD"
NETWORK = Network(
    nodes=[
        NodeConfig(code="WH-EAST", name="East", kind=NodeKind.WAREHOUSE, postal_code="01605"),
        NodeConfig(code="WH-WEST", name="West", kind=NodeKind.WAREHOUSE, postal_code="89502"),
    ],
    allocations=[AllocationConfig(channel=Channel.SHOPIFY)],
)
CUSTOMER = Address(line1="1 Main St", city="Boston", region="MA", postal_code="02110", country="US")


def outcome(plan: SourcingPlan) -> str:
    if plan.reserved:
        return "reserved"
    return "backordered" if plan.backorderable else "cancelled"


def run(url: str, orders: int, stock: int, inbound: int, concurrency: int) -> int:
    store = InventoryStore(inventory_engine(url, pool_size=concurrency))
    store.apply_network(NETWORK)
    east, west = stock // 2, stock - stock // 2  # the units sit in two warehouses
    events = [
        InventoryEvent(source="bench", event_id=f"stock-{node}", kind=InventoryEventKind.RECEIPT,
                       sku=SKU, node=node, quantity=units)
        for node, units in (("WH-EAST", east), ("WH-WEST", west)) if units
    ]  # fmt: skip
    if inbound:
        events.append(
            InventoryEvent(source="bench", event_id="inbound", kind=InventoryEventKind.RECEIPT,
                           sku=SKU, node="WH-WEST", quantity=inbound)
        )  # fmt: skip
        events.append(
            InventoryEvent(source="bench", event_id="inbound-transfer",
                           kind=InventoryEventKind.TRANSFER_OUT, sku=SKU, node="WH-WEST",
                           to_node="WH-EAST", quantity=inbound)
        )  # fmt: skip
    store.record(events)
    service = InventoryService(store)
    requests = [
        SourcingRequest(
            order_id=f"flash-{n}", channel=Channel.SHOPIFY, ship_to=CUSTOMER,
            lines=[DemandLine(line_id="1", sku=SKU, quantity=1)],
        )
        for n in range(orders)
    ]  # fmt: skip
    start = threading.Barrier(min(concurrency, orders))
    latencies: list[float] = []

    def allocate(request: SourcingRequest) -> SourcingPlan:
        if int(request.order_id.split("-")[1]) < concurrency:
            start.wait()  # the first wave leaves together
        began = time.perf_counter()
        plan = service.allocate(request)
        latencies.append(time.perf_counter() - began)
        return plan

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        plans = list(pool.map(allocate, requests))
    elapsed = time.perf_counter() - began

    outcomes = Counter(outcome(plan) for plan in plans)
    positions = store.positions(skus=[SKU])
    held = sum(p.reserved for p in positions)
    sellable = sum(p.on_hand - p.safety_stock for p in positions)
    active = store.reservations(sku=SKU, active_only=True)
    oversold = max(0, held - sellable)
    reasons = Counter(plan.reason() for plan in plans if not plan.reserved)
    table = Table(title=f"Flash sale: {orders} orders for {stock} units, {concurrency} at once")
    for column in ("measure", "value", "target"):
        table.add_column(column)
    table.add_row("reserved (orders / units held)", f"{outcomes['reserved']} / {held}", str(stock))
    table.add_row("oversold units", str(oversold), "0")
    table.add_row("orders with a reservation row", str(len({r.order_id for r in active})), "")
    table.add_row("cancelled (nothing inbound)", str(outcomes["cancelled"]), "")
    table.add_row("backordered (inbound covers it)", str(outcomes["backordered"]), "")
    for reason, count in reasons.most_common(3):
        table.add_row("  reason", f"{count} x {reason}", "")
    table.add_row(
        "allocation latency p50 / p99",
        f"{statistics.median(latencies) * 1000:.1f} / {percentile(latencies, 0.99) * 1000:.1f} ms",
        "",
    )
    table.add_row("elapsed", f"{elapsed:.2f} s", "")
    Console().print(table)
    print(
        f"reserved={outcomes['reserved']} oversold={oversold} cancelled={outcomes['cancelled']} "
        f"backordered={outcomes['backordered']} reservations_per_s={orders / elapsed:.0f}"
    )
    store.engine.dispose()
    ok = (
        outcomes["reserved"] == min(stock, orders)
        and held == outcomes["reserved"]
        and oversold == 0
        and sum(outcomes.values()) == orders
    )
    return 0 if ok else 1


def main(args: argparse.Namespace) -> int:
    if args.database_url:
        return run(args.database_url, args.orders, args.stock, args.inbound, args.concurrency)
    cluster = PostgresCluster(
        Path(tempfile.mkdtemp(prefix="pg-flash-")), free_port(), args.concurrency + 50
    )
    cluster.start()
    try:
        return run(
            cluster.url + "postgres", args.orders, args.stock, args.inbound, args.concurrency
        )
    finally:
        cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--stock", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--inbound", type=int, default=0, help="units in transit (backorders)")
    parser.add_argument("--database-url", help="an existing database (else a throwaway cluster)")
    sys.exit(main(parser.parse_args()))

"""Settlement matching: Amazon closes one settlement period over 2,000 shipped orders — a
`GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2` report of 10,000 order lines (principal, tax,
shipping, withheld tax, commission) and the account's own — while each order waits for its
cash. One import finds the report with getReports, downloads and reads it into the settlement
store; the settlement's workflow posts its journal and signals every order its lines.

The orders wait at their settlement step (`bench/order_at_settlement.py`: the sagas' own
settlement wait under the order workflow's type and id, so the settlement finds and signals
it as it does a real order), each due what its Amazon order — read by the real SP-API
mapping — invoiced. Shipping 2,000 orders first would measure order-to-cash again
(`bench/o2c_throughput.py`). The stack runs in this process as the tests run it (sandbox,
webhooks service, the real workers), Temporal's dev server beside it.

Prints lines/s matched (import to the last order signalled), orders signalled, ERP calls made
(one journal), time to the last order closed, and orders double-counted (settled more than
they were due). Targets: ≥ 200 lines/s, 0 double-counted.
Usage: python bench/settlement.py [--orders 2000]"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.amazon import order_from_sp_api
from bench.order_at_settlement import OrderAtSettlement, WaitingOrder
from canonical import Channel, Order, OrderStatus, OrderView
from canonical.settlement import SettlementSummary
from sandbox.amazon import NewAmazonOrder
from sandbox.amazon_settlements import CloseSettlement
from testing.dev_server import start_dev_server
from testing.harness import order_harness
from workflows.order_inputs import SettlementTerms
from workflows.settlement import SettlementWorkflow
from workflows.settlement_import import SettlementImportWorkflow

TASK_QUEUE = "settlement-bench-orders"
SKU = "CANDLE-CEDAR-8OZ"
TARGET = 200
STARTS_AT_ONCE = 50


async def start_orders(client: Client, orders: list[Order]) -> list[str]:
    gate = asyncio.Semaphore(STARTS_AT_ONCE)

    async def one(order: Order) -> str:
        async with gate:
            handle = await client.start_workflow(
                OrderAtSettlement.run,
                WaitingOrder(order=order, terms=SettlementTerms()),
                id=order.workflow_id,
                task_queue=TASK_QUEUE,
            )
            return handle.id

    return await asyncio.gather(*(one(order) for order in orders))


async def main(count: int) -> int:
    env = await start_dev_server()
    try:
        async with order_harness(env.client) as h:
            client = h.client
            amazon = h.sandbox.state.partners["amazon"]
            closing = h.sandbox.state.settlements["amazon"]
            print(f"placing {count} shipped Amazon orders …", flush=True)
            orders = []
            for _ in range(count):
                placed = amazon.place(NewAmazonOrder(skus=[(SKU, 1)], status="Shipped"))
                order_id = placed["AmazonOrderId"]
                orders.append(order_from_sp_api(placed, amazon.items[order_id]))
            async with Worker(client, task_queue=TASK_QUEUE, workflows=[OrderAtSettlement]):
                print(f"starting {count} orders at their settlement step …", flush=True)
                ids = await start_orders(client, orders)
                closed = closing.close(CloseSettlement())
                journals_before = len(h.sandbox.state.partners["netsuite"].journals)
                erp_before = h.sandbox.state.faults.requests["netsuite"]
                began = time.perf_counter()
                (settlement_id,) = await client.execute_workflow(
                    SettlementImportWorkflow.run,
                    Channel.AMAZON,
                    id=f"settlement-bench-import-{uuid.uuid4().hex[:8]}",
                    task_queue=h.settings.task_queue,
                )
                imported = time.perf_counter() - began
                summary: SettlementSummary = await client.get_workflow_handle(
                    settlement_id, result_type=SettlementSummary
                ).result()
                matched = time.perf_counter() - began
                progress = await client.get_workflow_handle(settlement_id).query(
                    SettlementWorkflow.progress
                )
                views = await asyncio.gather(
                    *(client.get_workflow_handle(i, result_type=OrderView).result() for i in ids)
                )
                last_closed = time.perf_counter() - began
            erp_calls = h.sandbox.state.faults.requests["netsuite"] - erp_before
            journals = len(h.sandbox.state.partners["netsuite"].journals) - journals_before
    finally:
        await env.shutdown()

    paid = [v for v in views if v.status is OrderStatus.COMPLETED and v.settlement is not None]
    double = [v for v in paid if v.settlement and v.settlement.settled != v.settlement.due]
    rate = summary.lines / matched
    table = Table(title=f"Amazon settlement {closed['settlement_id']}: {summary.lines} lines")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("orders waiting", f"{count}", ""),
        ("report read and stored (import)", f"{imported:.1f} s", ""),
        ("lines/s matched (import → all signalled)", f"{rate:.0f}", f"≥ {TARGET}"),
        ("orders signalled", f"{progress.matched}", f"{count}"),
        ("lines unmatched", f"{len(summary.unmatched)}", "0"),
        ("ERP calls / journals posted", f"{erp_calls} / {journals}", "- / 1"),
        ("time to the last order closed", f"{last_closed:.1f} s", ""),
        ("orders closed paid", f"{len(paid)}", f"{count}"),
        ("orders double-counted", f"{len(double)}", "0"),
    ]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    met = (
        rate >= TARGET
        and not double
        and len(paid) == count == progress.matched
        and journals == 1
        and not summary.unmatched
    )
    print("target met" if met else "TARGET MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    sys.exit(asyncio.run(main(parser.parse_args().orders)))

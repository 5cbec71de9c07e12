"""Order-to-cash throughput against the engine's ceiling on the same server.

N sandbox orders run through the whole saga (the warehouse ships at once; shipments arrive as
webhooks) twice, each time on a stack of its own: as deployed (payloads sealed by the codec,
the worker serving its metrics) and plain (neither); then N no-op workflows with the same number
of activities. Prints workflows/s for each and two ratios: sealed / plain (what encryption and
metrics cost, target >= 0.9) and plain / no-op (target >= 0.8).
Usage: python bench/o2c_throughput.py --orders 200"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False  # as in worker.py: the no-op worker gets the same sandbox treatment

from adapters.shopify import order_from_webhook  # noqa: E402
from bench.local_stack import bench_stack  # noqa: E402
from bench.noop_saga import STEPS, NoopSagaWorkflow, noop_step  # noqa: E402
from canonical import OrderStatus  # noqa: E402
from cli.stack import LocalStack  # noqa: E402
from infra.processes import free_port  # noqa: E402
from services.orders import start_order  # noqa: E402

SHOPIFY_PLUS = {"maximum_available": 10000, "restore_rate": 1000}
SHOPIFY_PLUS_CALLS_PER_SECOND = "50"  # the worker's channel queue, to match
ERP_CALLS_PER_SECOND = "1000"  # the sandbox ERP has no quota here: the saga is what is measured
IN_FLIGHT = (
    100  # capping in-flight starts keeps throughput and cuts queueing (measured on the dev server)
)


async def run_orders(client: Client, stack: LocalStack, count: int) -> tuple[float, int]:
    settings = stack.settings
    async with httpx.AsyncClient(base_url=settings.sandbox_url, timeout=60) as http:
        # A Shopify Plus bucket: the standard plan's 100 points/s caps a shop at ~3 orders/s,
        # which would measure the plan, not the orchestrator.
        await http.put("/_sandbox/shopify/plan", json=SHOPIFY_PLUS)
        bodies = (await http.post("/_sandbox/shopify/orders", json={"count": count})).json()
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(body: dict[str, object]) -> bool:
        async with gate:
            handle = await start_order(client, settings, order_from_webhook(body))
            return (await handle.result()).status is OrderStatus.COMPLETED

    began = time.perf_counter()
    completed = sum(await asyncio.gather(*(one(b) for b in bodies)))
    return time.perf_counter() - began, completed


async def run_noop(client: Client, count: int) -> float:
    task_queue = f"noop-{uuid.uuid4()}"
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> None:
        async with gate:
            await client.execute_workflow(
                NoopSagaWorkflow.run, STEPS, id=f"noop-{task_queue}-{n}", task_queue=task_queue
            )

    async with Worker(
        client, task_queue=task_queue, workflows=[NoopSagaWorkflow], activities=[noop_step]
    ):
        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - began


@dataclass(frozen=True)
class Run:
    name: str
    workflows: int
    completed: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.workflows / self.seconds


async def order_to_cash(count: int, name: str, env: dict[str, str], noop: bool) -> list[Run]:
    """`count` orders on a stack of their own, as `env` sets it up; then, with `noop`, as many
    no-op workflows on the same server."""
    env = {
        "SHOPIFY_CALLS_PER_SECOND": SHOPIFY_PLUS_CALLS_PER_SECOND,  # the worker's queue too
        "ERP_CALLS_PER_SECOND": ERP_CALLS_PER_SECOND,
        **env,
    }
    async with bench_stack(0.0, env) as (client, stack):
        seconds, completed = await run_orders(client, stack, count)
        runs = [Run(name, count, completed, seconds)]
        if noop:
            runs.append(Run("no-op, same shape", count, count, await run_noop(client, count)))
    return runs


def ratio_line(name: str, ratio: float, target: float) -> str:
    verdict = "[green]meets[/green]" if ratio >= target else "[red]below[/red]"
    return f"{name}: {ratio:.2f} ({verdict} the {target} target)"


async def main(count: int) -> int:
    # As deployed: payloads sealed by the codec, the worker serving its metrics.
    deployed = {"WORKER_METRICS_PORT": str(free_port())}
    [sealed] = await order_to_cash(count, "order-to-cash, codec + metrics", deployed, noop=False)
    # The same without either (what they cost), then the engine's ceiling.
    bare = {"PAYLOAD_ENCRYPTION": "off", "WORKER_METRICS_PORT": ""}
    plain, noop = await order_to_cash(count, "order-to-cash, plain", bare, noop=True)
    table = Table(title=f"Order-to-cash throughput, {count} orders, {STEPS} activities each")
    for column in ("run", "workflows", "completed", "seconds", "workflows/s"):
        table.add_column(column, justify="right")
    for run in (sealed, plain, noop):
        table.add_row(
            run.name,
            str(run.workflows),
            str(run.completed),
            f"{run.seconds:.1f}",
            f"{run.rate:.2f}",
        )
    console = Console()
    console.print(table)
    console.print(ratio_line("ratio codec + metrics / plain", sealed.rate / plain.rate, 0.9))
    console.print(ratio_line("ratio order-to-cash / no-op", plain.rate / noop.rate, 0.8))
    return 0 if sealed.completed == plain.completed == count else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the stack on SIGTERM too
    sys.exit(asyncio.run(main(parser.parse_args().orders)))

"""Order-to-cash throughput against the engine's ceiling on the same server.

N sandbox orders run through the whole saga (the warehouse ships at once; shipments arrive as
webhooks) on two stacks of their own: as deployed (payloads sealed by the codec, the worker
serving its metrics) and plain (neither). On each, N no-op workflows with a completed order's
activities, and N with its whole event shape (bench/noop_saga.py), run in batches alternating
with the orders' (`--rounds`), so what slows the machine meanwhile slows each alike. Prints
workflows/s and the CPU each group of processes used per workflow, and the ratios: deployed /
plain (what encryption and metrics cost, target >= 0.9) and order-to-cash / no-op as deployed
(target >= 0.8). Usage: python bench/o2c_throughput.py --orders 200 [--rounds 4]"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from temporalio.client import Client
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.dont_write_bytecode = False  # as in worker.py: the no-op worker gets the same sandbox treatment

from adapters.shopify import order_from_webhook  # noqa: E402
from bench.local_stack import bench_stack, cpu_seconds  # noqa: E402
from bench.noop_saga import NoopSagaWorkflow, NoopShape, noop_step, order_shape  # noqa: E402
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


class Noop:
    """No-op workflows of the order's shape on the stack's server, run by this process."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.task_queue = f"noop-{uuid.uuid4()}"
        self.started = 0

    async def run(self, count: int, shape: NoopShape) -> tuple[float, int]:
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(n: int) -> None:
            async with gate:
                await self.client.execute_workflow(
                    NoopSagaWorkflow.run, shape, id=f"{self.task_queue}-{n}",
                    task_queue=self.task_queue, search_attributes=shape.search_attributes(),
                )  # fmt: skip

        first, self.started = self.started, self.started + count
        began = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(first, first + count)))
        return time.perf_counter() - began, count


@dataclass
class Run:
    stack: str
    name: str
    workflows: int = 0
    completed: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds per group of processes

    @property
    def rate(self) -> float:
        return self.workflows / self.seconds

    def cpu_ms(self, group: str) -> str:
        return f"{1000 * self.cpu.get(group, 0.0) / self.workflows:.0f}"


CPU_GROUPS = {
    "temporal": "server",
    "worker": "worker",
    "sandbox": "partners",
    "webhooks": "partners",
}
CPU_COLUMNS = ("server", "worker", "partners", "bench")  # bench: the client, and no-op worker


class CpuMeter:
    """CPU seconds each group of the stack's processes (and this one) used over a batch."""

    def __init__(self, stack: LocalStack) -> None:
        self.pids = {
            s.process.pid: CPU_GROUPS[s.name] for s in stack.services if s.name in CPU_GROUPS
        }

    def read(self) -> dict[str, float]:
        used = dict.fromkeys(CPU_COLUMNS, 0.0)
        used["bench"] = sum(os.times()[:2])
        for pid, group in self.pids.items():
            used[group] += cpu_seconds(pid)
        return used

    async def measure(self, run: Run, batch: Awaitable[tuple[float, int]], count: int) -> None:
        before = self.read()
        seconds, completed = await batch
        for group, seconds_used in self.read().items():
            run.cpu[group] = run.cpu.get(group, 0.0) + seconds_used - before[group]
        run.workflows, run.completed = run.workflows + count, run.completed + completed
        run.seconds += seconds


async def interleaved(count: int, name: str, env: dict[str, str], rounds: int) -> list[Run]:
    """`count` orders and as many no-op workflows of each shape on a stack of their own (as
    `env` sets it up), in `rounds` alternating batches, so that what slows the machine
    meanwhile slows each alike."""
    env = {
        "SHOPIFY_CALLS_PER_SECOND": SHOPIFY_PLUS_CALLS_PER_SECOND,  # the worker's queue too
        "ERP_CALLS_PER_SECOND": ERP_CALLS_PER_SECOND,
        **env,
    }
    activities, whole = order_shape(whole=False), order_shape(whole=True)
    saga = Run(name, "order-to-cash")
    noop = Run(name, f"no-op, {activities.activities} activities")
    shaped = Run(name, "no-op, all events")
    async with bench_stack(0.0, env) as (client, stack):
        noops, meter = Noop(client), CpuMeter(stack)
        async with Worker(
            client,
            task_queue=noops.task_queue,
            workflows=[NoopSagaWorkflow],
            activities=[noop_step],
        ):
            for batch in (count // rounds + (n < count % rounds) for n in range(rounds)):
                await meter.measure(saga, run_orders(client, stack, batch), batch)
                await meter.measure(noop, noops.run(batch, activities), batch)
                await meter.measure(shaped, noops.run(batch, whole), batch)
    return [saga, noop, shaped]


def ratio_line(name: str, ratio: float, target: float) -> str:
    verdict = "[green]meets[/green]" if ratio >= target else "[red]below[/red]"
    return f"{name}: {ratio:.2f} ({verdict} the {target} target)"


async def main(count: int, rounds: int) -> int:
    # As deployed: payloads sealed by the codec, the worker serving its metrics.
    deployed = {"WORKER_METRICS_PORT": str(free_port())}
    sealed, sealed_noop, sealed_shaped = await interleaved(count, "deployed", deployed, rounds)
    # The same without either: what they cost.
    bare = {"PAYLOAD_ENCRYPTION": "off", "WORKER_METRICS_PORT": ""}
    plain, plain_noop, plain_shaped = await interleaved(count, "plain", bare, rounds)
    table = Table(
        title=f"Order-to-cash throughput, {count} orders in {rounds} rounds",
        caption="CPU ms per workflow: the Temporal server, the worker, the partners (sandbox +"
        " webhooks service), this process (the client; the no-op's worker)",
    )
    for column in ("stack", "run", "done", "wf/s", *CPU_COLUMNS):
        table.add_column(column, justify="right")
    for run in (sealed, sealed_noop, sealed_shaped, plain, plain_noop, plain_shaped):
        table.add_row(
            run.stack, run.name, f"{run.completed}/{run.workflows}", f"{run.rate:.2f}",
            *(run.cpu_ms(group) for group in CPU_COLUMNS),
        )  # fmt: skip
    console = Console() if sys.stdout.isatty() else Console(width=100)  # the table whole in a log
    console.print(table)
    console.print(ratio_line("ratio codec + metrics / plain", sealed.rate / plain.rate, 0.9))
    console.print(ratio_line("ratio order-to-cash / no-op", sealed.rate / sealed_noop.rate, 0.8))
    console.print(
        f"  (plain: {plain.rate / plain_noop.rate:.2f}; against the no-op of the order's whole"
        f" event shape: {sealed.rate / sealed_shaped.rate:.2f} as deployed,"
        f" {plain.rate / plain_shaped.rate:.2f} plain)"
    )
    return 0 if sealed.completed == plain.completed == count else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="alternating batches per stack")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the stack on SIGTERM too
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.orders, args.rounds)))

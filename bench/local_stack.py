"""The stack a benchmark measures: the project's services as separate processes (Temporal's
in-memory dev server, sandbox, webhooks, worker), as `make run` starts them."""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from pathlib import Path

from temporalio.client import Client

from cli.stack import LocalStack
from infra.processes import free_port
from infra.settings import Settings
from infra.temporal import connect
from services.deployment import make_current
from services.schedules import reconcile_now
from testing.harness import harness_settings


def reserve_ingestion_cpu(shared_cpus: bool) -> frozenset[int] | None:
    """The first CPU for the webhooks service alone, as a deployment gives ingestion CPU of its
    own: this process, and every process it starts from now on, keep off it. None when
    `shared_cpus` or on a one-CPU machine."""
    cpus = sorted(os.sched_getaffinity(0))
    if shared_cpus or len(cpus) < 2:
        return None
    reserved = frozenset(cpus[:1])
    os.sched_setaffinity(0, set(cpus) - reserved)
    return reserved


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # stat: pid (comm) state ppid …; comm may hold spaces and parentheses
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its descendants have used so far."""
    total = 0
    for each in _descendants(pid):
        with suppress(OSError):  # gone meanwhile
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def share_ingestion_cpu(reserved: frozenset[int], *detached: int) -> None:
    """Give the reserved CPU back to this process, every process it started and the `detached`
    ones' trees, each of their threads (affinity is per thread): once a burst is answered, its
    drain may use every CPU."""
    cpus = os.sched_getaffinity(0) | reserved
    for pid in set().union(*(_descendants(root) for root in (os.getpid(), *detached))):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with suppress(OSError):  # the thread ended meanwhile
                os.sched_setaffinity(int(task.name), cpus)


def add_shared_cpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shared-cpus",
        action="store_true",
        help="run the webhooks service on every CPU, beside everything else and the load",
    )


def stack_settings(**env: str) -> Settings:
    """A throwaway stack's settings: ports the OS gives, its own task queue and data."""
    return harness_settings(
        f"127.0.0.1:{free_port()}",
        free_port(),
        free_port(),
        ORDER_TASK_QUEUE=f"orders-{uuid.uuid4()}",
        TEMPORAL_UI_PORT=str(free_port()),
        CODEC_PORT=str(free_port()),
        **env,
    )


@asynccontextmanager
async def bench_stack(
    autoship_seconds: float,
    env: dict[str, str],
    *,
    webhooks_cpus: frozenset[int] | None = None,
) -> AsyncIterator[tuple[Client, LocalStack]]:
    """`env` settings reach the service processes through the environment they inherit
    (until the stack stops).
    `webhooks_cpus`: from `reserve_ingestion_cpu`, where the webhooks service runs."""
    before = dict(os.environ)
    os.environ.update({"WALMART_POLL_SECONDS": "0", **env})
    settings = stack_settings(**env)  # the stack's own settings as its processes read them
    stack = LocalStack(
        settings, autoship_seconds=autoship_seconds, persist=False, webhooks_cpus=webhooks_cpus
    )
    try:
        await asyncio.to_thread(stack.start)
        client = await connect(settings)
        await make_current(client, settings)  # the worker's build takes the new runs
        # Stock positions from the WMS's counts, as `make demo` starts: without them every
        # order ends cancelled as out of stock.
        await reconcile_now(client, replace(settings, inventory_reconcile_settle_minutes=0))
        yield client, stack
    finally:
        stack.stop()
        os.environ.clear()  # the next stack of the same run starts on its own `env`
        os.environ.update(before)

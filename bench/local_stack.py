"""The stack a benchmark measures: the project's services as separate processes (Temporal's
in-memory dev server, sandbox, webhooks, worker), as `make run` starts them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from temporalio.client import Client

from infra.harness import harness_settings
from infra.processes import free_port
from infra.schedules import reconcile_now
from infra.stack import LocalStack
from infra.temporal import connect


def ingestion_cpus() -> frozenset[int] | None:
    """The first CPU for the webhooks service, as a deployment gives ingestion CPU of its own;
    None on a one-CPU machine."""
    cpus = sorted(os.sched_getaffinity(0))
    return frozenset(cpus[:1]) if len(cpus) > 1 else None


@asynccontextmanager
async def bench_stack(
    autoship_seconds: float, env: dict[str, str], *, isolate_webhooks: bool = False
) -> AsyncIterator[tuple[Client, LocalStack]]:
    """`env` settings reach the service processes through the environment they inherit.
    `isolate_webhooks`: the webhooks service runs alone on one CPU, and everything else (this
    process, the load generator, included) on the others."""
    os.environ.update({"WALMART_POLL_SECONDS": "0", **env})
    settings = harness_settings(
        f"127.0.0.1:{free_port()}",
        free_port(),
        free_port(),
        ORDER_TASK_QUEUE=f"orders-{uuid.uuid4()}",
        TEMPORAL_UI_PORT=str(free_port()),
    )
    webhooks_cpus = ingestion_cpus() if isolate_webhooks else None
    if webhooks_cpus:
        os.sched_setaffinity(0, os.sched_getaffinity(0) - webhooks_cpus)  # children inherit it
    stack = LocalStack(
        settings, autoship_seconds=autoship_seconds, persist=False, webhooks_cpus=webhooks_cpus
    )
    try:
        await asyncio.to_thread(stack.start)
        client = await connect(settings)
        # Stock positions from the WMS's counts, as `make demo` starts: without them every
        # order ends cancelled as out of stock.
        await reconcile_now(client, replace(settings, inventory_reconcile_settle_minutes=0))
        yield client, stack
    finally:
        stack.stop()

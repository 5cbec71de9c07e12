"""The ERP queue's backlog as the worker reports it: calls waiting for the ERP's quota are
counted by the server, and the worker's gauges carry its count and the oldest call's wait."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bootstrap.erp_queue import Backlog, erp_backlog


@workflow.defn(sandboxed=False)
class WaitsForTheErp:
    @workflow.run
    async def run(self, erp_queue: str) -> None:
        await workflow.execute_activity(
            "create_sales_order", task_queue=erp_queue, start_to_close_timeout=timedelta(minutes=1)
        )


async def backlog_of(client: Client, queue: str, depth: int) -> Backlog:
    """The backlog once the server counts `depth` waiting calls (its stats lag a little)."""
    for _ in range(200):
        backlog = await erp_backlog(client, queue)
        if backlog.depth == depth:
            return backlog
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server never counted {depth} waiting calls: {backlog}")


async def test_the_erp_backlog_counts_calls_waiting_for_their_turn(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    main, erp = f"main-{uuid.uuid4()}", f"erp-{uuid.uuid4()}"
    assert await erp_backlog(client, erp) == Backlog(0, 0.0)
    async with Worker(client, task_queue=main, workflows=[WaitsForTheErp]):
        waiting = [  # no ERP worker polls: the calls wait
            await client.start_workflow(
                WaitsForTheErp.run, erp, id=f"waits-{uuid.uuid4()}", task_queue=main
            )
            for _ in range(3)
        ]
        backlog = await backlog_of(client, erp, 3)
        for handle in waiting:
            await handle.terminate("test over")
    assert backlog.oldest_seconds > 0

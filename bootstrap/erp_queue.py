"""The ERP queue's backlog for the worker's metrics: ERP calls wait in their task queue for the
ERP's quota, and only the server knows how many wait and since when; it is asked every few
seconds while the worker runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError

from infra import worker_metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    depth: int
    oldest_seconds: float


async def erp_backlog(client: Client, task_queue: str) -> Backlog:
    """How many activity tasks wait in `task_queue` and how long the oldest has waited."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            report_stats=True,
        )
    )
    age = answer.stats.approximate_backlog_age
    return Backlog(answer.stats.approximate_backlog_count, age.seconds + age.nanos / 1e9)


@contextlib.asynccontextmanager
async def erp_queue_gauges(
    client: Client, task_queue: str, every_seconds: float = 5.0
) -> AsyncIterator[None]:
    """Keeps `orchestrator_erp_queue_depth`/`_oldest_seconds` current while the block runs."""
    meter = (client.service_client.config.runtime or Runtime.default()).metric_meter

    async def watch() -> None:
        while True:
            try:
                backlog = await erp_backlog(client, task_queue)
                worker_metrics.erp_queue(meter, backlog.depth, backlog.oldest_seconds)
            except RPCError as exc:  # Temporal away: the gauges keep their last value
                log.debug("ERP queue backlog unknown: %s", exc)
            await asyncio.sleep(every_seconds)

    watching = asyncio.create_task(watch())
    try:
        yield
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching

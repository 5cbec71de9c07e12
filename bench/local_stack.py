"""The stack a benchmark measures: an in-memory dev server and the project's services as
separate processes (sandbox, webhooks, worker), as `make run` starts them."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from infra.harness import harness_settings
from infra.processes import binary, free_port
from infra.stack import DEV_SERVER_CONFIG, LocalStack
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


@asynccontextmanager
async def bench_stack(
    autoship_seconds: float, **env: str
) -> AsyncIterator[tuple[WorkflowEnvironment, LocalStack]]:
    """`env` settings reach the service processes through the environment they inherit."""
    temporal = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        dev_server_extra_args=DEV_SERVER_CONFIG,
    )
    os.environ.update({"WALMART_POLL_SECONDS": "0", **env})
    target = temporal.client.service_client.config.target_host
    settings = harness_settings(
        target, free_port(), free_port(), ORDER_TASK_QUEUE=f"orders-{uuid.uuid4()}"
    )
    stack = LocalStack(settings, autoship_seconds=autoship_seconds, persist=False)
    try:
        await asyncio.to_thread(stack.start)
        await asyncio.sleep(1)  # the worker process connects and starts polling
        yield temporal, stack
    finally:
        stack.stop()
        await temporal.shutdown()
